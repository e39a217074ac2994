import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { decoderDescription } from '../native/addon.js';
import { SourceDecoder } from '../decode/source-decoder.js';
import type { Enricher } from '../enrich/enricher.js';
import { loadEnrichment } from '../enrich/load.js';
import { writeGenerated } from '../sources/generate.js';
import { expandInputs, InputError, type InputSource } from '../sources/inputs.js';
import { NdjsonWriter } from '../sinks/ndjson.js';
import { ENRICHMENT_OPTIONS, EXIT } from './options.js';

const BENCH_HELP = `vpcflow bench - how fast vpcflow is on your files, stage by stage

Usage:
  vpcflow bench [FILE|DIR...] [--lines N] [--runs N] [--json] [--ip-ranges FILE] [--vpc ...] [--inventory FILE]

Each stage runs over all the input, --runs times (default 3, the median is shown):
  read        read (and gunzip) the bytes and count lines: the floor
  decode      + frame and decode every record
  enrich      + who owns both endpoints (ip-ranges.json, --vpc, --inventory)
  serialise   + NDJSON, as vpcflow prints it (then thrown away)
For each: lines/s, MB/s (input bytes), peak memory (RSS) and the share of the full pipeline's time the stage adds.
With no files, --lines N (default 1000000) generated default-format lines are used (see vpcflow gen).
A table on a terminal, JSON with --json or when piped.
`;

export type StageName = 'read' | 'decode' | 'enrich' | 'serialise';
const STAGES: readonly StageName[] = ['read', 'decode', 'enrich', 'serialise'];

interface StageResult {
  stage: StageName;
  seconds: number;
  lines: number;
  bytes: number;
  lines_per_s: number;
  mb_per_s: number;
  peak_rss_mb: number;
  /** What this stage adds, as a share of the full pipeline's time. */
  share: number;
}

/**
 * Runs the inputs through the pipeline up to `stage`, with the same pieces the CLI uses, so what is measured is what
 * vpcflow does. `output` receives the NDJSON of the serialise stage (the test compares it with the CLI's output).
 */
export async function runStage(
  stage: StageName,
  inputs: readonly InputSource[],
  enricher: Enricher | null,
  output?: (chunk: Buffer) => void,
): Promise<{ lines: number; bytes: number }> {
  let lines = 0;
  let bytes = 0;
  const writer = stage === 'serialise' ? new NdjsonWriter() : null;
  const decoder =
    stage === 'read'
      ? null
      : new SourceDecoder({
          record(rec) {
            if (enricher && stage !== 'decode') enricher.enrich(rec);
            writer?.write(rec);
          },
          reject() {},
        });
  for (const input of inputs) {
    decoder?.begin(input.name);
    for await (const chunk of await input.open()) {
      bytes += chunk.length;
      if (decoder) {
        decoder.push(chunk);
        if (writer) {
          const out = writer.take();
          output?.(out);
        }
      } else {
        for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, i + 1)) lines++;
      }
    }
    if (decoder) {
      decoder.end();
      if (writer) output?.(writer.take());
    }
  }
  return { lines: decoder ? decoder.counts.lines : lines, bytes };
}

