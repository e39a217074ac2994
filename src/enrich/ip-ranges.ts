import { readFileSync } from 'node:fs';
import { formatIPv4, formatIPv6Words, parseCidrInto, wordMask, type Cidr, type CidrScratch } from './ip-words.js';
import { buildPrefixTrie, type PrefixColumns, type PrefixTrie } from './prefix-trie.js';

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
 * One family's entries as read from the document, in file order, as parallel columns: `width` address words
 * (host bits cleared) and a length per entry, and indexes into `strings` for its service, region and border group.
 */
interface EntryColumns {
  width: number;
  words: Uint32Array;
  lens: Uint8Array;
  service: Int32Array;
  region: Int32Array;
  borderGroup: Int32Array;
}

interface ReadDocument {
  syncToken: string;
  createDate: string;
  created: Date;
  v4: EntryColumns;
  v6: EntryColumns;
  /** Every distinct service, region and border group text, once. */
  strings: string[];
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
  const { syncToken, createDate, created, v4, v6, strings } = readDocument(doc, source);
  const entries = (t: EntryColumns): RawEntry[] =>
    Array.from(t.lens, (len, i) => ({
      cidr: t.width === 1 ? { family: 4, addr: t.words[i], len } : { family: 6, words: t.words.slice(4 * i, 4 * i + 4), len },
      region: strings[t.region[i]],
      service: strings[t.service[i]],
      border_group: strings[t.borderGroup[i]],
    }));
  return { syncToken, createDate, created, v4: entries(v4), v6: entries(v6) };
}

