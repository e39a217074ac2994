/**
 * PrefixTrie micro-benchmark on AWS's real ip-ranges.json: build time, memory, and lookups/s for IPv4 and IPv6
 * against a naive linear scan over the same prefixes. Build first (`npx tsc -p .`), then `node dist/bench/trie.js`.
 *
 * Addresses are generated up front as plain numbers in typed arrays, half inside a random AWS prefix and half
 * uniformly random, so the timed loops do nothing but lookups. Each figure is the median of several runs.
 *
 * Environment: VPCFLOW_IP_RANGES (default ../shared/data/ip-ranges.json beside the project),
 * VPCFLOW_BENCH_LOOKUPS (default 1000000), VPCFLOW_BENCH_RUNS (default 5).
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseCidr, wordMask } from '../src/enrich/ip-words.js';
import { PrefixTrie, PrefixTrieBuilder } from '../src/enrich/prefix-trie.js';
import { mulberry32Uint32 } from '../src/sources/generate.js';
import { median, positiveInt, RUNS } from './common.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url)); // this file runs as dist/bench/trie.js
const IP_RANGES = process.env.VPCFLOW_IP_RANGES || path.resolve(ROOT, '../shared/data/ip-ranges.json');
const LOOKUPS = positiveInt('VPCFLOW_BENCH_LOOKUPS', 1_000_000);
const NAIVE_LOOKUPS = Math.min(10_000, LOOKUPS);

const prng = mulberry32Uint32;

/** Prefixes as flat word arrays (1 or 4 words each), for address generation and the naive scan. */
interface Flat {
  width: number;
  net: Uint32Array;
  mask: Uint32Array;
  lens: Int32Array;
}

function flatten(cidrs: string[], width: number): Flat {
  const f: Flat = { width, net: new Uint32Array(cidrs.length * width), mask: new Uint32Array(cidrs.length * width), lens: new Int32Array(cidrs.length) };
  cidrs.forEach((text, i) => {
    const c = parseCidr(text);
    const words = c.family === 4 ? [c.addr] : [...c.words];
    for (let k = 0; k < width; k++) {
      f.net[i * width + k] = words[k];
      f.mask[i * width + k] = wordMask(c.len - 32 * k);
    }
    f.lens[i] = c.len;
  });
  return f;
}

/** `count` addresses, even ones inside a random prefix (random host bits), odd ones uniformly random. */
function addresses(f: Flat, count: number, rnd: () => number): Uint32Array {
  const out = new Uint32Array(count * f.width);
  const n = f.lens.length;
  for (let a = 0; a < count; a++) {
    const p = rnd() % n;
    for (let k = 0; k < f.width; k++) {
      const m = f.mask[p * f.width + k];
      out[a * f.width + k] = a % 2 === 0 ? (f.net[p * f.width + k] & m) | (rnd() & ~m) : rnd();
    }
  }
  return out;
}

/** The naive baseline: scan every prefix, keep the longest match. Returns the sum of matched indexes. */
function naiveV4(f: Flat, addrs: Uint32Array): number {
  let sum = 0;
  for (let a = 0; a < addrs.length; a++) {
    const x = addrs[a];
    let best = -1;
    let bestLen = -1;
    for (let i = 0; i < f.lens.length; i++) {
      if (((x ^ f.net[i]) & f.mask[i]) === 0 && f.lens[i] > bestLen) {
        best = i;
        bestLen = f.lens[i];
      }
    }
    sum += best;
  }
  return sum;
}

function naiveV6(f: Flat, addrs: Uint32Array): number {
  const { net, mask, lens } = f;
  let sum = 0;
  for (let a = 0; a < addrs.length; a += 4) {
    const x0 = addrs[a], x1 = addrs[a + 1], x2 = addrs[a + 2], x3 = addrs[a + 3];
    let best = -1;
    let bestLen = -1;
    for (let i = 0, j = 0; i < lens.length; i++, j += 4) {
      if (((x0 ^ net[j]) & mask[j]) === 0 && ((x1 ^ net[j + 1]) & mask[j + 1]) === 0 && ((x2 ^ net[j + 2]) & mask[j + 2]) === 0 && ((x3 ^ net[j + 3]) & mask[j + 3]) === 0 && lens[i] > bestLen) {
        best = i;
        bestLen = lens[i];
      }
    }
    sum += best;
  }
  return sum;
}

