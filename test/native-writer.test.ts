import { readFileSync } from 'node:fs';
import { describe, expect, it, vi } from 'vitest';
import { decoderDescription, nativeKernel } from '../src/native/addon.js';
import type { DecodedRecord } from '../src/decode/record.js';
import { SourceDecoder, type SourceDecoderOptions } from '../src/decode/source-decoder.js';
import { Enricher } from '../src/enrich/enricher.js';
import { AwsRanges } from '../src/enrich/ip-ranges.js';
import { parseVpcOption } from '../src/enrich/inventory.js';
import { CsvWriter, type CsvOptions } from '../src/sinks/csv.js';
import { NativeWriter } from '../src/sinks/native-writer.js';
import { NdjsonWriter, type NdjsonOptions } from '../src/sinks/ndjson.js';
import { OutputBuffers } from '../src/sinks/output-buffers.js';
import { CUSTOM_HEADER, fuzzLines, random } from './fuzz-lines.js';
import { fixture } from './helpers.js';

// As in native-decoder.test.ts: in CI (VPCFLOW_EXPECT_NATIVE=1) the C writer must be there.
if (!nativeKernel) {
  if (process.env.VPCFLOW_EXPECT_NATIVE === '1') throw new Error(`the C writer is expected but absent: ${decoderDescription()}`);
  console.warn(`C row writer checks skipped: ${decoderDescription()}`);
}
const withKernel = nativeKernel ? describe : describe.skip;

const RANGES = AwsRanges.fromFile(fixture('ip-ranges-small.json'));

function enricher(): Enricher {
  return new Enricher({
    awsRanges: RANGES,
    inventory: {
      vpcs: [parseVpcOption('vpc-1=10.0.0.0/16')],
      subnets: [],
      interfaces: [
        // Gives the default format a direction (the interface's own address is 10.0.1.5).
        { eni: 'eni-0a1b2c3d4e5f67890', vpcId: 'vpc-1', subnetId: null, instanceId: 'i-1', interfaceType: 'interface', description: 'a "quoted" \\ one', requesterManaged: false, addresses: ['10.0.1.5'], prefixes: [], source: 'test' },
      ],
    },
  });
}

interface Written {
  /** The NDJSON or CSV written. */
  text: string;
  /** Records the C writer wrote itself. */
  native: number;
}

/**
 * Decodes in chunks of random sizes, enriched or not, and writes NDJSON (or CSV), taking the output now and then (or
 * only at the end, so the buffer fills up and must grow under the C writer).
 */
function write(
  bytes: Buffer,
  native: boolean,
  seed: number,
  writerOptions: NdjsonOptions & CsvOptions,
  options: SourceDecoderOptions = {},
  enrich = true,
  csv = false,
): Written {
  const written: Written = { text: '', native: 0 };
  const writer = csv ? new CsvWriter({ ...writerOptions, native }) : new NdjsonWriter({ ...writerOptions, native });
  // true from NativeWriter.write: the C writer wrote the record.
  const calls = vi.spyOn(NativeWriter.prototype, 'write');
  const e = enrich ? enricher() : null;
  const decoder = new SourceDecoder(
    {
      record(rec: DecodedRecord) {
        e?.enrich(rec);
        writer.write(rec);
      },
      reject() {},
    },
    options,
  );
  const r = random(seed);
  const takeEvery = r() < 0.5 ? 1 : Infinity;
  let pushes = 0;
  decoder.begin('fuzz');
  for (let i = 0; i < bytes.length; ) {
    const size = 1 + Math.floor(r() * (r() < 0.1 ? 64 : 8192));
    decoder.push(Buffer.from(bytes.subarray(i, i + size)));
    i += size;
    if (++pushes % takeEvery === 0) written.text += writer.take().toString('utf8');
  }
  decoder.end();
  written.text += writer.take().toString('utf8');
  written.native = calls.mock.results.filter((r) => r.value === true).length;
  calls.mockRestore();
  return written;
}

