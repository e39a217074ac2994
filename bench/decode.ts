/**
 * Decode-only throughput: how close vpcflow gets to the cost of just reading the file, and how it compares with
 * the split-and-Number() script people usually write. Run with `npm run bench`.
 *
 * Every contender reads the same generated file from the page cache. Contenders run in turns (one run of each,
 * then the next round) so that CPU frequency drift, page cache state and GC pressure spread evenly over all of
 * them, and the median of the rounds is reported. A first, untimed round warms the cache and the JIT.
 *
 * Environment: VPCFLOW_BENCH_LINES (default 1000000), VPCFLOW_BENCH_RUNS (default 5).
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { closeSync, createReadStream, openSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import split2 from 'split2';
import { DEFAULT_FORMAT } from '../src/decode/format.js';
import { KIND_NUMBER, type DecodedRecord } from '../src/decode/record.js';
import { SourceDecoder } from '../src/decode/source-decoder.js';
import { NdjsonWriter } from '../src/sinks/ndjson.js';
import { benchInput, LINES, median, ROOT, RUNS, SEED } from './common.js';

const RESULTS = path.join(ROOT, 'bench', 'RESULTS.md');
const CLI = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));
/** The CLI's read size (src/sources/inputs.ts), so the in-process runs see the same chunks. */
const CLI_CHUNK = 256 * 1024;
const BYTES_FIELD = DEFAULT_FORMAT.indexOf.get('bytes')!;

/** What a run produced, checked after every run so a fast but wrong contender cannot win. */
interface Outcome {
  lines: number;
  rejects?: number;
  /** Sum of the bytes field over records that have one. */
  bytesSum?: number;
  outputChars?: number;
}

interface Contender {
  name: string;
  run(file: string): Promise<Outcome>;
}

async function floor(file: string): Promise<Outcome> {
  let lines = 0;
  for await (const chunk of createReadStream(file, { highWaterMark: 64 * 1024 }) as AsyncIterable<Buffer>) {
    let i = chunk.indexOf(10);
    while (i !== -1) {
      lines++;
      i = chunk.indexOf(10, i + 1);
    }
  }
  return { lines };
}

/** The script most people write first: split on spaces, build an object, Number() the numbers. */
function naiveRecord(line: string) {
  const f = line.split(' ');
  return {
    version: Number(f[0]),
    accountId: f[1],
    interfaceId: f[2],
    srcaddr: f[3],
    dstaddr: f[4],
    srcport: Number(f[5]),
    dstport: Number(f[6]),
    protocol: Number(f[7]),
    packets: Number(f[8]),
    bytes: Number(f[9]),
    start: Number(f[10]),
    end: Number(f[11]),
    action: f[12],
    logStatus: f[13],
  };
}

async function naive(file: string): Promise<Outcome> {
  let lines = 0;
  let bytesSum = 0;
  for await (const line of createReadStream(file).pipe(split2()) as AsyncIterable<string>) {
    const rec = naiveRecord(line);
    lines++;
    // NODATA/SKIPDATA lines have '-' here, which Number() turns into NaN.
    if (rec.bytes === rec.bytes) bytesSum += rec.bytes;
  }
  return { lines, bytesSum };
}

/** The same script printing NDJSON: JSON.stringify of each object (the output is measured, not written). */
async function naiveNdjson(file: string): Promise<Outcome> {
  let lines = 0;
  let outputChars = 0;
  for await (const line of createReadStream(file).pipe(split2()) as AsyncIterable<string>) {
    outputChars += JSON.stringify(naiveRecord(line)).length + 1;
    lines++;
  }
  return { lines, outputChars };
}

