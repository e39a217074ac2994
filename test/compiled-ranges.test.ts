import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, truncateSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { COMPILED_FORMAT, deserializeRanges, loadCompiledRanges, rangesFromShared, serializeRanges, sourceKey } from '../src/enrich/compiled-ranges.js';
import { AwsRanges } from '../src/enrich/ip-ranges.js';
import { mulberry32Uint32 } from '../src/sources/generate.js';
import { fixture, hasSharedData, runCli, SHARED_DATA } from './helpers.js';

const SMALL = fixture('ip-ranges-small.json');
const NEWER = fixture('ip-ranges-small-newer.json');
const REAL = path.join(SHARED_DATA, 'ip-ranges.json');

let dir = '';
const json = () => path.join(dir, 'ip-ranges.json');
const compiled = () => path.join(dir, 'ip-ranges.compiled');
const load = () => loadCompiledRanges(json(), compiled());

beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'vpcflow-compiled-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/**
 * Every answer `got` gives equals what `want` gives: the description of the file, every entry, and the trie's
 * answer (entry and prefix length) for addresses at, inside and just past each prefix and for random ones.
 */
function expectSameAnswers(got: AwsRanges, want: AwsRanges): void {
  expect(got.info).toEqual(want.info);
  expect(got.entries).toEqual(want.entries);
  const rnd = mulberry32Uint32(7);
  const v4: number[] = [];
  const v6: number[][] = [];
  const { v4Count, words, lens } = want.table;
  for (let id = 0; id < lens.length; id++) {
    if (id < v4Count) {
      const size = 2 ** (32 - lens[id]);
      v4.push(words[id], words[id] + (rnd() % size), words[id] + size - 1, (words[id] + size) % 2 ** 32);
    } else {
      const at = v4Count + 4 * (id - v4Count);
      const w = [...words.subarray(at, at + 4)];
      v6.push(w, [w[0], w[1], w[2] | (lens[id] <= 64 ? rnd() : 0), w[3] | (lens[id] <= 96 ? rnd() : 0)]);
    }
  }
  for (let i = 0; i < 50_000; i++) v4.push(rnd());
  for (let i = 0; i < 50_000; i++) v6.push([i % 2 ? rnd() : (0x2600_0000 | (rnd() & 0xffff)) >>> 0, rnd(), rnd(), rnd()]);
  const answers = (r: AwsRanges) => [
    ...v4.map((a) => [r.trie.lookupV4(a), r.trie.lastLength]),
    ...v6.map(([w0, w1, w2, w3]) => [r.trie.lookupV6(w0, w1, w2, w3), r.trie.lastLength]),
  ];
  const want_ = answers(want);
  expect(want_.filter(([id]) => id >= 0).length).toBeGreaterThan(lens.length);
  expect(answers(got)).toEqual(want_);
}

