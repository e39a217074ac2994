import { describe, expect, it, vi } from 'vitest';
import { DEFAULT_FORMAT } from '../src/decode/format.js';
import { nativeKernel, decoderDescription } from '../src/decode/native-kernel.js';
import type { DecodedRecord } from '../src/decode/record.js';
import { SourceDecoder, type SourceDecoderOptions } from '../src/decode/source-decoder.js';
import { Enricher } from '../src/enrich/enricher.js';
import { parseVpcOption } from '../src/enrich/inventory.js';

// .ci/run sets VPCFLOW_EXPECT_NATIVE=1: there the C decoder must have been built, or these tests would quietly
// compare the JavaScript decoder with itself.
if (!nativeKernel) {
  if (process.env.VPCFLOW_EXPECT_NATIVE === '1') throw new Error(`the C decoder is expected but absent: ${decoderDescription()}`);
  console.warn(`C decoder checks skipped: ${decoderDescription()}`);
}
const withKernel = nativeKernel ? describe : describe.skip;

/** A small deterministic generator (mulberry32), so a failure reproduces. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The default format's field types as the decoder numbers them (0 int, 1 count, 2 ip, 3 enum, 4 text). */
const DEFAULT_TYPES = Uint8Array.from([0, 4, 4, 2, 2, 0, 0, 0, 1, 1, 1, 1, 3, 3]);

const CUSTOM_HEADER = 'version vpc-id srcaddr dstaddr srcport dstport protocol tcp-flags flow-direction pkt-srcaddr action';

/** Lines of every kind the decoders must agree on: valid ones, near misses, and what the C decoder declines. */
function fuzzLines(seed: number, count: number): string {
  const r = random(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)];
  // Mostly good values, now and then one that is odd but valid, or one that is wrong.
  const some = (good: readonly string[], odd: readonly string[]) => (r() < 0.98 ? pick(good) : pick(odd));
  const num = () =>
    some(['0', '7', '443', '65535', String(Math.floor(r() * 1e10)), '-'], ['123456789012345', '1234567890123456', '2147483648', '00012', '12a', '4294967296', '99999999999999999']);
  const ip = () =>
    some(['10.0.1.5', '172.31.255.255', '3.5.140.2', '2001:db8::1', '-'], ['0.0.0.0', '::', 'fe80::1:2:3:4', '::ffff:10.0.0.1', '256.1.1.1', '1.2.3', '1.2.3.4.5', '01.002.3.4', 'x', '10.0.0.1\r', '1:2:3:4:5:6:7::8', '1:2:3:4:5:6:7:8', '1::2::3', '1:2:3:4:5:6:1.2.3.4', '1:2:3:4:5:6:7:1.2.3.4', '12345::1', ':1::', 'fe80::1%eth0', 'ABCD::EF']);
  const text = () => some(['123456789012', 'eni-0a1b2c3d4e5f67890', 'vpc-1', '-'], ['a\rb', 'ü', '-x']);
  const action = () => some(['ACCEPT', 'REJECT', '-'], ['accept', 'MAYBE', 'ACCEPTED']);
  const status = () => some(['OK', 'NODATA', 'SKIPDATA', '-'], ['ok', 'OK\r']);
  const sep = () => (r() < 0.9 ? ' ' : pick(['  ', '\t', ' \t ']));
  const lines: string[] = [];
  let custom = false;
  for (let i = 0; i < count; i++) {
    const roll = r();
    let line: string;
    if (roll < 0.01) {
      // A header switching the layout, either way: the C decoder must pick up the new one.
      custom = !custom;
      line = custom ? CUSTOM_HEADER : DEFAULT_FORMAT.fields.map((f) => f.name).join(' ');
    } else if (roll < 0.02) {
      line = pick(['', '   ', '\t', '\r', 'garbage', '2 3 4']);
    } else if (custom) {
      const fields = ['5', text(), ip(), ip(), num(), num(), num(), num(), pick(['ingress', 'egress', '-', 'sideways']), ip(), action()];
      line = fields.join(sep());
    } else {
      const fields = [some(['2'], ['3', '-', 'x', '2147483648']), text(), text(), ip(), ip(), num(), num(), num(), num(), num(), num(), num(), action(), status()];
      if (r() < 0.02) fields.pop();
      if (r() < 0.02) fields.push('extra');
      line = fields.join(sep());
    }
    if (r() < 0.05) line = ' ' + line;
    if (r() < 0.05) line += pick([' ', '\t', '\r', ' \r']);
    lines.push(line);
  }
  return lines.join(r() < 0.5 ? '\n' : '\r\n') + (r() < 0.5 ? '\n' : '');
}

interface Seen {
  records: string[];
  rejects: string[];
  counts: unknown;
}

