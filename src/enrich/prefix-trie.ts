/**
 * Longest-prefix match for IPv4 and IPv6, built once and then queried on the hot path (a few lookups per flow
 * record) without allocating.
 *
 * Layout: a multibit trie with leaf pushing, one per family, each held in a single Int32Array of slots. A node is
 * 2^stride consecutive slots, indexed by the next `stride` bits of the address. A slot is either
 *   - >= 0: a leaf, the index of the longest prefix covering every address that reaches this slot (0 = none), or
 *   - <  0: minus the offset of the child node to continue in.
 * So a lookup is one indexed read per level until it reads a leaf, and the leaf indexes a (value, length) pair in
 * a second Int32Array. IPv4 uses strides 16-8-8 (at most three reads, and the 256 KiB first level absorbs the many
 * /16-and-shorter AWS prefixes). IPv6 uses 16 bits then 8-bit strides: real prefixes are /32 to /64 with a
 * handful of /96 and /128, so 8-bit nodes (1 KiB) keep memory proportional to the number of prefixes, where wider
 * strides would mostly store copies of the same leaf (AWS's ~3,100 IPv6 prefixes: 1.3 MB; a second 16-bit level
 * makes it 5 MB, a third 63 MB, for no measurable gain in speed). No stride crosses a 32-bit word, so a level reads
 * one word.
 *
 * Building inserts prefixes shortest first. A prefix of length L lands in the level whose bit range ends at or
 * after L and is expanded over the 2^(end-L) slots it covers; since everything shorter is already in place, the
 * longer prefix simply overwrites, and a child node created later starts as copies of its parent slot's leaf.
 */
import { parseCidr, wordMask } from './ip-words.js';

export interface PrefixTrieStats {
  v4Prefixes: number;
  v6Prefixes: number;
  /** Memory held by the typed arrays. */
  bytes: number;
}

const V4_STRIDES = [16, 8, 8] as const; // lookupV4 is unrolled for exactly these
const V6_STRIDES = [16, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8];
const V6_ROOT_SHIFT = 32 - V6_STRIDES[0];
const MAX_VALUE = 0x7fffffff;

interface Prefix {
  /** Address words, host bits cleared: one for IPv4, four for IPv6. */
  words: Uint32Array;
  len: number;
  value: number;
}

/** One family's arrays, as PrefixTrieBuilder makes them. */
export interface PrefixTable {
  nodes: Int32Array;
  /** Pairs (value, prefix length) by leaf index; leaf 0 is the miss, (-1, -1). */
  results: Int32Array;
}

/** Where a level's bits sit: which word, how far to shift it right, and the stride's mask. */
interface Level {
  word: number;
  shift: number;
  mask: number;
  end: number;
}

function levelsOf(strides: readonly number[]): Level[] {
  let start = 0;
  return strides.map((stride) => {
    const level = { word: start >>> 5, shift: 32 - (start & 31) - stride, mask: (1 << stride) - 1, end: start + stride };
    if (level.shift < 0) throw new Error(`stride ${stride} at bit ${start} crosses a 32-bit word`);
    start += stride;
    return level;
  });
}

/**
 * Distinct prefixes as flat columns, the form tables are built from: `width` words per prefix (1 for IPv4, 4 for
 * IPv6) with host bits cleared, and its length and value. Large lists (ip-ranges.json) come this way so that no
 * object per prefix is made.
 */
export interface PrefixColumns {
  words: Uint32Array;
  lens: Uint8Array;
  values: Int32Array;
}

function buildTable(strides: readonly number[], prefixes: PrefixColumns): PrefixTable {
  const levels = levelsOf(strides);
  const width = strides === V4_STRIDES ? 1 : 4;
  const { words, lens, values } = prefixes;
  const count = lens.length;
  // Sized exactly up front: growing by doubling left ~7 MB of discarded copies behind for AWS's ranges (RSS after
  // loading them went from 80 to 73 MB).
  const nodes = new Int32Array(slotsNeeded(levels, strides, prefixes, width));
  let used = 1 << strides[0];
  const results = new Int32Array(2 * (count + 1));
  results[0] = -1;
  results[1] = -1;
  for (let k = 0, order = byLength(lens); k < count; k++) {
    const p = order[k];
    const len = lens[p];
    const leaf = k + 1;
    results[2 * leaf] = values[p];
    results[2 * leaf + 1] = len;
    let base = 0;
    for (let lv = 0; ; lv++) {
      const { word, shift, mask, end } = levels[lv];
      const slot = base + ((words[p * width + word] >>> shift) & mask);
      if (len <= end) {
        nodes.fill(leaf, slot, slot + 2 ** (end - len));
        break;
      }
      if (nodes[slot] >= 0) {
        const size = 1 << strides[lv + 1];
        nodes.fill(nodes[slot], used, used + size);
        nodes[slot] = -used;
        used += size;
      }
      base = -nodes[slot];
    }
  }
  if (used !== nodes.length) throw new Error(`prefix trie: ${used} slots used, ${nodes.length} counted`);
  return { nodes, results };
}

