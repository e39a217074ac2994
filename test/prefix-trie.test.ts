import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import ipaddr from 'ipaddr.js';
import { describe, expect, it } from 'vitest';
import { isIPv6 } from '../src/decode/bytes.js';
import { formatIPv6Words, parseCidr, parseIPv6String, parseIPv6Words } from '../src/enrich/ip-words.js';
import { PrefixTrie, PrefixTrieBuilder } from '../src/enrich/prefix-trie.js';
import { mulberry32Uint32 } from '../src/sources/generate.js';
import { SHARED_DATA } from './helpers.js';

// AWS's published ranges, kept beside the project (never copied into it).
const IP_RANGES = path.join(SHARED_DATA, 'ip-ranges.json');
const hasIpRanges = existsSync(IP_RANGES);
if (!hasIpRanges) console.warn(`prefix-trie real-snapshot tests skipped: ${IP_RANGES} is absent`);

const prng = mulberry32Uint32;

// ---------------------------------------------------------------------------------------------------------------
// The oracle: prefixes parsed by ipaddr.js, 128-bit arithmetic in BigInt, and a scan of every prefix keeping the
// longest that contains the address (the later one on a tie, which is the same prefix added again: last wins).
// Nothing here shares code with the trie or with ip-words.

type Words = [number, number, number, number];

const big = (w: ArrayLike<number>) => w.length === 1 ? BigInt(w[0] >>> 0) : [0, 1, 2, 3].reduce((acc, k) => (acc << 32n) | BigInt(w[k] >>> 0), 0n);
const words = (b: bigint): Words => {
  b = BigInt.asUintN(128, b);
  return [Number((b >> 96n) & 0xffffffffn), Number((b >> 64n) & 0xffffffffn), Number((b >> 32n) & 0xffffffffn), Number(b & 0xffffffffn)];
};
const bytesToBig = (bytes: number[]) => bytes.reduce((acc, x) => (acc << 8n) | BigInt(x), 0n);

class Oracle {
  // Per prefix: network and mask as 32-bit words (1 per IPv4 prefix, 4 per IPv6 prefix), length and value.
  private readonly net: Int32Array;
  private readonly mask: Int32Array;
  private readonly lens: Int32Array;
  private readonly values: Int32Array;
  readonly n: number;
  constructor(readonly family: 4 | 6, entries: { cidr: string; value: number }[]) {
    const width = family === 4 ? 1 : 4;
    const bits = family === 4 ? 32 : 128;
    this.n = entries.length;
    this.net = new Int32Array(this.n * width);
    this.mask = new Int32Array(this.n * width);
    this.lens = new Int32Array(this.n);
    this.values = new Int32Array(this.n);
    entries.forEach(({ cidr, value }, i) => {
      const [addr, len] = ipaddr.parseCIDR(cidr);
      expect(addr.kind()).toBe(family === 4 ? 'ipv4' : 'ipv6');
      const m = len === 0 ? 0n : ((1n << BigInt(len)) - 1n) << BigInt(bits - len);
      const n = bytesToBig(addr.toByteArray()) & m;
      const nw = family === 4 ? [Number(n)] : words(n);
      const mw = family === 4 ? [Number(m)] : words(m);
      for (let k = 0; k < width; k++) {
        this.net[i * width + k] = nw[k];
        this.mask[i * width + k] = mw[k];
      }
      this.lens[i] = len;
      this.values[i] = value;
    });
  }

  /** [value, length], or [-1, -1]. */
  lookup(a: ArrayLike<number>): [number, number] {
    let best = -1;
    const { net, mask, lens } = this;
    if (this.family === 4) {
      const x = a[0] | 0;
      for (let i = 0; i < this.n; i++) if (((x ^ net[i]) & mask[i]) === 0 && (best < 0 || lens[i] >= lens[best])) best = i;
    } else {
      const [a0, a1, a2, a3] = [a[0] | 0, a[1] | 0, a[2] | 0, a[3] | 0];
      for (let i = 0, j = 0; i < this.n; i++, j += 4) {
        if (((a0 ^ net[j]) & mask[j]) === 0 && ((a1 ^ net[j + 1]) & mask[j + 1]) === 0 && ((a2 ^ net[j + 2]) & mask[j + 2]) === 0 && ((a3 ^ net[j + 3]) & mask[j + 3]) === 0 && (best < 0 || lens[i] >= lens[best])) best = i;
      }
    }
    return best < 0 ? [-1, -1] : [this.values[best], lens[best]];
  }