function readDocument(doc: unknown, source: string): ReadDocument {
  const fail = (what: string): never => {
    throw new IpRangesError(`${source}: not an AWS ip-ranges.json: ${what}`);
  };
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) fail('not a JSON object');
  const d = doc as Record<string, unknown>;
  if (typeof d.syncToken !== 'string' || !/^\d+$/.test(d.syncToken)) fail('syncToken missing or not a number in a string');
  if (typeof d.createDate !== 'string') fail('createDate missing');
  const created = parseCreateDate(d.createDate as string) ?? fail(`createDate '${d.createDate}' is not yyyy-mm-dd-hh-mm-ss`);
  const strings: string[] = [];
  const stringIds = new Map<string, number>();
  const intern = (text: string): number => {
    let id = stringIds.get(text);
    if (id === undefined) stringIds.set(text, (id = strings.push(text) - 1));
    return id;
  };
  const scratch: CidrScratch = { family: 4, words: new Uint32Array(4), len: 0 };
  const entries = (key: 'prefixes' | 'ipv6_prefixes', prefixKey: 'ip_prefix' | 'ipv6_prefix', family: 4 | 6): EntryColumns => {
    const list = d[key];
    if (!Array.isArray(list)) return fail(`"${key}" is not a list`);
    const width = family === 4 ? 1 : 4;
    const n = list.length;
    const t: EntryColumns = { width, words: new Uint32Array(n * width), lens: new Uint8Array(n), service: new Int32Array(n), region: new Int32Array(n), borderGroup: new Int32Array(n) };
    for (let i = 0; i < n; i++) {
      const e: unknown = list[i];
      const o = (typeof e === 'object' && e !== null ? e : {}) as Record<string, unknown>;
      const prefix = o[prefixKey];
      for (const k of [prefixKey, 'region', 'service', 'network_border_group']) {
        if (typeof o[k] !== 'string') fail(`${key}[${i}] has no "${k}" string`);
      }
      try {
        parseCidrInto(prefix as string, scratch);
      } catch {
        return fail(`${key}[${i}]: '${prefix}' is not a CIDR`);
      }
      if (scratch.family !== family) fail(`${key}[${i}]: '${prefix}' is not IPv${family}`);
      for (let k = 0; k < width; k++) t.words[i * width + k] = scratch.words[k];
      t.lens[i] = scratch.len;
      t.service[i] = intern(o.service as string);
      t.region[i] = intern(o.region as string);
      t.borderGroup[i] = intern(o.network_border_group as string);
    }
    return t;
  };
  const v4 = entries('prefixes', 'ip_prefix', 4);
  const v6 = entries('ipv6_prefixes', 'ipv6_prefix', 6);
  if (v4.lens.length === 0) fail('no IPv4 prefixes');
  return { syncToken: d.syncToken as string, createDate: d.createDate as string, created, v4, v6, strings };
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
    const { syncToken, createDate, created, v4, v6, strings } = readDocument(doc, source);
    const entries: AwsRange[] = [];
    const services = new Set<string>();
    // Lists of codes are few and repeat across thousands of prefixes: one frozen array each.
    const lists = new Map<string, readonly string[]>();
    const listOf = (codes: string[]): readonly string[] => {
      codes.sort(compareServiceSpecificity);
      const key = JSON.stringify(codes);
      let list = lists.get(key);
      if (!list) lists.set(key, (list = Object.freeze(codes)));
      return list;
    };
    const tries: PrefixColumns[] = [];
    const distinct: number[] = [];
    for (const t of [v4, v6]) {
      const { width, words, lens } = t;
      const order = byPrefix(t);
      const prefixes: PrefixColumns = { words: new Uint32Array(lens.length * width), lens: new Uint8Array(lens.length), values: new Int32Array(lens.length) };
      let count = 0;
      // CIDRs are either nested or disjoint: sorted by address (shorter first on ties), a stack of the prefixes
      // still open gives each one its enclosing prefix, whose codes it inherits. Entries with the same prefix
      // are adjacent; the first in the file gives the region and border group.
      const open: { at: number; services: readonly string[] }[] = [];
      for (let k = 0; k < order.length; ) {
        const first = order[k];
        const codes: string[] = [];
        for (; k < order.length && samePrefix(t, first, order[k]); k++) {
          const code = strings[t.service[order[k]]];
          if (!codes.includes(code)) codes.push(code);
        }
        const at = first * width;
        while (open.length > 0 && !contains(prefixes, open[open.length - 1].at, words, at, width)) open.pop();
        const inherited = open.length > 0 ? open[open.length - 1].services : [];
        const all = listOf([...new Set([...inherited, ...codes])]);
        prefixes.words.set(words.subarray(at, at + width), count * width);
        prefixes.lens[count] = lens[first];
        prefixes.values[count] = entries.length;
        open.push({ at: count * width, services: all });
        count++;
        for (const c of codes) services.add(c);
        entries.push(
          Object.freeze({
            service: codes.sort(compareServiceSpecificity)[0],
            services: all,
            region: strings[t.region[first]],
            border_group: strings[t.borderGroup[first]],
            prefix: prefixText(words, at, width, lens[first]),
          }),
        );
      }
      distinct.push(count);
      tries.push({ words: prefixes.words.subarray(0, count * width), lens: prefixes.lens.subarray(0, count), values: prefixes.values.subarray(0, count) });
    }
    const info: IpRangesInfo = {
      source,
      syncToken,
      createDate,
      created,
      ipv4Entries: v4.lens.length,
      ipv6Entries: v6.lens.length,
      ipv4Prefixes: distinct[0],
      ipv6Prefixes: distinct[1],
      services: [...services].sort(),
    };
    return new AwsRanges(entries, buildPrefixTrie(tries[0], tries[1]), info);
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

/** Entry indexes ordered by address, then length (shorter first), then position in the file. */
function byPrefix(t: EntryColumns): Int32Array {
  const { width, words, lens } = t;
  return Int32Array.from(lens, (_, i) => i).sort((a, b) => {
    for (let k = 0; k < width; k++) {
      const x = words[a * width + k];
      const y = words[b * width + k];
      if (x !== y) return x < y ? -1 : 1;
    }
    return lens[a] - lens[b] || a - b;
  });
}

function samePrefix(t: EntryColumns, a: number, b: number): boolean {
  const { width, words, lens } = t;
  if (lens[a] !== lens[b]) return false;
  for (let k = 0; k < width; k++) if (words[a * width + k] !== words[b * width + k]) return false;
  return true;
}

/** Whether the prefix at `outer` (in `prefixes`) contains the one at `inner` (in `words`). */
function contains(prefixes: PrefixColumns, outer: number, words: Uint32Array, inner: number, width: number): boolean {
  const len = prefixes.lens[outer / width];
  for (let k = 0; k < width; k++) {
    if (((words[inner + k] & wordMask(len - 32 * k)) >>> 0) !== prefixes.words[outer + k]) return false;
  }
  return true;
}

/** The normalised text of a prefix: network address/len. */
function prefixText(words: Uint32Array, at: number, width: number, len: number): string {
  const address = width === 1 ? formatIPv4(words[at]) : formatIPv6Words(words[at], words[at + 1], words[at + 2], words[at + 3]);
  return `${address}/${len}`;
}
