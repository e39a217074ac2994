/**
 * Batch throughput on many objects: a local directory laid out like an S3 export (gzip objects with header lines),
 * run through the CLI end to end with the work in this thread, in 1 worker and in one worker per core, next to
 * `gzip -dc` of the same bytes, in the same run. Run with `npm run bench:batch`.
 *
 * With ../shared/data/ip-ranges.json (or VPCFLOW_IP_RANGES), also enriched NDJSON in-thread, on one core (taskset)
 * and with a worker per core: the "--workers on a directory of files".
 *
 * Environment: VPCFLOW_BENCH_OBJECTS (default 48), VPCFLOW_BENCH_OBJECT_LINES (default 25,000), VPCFLOW_BENCH_RUNS,
 * VPCFLOW_BENCH_ONLY (comma-separated parts of contender names; gzip -dc always runs).
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { benchCommand, ENRICH_ARGS, IP_RANGES, machine, median, ONE_CORE, ONLY, ROOT, RUNS } from './common.js';
import { generateLines } from '../src/sources/generate.js';

const OBJECTS = Number(process.env.VPCFLOW_BENCH_OBJECTS ?? 48);
const OBJECT_LINES = Number(process.env.VPCFLOW_BENCH_OBJECT_LINES ?? 25_000);
const CLI = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));
const DIR = path.join(ROOT, 'bench', 'out', `export-${OBJECTS}x${OBJECT_LINES}`);

/** Objects named and laid out as AWS writes them, generated once (deterministic seeds). */
function makeExport(): { files: string[]; compressed: number; uncompressed: number } {
  const dayDir = path.join(DIR, 'AWSLogs', '123456789012', 'vpcflowlogs', 'us-east-1', '2024', '11', '07');
  if (!existsSync(dayDir)) {
    mkdirSync(dayDir, { recursive: true });
    for (let i = 0; i < OBJECTS; i++) {
      const minute = String(i * 5 % 60).padStart(2, '0');
      const hour = String(Math.floor(i / 12) % 24).padStart(2, '0');
      const name = `123456789012_vpcflowlogs_us-east-1_fl-0123456789abcdef0_20241107T${hour}${minute}Z_${String(i).padStart(8, '0')}.log.gz`;
      const text = [...generateLines(OBJECT_LINES, i + 1, { header: true })].join('\n') + '\n';
      writeFileSync(path.join(dayDir, name), gzipSync(text));
    }
  }
  const files = readdirSync(dayDir).map((f) => path.join(dayDir, f));
  const compressed = files.reduce((n, f) => n + statSync(f).size, 0);
  return { files, compressed, uncompressed: OBJECTS * OBJECT_LINES * 116 };
}

async function timed(command: string, args: string[]): Promise<number> {
  const devNull = openSync(os.devNull, 'w');
  const t = performance.now();
  const child = spawn(command, args, { stdio: ['ignore', devNull, 'inherit'] });
  const [code] = (await once(child, 'close')) as [number | null];
  closeSync(devNull);
  if (code !== 0) throw new Error(`${command} ${args.slice(0, 3).join(' ')}… exited ${code}`);
  return (performance.now() - t) / 1000;
}

let outs = 0;
/** A new output directory per run, so no run is skipped as already done. */
function freshOut(): string {
  const dir = path.join(ROOT, 'bench', 'out', 'batch-out', String(outs++));
  rmSync(dir, { recursive: true, force: true });
  return dir;
}

