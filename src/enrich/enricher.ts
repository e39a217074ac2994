import { bytesEqual, parseIPv4 } from '../decode/bytes.js';
import type { Format } from '../decode/format.js';
import { KIND_IPV4, KIND_IPV6, KIND_NULL, type DecodedRecord } from '../decode/record.js';
import { derivesDirection, endpointFields, NON_PUBLIC_RANGES, type EndpointInfo, type Scope, type VpcOwner } from './endpoint.js';
import type { Inventory, KnownInterface } from './inventory.js';
import type { AwsRange, AwsRanges } from './ip-ranges.js';
import { parseIPv6String, parseIPv6Words } from './ip-words.js';
import { PrefixTrieBuilder, type PrefixTrie } from './prefix-trie.js';

export interface EnricherOptions {
  /** AWS's published ranges; null when there is no ip-ranges.json (addresses then get `aws: null`). */
  awsRanges?: AwsRanges | null;
  /** Your VPCs, subnets and network interfaces (--vpc, --inventory). */
  inventory?: Inventory;
}

interface Network {
  vpc_id: string | null;
  subnet_id: string | null;
}

interface FormatPlan {
  /** Field indexes of the address fields that get an endpoint object. */
  readonly addressFields: readonly number[];
  readonly interfaceField: number;
  /** Whether `direction` is derived (the format has no flow-direction of its own). */
  readonly derivesDirection: boolean;
}

/** Ids of endpoint answers, unique across enrichers: a sink may serve records of several. */
let nextEndpointId = 0;

/** Distinct addresses remembered; past this the memo starts over, so memory stays bounded on any input. */
const MEMO_LIMIT = 200_000;
/** A power of two well above MEMO_LIMIT, so probe runs stay short (load factor under 0.4). */
const MEMO_SLOTS = 1 << 19;
const MEMO_SHIFT = 32 - 19;

/**
 * Says who owns each address of a record: your VPC (CIDRs and interface addresses), AWS (ip-ranges.json), or the
 * kind of address it is. Lookups go through prefix tries; answers are interned (all addresses with the same owner
 * share one EndpointInfo) and remembered per IPv4 address, since addresses repeat heavily in flow logs.
 */
export class Enricher {
  private readonly aws: AwsRanges | null;
  private readonly scopeTrie: PrefixTrie;
  private readonly scopes: ('private' | 'special')[];
  private readonly networkTrie: PrefixTrie;
  private readonly networks: Network[] = [];
  private readonly interfaceTrie: PrefixTrie;
  private readonly interfaces: KnownInterface[];
  /** Every distinct answer so far, and where each is in `answers`, by the key of what the lookups found. */
  private readonly answers: EndpointInfo[] = [];
  private readonly answerByKey = new Map<number, number>();
  // The per-address memo: MEMO_SLOTS slots of (IPv4 address, 1 + index into answers; 0 = empty).
  private readonly memoKeys = new Uint32Array(MEMO_SLOTS);
  private readonly memoIds = new Int32Array(MEMO_SLOTS);
  private memoUsed = 0;
  private readonly words = new Uint32Array(4);
  private readonly plans = new WeakMap<Format, FormatPlan>();
  private lastFormat: Format | null = null;
  private lastPlan: FormatPlan | null = null;

  constructor(options: EnricherOptions = {}) {
    this.aws = options.awsRanges ?? null;
    const inventory = options.inventory ?? { vpcs: [], subnets: [], interfaces: [] };

    const scopes = new PrefixTrieBuilder();
    this.scopes = NON_PUBLIC_RANGES.map(([cidr, scope], i) => (scopes.add(cidr, i), scope));
    this.scopeTrie = scopes.build();

    // Subnets are longer prefixes than their VPC's CIDRs, so the longest match names the subnet when known.
    const networks = new PrefixTrieBuilder();
    for (const vpc of inventory.vpcs) {
      for (const cidr of vpc.cidrs) networks.add(cidr, this.networks.push({ vpc_id: vpc.vpcId, subnet_id: null }) - 1);
    }
    for (const subnet of inventory.subnets) {
      for (const cidr of subnet.cidrs) networks.add(cidr, this.networks.push({ vpc_id: subnet.vpcId, subnet_id: subnet.subnetId }) - 1);
    }
    this.networkTrie = networks.build();

    this.interfaces = inventory.interfaces;
    const interfaces = new PrefixTrieBuilder();
    inventory.interfaces.forEach((eni, i) => {
      for (const cidr of eni.prefixes) interfaces.add(cidr, i);
      for (const address of eni.addresses) interfaces.add(address.includes(':') ? `${address}/128` : `${address}/32`, i);
    });
    this.interfaceTrie = interfaces.build();
  }

  /** Fills `rec.endpoints` for the record's address fields, and `rec.direction` where the format has none. */
  enrich(rec: DecodedRecord): void {
    const plan = this.planFor(rec.format);
    rec.enriched = true;
    const kinds = rec.kinds;
    const fields = plan.addressFields;
    for (let f = 0; f < fields.length; f++) {
      const i = fields[f];
      const kind = kinds[i];
      rec.endpoints[i] =
        kind === KIND_IPV4 ? this.ipv4(rec.numbers[i])
        : kind === KIND_IPV6 ? this.ipv6Bytes(rec.buf, rec.starts[i], rec.ends[i])
        : null;
    }
    if (plan.derivesDirection) rec.direction = this.direction(rec, plan);
  }