describe('the compiled copy of the cached ip-ranges.json', () => {
  it('is written by the first load and used by the next, with the same answers as a fresh build', () => {
    copyFileSync(SMALL, json());
    const first = load();
    expect(first.fromCopy).toBe(false);
    expect(existsSync(compiled())).toBe(true);
    const second = load();
    expect(second.fromCopy).toBe(true);
    expectSameAnswers(second.ranges, AwsRanges.fromFile(json()));
    expect(readdirSync(dir).sort()).toEqual(['ip-ranges.compiled', 'ip-ranges.json']);
  });

  it.skipIf(!hasSharedData)('gives the same answers as a fresh build for the real snapshot', () => {
    copyFileSync(REAL, json());
    load();
    const fromCopy = load();
    expect(fromCopy.fromCopy).toBe(true);
    expectSameAnswers(fromCopy.ranges, AwsRanges.fromFile(json()));
  });

  it('is ignored and rebuilt when the file changes: content, or only its mtime', () => {
    copyFileSync(SMALL, json());
    load();
    copyFileSync(NEWER, json());
    const changed = load();
    expect(changed.fromCopy).toBe(false);
    expect(changed.ranges.info.syncToken).toBe('1731086400');
    expectSameAnswers(changed.ranges, AwsRanges.fromFile(json()));
    expect(load().fromCopy).toBe(true);

    const { mtime } = statSync(json());
    utimesSync(json(), mtime, new Date(mtime.getTime() + 1000));
    expect(load().fromCopy).toBe(false);
    expect(load().fromCopy).toBe(true);
  });

  it('is used only for the size, mtime and syncToken it was built from', () => {
    copyFileSync(SMALL, json());
    const key = sourceKey(json())!;
    expect(key.syncToken).toBe('1731000000');
    const bytes = serializeRanges(AwsRanges.fromFile(json()), key);
    expect(deserializeRanges(bytes, key, json())).not.toBeNull();
    expect(deserializeRanges(bytes, { ...key, syncToken: '1731000001' }, json())).toBeNull();
    expect(deserializeRanges(bytes, { ...key, size: key.size + 1 }, json())).toBeNull();
    expect(deserializeRanges(bytes, { ...key, mtimeNs: String(BigInt(key.mtimeNs) + 1n) }, json())).toBeNull();
    // Read from anywhere in memory (a Buffer of Node's pool need not start at an aligned offset).
    const shifted = Buffer.alloc(bytes.length + 3);
    bytes.copy(shifted, 3);
    expect(deserializeRanges(shifted.subarray(3), key, json())).not.toBeNull();
  });

  it('is not made when the syncToken is not at the start of the file', () => {
    const doc = JSON.parse(readFileSync(SMALL, 'utf8'));
    const { syncToken, ...rest } = doc;
    writeFileSync(json(), JSON.stringify({ ...rest, syncToken }));
    expect(sourceKey(json())).toBeNull();
    expect(load().ranges.info.syncToken).toBe('1731000000');
    expect(existsSync(compiled())).toBe(false);
  });

  it('is ignored and rebuilt when damaged', () => {
    copyFileSync(SMALL, json());
    load();
    const good = readFileSync(compiled());
    const want = AwsRanges.fromFile(json());
    const damages: [string, () => void][] = [
      ['a flipped byte in the arrays', () => writeFileSync(compiled(), Buffer.from(good).fill(good[good.length - 100] ^ 1, good.length - 100, good.length - 99))],
      ['a flipped byte in the header', () => writeFileSync(compiled(), Buffer.from(good).fill(good[20] ^ 1, 20, 21))],
      ['a cut-off end', () => truncateSync(compiled(), good.length - 7)],
      ['nothing', () => writeFileSync(compiled(), '')],
      ['something else', () => writeFileSync(compiled(), readFileSync(SMALL))],
      ['another format', () => writeFileSync(compiled(), Buffer.from(good).fill(COMPILED_FORMAT + 1, 8, 9))],
    ];
    for (const [what, damage] of damages) {
      damage();
      const r = load();
      expect(r.fromCopy, what).toBe(false);
      expectSameAnswers(r.ranges, want);
      expect(readFileSync(compiled()).equals(good), what).toBe(true);
    }
  });

  it('is skipped when it cannot be written, leaving no temporary file', () => {
    copyFileSync(SMALL, json());
    mkdirSync(compiled());
    const r = load();
    expect(r.fromCopy).toBe(false);
    expect(r.ranges.lookupV4(0x0f983f91)?.service).toBe('EC2'); // 15.152.63.145
    expect(readdirSync(dir).sort()).toEqual(['ip-ranges.compiled', 'ip-ranges.json']);
  });

  it('changes its format number whenever what it stores changes', () => {
    // A tripwire: copies of another format are rebuilt, so a change to the trie, the table or what the builder
    // derives must come with a new COMPILED_FORMAT. Update both values here once it does.
    const ranges = AwsRanges.fromFile(SMALL);
    const bytes = serializeRanges(ranges, { size: 0, mtimeNs: '0', syncToken: '0' });
    const digest = createHash('sha256').update(bytes.subarray(0, bytes.length - 32)).digest('hex').slice(0, 16);
    expect({ COMPILED_FORMAT, digest }).toEqual({ COMPILED_FORMAT: 1, digest: '32340020c590cc11' });
  });
});