async function decodeOnly(file: string): Promise<Outcome> {
  let bytesSum = 0;
  let rejects = 0;
  const decoder = new SourceDecoder({
    record(rec: DecodedRecord) {
      if (rec.kinds[BYTES_FIELD] === KIND_NUMBER) bytesSum += rec.numbers[BYTES_FIELD];
    },
    reject() {
      rejects++;
    },
  });
  decoder.begin('bench');
  for await (const chunk of createReadStream(file, { highWaterMark: CLI_CHUNK }) as AsyncIterable<Buffer>) decoder.push(chunk);
  decoder.end();
  return { lines: decoder.counts.records, rejects: rejects + decoder.counts.rejected, bytesSum };
}

async function decodeNdjson(file: string): Promise<Outcome> {
  let rejects = 0;
  let outputChars = 0;
  const writer = new NdjsonWriter();
  const decoder = new SourceDecoder({
    record: (rec) => writer.write(rec),
    reject() {
      rejects++;
    },
  });
  decoder.begin('bench');
  for await (const chunk of createReadStream(file, { highWaterMark: CLI_CHUNK }) as AsyncIterable<Buffer>) {
    decoder.push(chunk);
    outputChars += writer.take().length;
  }
  decoder.end();
  outputChars += writer.take().length;
  return { lines: decoder.counts.records, rejects: rejects + decoder.counts.rejected, outputChars };
}

let devNull: number | undefined;

async function cli(file: string): Promise<Outcome> {
  devNull ??= openSync(os.devNull, 'w');
  const child = spawn(process.execPath, [CLI, '-q', '--no-enrich', file], { stdio: ['ignore', devNull, 'inherit'] });
  const [code, signal] = (await once(child, 'close')) as [number | null, NodeJS.Signals | null];
  if (code !== 0) throw new Error(`CLI exited with ${signal ?? code}`);
  // The CLI prints nothing we read back; the line count is taken on trust from its exit status.
  return { lines: LINES };
}

const CONTENDERS: Contender[] = [
  { name: 'floor (read + count \\n)', run: floor },
  { name: 'naive baseline (split2)', run: naive },
  { name: 'vpcflow decode-only', run: decodeOnly },
  { name: 'naive + JSON.stringify', run: naiveNdjson },
  { name: 'vpcflow decode + NDJSON', run: decodeNdjson },
  { name: 'vpcflow CLI end-to-end', run: cli },
];

/** Reference sum of the bytes field, from the naive run, which every decoder must match. */
let expectedBytesSum: number | undefined;

function check(name: string, out: Outcome): void {
  const problems: string[] = [];
  if (out.lines !== LINES) problems.push(`${out.lines} lines/records, expected ${LINES}`);
  if (out.rejects !== undefined && out.rejects !== 0) problems.push(`${out.rejects} rejects`);
  if (out.bytesSum !== undefined) {
    expectedBytesSum ??= out.bytesSum;
    if (out.bytesSum !== expectedBytesSum) problems.push(`bytes sum ${out.bytesSum}, expected ${expectedBytesSum}`);
  }
  if (out.outputChars !== undefined && out.outputChars === 0) problems.push('no NDJSON output');
  if (problems.length > 0) throw new Error(`${name}: ${problems.join('; ')}`);
}

interface Row {
  name: string;
  median: number;
  min: number;
  max: number;
}

async function measure(file: string): Promise<Row[]> {
  const times = CONTENDERS.map(() => [] as number[]);
  for (let round = 0; round <= RUNS; round++) {
    const parts: string[] = [];
    for (let c = 0; c < CONTENDERS.length; c++) {
      // Leftover garbage from one contender should not be collected on the next one's clock (needs --expose-gc).
      (globalThis as { gc?: () => void }).gc?.();
      const { name, run } = CONTENDERS[c];
      const t0 = performance.now();
      const out = await run(file);
      const seconds = (performance.now() - t0) / 1000;
      check(name, out);
      if (round > 0) times[c].push(seconds);
      parts.push(`${name.split(' ')[0] === 'vpcflow' ? name.slice(8) : name.split(' ')[0]} ${seconds.toFixed(3)}s`);
    }
    process.stderr.write(`${round === 0 ? 'warm-up' : `round ${round}/${RUNS}`}: ${parts.join(', ')}\n`);
  }
  return CONTENDERS.map(({ name }, c) => ({ name, median: median(times[c]), min: Math.min(...times[c]), max: Math.max(...times[c]) }));
}