  /** The endpoint of an address given as text (`vpcflow ranges lookup`); null if it is not an IP address. */
  lookup(text: string): EndpointInfo | null {
    const bytes = Buffer.from(text.trim());
    const v4 = parseIPv4(bytes, 0, bytes.length);
    if (v4 >= 0) return this.ipv4(v4);
    if (!parseIPv6String(text.trim(), this.words)) return null;
    return this.ipv6Words();
  }

  ipv4(addr: number): EndpointInfo {
    // Open addressing on the address itself: cheaper than a Map lookup, and nothing allocated per address.
    const keys = this.memoKeys;
    const mask = keys.length - 1;
    let slot = Math.imul(addr, 0x9e3779b1) >>> MEMO_SHIFT;
    for (;;) {
      const id = this.memoIds[slot];
      if (id === 0) break;
      if (keys[slot] === addr) return this.answers[id - 1];
      slot = (slot + 1) & mask;
    }
    if (this.memoUsed >= MEMO_LIMIT) {
      // Full: start over, so memory stays bounded however many distinct addresses the input has.
      this.memoIds.fill(0);
      this.memoUsed = 0;
      return this.ipv4(addr);
    }
    const aws = this.aws ? this.aws.trie.lookupV4(addr) : -1;
    const index = this.answer(aws, this.networkTrie.lookupV4(addr), this.interfaceTrie.lookupV4(addr), this.scopeTrie.lookupV4(addr));
    keys[slot] = addr;
    this.memoIds[slot] = index + 1;
    this.memoUsed++;
    return this.answers[index];
  }

  private ipv6Bytes(buf: Uint8Array, start: number, end: number): EndpointInfo | null {
    return parseIPv6Words(buf, start, end, this.words) ? this.ipv6Words() : null;
  }

  /** IPv6 from the scratch words; an IPv4-mapped address (::ffff:a.b.c.d) is answered as the IPv4 it carries. */
  private ipv6Words(): EndpointInfo {
    const [w0, w1, w2, w3] = this.words;
    if (w0 === 0 && w1 === 0 && w2 === 0xffff) return this.ipv4(w3);
    const aws = this.aws ? this.aws.trie.lookupV6(w0, w1, w2, w3) : -1;
    const index = this.answer(aws, this.networkTrie.lookupV6(w0, w1, w2, w3), this.interfaceTrie.lookupV6(w0, w1, w2, w3), this.scopeTrie.lookupV6(w0, w1, w2, w3));
    return this.answers[index];
  }

  /** The index in `answers` of the one shared EndpointInfo for what the lookups found (made the first time). */
  private answer(awsId: number, networkId: number, interfaceId: number, scopeId: number): number {
    const key = (((awsId + 1) * (this.networks.length + 1) + networkId + 1) * (this.interfaces.length + 1) + interfaceId + 1) * 32 + scopeId + 1;
    let index = this.answerByKey.get(key);
    if (index === undefined) {
      const aws: AwsRange | null = awsId >= 0 ? this.aws!.entry(awsId) : null;
      const vpc = this.owner(networkId, interfaceId);
      const scope: Scope = vpc ? 'vpc' : aws ? 'aws' : scopeId >= 0 ? this.scopes[scopeId] : 'internet';
      index = this.answers.push(Object.freeze({ id: nextEndpointId++, scope, aws, vpc })) - 1;
      this.answerByKey.set(key, index);
    }
    return index;
  }

  private owner(networkId: number, interfaceId: number): VpcOwner | null {
    const network = networkId >= 0 ? this.networks[networkId] : null;
    const eni = interfaceId >= 0 ? this.interfaces[interfaceId] : null;
    if (!network && !eni) return null;
    return Object.freeze({
      vpc_id: eni?.vpcId ?? network?.vpc_id ?? null,
      subnet_id: eni?.subnetId ?? network?.subnet_id ?? null,
      eni: eni?.eni ?? null,
      instance_id: eni?.instanceId ?? null,
      resource: eni ? Object.freeze({ type: eni.interfaceType, description: eni.description }) : null,
    });
  }

  /**
   * Ingress or egress relative to the record's interface, from that interface's own addresses: AWS writes the
   * interface's address as srcaddr for outgoing and as dstaddr for incoming traffic.
   */
  private direction(rec: DecodedRecord, plan: FormatPlan): 'ingress' | 'egress' | null {
    const iface = plan.interfaceField;
    if (rec.kinds[iface] === KIND_NULL) return null;
    // endpointFields() lists srcaddr and dstaddr first, and derivesDirection() guarantees both are there.
    const [src, dst] = plan.addressFields;
    if (this.ownedBy(rec, src, iface)) return 'egress';
    if (this.ownedBy(rec, dst, iface)) return 'ingress';
    return null;
  }

  private ownedBy(rec: DecodedRecord, addressField: number, interfaceField: number): boolean {
    const vpc = rec.endpoints[addressField]?.vpc;
    if (!vpc?.eni) return false;
    return bytesEqual(rec.buf, rec.starts[interfaceField], rec.ends[interfaceField], vpc.eni);
  }

  private planFor(format: Format): FormatPlan {
    // The last layout's plan kept at hand: a WeakMap lookup per record is measurable here.
    if (format === this.lastFormat) return this.lastPlan!;
    this.lastFormat = format;
    let plan = this.plans.get(format);
    if (!plan) {
      plan = {
        addressFields: endpointFields(format),
        interfaceField: format.indexOf.get('interface_id') ?? -1,
        derivesDirection: derivesDirection(format),
      };
      this.plans.set(format, plan);
    }
    return (this.lastPlan = plan);
  }
}
