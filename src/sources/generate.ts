/**
 * Deterministic generator of default-format (version 2) VPC flow log records for benchmarks.
 *
 * The same count and seed always give the same bytes, so benchmark inputs can be regenerated instead of stored.
 * The traffic is shaped like a real account's: a few busy interfaces, a few hundred public peers that come back
 * again and again, scanners that get rejected, mostly small flows, some IPv6, some NODATA/SKIPDATA lines. Value
 * shapes matter for a parser's speed (line length, IPv4 vs IPv6, digits per number), so they follow what AWS writes.
 *
 * Users get it as `vpcflow gen`; the benchmarks in bench/ use it directly.
 */
import { createWriteStream } from 'node:fs';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { DEFAULT_FORMAT, type Format } from '../decode/format.js';

/** The header line AWS writes at the top of S3 exports of the default format. */


export interface GenerateOptions {
  /** Yield the S3 header line first (in addition to `count` records). */
  header?: boolean;
}

type Rng = () => number;

/** mulberry32, as unsigned 32-bit integers: tiny, fast, and good enough for synthetic data; Math.random cannot be seeded. */
export function mulberry32Uint32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return (t ^ (t >>> 14)) >>> 0;
  };
}

/** The same sequence as numbers in [0, 1). */
export function mulberry32(seed: number): Rng {
  const next = mulberry32Uint32(seed);
  return () => next() / 4294967296;
}

function int(r: Rng, lo: number, hi: number): number {
  return lo + Math.floor(r() * (hi - lo + 1));
}

function pick<T>(r: Rng, items: readonly T[]): T {
  return items[Math.floor(r() * items.length)];
}

/** An index in [0, n) skewed toward 0: the higher the power, the more the first few entries dominate. */
function skewed(r: Rng, n: number, power: number): number {
  return Math.floor(n * r() ** power);
}

function hexGroup(r: Rng): string {
  return int(r, 0, 0xffff).toString(16);
}

interface Vpc {
  /** First two octets of the VPC's IPv4 /16. */
  readonly ipv4Prefix: string;
  /** First four groups of the subnet's IPv6 /64 (AWS hands out /56 per VPC from 2600:1f18::/32 and friends). */
  readonly ipv6Prefix: string;
  readonly enis: Eni[];
}

interface Eni {
  readonly id: string;
  readonly account: string;
  readonly ipv4: string;
  readonly ipv6: string;
  readonly vpc: Vpc;
  /** The well-known port this interface listens on (load balancer, bastion, database), or 0 for a pure client. */
  readonly serves: number;
}

interface Peer {
  readonly addr: string;
  /** The port the peer serves on when the interface is the client. */
  readonly port: number;
}

interface World {
  readonly enis: Eni[];
  readonly peers4: Peer[];
  readonly peers6: Peer[];
}

// Public resolvers and NTP servers: traffic to the Amazon-provided ones is not logged, traffic to these is.
const UDP_PEERS4: Peer[] = [
  { addr: '8.8.8.8', port: 53 },
  { addr: '1.1.1.1', port: 53 },
  { addr: '8.8.4.4', port: 53 },
  { addr: '9.9.9.9', port: 53 },
  { addr: '162.159.200.1', port: 123 },
  { addr: '129.6.15.28', port: 123 },
];
const UDP_PEERS6: Peer[] = [
  { addr: '2001:4860:4860::8888', port: 53 },
  { addr: '2606:4700:4700::1111', port: 53 },
];
const SERVER_PORTS = [443, 443, 443, 80, 22, 3306, 5432, 6379, 9997];
const SCANNED_PORTS = [22, 22, 22, 3306, 5432, 6379, 80, 443, 9997];
// Ranges that never show up as internet peers: private, loopback, CGNAT, link-local, multicast and up.
const NOT_PUBLIC_FIRST_OCTET = new Set([0, 10, 100, 127, 169, 172, 192, 198]);

function publicIPv4(r: Rng): string {
  let a: number;
  do a = int(r, 1, 223);
  while (NOT_PUBLIC_FIRST_OCTET.has(a));
  return `${a}.${int(r, 0, 255)}.${int(r, 0, 255)}.${int(r, 1, 254)}`;
}

