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

export function parseCreateDate(text: string): Date | null {
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
 * The distinct prefixes, IPv4 first, as columns; a prefix's index is its value in the trie. Texts are indexes into
 * `strings`, code lists indexes into `lists` (each sorted by compareServiceSpecificity).
 */
export interface RangeTable {
  v4Count: number;
  /** One word per IPv4 prefix, then four per IPv6 prefix (host bits cleared). */
  words: Uint32Array;
  lens: Uint8Array;
  service: Int32Array;
  services: Int32Array;
  region: Int32Array;
  borderGroup: Int32Array;
  strings: readonly string[];
  lists: readonly (readonly number[])[];
}

/**
 * AWS's published address space, ready for lookups: one entry per distinct prefix, in a prefix trie.
 * Built once; lookups return shared, frozen entries.
 */
export class AwsRanges {
  readonly trie: PrefixTrie;
  readonly info: IpRangesInfo;
  readonly table: RangeTable;
  // Entries are made when first asked for: a run meets a few hundred of the ~11,000 prefixes, and not making the
  // rest keeps start-up fast and lean.
  private readonly made: AwsRange[] = [];
  private readonly madeLists: (readonly string[])[] = [];
  private all: readonly AwsRange[] | null = null;

  /** Use fromFile, fromText or fromDocument. */
  constructor(table: RangeTable, trie: PrefixTrie, info: IpRangesInfo) {
    this.table = table;
    this.trie = trie;
    this.info = info;
  }

  /** Every entry, in trie-value order (makes them all). */
  get entries(): readonly AwsRange[] {
    return (this.all ??= Object.freeze(Array.from(this.table.lens, (_, id) => this.entry(id))));
  }

  /** The entry with this trie value. */
  entry(id: number): AwsRange {
    let e = this.made[id];
    if (e === undefined) {
      const t = this.table;
      const at = id < t.v4Count ? id : t.v4Count + 4 * (id - t.v4Count);
      const w = t.words;
      const address = id < t.v4Count ? formatIPv4(w[at]) : formatIPv6Words(w[at], w[at + 1], w[at + 2], w[at + 3]);
      e = this.made[id] = Object.freeze({
        service: t.strings[t.service[id]],
        services: (this.madeLists[t.services[id]] ??= Object.freeze(t.lists[t.services[id]].map((s) => t.strings[s]))),
        region: t.strings[t.region[id]],
        border_group: t.strings[t.borderGroup[id]],
        prefix: `${address}/${t.lens[id]}`,
      });
    }
    return e;
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
    const services = new Set<number>();
    // Lists of codes are few and repeat across thousands of prefixes: each is kept once.
    const lists: number[][] = [];
    const listIds = new Map<string, number>();
    const bySpecificity = (codes: readonly number[]) => codes.slice().sort((a, b) => compareServiceSpecificity(strings[a], strings[b]));
    const listOf = (unsorted: readonly number[]): number => {
      const codes = bySpecificity(unsorted);
      const key = codes.join();
      let id = listIds.get(key);
      if (id === undefined) listIds.set(key, (id = lists.push(codes) - 1));
      return id;
    };
    const n = v4.lens.length + v6.lens.length;
    const table: RangeTable = {
      v4Count: 0,
      words: new Uint32Array(v4.lens.length + 4 * v6.lens.length),
      lens: new Uint8Array(n),
      service: new Int32Array(n),
      services: new Int32Array(n),
      region: new Int32Array(n),
      borderGroup: new Int32Array(n),
      strings,
      lists,
    };
    let count = 0;
    let wordCount = 0;
    for (const t of [v4, v6]) {
      const { width, words, lens } = t;
      const order = byPrefix(t);
      // CIDRs are either nested or disjoint: sorted by address (shorter first on ties), a stack of the prefixes
      // still open gives each one its enclosing prefix, whose codes it inherits. Entries with the same prefix
      // are adjacent; the first in the file gives the region and border group.
      const open: { at: number; len: number; all: number[] }[] = [];
      for (let k = 0; k < order.length; ) {
        const first = order[k];
        const codes: number[] = [];
        for (; k < order.length && samePrefix(t, first, order[k]); k++) {
          const code = t.service[order[k]];
          if (!codes.includes(code)) codes.push(code);
        }
        const at = first * width;
        while (open.length > 0 && !contains(table.words, open[open.length - 1], words, at, width)) open.pop();
        const all = [...new Set([...(open.length > 0 ? open[open.length - 1].all : []), ...codes])];
        open.push({ at: wordCount, len: lens[first], all });
        for (const c of codes) services.add(c);
        table.words.set(words.subarray(at, at + width), wordCount);
        wordCount += width;
        table.lens[count] = lens[first];
        table.service[count] = bySpecificity(codes)[0];
        table.services[count] = listOf(all);
        table.region[count] = t.region[first];
        table.borderGroup[count] = t.borderGroup[first];
        count++;
      }
      if (t === v4) table.v4Count = count;
    }
    const info: IpRangesInfo = {
      source,
      syncToken,
      createDate,
      created,
      ipv4Entries: v4.lens.length,
      ipv6Entries: v6.lens.length,
      ipv4Prefixes: table.v4Count,
      ipv6Prefixes: count - table.v4Count,
      services: [...services].map((id) => strings[id]).sort(),
    };
    const trimmed: RangeTable = {
      ...table,
      words: table.words.slice(0, wordCount),
      lens: table.lens.slice(0, count),
      service: table.service.slice(0, count),
      services: table.services.slice(0, count),
      region: table.region.slice(0, count),
      borderGroup: table.borderGroup.slice(0, count),
    };
    return new AwsRanges(trimmed, buildPrefixTrie(...trieColumns(trimmed)), info);
  }

  lookupV4(addr: number): AwsRange | null {
    const id = this.trie.lookupV4(addr);
    return id < 0 ? null : this.entry(id);
  }

  lookupV6(w0: number, w1: number, w2: number, w3: number): AwsRange | null {
    const id = this.trie.lookupV6(w0, w1, w2, w3);
    return id < 0 ? null : this.entry(id);
  }
}

/** The trie's input: each family's prefixes, valued by their index in the table. */
function trieColumns(t: RangeTable): [PrefixColumns, PrefixColumns] {
  const n = t.lens.length;
  const values = Int32Array.from(t.lens, (_, i) => i);
  return [
    { words: t.words.subarray(0, t.v4Count), lens: t.lens.subarray(0, t.v4Count), values: values.subarray(0, t.v4Count) },
    { words: t.words.subarray(t.v4Count), lens: t.lens.subarray(t.v4Count, n), values: values.subarray(t.v4Count, n) },
  ];
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

/** Whether the prefix `outer` (at its word offset in `table`) contains the one at `inner` in `words`. */
function contains(table: Uint32Array, outer: { at: number; len: number }, words: Uint32Array, inner: number, width: number): boolean {
  for (let k = 0; k < width; k++) {
    if (((words[inner + k] & wordMask(outer.len - 32 * k)) >>> 0) !== table[outer.at + k]) return false;
  }
  return true;
}