  /** Addresses on and just around every prefix's edges, plus the ends of the address space. */
  edges(): ArrayLike<number>[] {
    const width = this.family === 4 ? 1 : 4;
    const bits = this.family === 4 ? 32 : 128;
    const out: bigint[] = [0n, (1n << BigInt(bits)) - 1n];
    for (let i = 0; i < this.n; i++) {
      const first = big(this.net.subarray(i * width, i * width + width));
      const last = first | ((1n << BigInt(bits - this.lens[i])) - 1n);
      out.push(first, last, first - 1n, last + 1n);
    }
    return out.map((b) => (this.family === 4 ? [Number(BigInt.asUintN(32, b))] : words(b)));
  }

  /** Addresses inside random prefixes, host bits random. */
  inside(rnd: () => number, count: number): ArrayLike<number>[] {
    const width = this.family === 4 ? 1 : 4;
    const out: ArrayLike<number>[] = [];
    for (let c = 0; c < count && this.n > 0; c++) {
      const i = rnd() % this.n;
      const a = [];
      for (let k = 0; k < width; k++) a.push(((this.net[i * width + k] & this.mask[i * width + k]) | (rnd() & ~this.mask[i * width + k])) >>> 0);
      out.push(a);
    }
    return out;
  }
}

function random(family: 4 | 6, rnd: () => number, count: number): ArrayLike<number>[] {
  return Array.from({ length: count }, () => (family === 4 ? [rnd()] : [rnd(), rnd(), rnd(), rnd()]));
}

/** Every mismatch between trie and oracle, as readable text (so a failure shows the address). */
function disagreements(trie: PrefixTrie, oracle: Oracle, addresses: ArrayLike<number>[]): string[] {
  const bad: string[] = [];
  for (const a of addresses) {
    const got = oracle.family === 4 ? trie.lookupV4(a[0]) : trie.lookupV6(a[0], a[1], a[2], a[3]);
    const gotLen = trie.lastLength;
    const [want, wantLen] = oracle.lookup(a);
    if (got !== want || gotLen !== wantLen) {
      const text = oracle.family === 4 ? v4Text(a[0]) : v6Text(big(a));
      bad.push(`${text}: trie ${got}/${gotLen}, oracle ${want}/${wantLen}`);
    }
  }
  return bad;
}

/** Checks edges, addresses inside prefixes and uniform random ones; returns how many matched some prefix and how many none. */
function checkAgainstOracle(trie: PrefixTrie, oracle: Oracle, rnd: () => number, randomCount: number): { hits: number; misses: number } {
  const addresses = [...oracle.edges(), ...oracle.inside(rnd, randomCount / 2), ...random(oracle.family, rnd, randomCount / 2)];
  const bad = disagreements(trie, oracle, addresses);
  expect(bad.slice(0, 10)).toEqual([]);
  expect(bad.length).toBe(0);
  const misses = addresses.filter((a) => oracle.lookup(a)[0] === -1).length;
  return { hits: addresses.length - misses, misses };
}

// ---------------------------------------------------------------------------------------------------------------
// Synthetic prefix sets: random roots, then many prefixes nested in or adjacent to earlier ones, some re-added with
// a new value, texts often with host bits set.