function ipv6Under(r: Rng, prefix: string, groups: number): string {
  const parts = [prefix];
  for (let i = 0; i < groups; i++) parts.push(hexGroup(r));
  return parts.join(':');
}

/** Public IPv6 peers, sometimes in compressed form as AWS writes them when the address has zero groups. */
function publicIPv6(r: Rng): string {
  const prefix = pick(r, ['2606:4700', '2a00:1450', '2600:9000', '2600:1f18', '2a03:2880', '2001:67c']);
  if (r() < 0.25) return `${prefix}:${hexGroup(r)}::${hexGroup(r)}`;
  return ipv6Under(r, prefix, 6);
}

function buildWorld(r: Rng): World {
  const accounts = Array.from({ length: 4 }, () => String(int(r, 100000000000, 999999999999)));
  const vpcs: Vpc[] = ['10.0', '172.31', '10.1', '192.168'].map((ipv4Prefix) => ({
    ipv4Prefix,
    ipv6Prefix: `2600:1f18:${hexGroup(r)}:${int(r, 0, 0xff).toString(16)}00`,
    enis: [],
  }));

  const enis: Eni[] = [];
  for (let i = 0; i < 50; i++) {
    // Most interfaces belong to the first account and VPC, as in a typical organisation's main workload account.
    const a = skewed(r, accounts.length, 2);
    const vpc = vpcs[a];
    let id = 'eni-';
    for (let k = 0; k < 17; k++) id += int(r, 0, 15).toString(16);
    const eni: Eni = {
      id,
      account: accounts[a],
      ipv4: `${vpc.ipv4Prefix}.${int(r, 0, 255)}.${int(r, 4, 254)}`,
      ipv6: ipv6Under(r, vpc.ipv6Prefix, 4),
      vpc,
      // The busiest interfaces are a load balancer and a NAT gateway; the rest are a mix of servers and clients.
      serves: i === 0 ? 443 : i === 1 ? 0 : r() < 0.4 ? pick(r, SERVER_PORTS) : 0,
    };
    vpc.enis.push(eni);
    enis.push(eni);
  }

  const peers4: Peer[] = [];
  for (let i = 0; i < 70; i++) peers4.push({ addr: `52.94.${int(r, 0, 255)}.${int(r, 1, 254)}`, port: 443 });
  for (let i = 0; i < 60; i++) peers4.push({ addr: `3.${int(r, 5, 255)}.${int(r, 0, 255)}.${int(r, 1, 254)}`, port: r() < 0.8 ? 443 : 80 });
  for (let i = 0; i < 60; i++) peers4.push({ addr: `54.${int(r, 64, 255)}.${int(r, 0, 255)}.${int(r, 1, 254)}`, port: 443 });
  for (let i = 0; i < 110; i++) peers4.push({ addr: publicIPv4(r), port: r() < 0.75 ? 443 : r() < 0.8 ? 80 : 123 });
  shuffle(r, peers4);

  const peers6: Peer[] = [];
  for (let i = 0; i < 40; i++) peers6.push({ addr: publicIPv6(r), port: r() < 0.85 ? 443 : 80 });
  shuffle(r, peers6);

  return { enis, peers4, peers6 };
}

function shuffle<T>(r: Rng, items: T[]): void {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(r() * (i + 1));
    [items[i], items[j]] = [items[j], items[i]];
  }
}

const START_TIME = 1_730_000_000;
/** Records per second of log time: 1M records span about a day, as a busy account's daily export does. */
const RECORDS_PER_SECOND = 12;

/**
 * `count` default-format records, one string per line without its `\n` (plus the header line first when asked).
 */