async function main(): Promise<void> {
  const { files, compressed } = makeExport();
  const cores = os.availableParallelism();
  const vpcflow = (args: string[], wrapper: string[] = []) => () => {
    const command = [...wrapper, process.execPath, CLI, '-q', ...args];
    return timed(command[0], command.slice(1));
  };
  const all: [string, () => Promise<number>][] = [
    ['gzip -dc (decompression alone)', () => timed('gzip', ['-dc', ...files])],
    ['vpcflow, stdout, in-thread', () => timed(process.execPath, [CLI, '-q', '--no-enrich', DIR])],
    ['vpcflow, stdout, --workers 1', () => timed(process.execPath, [CLI, '-q', '--no-enrich', DIR, '--workers', '1'])],
    [`vpcflow, stdout, --workers ${cores}`, () => timed(process.execPath, [CLI, '-q', '--no-enrich', DIR, '--workers', String(cores)])],
    ['vpcflow --out, in-thread', () => timed(process.execPath, [CLI, '-q', '--no-enrich', DIR, '--out', freshOut()])],
    ['vpcflow --out, --workers 1', () => timed(process.execPath, [CLI, '-q', '--no-enrich', DIR, '--out', freshOut(), '--workers', '1'])],
    [`vpcflow --out, --workers ${cores}`, () => timed(process.execPath, [CLI, '-q', '--no-enrich', DIR, '--out', freshOut(), '--workers', String(cores)])],
    // The enriched NDJSON the decode bench's CLI rows write, here from .gz objects: the "directory of files".
    ...(existsSync(IP_RANGES)
      ? ([
          ['vpcflow enrich, stdout, in-thread', vpcflow([...ENRICH_ARGS, DIR])],
          ...(ONE_CORE ? [['vpcflow enrich, stdout, one core', vpcflow([...ENRICH_ARGS, DIR], ONE_CORE)]] : []),
          [`vpcflow enrich, stdout, --workers ${cores}`, vpcflow([...ENRICH_ARGS, DIR, '--workers', String(cores)])],
        ] as [string, () => Promise<number>][])
      : []),
  ];
  const contenders = all.filter(([name], i) => i === 0 || ONLY.length === 0 || ONLY.some((part) => name.includes(part)));
  const times = contenders.map(() => [] as number[]);
  for (let round = 0; round <= RUNS; round++) {
    for (let c = 0; c < contenders.length; c++) {
      const s = await contenders[c][1]();
      if (round > 0) times[c].push(s);
    }
  }
  const gzipTime = median(times[0]);
  const rows = contenders.map(([name], c) => {
    const s = median(times[c]);
    return [name, s.toFixed(3), (compressed / 1e6 / s).toFixed(1), ((OBJECTS * OBJECT_LINES) / s / 1e6).toFixed(2) + ' M', `${(s / gzipTime).toFixed(2)}×`];
  });
  const head = ['contender', 'seconds', 'MB/s (gz)', 'lines/s', '× gzip -dc'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (r: string[]) => r.map((x, i) => (i === 0 ? x.padEnd(widths[i]) : x.padStart(widths[i]))).join('  ');
  const summary =
    `${OBJECTS} objects x ${OBJECT_LINES.toLocaleString('en-US')} lines, ${(compressed / 1e6).toFixed(1)} MB gzip, ${cores} cores; ` +
    `median of ${RUNS}; NDJSON to /dev/null or gzip NDJSON files under --out; no enrichment unless said`;
  const table = [head, ...rows].map(line).join('\n');
  process.stdout.write(`${summary}\n\n${table}\n`);
  const time = (name: string) => {
    const c = contenders.findIndex(([n]) => n === name);
    return c < 0 ? NaN : median(times[c]);
  };
  const workers = time(`vpcflow enrich, stdout, --workers ${cores}`);
  const verdict = Number.isFinite(workers)
    ? `enrich, --workers ${cores}: ${(time('vpcflow enrich, stdout, in-thread') / workers).toFixed(2)}× in-thread` +
      (ONE_CORE ? `, ${(time('vpcflow enrich, stdout, one core') / workers).toFixed(2)}× one core (taskset -c 0)` : '') +
      ' (issue 5: ≥ 1.7× the one-core rate)'
    : '';
  if (verdict) process.stdout.write(`\n${verdict}\n`);
  const command = benchCommand('bench:batch', ['VPCFLOW_BENCH_OBJECTS', 'VPCFLOW_BENCH_OBJECT_LINES', 'VPCFLOW_BENCH_RUNS', 'VPCFLOW_BENCH_ONLY']);
  const results = path.join(ROOT, 'bench', `RESULTS-batch-${OBJECTS}x${OBJECT_LINES}.md`);
  writeFileSync(
    results,
    ['# vpcflow batch benchmark', '', `Generated by \`${command}\` (bench/batch.ts) on ${new Date().toISOString()}.`, '', ...machine(), '', summary, '', '```', table, '```', '', verdict, ''].join('\n'),
  );
  process.stdout.write(`\nwrote ${path.relative(ROOT, results)}\n`);
  rmSync(path.join(ROOT, 'bench', 'out', 'batch-out'), { recursive: true, force: true });
}

await main();