/**
 * The slots a table of these prefixes takes: the root node, and below it one node for each distinct path of a
 * level's bits that some prefix continues past. In address order, prefixes sharing such a path are adjacent.
 */
function slotsNeeded(levels: readonly Level[], strides: readonly number[], prefixes: PrefixColumns, width: number): number {
  const { words, lens } = prefixes;
  const byAddress = Int32Array.from(lens, (_, i) => i).sort((a, b) => {
    for (let k = 0; k < width; k++) {
      const x = words[a * width + k];
      const y = words[b * width + k];
      if (x !== y) return x < y ? -1 : 1;
    }
    return 0;
  });
  const last = new Int32Array(levels.length).fill(-1);
  let slots = 1 << strides[0];
  for (const p of byAddress) {
    for (let lv = 0; lv < levels.length - 1 && lens[p] > levels[lv].end; lv++) {
      if (last[lv] < 0 || !samePath(words, last[lv] * width, p * width, levels[lv].end)) slots += 1 << strides[lv + 1];
      last[lv] = p;
    }
  }
  return slots;
}

/** Whether the addresses at word offsets `a` and `b` agree in their first `bits` bits. */
function samePath(words: Uint32Array, a: number, b: number, bits: number): boolean {
  for (let k = 0; bits > 0; k++, bits -= 32) {
    if (((words[a + k] ^ words[b + k]) & wordMask(bits)) !== 0) return false;
  }
  return true;
}

/** Indexes of the prefixes, shortest first (a counting sort: lengths are 0 to 128). */
function byLength(lens: Uint8Array): Int32Array {
  const starts = new Int32Array(130);
  for (let i = 0; i < lens.length; i++) starts[lens[i] + 1]++;
  for (let len = 1; len < starts.length; len++) starts[len] += starts[len - 1];
  const order = new Int32Array(lens.length);
  for (let i = 0; i < lens.length; i++) order[starts[lens[i]]++] = i;
  return order;
}

function columnsOf(prefixes: Iterable<Prefix>, count: number, width: number): PrefixColumns {
  const columns = { words: new Uint32Array(count * width), lens: new Uint8Array(count), values: new Int32Array(count) };
  let i = 0;
  for (const { words, len, value } of prefixes) {
    columns.words.set(words, i * width);
    columns.lens[i] = len;
    columns.values[i++] = value;
  }
  return columns;
}

/** A trie straight from columns (distinct prefixes, host bits cleared, values from 0 to 2^31-1: not checked). */
export function buildPrefixTrie(v4: PrefixColumns, v6: PrefixColumns): PrefixTrie {
  return new PrefixTrie(buildTable(V4_STRIDES, v4), buildTable(V6_STRIDES, v6));
}

export class PrefixTrieBuilder {
  // Keyed by the masked prefix, so re-adding one replaces its value (last wins) without a second entry.
  private readonly v4 = new Map<string, Prefix>();
  private readonly v6 = new Map<string, Prefix>();

  addV4(addr: number, len: number, value: number): void {
    checkLength(len, 32);
    checkValue(value);
    if (!Number.isInteger(addr) || addr < -0x80000000 || addr > 0xffffffff) throw new RangeError(`IPv4 address ${addr} is not a 32-bit integer`);
    const words = Uint32Array.of(addr & wordMask(len));
    this.v4.set(`${words[0]}/${len}`, { words, len, value });
  }

  addV6(words: ArrayLike<number>, len: number, value: number): void {
    checkLength(len, 128);
    checkValue(value);
    if (words.length < 4) throw new RangeError(`IPv6 address needs 4 words, got ${words.length}`);
    const w = new Uint32Array(4);
    for (let k = 0; k < 4; k++) {
      const x = words[k];
      if (!Number.isInteger(x) || x < -0x80000000 || x > 0xffffffff) throw new RangeError(`IPv6 word ${x} is not a 32-bit integer`);
      w[k] = x & wordMask(len - 32 * k);
    }
    this.v6.set(`${w.join(':')}/${len}`, { words: w, len, value });
  }