export function* generateLines(count: number, seed = 1, options: GenerateOptions = {}): Generator<string> {
  const r = mulberry32(seed);
  const { enis, peers4, peers6 } = buildWorld(r);
  if (options.header) yield DEFAULT_FORMAT.text;

  let clock = START_TIME;
  for (let n = 0; n < count; n++) {
    if (r() < 1 / RECORDS_PER_SECOND) clock++;
    const start = clock;
    const end = start + int(r, 0, 60);
    // Busy interfaces (NAT gateways, load balancers) write most of the records.
    const eni = enis[skewed(r, enis.length, 2.5)];
    const head = `2 ${eni.account} ${eni.id} `;

    const status = r();
    if (status < 0.006) {
      yield `${head}- - - - - - - ${start} ${end} - ${status < 0.005 ? 'NODATA' : 'SKIPDATA'}`;
      continue;
    }

    const v6 = r() < 0.03;
    const local = v6 ? eni.ipv6 : eni.ipv4;
    let peer: string;
    let serverIsLocal: boolean;
    let port: number;
    let rejectRate = 0.035;
    let inboundOnly = false;

    const kind = r();
    if (kind < 0.08) {
      // Internet scanners knocking on admin and database ports: one-off addresses, mostly rejected.
      peer = v6 ? ipv6Under(r, '2a0' + int(r, 1, 9), 7) : publicIPv4(r);
      serverIsLocal = true;
      port = pick(r, SCANNED_PORTS);
      rejectRate = 0.75;
      inboundOnly = true;
    } else if (kind < 0.25) {
      const other = eni.vpc.enis[skewed(r, eni.vpc.enis.length, 2)];
      if (other !== eni) peer = v6 ? other.ipv6 : other.ipv4;
      else peer = v6 ? ipv6Under(r, eni.vpc.ipv6Prefix, 4) : `${eni.vpc.ipv4Prefix}.${int(r, 0, 255)}.${int(r, 4, 254)}`;
      serverIsLocal = eni.serves !== 0 && (other.serves === 0 || r() < 0.5);
      port = serverIsLocal ? eni.serves : other.serves || pick(r, SERVER_PORTS);
    } else if (kind < 0.31) {
      const p = pick(r, v6 ? UDP_PEERS6 : UDP_PEERS4);
      peer = p.addr;
      serverIsLocal = false;
      port = p.port;
    } else {
      const pool = v6 ? peers6 : peers4;
      const p = pool[skewed(r, pool.length, 3)];
      peer = p.addr;
      serverIsLocal = eni.serves !== 0 && r() < 0.6;
      port = serverIsLocal ? eni.serves : p.port;
    }

    let protocol = port === 53 ? (r() < 0.9 ? 17 : 6) : port === 123 ? 17 : 6;
    let ephemeral = int(r, 32768, 65535);
    let serverPort = port;
    const icmp = r() < 0.01;
    if (icmp) {
      protocol = v6 ? 58 : 1;
      ephemeral = serverPort = 0;
    }

    const reject = r() < rejectRate;
    // Flow logs record each direction of a connection as its own record; rejected traffic only has the request.
    const request = inboundOnly || reject || r() < 0.5;
    const server = serverIsLocal ? local : peer;
    const client = serverIsLocal ? peer : local;
    const srcaddr = request ? client : server;
    const dstaddr = request ? server : client;
    const srcport = request ? ephemeral : serverPort;
    const dstport = request ? serverPort : ephemeral;

    let packets: number;
    let size: number;
    if (reject) {
      packets = int(r, 1, 3);
      size = icmp ? 84 : protocol === 17 ? int(r, 60, 120) : 60;
    } else if (r() < 1 / 50_000) {
      // A rare elephant flow (backup, bulk transfer) whose byte count does not fit in 32 bits.
      packets = int(r, 3_000_000, 4_000_000);
      size = int(r, 1440, 1500);
    } else {
      packets = Math.floor(10_000 ** (r() ** 2));
      size =
        icmp ? int(r, 64, 98)
        : protocol === 17 ? (port === 123 ? 76 : int(r, 60, 512))
        : 40 + Math.floor(1460 * r() ** 2);
    }

    yield `${head}${srcaddr} ${dstaddr} ${srcport} ${dstport} ${protocol} ${packets} ${packets * size} ${start} ${end} ${reject ? 'REJECT' : 'ACCEPT'} OK`;
  }
}

/** Joins lines into ~64 KiB strings so the file stream gets few large writes rather than a million small ones. */
export function* batches(lines: Iterable<string>, size = 64 * 1024): Generator<string> {
  let batch = '';
  for (const line of lines) {
    batch += line + '\n';
    if (batch.length >= size) {
      yield batch;
      batch = '';
    }
  }
  if (batch.length > 0) yield batch;
}

/**
 * Writes `count` generated records to `path`, one per line, each ending in `\n`. Streams with backpressure, so
 * memory stays flat whatever the count. Resolves to the number of bytes written.
 */
