/** What the benchmarks share: the generated input file and the run settings. */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { decoderDescription } from '../src/native/addon.js';
import { writeGenerated } from '../src/sources/generate.js';

// This file runs as dist/bench/common.js; paths are resolved from it so the working directory does not matter.
export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const OUT_DIR = path.join(ROOT, 'bench', 'out');
const GENERATOR = fileURLToPath(new URL('../src/sources/generate.js', import.meta.url));

export const SEED = 1;
export const LINES = positiveInt('VPCFLOW_BENCH_LINES', 1_000_000);
export const RUNS = positiveInt('VPCFLOW_BENCH_RUNS', 5);

export function positiveInt(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isSafeInteger(n) || n <= 0) throw new Error(`${name} must be a positive integer, got '${raw}'`);
  return n;
}

function label(lines: number): string {
  if (lines % 1_000_000 === 0) return `${lines / 1_000_000}m`;
  if (lines % 1_000 === 0) return `${lines / 1_000}k`;
  return String(lines);
}

interface Meta {
  lines: number;
  seed: number;
  size: number;
  /** Hash of the compiled generator: a changed generator must not reuse a file made by the old one. */
  generator: string;
}

/** The benchmark input, generated once and reused while the count, seed and generator stay the same. */
export async function benchInput(): Promise<{ file: string; size: number }> {
  const file = path.join(OUT_DIR, `default-${label(LINES)}.log`);
  const metaFile = file + '.json';
  const generator = createHash('sha256').update(readFileSync(GENERATOR)).digest('hex').slice(0, 16);
  if (existsSync(file) && existsSync(metaFile)) {
    const meta = JSON.parse(readFileSync(metaFile, 'utf8')) as Meta;
    if (meta.lines === LINES && meta.seed === SEED && meta.generator === generator && meta.size === statSync(file).size) {
      return { file, size: meta.size };
    }
  }
  mkdirSync(OUT_DIR, { recursive: true });
  rmSync(metaFile, { force: true });
  process.stderr.write(`generating ${path.relative(ROOT, file)} (${LINES} lines, seed ${SEED})...\n`);
  // Written under another name first: an interrupted run must not leave a truncated file that looks reusable.
  const tmp = file + '.tmp';
  const size = await writeGenerated(tmp, LINES, SEED);
  renameSync(tmp, file);
  writeFileSync(metaFile, JSON.stringify({ lines: LINES, seed: SEED, size, generator } satisfies Meta) + '\n');
  return { file, size };
}

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

/** The machine the figures were taken on, as lines of a Markdown list. */
export function machine(): string[] {
  const cpus = os.cpus();
  return [
    `- CPU: ${cpus[0]?.model.trim() ?? 'unknown'} (${cpus.length} cores)`,
    `- Memory: ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB`,
    `- OS: ${os.type()} ${os.release()} ${os.arch()}`,
    `- Node: ${process.version}`,
    `- Native code: ${decoderDescription()}`,
  ];
}

/** The real snapshot, as the targets are stated with it; the enrichment rows are left out without it. */
export const IP_RANGES = process.env.VPCFLOW_IP_RANGES || path.join(ROOT, '..', 'shared', 'data', 'ip-ranges.json');
/** A few VPC CIDRs, as a user with a handful of VPCs passes them. */
export const VPCS = ['vpc-0a=10.0.0.0/16', 'vpc-0b=10.1.0.0/16', 'vpc-0c=172.31.0.0/16'];
/** The CLI's arguments for that enrichment. */
export const ENRICH_ARGS = ['--ip-ranges', IP_RANGES, ...VPCS.flatMap((v) => ['--vpc', v])];

/** `taskset -c 0 …`, where there is taskset and more than one core: a command held to one core. */
export const ONE_CORE = os.availableParallelism() > 1 && spawnSync('taskset', ['-c', '0', 'true']).status === 0 ? ['taskset', '-c', '0'] : null;

/** VPCFLOW_BENCH_ONLY=CLI,gunzip: only the contenders whose names contain one of these words. */
export const ONLY = (process.env.VPCFLOW_BENCH_ONLY ?? '').split(',').filter(Boolean);

/** The command that made a bench's figures, with the settings named taken from the environment. */
export function benchCommand(script: string, settingNames: readonly string[]): string {
  const settings = settingNames.filter((name) => process.env[name]);
  return [...settings.map((name) => `${name}=${JSON.stringify(process.env[name])}`), `npm run ${script}`].join(' ');
}