  /** A CIDR in text, as parseCidr reads it (host bits masked off). */
  add(cidr: string, value: number): void {
    const c = parseCidr(cidr);
    if (c.family === 4) this.addV4(c.addr, c.len, value);
    else this.addV6(c.words, c.len, value);
  }

  /** The builder is left as it was, so it can take more prefixes and build again. */
  build(): PrefixTrie {
    return buildPrefixTrie(columnsOf(this.v4.values(), this.v4.size, 1), columnsOf(this.v6.values(), this.v6.size, 4));
  }
}

function checkLength(len: number, max: number): void {
  if (!Number.isInteger(len) || len < 0 || len > max) throw new RangeError(`prefix length ${len} is not an integer from 0 to ${max}`);
}

function checkValue(value: number): void {
  if (!Number.isInteger(value) || value < 0 || value > MAX_VALUE) throw new RangeError(`value ${value} is not an integer from 0 to 2^31-1`);
}

/**
 * The two tables are separate: an IPv4-mapped IPv6 address (::ffff:a.b.c.d) is looked up in the IPv6 table as it
 * is. Whether it should rather be looked up as IPv4 is the caller's decision (lookupV4(w3) when w0 = w1 = 0 and
 * w2 = 0xffff).
 */
export class PrefixTrie {
  readonly stats: PrefixTrieStats;
  private readonly v4Nodes: Int32Array;
  private readonly v4Results: Int32Array;
  private readonly v6Nodes: Int32Array;
  private readonly v6Results: Int32Array;
  // Per IPv6 level (after the first): which address word, shift and mask pick the slot.
  private readonly v6Word: Int32Array;
  private readonly v6Shift: Int32Array;
  private readonly v6Mask: Int32Array;
  private matched = -1;

  /** Use PrefixTrieBuilder (or tables from another trie's `tables`). */
  constructor(v4: PrefixTable, v6: PrefixTable) {
    this.v4Nodes = v4.nodes;
    this.v4Results = v4.results;
    this.v6Nodes = v6.nodes;
    this.v6Results = v6.results;
    const levels = levelsOf(V6_STRIDES);
    this.v6Word = Int32Array.from(levels, (l) => l.word);
    this.v6Shift = Int32Array.from(levels, (l) => l.shift);
    this.v6Mask = Int32Array.from(levels, (l) => l.mask);
    const arrays = [this.v4Nodes, this.v4Results, this.v6Nodes, this.v6Results, this.v6Word, this.v6Shift, this.v6Mask];
    this.stats = {
      v4Prefixes: v4.results.length / 2 - 1,
      v6Prefixes: v6.results.length / 2 - 1,
      bytes: arrays.reduce((sum, a) => sum + a.byteLength, 0),
    };
  }

  /** The arrays it was made from, as the constructor takes them (to store a built trie). */
  get tables(): { v4: PrefixTable; v6: PrefixTable } {
    return { v4: { nodes: this.v4Nodes, results: this.v4Results }, v6: { nodes: this.v6Nodes, results: this.v6Results } };
  }

  /** Length of the prefix matched by the last lookup, -1 if it matched none. */
  get lastLength(): number {
    return this.matched;
  }

  /** Value of the longest IPv4 prefix containing addr (a uint32, or its int32 bit pattern), or -1. */
  lookupV4(addr: number): number {
    const t = this.v4Nodes;
    let e = t[addr >>> 16];
    if (e < 0) {
      e = t[-e + ((addr >>> 8) & 0xff)];
      if (e < 0) e = t[-e + (addr & 0xff)];
    }
    const r = this.v4Results;
    this.matched = r[2 * e + 1];
    return r[2 * e];
  }

  /** Value of the longest IPv6 prefix containing the address w0:w1:w2:w3 (w0 most significant), or -1. */
  lookupV6(w0: number, w1: number, w2: number, w3: number): number {
    const t = this.v6Nodes;
    const word = this.v6Word;
    const shift = this.v6Shift;
    const mask = this.v6Mask;
    let e = t[w0 >>> V6_ROOT_SHIFT];
    for (let lv = 1; e < 0; lv++) {
      const k = word[lv];
      const w = k === 0 ? w0 : k === 1 ? w1 : k === 2 ? w2 : w3;
      e = t[-e + ((w >>> shift[lv]) & mask[lv])];
    }
    const r = this.v6Results;
    this.matched = r[2 * e + 1];
    return r[2 * e];
  }
}