function trieV4(t: PrefixTrie, addrs: Uint32Array): number {
  let sum = 0;
  for (let a = 0; a < addrs.length; a++) sum += t.lookupV4(addrs[a]);
  return sum;
}

function trieV6(t: PrefixTrie, addrs: Uint32Array): number {
  let sum = 0;
  for (let a = 0; a < addrs.length; a += 4) sum += t.lookupV6(addrs[a], addrs[a + 1], addrs[a + 2], addrs[a + 3]);
  return sum;
}

/** Median seconds of RUNS timed calls after one untimed warm-up; the checksum keeps the work observable. */
function time(fn: () => number): { seconds: number; checksum: number } {
  let checksum = fn();
  const runs: number[] = [];
  for (let r = 0; r < RUNS; r++) {
    const t0 = process.hrtime.bigint();
    checksum = fn();
    runs.push(Number(process.hrtime.bigint() - t0) / 1e9);
  }
  return { seconds: median(runs), checksum };
}

function main(): void {
  if (!existsSync(IP_RANGES)) {
    console.error(`bench/trie: ${IP_RANGES} is absent; set VPCFLOW_IP_RANGES to an ip-ranges.json`);
    process.exitCode = 1;
    return;
  }
  const data = JSON.parse(readFileSync(IP_RANGES, 'utf8')) as { prefixes: { ip_prefix: string }[]; ipv6_prefixes: { ipv6_prefix: string }[] };
  const v4 = [...new Set(data.prefixes.map((p) => p.ip_prefix))];
  const v6 = [...new Set(data.ipv6_prefixes.map((p) => p.ipv6_prefix))];

  const builds: number[] = [];
  let trie!: PrefixTrie;
  for (let r = 0; r < Math.max(RUNS, 7); r++) {
    const t0 = process.hrtime.bigint();
    const b = new PrefixTrieBuilder();
    v4.forEach((c, i) => b.add(c, i));
    v6.forEach((c, i) => b.add(c, i));
    trie = b.build();
    builds.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }

  const f4 = flatten(v4, 1);
  const f6 = flatten(v6, 4);
  const rnd = prng(1);
  const a4 = addresses(f4, LOOKUPS, rnd);
  const a6 = addresses(f6, LOOKUPS, rnd);
  const n4 = a4.subarray(0, NAIVE_LOOKUPS);
  const n6 = a6.subarray(0, NAIVE_LOOKUPS * 4);

  const rows: [string, number, { seconds: number; checksum: number }][] = [
    ['trie IPv4', LOOKUPS, time(() => trieV4(trie, a4))],
    ['trie IPv6', LOOKUPS, time(() => trieV6(trie, a6))],
    ['naive scan IPv4', NAIVE_LOOKUPS, time(() => naiveV4(f4, n4))],
    ['naive scan IPv6', NAIVE_LOOKUPS, time(() => naiveV6(f6, n6))],
  ];
  // Both must find the same prefixes on the naive sample (value = index, and prefixes are distinct).
  const same4 = trieV4(trie, n4) === rows[2][2].checksum;
  const same6 = trieV6(trie, n6) === rows[3][2].checksum;

  console.log(`PrefixTrie on ${IP_RANGES}`);
  console.log(`prefixes: ${trie.stats.v4Prefixes} IPv4, ${trie.stats.v6Prefixes} IPv6 (distinct)`);
  console.log(`build (both families, from text): median ${median(builds).toFixed(1)} ms of ${builds.length}`);
  console.log(`memory (typed arrays): ${(trie.stats.bytes / 1024 / 1024).toFixed(2)} MiB (${trie.stats.bytes} bytes)`);
  console.log(`naive sample agrees with the trie: IPv4 ${same4}, IPv6 ${same6}`);
  console.log('');
  console.log('| contender | lookups | median s | lookups/s | ns/lookup |');
  console.log('| --- | ---: | ---: | ---: | ---: |');
  for (const [name, n, { seconds }] of rows) {
    console.log(`| ${name} | ${n.toLocaleString('en-US')} | ${seconds.toFixed(4)} | ${(n / seconds / 1e6).toFixed(2)} M | ${((seconds / n) * 1e9).toFixed(1)} |`);
  }
  console.log(`\nMedian of ${RUNS} runs after a warm-up; half the addresses fall inside an AWS prefix, half are uniformly random.`);
  if (!same4 || !same6) process.exitCode = 1;
}

main();