describe('ranges shared with worker threads', () => {
  it('live in shared memory, built or from the copy, and give the same answers once handed on (a structured clone, as to a worker)', async () => {
    copyFileSync(SMALL, json());
    const fresh = AwsRanges.fromFile(json());
    for (const expectCopy of [false, true]) {
      const { ranges, fromCopy, shared } = loadCompiledRanges(json(), compiled(), true);
      expect(fromCopy).toBe(expectCopy);
      expect(shared!.bytes.buffer).toBeInstanceOf(SharedArrayBuffer);
      expect(ranges.trie.tables.v4.nodes.buffer).toBe(shared!.bytes.buffer);
      expectSameAnswers(ranges, fresh);
      expectSameAnswers(rangesFromShared(structuredClone(shared!)), fresh);
    }
    expect(loadCompiledRanges(json(), compiled()).shared).toBeNull();
  });

  it('give a --workers run the same output as one thread', async () => {
    const env = { VPCFLOW_CACHE_DIR: dir };
    const file = path.join(dir, 'flows.log');
    writeFileSync(file, '2 1 eni-1 10.0.0.1 3.5.246.198 1 443 6 1 40 1731000000 1731000001 ACCEPT OK\n2 1 eni-1 10.0.0.1 2600:1f18:4abc::1 1 443 6 1 40 1731000000 1731000001 ACCEPT OK\n');
    const one = await runCli(['-q', '--ip-ranges', SMALL, file], { env });
    const workers = await runCli(['-q', '--ip-ranges', SMALL, '--workers', '2', file], { env });
    expect(JSON.parse(one.stdout.split('\n')[1]).dst.aws).toMatchObject({ service: 'S3', prefix: '2600:1f18:4000::/36' });
    expect(workers.stdout).toBe(one.stdout);
  });
});

describe('runs with the cached ip-ranges.json', () => {
  it('write the copy once and give the same output from it', async () => {
    const env = { VPCFLOW_CACHE_DIR: dir };
    copyFileSync(SMALL, json());
    const input = '2 1 eni-1 10.0.0.1 3.5.246.198 1 443 6 1 40 1731000000 1731000001 ACCEPT OK\n2 1 eni-1 10.0.0.1 2600:1f18:4abc::1 1 443 6 1 40 1731000000 1731000001 ACCEPT OK\n';
    const first = await runCli(['-q'], { env, input });
    expect(existsSync(compiled())).toBe(true);
    const written = statSync(compiled()).mtimeMs;
    const second = await runCli(['-q'], { env, input });
    expect(second.stdout).toBe(first.stdout);
    expect(JSON.parse(second.stdout.split('\n')[1]).dst.aws).toMatchObject({ service: 'S3', prefix: '2600:1f18:4000::/36' });
    expect(statSync(compiled()).mtimeMs).toBe(written);
    const info = await runCli(['ranges', 'info', '--json'], { env });
    expect(JSON.parse(info.stdout)).toMatchObject({ origin: 'cache', syncToken: '1731000000', ipv4_prefixes: 9, ipv6_prefixes: 3 });
  });
});

describe('runs with --ip-ranges FILE', () => {
  it('keep a copy in the cache directory (not beside the file) and follow a file replaced at the same path', async () => {
    const cache = path.join(dir, 'cache');
    const own = path.join(dir, 'mine.json');
    const env = { VPCFLOW_CACHE_DIR: cache };
    copyFileSync(SMALL, own);
    // 18.194.0.1 is AWS's only in the newer snapshot.
    const input = '2 1 eni-1 10.0.0.1 18.194.0.1 1 443 6 1 40 1731000000 1731000001 ACCEPT OK\n';
    const first = await runCli(['-q', '--ip-ranges', own], { env, input });
    const copies = readdirSync(path.join(cache, 'compiled'));
    expect(copies).toHaveLength(1);
    expect(readdirSync(dir).filter((f) => f.endsWith('.compiled'))).toEqual([]);
    const second = await runCli(['-q', '--ip-ranges', own], { env, input });
    expect(second.stdout).toBe(first.stdout);
    // Another snapshot at the same path: its own answers, not the copy's.
    copyFileSync(NEWER, own);
    const replaced = await runCli(['-q', '--ip-ranges', own], { env, input });
    const direct = await runCli(['-q', '--ip-ranges', NEWER], { env: { VPCFLOW_CACHE_DIR: path.join(dir, 'other-cache') }, input });
    expect(JSON.parse(first.stdout).dst.aws).toBeNull();
    expect(JSON.parse(replaced.stdout).dst.aws).toMatchObject({ service: 'EC2', prefix: '18.194.0.0/15' });
    expect(replaced.stdout).toBe(direct.stdout);
  });
});