export async function writeGenerated(path: string, count: number, seed = 1, options: GenerateOptions = {}): Promise<number> {
  const out = createWriteStream(path);
  await pipeline(Readable.from(batches(generateLines(count, seed, options))), out);
  return out.bytesWritten;
}


export interface FlowLogGenOptions {
  /** The layout of the records: the default format, or any custom one (fields AWS adds are synthesised). */
  format?: Format;
  /** `raw` (S3 export lines, with `header` the header line first) or `tail` (`aws logs tail` detailed output). */
  shape?: 'raw' | 'tail';
  header?: boolean;
}

/**
 * Generated flow log lines in any format and shape, for anyone who wants to compare tools on the same data.
 * Records are the default-format ones of generateLines; fields of other versions are derived from them
 * (ids from the interface, pkt-* addresses equal to the addresses, direction from which side is private), so the
 * same seed gives the same traffic in every format.
 */
export function* generateFlowLogs(count: number, seed = 1, options: FlowLogGenOptions = {}): Generator<string> {
  const format = options.format ?? DEFAULT_FORMAT;
  const shape = options.shape ?? 'raw';
  const isDefault = format.text === DEFAULT_FORMAT.text;
  if (options.header && shape === 'raw') yield format.text;
  const version = String(Math.max(2, ...format.fields.map((f) => (f.version === 6 ? 0 : f.version))));
  const r = mulberry32(seed ^ 0x5eed);
  for (const line of generateLines(count, seed)) {
    const t = line.split(' ');
    const record = isDefault ? line : format.fields.map((f) => fieldValue(f.name, t, version, r)).join(' ');
    if (shape === 'tail') {
      const start = Number(t[10]);
      // As `aws logs tail` prints it: microseconds and a +00:00 zone, then the interface's log stream.
      yield `${new Date(start * 1000).toISOString().replace('Z', '000+00:00')} ${t[2]}-all ${record}`;
    } else {
      yield record;
    }
  }
}

const DEFAULT_INDEX = new Map(DEFAULT_FORMAT.fields.map((f, i) => [f.name, i]));

function idFrom(prefix: string, text: string, length: number): string {
  let h = 2166136261;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 16777619);
  let out = '';
  for (let i = 0; i < length; i++) {
    h = Math.imul(h ^ (h >>> 13), 0x5bd1e995);
    out += ((h >>> 0) % 16).toString(16);
  }
  return `${prefix}-${out}`;
}

const PRIVATE = /^(10\.|172\.(1[6-9]|2\d|3[01])\.|192\.168\.|fd|2600:1f18:)/;

/** A value for a field of another version, derived from the default-format tokens `t`. */
function fieldValue(name: string, t: string[], version: string, r: () => number): string {
  const i = DEFAULT_INDEX.get(name);
  if (name === 'version') return version;
  if (i !== undefined) return t[i];
  const nodata = t[13] !== 'OK';
  const eni = t[2];
  switch (name) {
    case 'vpc-id':
      return idFrom('vpc', t[1], 17);
    case 'subnet-id':
      return idFrom('subnet', eni, 17);
    case 'region':
      return 'us-east-1';
    case 'az-id':
      return 'use1-az4';
  }
  if (nodata) return '-';
  switch (name) {
    case 'instance-id':
      return r() < 0.8 ? idFrom('i', eni, 17) : '-';
    case 'tcp-flags':
      return t[7] === '6' ? String([2, 18, 19, 3, 1, 0, 4][Math.floor(r() * 7)]) : '-';
    case 'type':
      return t[3].includes(':') ? 'IPv6' : 'IPv4';
    case 'pkt-srcaddr':
      return t[3];
    case 'pkt-dstaddr':
      return t[4];
    case 'pkt-src-aws-service':
      return t[3].startsWith('52.94.') ? 'AMAZON' : '-';
    case 'pkt-dst-aws-service':
      return t[4].startsWith('52.94.') ? 'AMAZON' : '-';
    case 'flow-direction':
      return PRIVATE.test(t[3]) ? 'egress' : 'ingress';
    case 'traffic-path':
      return PRIVATE.test(t[3]) ? String(PRIVATE.test(t[4]) ? 1 : 2) : '-';
    default:
      return '-';
  }
}
