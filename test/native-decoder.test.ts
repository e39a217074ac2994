import { describe, expect, it, vi } from 'vitest';
import { DEFAULT_FORMAT } from '../src/decode/format.js';
import { nativeKernel, decoderDescription } from '../src/native/addon.js';
import type { DecodedRecord } from '../src/decode/record.js';
import { SourceDecoder, type SourceDecoderOptions } from '../src/decode/source-decoder.js';
import { Enricher } from '../src/enrich/enricher.js';
import { parseVpcOption } from '../src/enrich/inventory.js';
import { CUSTOM_HEADER, fuzzLines, random } from './fuzz-lines.js';

// .ci/run sets VPCFLOW_EXPECT_NATIVE=1: there the C decoder must have been built, or these tests would quietly
// compare the JavaScript decoder with itself.
if (!nativeKernel) {
  if (process.env.VPCFLOW_EXPECT_NATIVE === '1') throw new Error(`the C decoder is expected but absent: ${decoderDescription()}`);
  console.warn(`C decoder checks skipped: ${decoderDescription()}`);
}
const withKernel = nativeKernel ? describe : describe.skip;

/** The default format's field types as the decoder numbers them (0 int, 1 count, 2 ip, 3 enum, 4 text). */
const DEFAULT_TYPES = Uint8Array.from([0, 4, 4, 2, 2, 0, 0, 0, 1, 1, 1, 1, 3, 3]);

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