/** Decodes in chunks of random sizes, enriching, and keeps everything a sink could see, as text to compare. */
function decode(bytes: Buffer, native: boolean, seed: number, options: SourceDecoderOptions = {}): Seen {
  const enricher = new Enricher({ awsRanges: null, inventory: { vpcs: [parseVpcOption('vpc-1=10.0.0.0/16')], subnets: [], interfaces: [] } });
  const seen: Seen = { records: [], rejects: [], counts: undefined };
  const decoder = new SourceDecoder(
    {
      record(rec: DecodedRecord) {
        enricher.enrich(rec);
        seen.records.push(`${rec.source}:${rec.line} ${JSON.stringify(rec.toObject({ isoTimes: true }))}`);
      },
      reject(reject) {
        seen.rejects.push(`${reject.source}:${reject.line} ${reject.reason} ${reject.message} ${Buffer.from(reject.text).toString('hex')}`);
      },
    },
    { ...options, native },
  );
  const r = random(seed);
  decoder.begin('fuzz');
  for (let i = 0; i < bytes.length; ) {
    const size = 1 + Math.floor(r() * (r() < 0.1 ? 64 : 8192));
    // A fresh copy per chunk, as a stream gives them, so a record cannot lean on bytes of a chunk already gone.
    decoder.push(Buffer.from(bytes.subarray(i, i + size)));
    i += size;
  }
  decoder.end();
  seen.counts = decoder.counts;
  return seen;
}

withKernel('the C decoder', () => {
  it('decodes plain default-format lines itself, and stops at a line it does not take', () => {
    const chunk = Buffer.from(
      '2 123456789012 eni-0a1b2c3d4e5f67890 10.0.1.5 2001:db8::1 443 49152 6 10 8400 1730000000 1730000060 ACCEPT OK\n' +
        '2 123456789012 eni-0a1b2c3d4e5f67890 - - - - - - - 1730000000 1730000060 - NODATA\n' +
        'version account-id\n' +
        '2 123456789012 eni-0a1b2c3d4e5f67890 10.0.1.5 10.0.1.6 1 2 6 1 1 1 1 REJECT OK\n',
    );
    const n = DEFAULT_FORMAT.fields.length;
    const kinds = new Uint8Array(4 * n);
    const numbers = new Float64Array(4 * n);
    const next = new Int32Array(1);
    const enumAt = new Int32Array(n).fill(-1);
    const rows = nativeKernel!.decodeLines(chunk, 0, 65536, DEFAULT_TYPES, enumAt, new Uint8Array(1), kinds, new Int32Array(4 * n), new Int32Array(4 * n), numbers, next);
    expect(rows).toBe(2);
    expect(chunk.subarray(next[0], next[0] + 7).toString()).toBe('version');
    expect(numbers[3]).toBe(0x0a000105);
    expect(kinds[4]).toBe(4); // IPv6
    expect(numbers[9]).toBe(8400);
    expect([...kinds.subarray(n, 2 * n)]).toEqual([1, 2, 2, 0, 0, 0, 0, 0, 0, 0, 1, 1, 0, 2]);
  });

  it('does not take a line without its newline yet, nor a longer line than allowed', () => {
    const line = '2 123456789012 eni-0a1b2c3d4e5f67890 10.0.1.5 10.0.1.6 1 2 6 1 1 1 1 REJECT OK';
    const n = DEFAULT_FORMAT.fields.length;
    const args = [DEFAULT_TYPES, new Int32Array(n).fill(-1), new Uint8Array(1), new Uint8Array(n), new Int32Array(n), new Int32Array(n), new Float64Array(n), new Int32Array(1)] as const;
    expect(nativeKernel!.decodeLines(Buffer.from(line), 0, 65536, ...args)).toBe(0);
    expect(nativeKernel!.decodeLines(Buffer.from(line + '\n'), 0, 65536, ...args)).toBe(1);
    expect(nativeKernel!.decodeLines(Buffer.from(line + '\n'), 0, line.length - 1, ...args)).toBe(0);
  });

  it.each([1, 2, 3, 4, 5, 6, 7, 8])('gives the same records, rejects and counts as the JavaScript decoder (seed %i)', (seed) => {
    const bytes = Buffer.from(fuzzLines(seed, 3000));
    const js = decode(bytes, false, seed);
    const calls = vi.spyOn(nativeKernel!, 'decodeLines');
    const c = decode(bytes, true, seed);
    const taken = calls.mock.results.reduce((sum, result) => sum + (result.value as number), 0);
    calls.mockRestore();
    expect(c.records.length).toBeGreaterThan(1000);
    // Most records went through the C decoder, or this compares the JavaScript decoder with itself.
    expect(taken).toBeGreaterThan(c.records.length / 2);
    expect(c.rejects.length).toBeGreaterThan(50);
    expect(c.counts).toEqual(js.counts);
    expect(c.rejects).toEqual(js.rejects);
    expect(c.records).toEqual(js.records);
  });

  it('agrees on over-long lines too', () => {
    const bytes = Buffer.from(fuzzLines(99, 2000));
    expect(decode(bytes, true, 99, { maxLineBytes: 100 })).toEqual(decode(bytes, false, 99, { maxLineBytes: 100 }));
  });

  it('agrees with a format given upfront (no header) and with several formats', () => {
    const bytes = Buffer.from(fuzzLines(7, 3000));
    for (const formats of [[CUSTOM_HEADER], [CUSTOM_HEADER, DEFAULT_FORMAT.text]]) {
      expect(decode(bytes, true, 7, { formats })).toEqual(decode(bytes, false, 7, { formats }));
    }
  });
});