function table(rows: readonly Row[], size: number): string[][] {
  const floorTime = rows[0].median;
  const naiveTime = rows[1].median;
  return rows.map((r) => [
    r.name,
    r.median.toFixed(3),
    `${r.min.toFixed(3)}–${r.max.toFixed(3)}`,
    `${(LINES / r.median / 1e6).toFixed(2)} M`,
    (size / 1e6 / r.median).toFixed(0),
    `${(r.median / floorTime).toFixed(1)}×`,
    `${(naiveTime / r.median).toFixed(2)}×`,
  ]);
}

const HEADINGS = ['contender', 'median s', 'min–max s', 'lines/s', 'MB/s', '× floor', 'vs naive'];

function textTable(cells: string[][]): string {
  const all = [HEADINGS, ...cells];
  const widths = HEADINGS.map((_, i) => Math.max(...all.map((r) => r[i].length)));
  const line = (r: string[]) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  return all.map(line).join('\n');
}

function markdownTable(cells: string[][]): string {
  const line = (r: string[]) => `| ${r.join(' | ')} |`;
  return [line(HEADINGS), line(HEADINGS.map((_, i) => (i === 0 ? '---' : '---:'))), ...cells.map(line)].join('\n');
}

function machine(): string[] {
  const cpus = os.cpus();
  return [
    `- CPU: ${cpus[0]?.model.trim() ?? 'unknown'} (${cpus.length} cores)`,
    `- Memory: ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB`,
    `- OS: ${os.type()} ${os.release()} ${os.arch()}`,
    `- Node: ${process.version}`,
  ];
}

async function main(): Promise<void> {
  const { file, size } = await benchInput();
  process.stderr.write(`${path.relative(ROOT, file)}: ${LINES} lines, ${(size / 1e6).toFixed(1)} MB; ${RUNS} rounds after a warm-up\n`);
  const rows = await measure(file);
  if (devNull !== undefined) closeSync(devNull);
  const cells = table(rows, size);

  process.stdout.write('\n' + textTable(cells) + '\n');
  const md = [
    '# vpcflow decode benchmark',
    '',
    `Generated by \`npm run bench\` (bench/decode.ts) on ${new Date().toISOString()}.`,
    '',
    `Input: ${LINES.toLocaleString('en-US')} default-format (v2) lines generated by bench/generate.ts (seed ${SEED}), ` +
      `${size.toLocaleString('en-US')} bytes (${(size / 1e6).toFixed(1)} MB), read from the page cache.`,
    '',
    ...machine(),
    '',
    markdownTable(cells),
    '',
    `Median of ${RUNS} rounds after one untimed warm-up round; contenders take turns within each round. ` +
      'MB/s is input bytes (10^6) per second; × floor is time over the floor\'s time; vs naive is the naive ' +
      'baseline\'s time over this time.',
    '',
    '- **floor**: `createReadStream` (64 KiB chunks) and a `buf.indexOf(10)` loop: the cost of reading the file.',
    '- **naive baseline**: `split2`, `line.split(\' \')` and an object per line with `Number()` on numeric fields.',
    '- **vpcflow decode-only**: `SourceDecoder` on 256 KiB chunks (as the CLI reads), summing the bytes field.',
    '- **naive + JSON.stringify**: the naive script printing NDJSON (`JSON.stringify` per object; output measured, not written).',
    '- **vpcflow decode + NDJSON**: the same plus `NdjsonWriter`, output taken after each chunk and discarded.',
    '- **vpcflow CLI end-to-end**: `node dist/src/cli/main.js -q --no-enrich FILE > /dev/null`, including process start-up.',
    '',
  ].join('\n');
  writeFileSync(RESULTS, md);
  process.stdout.write(`\nwrote ${path.relative(ROOT, RESULTS)}\n`);
}

await main();
