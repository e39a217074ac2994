import { readFileSync } from 'node:fs';
import { formatIPv4, formatIPv6Words, parseCidr, type Cidr } from './ip-words.js';
import { PrefixTrieBuilder, type PrefixTrie } from './prefix-trie.js';

/** What ip-ranges.json says about the prefix that holds an address. */
export interface AwsRange {
  /** The one service code AWS itself would write (as in `pkt-dst-aws-service`). */
  readonly service: string;
  /** Every service whose ranges contain the address, shorter prefixes included, most specific first. */
  readonly services: readonly string[];
  readonly region: string;
  readonly border_group: string;
  /** The longest listed prefix that contains the address. */
  readonly prefix: string;
}

export interface IpRangesInfo {
  readonly source: string;
  readonly syncToken: string;
  readonly createDate: string;
  /** createDate as a Date (the file's `yyyy-mm-dd-hh-mm-ss`, UTC). */
  readonly created: Date;
  readonly ipv4Entries: number;
  readonly ipv6Entries: number;
  readonly ipv4Prefixes: number;
  readonly ipv6Prefixes: number;
  readonly services: readonly string[];
}

export class IpRangesError extends Error {
  override name = 'IpRangesError';
}

interface RawEntry {
  cidr: Cidr;
  region: string;
  service: string;
  border_group: string;
}

/**
 * Orders the codes listed for one prefix from most to least specific, the way AWS picks the single code it writes
 * in `pkt-*-aws-service`: any other code before EC2, EC2 before AMAZON (AMAZON is the superset of everything;
 * services nest inside EC2 ranges). Between two other codes, one whose name extends the other's is more specific
 * (CLOUDFRONT_ORIGIN_FACING before CLOUDFRONT, ROUTE53_HEALTHCHECKS before ROUTE53); otherwise alphabetical.
 * In the 2026-08 snapshot the only prefixes listed under two other codes are CLOUDFRONT + CLOUDFRONT_ORIGIN_FACING.
 */
export function compareServiceSpecificity(a: string, b: string): number {
  const rank = (code: string) => (code === 'AMAZON' ? 2 : code === 'EC2' ? 1 : 0);
  if (rank(a) !== rank(b)) return rank(a) - rank(b);
  if (a.startsWith(b + '_')) return -1;
  if (b.startsWith(a + '_')) return 1;
  return a < b ? -1 : a > b ? 1 : 0;
}

const DATE = /^(\d{4})-(\d{2})-(\d{2})-(\d{2})-(\d{2})-(\d{2})$/;

function parseCreateDate(text: string): Date | null {
  const m = DATE.exec(text);
  if (!m) return null;
  const d = new Date(Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6]));
  return Number.isNaN(d.getTime()) ? null : d;
}

/**
 * Checks that a parsed document has the structure of AWS's ip-ranges.json and returns its entries.
 * Throws IpRangesError saying what is wrong (and where) otherwise.
 */
export function validateIpRanges(doc: unknown, source: string): { syncToken: string; createDate: string; created: Date; v4: RawEntry[]; v6: RawEntry[] } {
  const fail = (what: string): never => {
    throw new IpRangesError(`${source}: not an AWS ip-ranges.json: ${what}`);
  };
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) fail('not a JSON object');
  const d = doc as Record<string, unknown>;
  if (typeof d.syncToken !== 'string' || !/^\d+$/.test(d.syncToken)) fail('syncToken missing or not a number in a string');
  if (typeof d.createDate !== 'string') fail('createDate missing');
  const created = parseCreateDate(d.createDate as string) ?? fail(`createDate '${d.createDate}' is not yyyy-mm-dd-hh-mm-ss`);
  const entries = (key: 'prefixes' | 'ipv6_prefixes', prefixKey: 'ip_prefix' | 'ipv6_prefix', family: 4 | 6): RawEntry[] => {
    const list = d[key];
    if (!Array.isArray(list)) return fail(`"${key}" is not a list`);
    return list.map((e: unknown, i: number) => {
      const o = (typeof e === 'object' && e !== null ? e : {}) as Record<string, unknown>;
      const prefix = o[prefixKey];
      for (const k of [prefixKey, 'region', 'service', 'network_border_group']) {
        if (typeof o[k] !== 'string') fail(`${key}[${i}] has no "${k}" string`);
      }
      let cidr: Cidr;
      try {
        cidr = parseCidr(prefix as string);
      } catch {
        return fail(`${key}[${i}]: '${prefix}' is not a CIDR`);
      }
      if (cidr.family !== family) fail(`${key}[${i}]: '${prefix}' is not IPv${family}`);
      return { cidr, region: o.region as string, service: o.service as string, border_group: o.network_border_group as string };
    });
  };
  const v4 = entries('prefixes', 'ip_prefix', 4);
  const v6 = entries('ipv6_prefixes', 'ipv6_prefix', 6);
  if (v4.length === 0) fail('no IPv4 prefixes');
  return { syncToken: d.syncToken as string, createDate: d.createDate as string, created, v4, v6 };
}