withKernel('the C row writer', () => {
  it.each([1, 2, 3, 4, 5, 6])('writes the same bytes as the JavaScript writer, enriched (seed %i)', (seed) => {
    const bytes = Buffer.from(fuzzLines(seed, 4000));
    const js = write(bytes, false, seed, {});
    const c = write(bytes, true, seed, {});
    expect(js.native).toBe(0);
    const lines = c.text.split('\n').length - 1;
    expect(lines).toBeGreaterThan(1500);
    // Most records went through C, or this compares the JavaScript writer with itself; some did not (escapes).
    expect(c.native).toBeGreaterThan(lines * 0.5);
    expect(c.native).toBeLessThan(lines);
    expect(c.text).toBe(js.text);
    for (const line of c.text.split('\n').slice(0, -1)) JSON.parse(line);
  });

  it.each([1, 2, 3])('writes the same CSV as the JavaScript writer, enriched (seed %i)', (seed) => {
    const bytes = Buffer.from(fuzzLines(seed, 4000));
    const js = write(bytes, false, seed, {}, {}, true, true);
    const c = write(bytes, true, seed, {}, {}, true, true);
    const rows = c.text.split('\r\n').length - 2;
    expect(rows).toBeGreaterThan(1500);
    expect(c.native).toBeGreaterThan(rows * 0.5);
    expect(c.native).toBeLessThan(rows);
    expect(c.text).toBe(js.text);
  });

  it('writes the same CSV with --fields (endpoint values picked and reordered), unenriched, and after a format change', () => {
    const bytes = Buffer.from(fuzzLines(21, 3000));
    const cases: [CsvOptions, boolean][] = [
      [{ fields: ['dst.aws.region', 'srcaddr', 'src.scope', 'src.vpc.vpc_id', 'dst.scope', 'nonesuch', 'protocol_name', 'direction', 'tcp_flags_names'] }, true],
      [{}, false],
      [{ headerRow: false }, true],
    ];
    for (const [writerOptions, enrich] of cases) {
      const c = write(bytes, true, 21, writerOptions, {}, enrich, true);
      expect(c.native).toBeGreaterThan(1000);
      expect(c.text).toBe(write(bytes, false, 21, writerOptions, {}, enrich, true).text);
    }
  });

  it('gives the same output when writers of the thread take turns (they share the C writer)', () => {
    const bytes = Buffer.from(fuzzLines(31, 2000));
    const run = (native: boolean) => {
      const writers = [
        new NdjsonWriter({ native }),
        new NdjsonWriter({ native, fields: ['dst', 'srcaddr', 'src'] }),
        new CsvWriter({ native }),
        new CsvWriter({ native, fields: ['dst.scope', 'src.scope', 'dst.aws.region'] }),
      ];
      const e = enricher();
      const decoder = new SourceDecoder({
        record(rec: DecodedRecord) {
          e.enrich(rec);
          for (const w of writers) w.write(rec);
        },
        reject() {},
      });
      decoder.begin('turns');
      decoder.push(bytes);
      decoder.end();
      return writers.map((w) => w.take().toString('utf8'));
    };
    const calls = vi.spyOn(NativeWriter.prototype, 'write');
    const c = run(true);
    const taken = calls.mock.results.filter((r) => r.value === true).length;
    calls.mockRestore();
    expect(taken).toBeGreaterThan(2000);
    expect(c).toEqual(run(false));
  });

  it('leaves CSV cells that need quotes or are not ASCII, and numbers JavaScript prints otherwise, to JavaScript', () => {
    const lines = [
      'version account-id srcaddr protocol tcp-flags bytes',
      '5 a,b 10.0.1.5 6 2 1',
      '5 a"b 10.0.1.5 6 2 1',
      '5 ü 10.0.1.5 6 2 1',
      '5 1 10.0.1.5 6 2 1234567890123456',
      '5 a\\b 10.0.1.5 300 2 00012',
    ].join('\n');
    const c = write(Buffer.from(lines + '\n'), true, 1, {}, {}, true, true);
    expect(c.text).toBe(write(Buffer.from(lines + '\n'), false, 1, {}, {}, true, true).text);
    const rows = c.text.trim().split('\r\n').slice(1).map((r) => r.split(',').slice(0, 6));
    expect(rows[0].slice(0, 3)).toEqual(['5', '"a', 'b"']);
    expect(rows[1][1]).toBe('"a""b"');
    expect(rows[4]).toEqual(['5', 'a\\b', '10.0.1.5', '300', '2', '12']);
    // Only the last line is the C writer's (a backslash needs nothing in CSV; protocol 300 has no name).
    expect(c.native).toBe(1);
  });

  it('writes the same bytes unenriched, with --fields, with several formats and with an output buffer of its own', () => {
    const bytes = Buffer.from(fuzzLines(11, 3000));
    const cases: [NdjsonOptions, SourceDecoderOptions, boolean][] = [
      [{}, {}, false],
      [{ fields: ['srcaddr', 'dst', 'nonesuch', 'protocol_name', 'src', 'action', 'direction'] }, {}, true],
      [{ buffers: new OutputBuffers(4096) }, { formats: [CUSTOM_HEADER] }, true],
      [{}, { formats: [CUSTOM_HEADER, 'version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status'] }, true],
    ];
    for (const [writerOptions, options, enrich] of cases) {
      const c = write(bytes, true, 11, writerOptions, options, enrich);
      expect(c.native).toBeGreaterThan(1000);
      expect(c.text).toBe(write(bytes, false, 11, writerOptions, options, enrich).text);
    }
  });

  it('leaves layouts with columns only JavaScript writes (ISO times, endpoint paths) to JavaScript, with the same output', () => {
    const bytes = readFileSync(fixture('sample-default.log'));
    for (const writerOptions of [{ isoTimes: true }, { fields: ['src.aws.region', 'dstaddr'] }]) {
      const c = write(bytes, true, 12, writerOptions);
      expect(c.native).toBe(0);
      expect(c.text).toBe(write(bytes, false, 12, writerOptions).text);
    }
  });

  it('hands escapes, non-ASCII text, long zero-padded numbers and tcp-flags past 255 to JavaScript', () => {
    const lines = [
      'version account-id srcaddr protocol tcp-flags bytes',
      '5 a"b 10.0.1.5 6 2 1',
      '5 ü 10.0.1.5 6 2 1',
      '5 1 10.0.1.5 300 2 0000000000000000012',
      '5 1 10.0.1.5 6 256 00012',
      '5 1 10.0.1.5 6 18 0',
    ].join('\n');
    const c = write(Buffer.from(lines + '\n'), true, 1, {});
    expect(c.text).toBe(write(Buffer.from(lines + '\n'), false, 1, {}).text);
    const records = c.text.trim().split('\n').map((l) => JSON.parse(l));
    expect(records.map((r) => r.account_id)).toEqual(['a"b', 'ü', '1', '1', '1']);
    expect(records[2]).toMatchObject({ protocol: 300, protocol_name: null, bytes: 12 });
    expect(records[3]).toMatchObject({ bytes: 12, tcp_flags: 256 });
    expect(records[4]).toMatchObject({ tcp_flags_names: ['SYN-ACK'], bytes: 0 });
    // Only the last line is the C writer's.
    expect(c.native).toBe(1);
  });
});