const v4Text = (n: number) => `${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
const v6Text = (b: bigint) => ipaddr.fromByteArray(Array.from({ length: 16 }, (_, k) => Number((b >> BigInt(120 - 8 * k)) & 255n))).toString();

function synthetic(family: 4 | 6, seed: number, count: number, withDefault: boolean): { cidr: string; value: number }[] {
  const rnd = prng(seed);
  const bits = family === 4 ? 32 : 128;
  const randBits = () => (family === 4 ? BigInt(rnd()) : big([rnd(), rnd(), rnd(), rnd()]));
  const made: { net: bigint; len: number }[] = [];
  const out: { cidr: string; value: number }[] = [];
  const push = (addr: bigint, len: number) => {
    const hostMask = (1n << BigInt(bits - len)) - 1n;
    addr = BigInt.asUintN(bits, addr);
    made.push({ net: addr & ~hostMask, len });
    out.push({ cidr: `${family === 4 ? v4Text(Number(addr)) : v6Text(addr)}/${len}`, value: out.length });
  };
  if (withDefault) push(randBits(), 0);
  const special = family === 4 ? ['0.0.0.0/32', '255.255.255.255/32', '10.0.0.0/8', '10.0.0.0/24'] : ['::/128', '::1/128', 'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/128', '::ffff:0:0/96', '::ffff:10.0.0.0/104', '::ffff:10.1.2.3/128'];
  for (const s of special) {
    const [a, len] = ipaddr.parseCIDR(s);
    push(bytesToBig(a.toByteArray()), len);
  }
  while (out.length < count) {
    const roll = rnd() % 10;
    const p = made[rnd() % made.length];
    if (roll < 2 || p.len === bits) {
      // A new root, of any length; without /0, short roots would cover everything too, so those start at bits/4.
      const min = withDefault ? 0 : bits / 4;
      push(randBits(), min + (rnd() % (bits + 1 - min)));
    } else if (roll < 7) {
      // Nested: a longer prefix inside p, host bits of the text random.
      const len = p.len + 1 + (rnd() % Math.min(bits - p.len, rnd() % 2 ? 8 : bits));
      push(p.net | (randBits() & ((1n << BigInt(bits - p.len)) - 1n)), len);
    } else if (roll < 9) {
      // Adjacent: the block just after p, or p's sibling.
      const size = 1n << BigInt(bits - p.len);
      push(roll === 7 ? p.net + size : p.net ^ (p.len > 0 ? size : 0n), p.len);
    } else {
      // The same prefix again, with a new value.
      push(p.net, p.len);
    }
  }
  return out;
}

function trieOf(v4: { cidr: string; value: number }[], v6: { cidr: string; value: number }[]): PrefixTrie {
  const b = new PrefixTrieBuilder();
  // Half through the text API, half through the numeric one, interleaved in order (last must still win).
  [...v4, ...v6].forEach(({ cidr, value }, i) => {
    if (i % 2 === 0) return b.add(cidr, value);
    const [a, len] = ipaddr.parseCIDR(cidr);
    const bytes = a.toByteArray();
    if (a.kind() === 'ipv4') b.addV4(Number(bytesToBig(bytes)), len, value);
    else b.addV6(words(bytesToBig(bytes)), len, value);
  });
  return b.build();
}

describe('PrefixTrie against a brute-force oracle', () => {
  for (const [seed, withDefault] of [[1, false], [2, true], [3, false]] as const) {
    it(`agrees on a synthetic nested set (seed ${seed}${withDefault ? ', with /0' : ''})`, () => {
      const v4 = synthetic(4, seed, 1500, withDefault);
      const v6 = synthetic(6, seed, 1500, withDefault);
      const trie = trieOf(v4, v6);
      const rnd = prng(seed * 7919);
      for (const oracle of [new Oracle(4, v4), new Oracle(6, v6)]) {
        const { hits, misses } = checkAgainstOracle(trie, oracle, rnd, 20_000);
        // The test must exercise both outcomes (with /0 every address matches).
        expect(hits).toBeGreaterThan(10_000);
        if (withDefault) expect(misses).toBe(0);
        else expect(misses).toBeGreaterThan(1_000);
      }
      // The sets do nest deeply, over every stride.
      expect(new Set(v4.map((e) => e.cidr.split('/')[1])).size).toBeGreaterThan(20);
      expect(new Set(v6.map((e) => e.cidr.split('/')[1])).size).toBeGreaterThan(80);
    }, 60_000);
  }

  it('checks the oracle itself against ipaddr.js match()', () => {
    const v4 = synthetic(4, 9, 300, false);
    const v6 = synthetic(6, 9, 300, false);
    const rnd = prng(99);
    for (const [family, entries] of [[4, v4], [6, v6]] as const) {
      const oracle = new Oracle(family, entries);
      const ranges = entries.map((e) => ipaddr.parseCIDR(e.cidr));
      const addresses = [...oracle.inside(rnd, 150), ...oracle.edges().slice(0, 150)];
      let hits = 0;
      for (const a of addresses) {
        const bytes = (family === 4 ? [a[0]] : [...a]).flatMap((w) => [w >>> 24, (w >>> 16) & 255, (w >>> 8) & 255, w & 255]);
        const addr = ipaddr.fromByteArray(bytes);
        let want: [number, number] = [-1, -1];
        ranges.forEach((r, i) => {
          if (addr.match(r) && r[1] >= want[1]) want = [entries[i].value, r[1]];
        });
        expect(oracle.lookup(a)).toEqual(want);
        if (want[0] >= 0) hits++;
      }
      expect(hits).toBeGreaterThan(100);
    }
  });

  it('handles /0, host routes, nesting and adjacency at the ends of the address space', () => {
    const b = new PrefixTrieBuilder();
    b.add('0.0.0.0/0', 1);
    b.add('0.0.0.0/32', 2);
    b.add('255.255.255.255/32', 3);
    b.add('10.0.0.0/8', 4);
    b.add('10.1.0.0/16', 5);
    b.add('10.1.2.0/24', 6);
    b.add('10.1.2.128/25', 7);
    b.add('10.1.3.0/24', 8); // adjacent to 10.1.2.0/24
    b.add('10.1.2.3/8', 9); // host bits set: this is 10.0.0.0/8 again, so it replaces value 4
    b.add('::/0', 11);
    b.add('::/128', 12);
    b.add('ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/128', 13);
    b.add('2600:1f00::/24', 14);
    b.add('2600:1f14::/35', 15);
    b.add('2600:1f14:0:1::1/128', 16);
    const t = b.build();
    const v4 = (s: string) => [t.lookupV4(Number(bytesToBig(ipaddr.parse(s).toByteArray()))), t.lastLength];
    const v6 = (s: string) => {
      const w = words(bytesToBig(ipaddr.parse(s).toByteArray()));
      return [t.lookupV6(...w), t.lastLength];
    };
    expect(v4('0.0.0.0')).toEqual([2, 32]);
    expect(v4('0.0.0.1')).toEqual([1, 0]);
    expect(v4('255.255.255.255')).toEqual([3, 32]);
    expect(v4('255.255.255.254')).toEqual([1, 0]);
    expect(v4('10.255.255.255')).toEqual([9, 8]);
    expect(v4('11.0.0.0')).toEqual([1, 0]);
    expect(v4('10.1.2.127')).toEqual([6, 24]);
    expect(v4('10.1.2.128')).toEqual([7, 25]);
    expect(v4('10.1.2.255')).toEqual([7, 25]);
    expect(v4('10.1.3.0')).toEqual([8, 24]);
    expect(v4('10.1.4.0')).toEqual([5, 16]);
    expect(v6('::')).toEqual([12, 128]);
    expect(v6('::1')).toEqual([11, 0]);
    expect(v6('ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff')).toEqual([13, 128]);
    expect(v6('2600:1f14:0:1::1')).toEqual([16, 128]);
    expect(v6('2600:1f14:0:1::2')).toEqual([15, 35]);
    expect(v6('2600:1f14:1fff:ffff:ffff:ffff:ffff:ffff')).toEqual([15, 35]);
    expect(v6('2600:1f14:2000::')).toEqual([14, 24]);
    expect(v6('2600:1eff:ffff:ffff:ffff:ffff:ffff:ffff')).toEqual([11, 0]);
    expect(t.stats.v4Prefixes).toBe(8);
    expect(t.stats.v6Prefixes).toBe(6);
  });

  it('keeps the families apart: IPv4-mapped IPv6 addresses are looked up in the IPv6 table as they are', () => {
    const b = new PrefixTrieBuilder();
    b.add('10.0.0.0/8', 1);
    const onlyV4 = b.build();
    expect(onlyV4.lookupV6(0, 0, 0xffff, 0x0a010203)).toBe(-1);
    expect(onlyV4.lastLength).toBe(-1);
    expect(onlyV4.lookupV4(0x0a010203)).toBe(1);
    b.add('::ffff:0:0/96', 2);
    const both = b.build();
    expect(both.lookupV6(0, 0, 0xffff, 0x0a010203)).toBe(2);
    expect(both.lastLength).toBe(96);
    expect(both.lookupV4(0x0a010203)).toBe(1);
    expect(both.lastLength).toBe(8);
    expect(both.lookupV6(0, 0, 0, 0x0a010203)).toBe(-1); // IPv4-compatible is not mapped
  });

  it('answers -1 everywhere when empty, and takes int32 bit patterns for IPv4', () => {
    const empty = new PrefixTrieBuilder().build();
    expect([empty.lookupV4(0), empty.lookupV4(0xffffffff), empty.lookupV6(0, 0, 0, 0), empty.lastLength]).toEqual([-1, -1, -1, -1]);
    const b = new PrefixTrieBuilder();
    b.addV4(0xc0a80000, 16, 5);
    const t = b.build();
    expect(t.lookupV4(0xc0a80101)).toBe(5);
    expect(t.lookupV4(0xc0a80101 | 0)).toBe(5);
    expect(t.lookupV4(0xc0a90101)).toBe(-1);
  });

  it('rejects bad builder input', () => {
    const b = new PrefixTrieBuilder();
    expect(() => b.addV4(0, 33, 1)).toThrow(/prefix length/);
    expect(() => b.addV4(0, -1, 1)).toThrow(/prefix length/);
    expect(() => b.addV4(0, 8.5, 1)).toThrow(/prefix length/);
    expect(() => b.addV4(0, 8, -1)).toThrow(/value/);
    expect(() => b.addV4(0, 8, 2 ** 31)).toThrow(/value/);
    expect(() => b.addV4(2 ** 32, 8, 1)).toThrow(/32-bit/);
    expect(() => b.addV6([0, 0, 0], 8, 1)).toThrow(/4 words/);
    expect(() => b.addV6([0, 0, 0, 0], 129, 1)).toThrow(/prefix length/);
    expect(() => b.add('10.0.0.0', 1)).toThrow(/invalid CIDR/);
    b.addV4(0, 0, 2 ** 31 - 1);
    expect(b.build().lookupV4(123)).toBe(2 ** 31 - 1);
  });
});

describe.skipIf(!hasIpRanges)('PrefixTrie on the real AWS ip-ranges.json snapshot', () => {
  it('agrees with the oracle on every distinct prefix, its edges and random addresses', () => {
    const data = JSON.parse(readFileSync(IP_RANGES, 'utf8')) as { prefixes: { ip_prefix: string }[]; ipv6_prefixes: { ipv6_prefix: string }[] };
    const v4 = [...new Set(data.prefixes.map((p) => p.ip_prefix))].map((cidr, value) => ({ cidr, value }));
    const v6 = [...new Set(data.ipv6_prefixes.map((p) => p.ipv6_prefix))].map((cidr, value) => ({ cidr, value }));
    expect(v4.length).toBeGreaterThan(1000);
    expect(v6.length).toBeGreaterThan(1000);
    const trie = trieOf(v4, v6);
    expect(trie.stats).toMatchObject({ v4Prefixes: v4.length, v6Prefixes: v6.length });
    expect(trie.stats.bytes).toBeLessThan(8 * 1024 * 1024);
    const rnd = prng(2024);
    checkAgainstOracle(trie, new Oracle(4, v4), rnd, 20_000);
    checkAgainstOracle(trie, new Oracle(6, v6), rnd, 20_000);
    // IPv4-mapped forms of AWS addresses are not in the IPv6 table.
    expect(trie.lookupV6(0, 0, 0xffff, 0x34d80000)).toBe(-1);
  }, 120_000);
});

// ---------------------------------------------------------------------------------------------------------------

describe('IPv6 text', () => {
  const parsed = (s: string) => {
    const out = new Uint32Array(4);
    return parseIPv6String(s, out) ? [...out] : null;
  };

  /** Random addresses with plenty of zero groups, so every compression case turns up. */
  function randomGroups(rnd: () => number): number[] {
    const zeroOdds = rnd() % 4;
    return Array.from({ length: 8 }, () => (rnd() % 4 < zeroOdds ? 0 : rnd() % 3 === 0 ? rnd() % 16 : rnd() & 0xffff));
  }

  it('parses and formats like ipaddr.js, in every text form', () => {
    const rnd = prng(5);
    const buf = Buffer.alloc(128);
    for (let n = 0; n < 600; n++) {
      const g = randomGroups(rnd);
      if (n % 10 === 0) g.splice(0, 6, 0, 0, 0, 0, 0, 0xffff); // IPv4-mapped
      const bytes = g.flatMap((x) => [x >> 8, x & 255]);
      const addr = ipaddr.fromByteArray(bytes) as ipaddr.IPv6;
      const want = words(bytesToBig(bytes));
      // A random run of zero groups (any length, even 1) compressed to `::`; below, random case and a dotted tail.
      let text = g.map((x) => x.toString(16)).join(':');
      const zeros = g.flatMap((x, k) => (x === 0 ? [k] : []));
      if (zeros.length > 0 && rnd() % 2) {
        const from = zeros[rnd() % zeros.length];
        let to = from + 1;
        while (to < 8 && g[to] === 0 && rnd() % 4) to++;
        const hex = (a: number[]) => a.map((x) => x.toString(16)).join(':');
        text = `${hex(g.slice(0, from))}::${hex(g.slice(to))}`;
      }
      const forms = [addr.toNormalizedString(), addr.toFixedLengthString(), addr.toRFC5952String(), text, text.toUpperCase(), `${g.slice(0, 6).map((x) => x.toString(16)).join(':')}:${g[6] >> 8}.${g[6] & 255}.${g[7] >> 8}.${g[7] & 255}`];
      for (const form of forms) {
        expect([form, parsed(form)]).toEqual([form, want]);
        expect(isIPv6(Buffer.from(form), 0, form.length)).toBe(true);
        buf.fill(0x3a);
        const at = 1 + (n % 7);
        buf.write(form, at, 'latin1');
        const out = new Uint32Array(4);
        expect(parseIPv6Words(buf, at, at + form.length, out)).toBe(true);
        expect([...out]).toEqual(want);
      }
      const canonical = formatIPv6Words(...want);
      expect(canonical).toBe(addr.isIPv4MappedAddress() ? `::ffff:${addr.toIPv4Address().toString()}` : addr.toRFC5952String());
      expect(parsed(canonical)).toEqual(want);
    }
  });

  it('formats the RFC 5952 cases', () => {
    const f = (s: string) => formatIPv6Words(...(parsed(s) as Words));
    expect(f('0:0:0:0:0:0:0:0')).toBe('::');
    expect(f('0:0:0:0:0:0:0:1')).toBe('::1');
    expect(f('2001:DB8:0:0:0:0:2:1')).toBe('2001:db8::2:1');
    expect(f('2001:db8:0:1:1:1:1:1')).toBe('2001:db8:0:1:1:1:1:1'); // a lone zero group stays
    expect(f('2001:0:0:1:0:0:0:1')).toBe('2001:0:0:1::1'); // the longest run
    expect(f('2001:db8:0:0:1:0:0:1')).toBe('2001:db8::1:0:0:1'); // the first of equal runs
    expect(f('1:2:3:4:5:6:7::')).toBe('1:2:3:4:5:6:7:0');
    expect(f('::ffff:1.2.3.4')).toBe('::ffff:1.2.3.4');
    expect(f('::ffff:0102:0304')).toBe('::ffff:1.2.3.4');
    expect(f('::1.2.3.4')).toBe('::102:304');
    expect(f('ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff')).toBe('ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff');
  });

  it('rejects what is not an IPv6 address, as isIPv6 does', () => {
    const bad = [
      '', ':', ':::', '::::', '1::2::3', '1:2:3:4:5:6:7', '1:2:3:4:5:6:7:8:9', '12345::', 'g::', '::g', '1:2:3:4:5:6:7:8::', '::1:2:3:4:5:6:7:8',
      ':1::', '1::2:', '1:2:3:4:5:6:7:', '1.2.3.4', '::1.2.3', '::1.2.3.256', '::1.2.3.4:5', '::1.2.3.4.5', '1:2:3:4:5:6:7:1.2.3.4', '::ffff:1.2.3.4x',
      ' ::1', '::1 ', 'fe80::1%eth0', '[::1]', '::\u00ff', '::\u{1f600}', '1:2:3:4:5:6:7:8 ', '-1::', '::0x1', '0000:0000:0000:0000:0000:0000:0000:00000',
      'ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.2550',
    ];
    const out = new Uint32Array(4);
    for (const s of bad) {
      expect([s, parseIPv6String(s, out)]).toEqual([s, false]);
      expect([s, parseIPv6Words(Buffer.from(s, 'latin1'), 0, Buffer.byteLength(s, 'latin1'), out)]).toEqual([s, false]);
      expect([s, isIPv6(Buffer.from(s, 'latin1'), 0, Buffer.byteLength(s, 'latin1'))]).toEqual([s, false]);
      // The case list itself is right (ipaddr.js does take zone ids, which this parser leaves to the caller).
      if (!s.includes('%')) expect([s, ipaddr.IPv6.isValid(s)]).toEqual([s, false]);
    }
    // Accepted edge forms.
    expect(parsed('1:2:3:4:5:6:7::')).toEqual([0x10002, 0x30004, 0x50006, 0x70000]);
    expect(parsed('::1:2:3:4:5:6:7')).toEqual([0x1, 0x20003, 0x40005, 0x60007]);
    expect(parsed('ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255')).toEqual([0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff]);
    expect(parsed('::0.0.0.0')).toEqual([0, 0, 0, 0]);
  });
});

describe('parseCidr', () => {
  it('reads both families and masks host bits', () => {
    expect(parseCidr('10.1.2.3/8')).toEqual({ family: 4, addr: 0x0a000000, len: 8 });
    expect(parseCidr(' 192.168.1.0/24\r')).toEqual({ family: 4, addr: 0xc0a80100, len: 24 });
    expect(parseCidr('255.255.255.255/32')).toEqual({ family: 4, addr: 0xffffffff, len: 32 });
    expect(parseCidr('1.2.3.4/0')).toEqual({ family: 4, addr: 0, len: 0 });
    const v6 = parseCidr('2600:1F14:ffff::1/33');
    expect(v6.family).toBe(6);
    expect(v6.len).toBe(33);
    expect([...(v6 as { words: Uint32Array }).words]).toEqual([0x26001f14, 0x80000000, 0, 0]);
    expect([...(parseCidr('::ffff:10.1.2.3/120') as { words: Uint32Array }).words]).toEqual([0, 0, 0xffff, 0x0a010200]);
    expect([...(parseCidr('ffff::1/128') as { words: Uint32Array }).words]).toEqual([0xffff0000, 0, 0, 1]);
  });

  it('throws a clear error for junk', () => {
    const cases: [string, RegExp][] = [
      ['10.0.0.0', /missing '\/<prefix length>'/],
      ['', /missing/],
      ['10.0.0.0/33', /prefix length '33'.*0 to 32/],
      ['10.0.0.0/-1', /prefix length/],
      ['10.0.0.0/', /prefix length/],
      ['10.0.0.0/ 8', /prefix length/],
      ['10.0.0.0/08', /prefix length/],
      ['10.0.0.0/8/9', /prefix length/],
      ['10.0.0.0/8.0', /prefix length/],
      ['::/129', /0 to 128/],
      ['10.0.0/8', /not a dotted-quad/],
      ['256.0.0.0/8', /not a dotted-quad/],
      ['010.0.0.0/8', /leading zeros/],
      ['foo/8', /not a dotted-quad/],
      ['/8', /not a dotted-quad/],
      ['::g/64', /not an IPv6 address/],
      ['1::2::3/64', /not an IPv6 address/],
    ];
    for (const [text, message] of cases) {
      expect(() => parseCidr(text), text).toThrow(message);
      expect(() => parseCidr(text), text).toThrow(/invalid CIDR/);
    }
  });
});