/**
 * AWS's published address space, ready for lookups: one entry per distinct prefix, in a prefix trie.
 * Built once; lookups return shared, frozen entries.
 */
export class AwsRanges {
  readonly entries: readonly AwsRange[];
  readonly trie: PrefixTrie;
  readonly info: IpRangesInfo;

  private constructor(entries: AwsRange[], trie: PrefixTrie, info: IpRangesInfo) {
    this.entries = entries;
    this.trie = trie;
    this.info = info;
  }

  static fromFile(path: string): AwsRanges {
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (err) {
      throw new IpRangesError(`${path}: cannot read: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message}`);
    }
    return AwsRanges.fromText(text, path);
  }

  static fromText(text: string, source: string): AwsRanges {
    let doc: unknown;
    try {
      doc = JSON.parse(text);
    } catch (err) {
      throw new IpRangesError(`${source}: not valid JSON (${(err as Error).message})`);
    }
    return AwsRanges.fromDocument(doc, source);
  }

  static fromDocument(doc: unknown, source: string): AwsRanges {
    const { syncToken, createDate, created, v4, v6 } = validateIpRanges(doc, source);
    const entries: AwsRange[] = [];
    const builder = new PrefixTrieBuilder();
    const services = new Set<string>();
    const distinct = { 4: 0, 6: 0 };
    for (const [family, list] of [[4, v4], [6, v6]] as const) {
      const groups = [...groupByPrefix(list).values()];
      distinct[family] = groups.length;
      // CIDRs are either nested or disjoint: sorted by start address (shorter first on ties), a stack of the
      // prefixes still open gives each one its enclosing prefix, whose codes it inherits.
      groups.sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : a.len - b.len));
      const open: Group[] = [];
      for (const group of groups) {
        while (open.length > 0 && open[open.length - 1].end < group.start) open.pop();
        const parent = open[open.length - 1];
        group.all = new Set([...(parent?.all ?? []), ...group.codes]);
        open.push(group);
        group.codes.forEach((c) => services.add(c));
        builder.add(group.prefix, entries.length);
        entries.push(
          Object.freeze({
            service: [...group.codes].sort(compareServiceSpecificity)[0],
            services: Object.freeze([...group.all].sort(compareServiceSpecificity)),
            region: group.region,
            border_group: group.border_group,
            prefix: group.prefix,
          }),
        );
      }
    }
    const info: IpRangesInfo = {
      source,
      syncToken,
      createDate,
      created,
      ipv4Entries: v4.length,
      ipv6Entries: v6.length,
      ipv4Prefixes: distinct[4],
      ipv6Prefixes: distinct[6],
      services: [...services].sort(),
    };
    return new AwsRanges(entries, builder.build(), info);
  }

  lookupV4(addr: number): AwsRange | null {
    const id = this.trie.lookupV4(addr);
    return id < 0 ? null : this.entries[id];
  }

  lookupV6(w0: number, w1: number, w2: number, w3: number): AwsRange | null {
    const id = this.trie.lookupV6(w0, w1, w2, w3);
    return id < 0 ? null : this.entries[id];
  }
}

interface Group {
  prefix: string;
  codes: Set<string>;
  all?: Set<string>;
  region: string;
  border_group: string;
  len: number;
  /** First and last address, as integers (off the hot path, so BigInt keeps IPv6 simple). */
  start: bigint;
  end: bigint;
}

function groupByPrefix(list: readonly RawEntry[]): Map<string, Group> {
  const byPrefix = new Map<string, Group>();
  for (const e of list) {
    const { start, end, prefix } = span(e.cidr);
    const group = byPrefix.get(prefix);
    if (group) {
      group.codes.add(e.service);
      continue;
    }
    byPrefix.set(prefix, { prefix, codes: new Set([e.service]), region: e.region, border_group: e.border_group, len: e.cidr.len, start, end });
  }
  return byPrefix;
}

/** The normalised text of a CIDR (network address/len) and its first and last address as integers. */
function span(cidr: Cidr): { prefix: string; start: bigint; end: bigint } {
  if (cidr.family === 4) {
    const start = BigInt(cidr.addr);
    return { prefix: `${formatIPv4(cidr.addr)}/${cidr.len}`, start, end: start + (1n << BigInt(32 - cidr.len)) - 1n };
  }
  const [w0, w1, w2, w3] = cidr.words;
  const start = (BigInt(w0) << 96n) | (BigInt(w1) << 64n) | (BigInt(w2) << 32n) | BigInt(w3);
  return { prefix: `${formatIPv6Words(w0, w1, w2, w3)}/${cidr.len}`, start, end: start + (1n << BigInt(128 - cidr.len)) - 1n };
}
