import type { Format } from '../decode/format.js';
import type { AwsRange } from './ip-ranges.js';

/**
 * Who an address belongs to, as far as vpcflow knows. `scope` is the first that applies of:
 * - `vpc`: inside one of your VPCs (a CIDR from --vpc / --inventory) or an address of one of your interfaces;
 * - `aws`: in AWS's published ranges (ip-ranges.json);
 * - `private`: RFC 1918, carrier-grade NAT (100.64.0.0/10) or IPv6 unique-local (fc00::/7), in no known VPC;
 * - `special`: link-local (169.254.0.0/16 incl. 169.254.169.254, fe80::/10), loopback, multicast, unspecified,
 *   reserved, benchmarking and documentation ranges;
 * - `internet`: anything else.
 */
export type Scope = 'vpc' | 'aws' | 'private' | 'special' | 'internet';

/** Your resource an address belongs to (from --vpc / --inventory). */
export interface VpcOwner {
  readonly vpc_id: string | null;
  readonly subnet_id: string | null;
  /** The network interface that has this address, when the inventory knows it. */
  readonly eni: string | null;
  readonly instance_id: string | null;
  /** What the interface is: its type (`nat_gateway`, `interface`, …) and description (`ELB app/my-alb/…`). */
  readonly resource: { readonly type: string | null; readonly description: string | null } | null;
}

/** The enrichment of one address. Shared between all addresses with the same answer: do not modify. */
export interface EndpointInfo {
  /** Small and unique per distinct answer (across enrichers), so sinks can cache its serialised form in an array. */
  readonly id: number;
  readonly scope: Scope;
  readonly aws: AwsRange | null;
  readonly vpc: VpcOwner | null;
}

/** Address fields that get an endpoint object, and its key. */
export const ENDPOINT_KEYS: Readonly<Record<string, string>> = {
  srcaddr: 'src',
  dstaddr: 'dst',
  pkt_srcaddr: 'pkt_src',
  pkt_dstaddr: 'pkt_dst',
};

/** Field indexes of the format's address fields that get an endpoint object, in ENDPOINT_KEYS order. */
export function endpointFields(format: Format): number[] {
  return Object.keys(ENDPOINT_KEYS)
    .map((key) => format.indexOf.get(key))
    .filter((i): i is number => i !== undefined);
}

/**
 * Whether records of this format get a derived `direction`: they have no flow-direction of their own, and have
 * the interface and both addresses it is derived from.
 */
export function derivesDirection(format: Format): boolean {
  const has = (key: string) => format.indexOf.has(key);
  return !has('flow_direction') && has('interface_id') && has('srcaddr') && has('dstaddr');
}

/** The endpoint values the table shows (the rest is in NDJSON and CSV, or asked for with --fields). */
export const TABLE_ENDPOINT_PATHS: ReadonlySet<string> = new Set(['scope', 'aws.service', 'aws.region', 'vpc.vpc_id', 'vpc.eni', 'vpc.resource.type']);

/** The flat columns of an endpoint in CSV and the table (`dst.aws.service`), and how to read each. */
export const ENDPOINT_PATHS: readonly [string, (e: EndpointInfo) => string | readonly string[] | null][] = [
  ['scope', (e) => e.scope],
  ['aws.service', (e) => e.aws?.service ?? null],
  ['aws.services', (e) => e.aws?.services ?? null],
  ['aws.region', (e) => e.aws?.region ?? null],
  ['aws.border_group', (e) => e.aws?.border_group ?? null],
  ['aws.prefix', (e) => e.aws?.prefix ?? null],
  ['vpc.vpc_id', (e) => e.vpc?.vpc_id ?? null],
  ['vpc.subnet_id', (e) => e.vpc?.subnet_id ?? null],
  ['vpc.eni', (e) => e.vpc?.eni ?? null],
  ['vpc.instance_id', (e) => e.vpc?.instance_id ?? null],
  ['vpc.resource.type', (e) => e.vpc?.resource?.type ?? null],
  ['vpc.resource.description', (e) => e.vpc?.resource?.description ?? null],
];

/** Plain data for JSON: the shape users see in NDJSON. */
export function endpointObject(e: EndpointInfo): { scope: Scope; aws: AwsRange | null; vpc: VpcOwner | null } {
  return { scope: e.scope, aws: e.aws, vpc: e.vpc };
}

/** Ranges that are not on the public internet, by the scope they give when no VPC claims the address. */
export const NON_PUBLIC_RANGES: readonly [string, 'private' | 'special'][] = [
  ['10.0.0.0/8', 'private'],
  ['172.16.0.0/12', 'private'],
  ['192.168.0.0/16', 'private'],
  ['100.64.0.0/10', 'private'],
  ['fc00::/7', 'private'],
  ['0.0.0.0/8', 'special'],
  ['127.0.0.0/8', 'special'],
  ['169.254.0.0/16', 'special'],
  ['192.0.0.0/24', 'special'],
  ['192.0.2.0/24', 'special'],
  ['198.18.0.0/15', 'special'],
  ['198.51.100.0/24', 'special'],
  ['203.0.113.0/24', 'special'],
  ['224.0.0.0/4', 'special'],
  ['240.0.0.0/4', 'special'],
  ['::/128', 'special'],
  ['::1/128', 'special'],
  ['100::/64', 'special'],
  ['2001:db8::/32', 'special'],
  ['fe80::/10', 'special'],
  ['ff00::/8', 'special'],
];