export async function benchCommand(argv: readonly string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      allowPositionals: true,
      strict: true,
      options: {
        lines: { type: 'string' },
        runs: { type: 'string' },
        json: { type: 'boolean' },
        ...ENRICHMENT_OPTIONS,
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (err) {
    process.stderr.write(`vpcflow bench: ${(err as Error).message}\nTry 'vpcflow bench --help'.\n`);
    return EXIT.USAGE;
  }
  const v = parsed.values;
  if (v.help) {
    process.stdout.write(BENCH_HELP);
    return EXIT.OK;
  }
  const runs = Number(v.runs ?? 3);
  const lineCount = Number(v.lines ?? 1_000_000);
  if (!Number.isInteger(runs) || runs < 1) return usage(`--runs must be a whole number of at least 1, not '${v.runs}'`);
  if (!Number.isSafeInteger(lineCount) || lineCount < 1) return usage(`--lines must be a whole number, not '${v.lines}'`);

  let enricher: Enricher;
  let rangesNote: string;
  try {
    const loaded = loadEnrichment({ ipRanges: v['ip-ranges'], vpcs: v.vpc ?? [], inventories: v.inventory ?? [] });
    enricher = loaded.enricher;
    rangesNote = loaded.awsRanges ? `ip-ranges.json ${loaded.awsRanges.info.createDate}` : 'no ip-ranges.json (vpcflow ranges update)';
  } catch (err) {
    return usage((err as Error).message);
  }

  let tmp: string | null = null;
  let files = parsed.positionals;
  if (files.length === 0) {
    tmp = mkdtempSync(path.join(os.tmpdir(), 'vpcflow-bench-'));
    const file = path.join(tmp, `generated-${lineCount}.log`);
    process.stderr.write(`vpcflow bench: generating ${lineCount.toLocaleString('en-US')} lines...\n`);
    await writeGenerated(file, lineCount, 1);
    files = [file];
  }
  try {
    const inputs: InputSource[] = [];
    for await (const input of expandInputs(files)) {
      if (input instanceof InputError) return usage(input.message);
      inputs.push(input);
    }
    const results = await measure(inputs, enricher, runs);
    const decoder = decoderDescription();
    const report = { node: process.version, cpus: os.cpus().length, decoder, enrichment: rangesNote, runs, stages: results };
    if (v.json || !process.stdout.isTTY) process.stdout.write(JSON.stringify(report) + '\n');
    else process.stdout.write(table(results, `${decoder}; ${rangesNote}`, runs));
    return EXIT.OK;
  } finally {
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  }
}

async function measure(inputs: readonly InputSource[], enricher: Enricher, runs: number): Promise<StageResult[]> {
  const raw: { stage: StageName; seconds: number; lines: number; bytes: number; peak: number }[] = [];
  for (const stage of STAGES) {
    const times: number[] = [];
    let lines = 0;
    let bytes = 0;
    let peak = 0;
    const sample = setInterval(() => (peak = Math.max(peak, process.memoryUsage.rss())), 20);
    // One untimed run first: page cache and JIT are warm for every stage alike.
    for (let r = 0; r <= runs; r++) {
      const t = performance.now();
      ({ lines, bytes } = await runStage(stage, inputs, enricher));
      if (r > 0) times.push((performance.now() - t) / 1000);
    }
    clearInterval(sample);
    peak = Math.max(peak, process.memoryUsage.rss());
    times.sort((a, b) => a - b);
    raw.push({ stage, seconds: times[times.length >> 1], lines, bytes, peak });
  }
  const full = raw[raw.length - 1].seconds;
  return raw.map((r, i) => ({
    stage: r.stage,
    seconds: round(r.seconds, 3),
    lines: r.lines,
    bytes: r.bytes,
    lines_per_s: Math.round(r.lines / r.seconds),
    mb_per_s: round(r.bytes / 1e6 / r.seconds, 1),
    peak_rss_mb: Math.round(r.peak / 2 ** 20),
    share: round(Math.max(0, r.seconds - (i > 0 ? raw[i - 1].seconds : 0)) / full, 3),
  }));
}

function round(n: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}

function table(results: readonly StageResult[], note: string, runs: number): string {
  const rows = results.map((r) => [
    r.stage,
    r.seconds.toFixed(3),
    r.lines_per_s.toLocaleString('en-US'),
    r.mb_per_s.toFixed(1),
    String(r.peak_rss_mb),
    `${Math.round(r.share * 100)}%`,
  ]);
  const head = ['stage', 'seconds', 'lines/s', 'MB/s', 'peak MB', 'share'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i].length)));
  const line = (row: string[]) => row.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  const first = results[0];
  return (
    `${first.lines.toLocaleString('en-US')} lines, ${(first.bytes / 1e6).toFixed(1)} MB; ${note}; median of ${runs}\n\n` +
    [head, ...rows].map(line).join('\n') +
    '\n'
  );
}

function usage(message: string): number {
  process.stderr.write(`vpcflow bench: ${message}\nTry 'vpcflow bench --help'.\n`);
  return EXIT.USAGE;
}
