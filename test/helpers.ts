import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { DecodedRecord } from '../src/decode/record.js';
import { SourceDecoder, type SourceDecoderOptions } from '../src/decode/source-decoder.js';
import type { FlowRecord } from '../src/decode/record.js';
import type { Reject } from '../src/decode/rejects.js';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const CLI = path.join(ROOT, 'dist/src/cli/main.js');
export const FIXTURES = path.join(ROOT, 'fixtures');
export const fixture = (name: string) => path.join(FIXTURES, name);

/** The real data shared beside the project; tests that read it skip (saying why) when it is absent. */
export const SHARED_DATA = path.resolve(ROOT, '../shared/data');
export const hasSharedData = existsSync(path.join(SHARED_DATA, 'flowlogs'));

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** The summary line (pino JSON on stderr), when there is one. */
  summary: Record<string, any> | undefined;
  /** Every pino line on stderr. */
  logs: Record<string, any>[];
}

/** A cache directory of the tests' own, so the user's cached ip-ranges.json never changes what tests see. */
export const TEST_CACHE_DIR = mkdtempSync(path.join(tmpdir(), 'vpcflow-test-cache-'));

/** The environment the CLI runs in under test: no ip-ranges.json unless a test gives one. */
export function cliEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, VPCFLOW_CACHE_DIR: TEST_CACHE_DIR, ...extra };
  if (!('VPCFLOW_IP_RANGES' in extra)) delete env.VPCFLOW_IP_RANGES;
  return env;
}

/**
 * Runs the CLI. `stdout`: 'pipe' (the default) reads its output through a pipe; a path makes stdout that file (or
 * device, like /dev/full), as `> file` does (`>> file` with `append`), and `stdout` in the result is then the file's
 * content.
 */
export function runCli(
  args: string[],
  options: { input?: string | Buffer; cwd?: string; env?: Record<string, string>; nodeArgs?: string[]; stdout?: 'pipe' | string; append?: boolean } = {},
): Promise<CliResult> {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run \`npm run build\` (npm test does)`);
  const toFile = options.stdout !== undefined && options.stdout !== 'pipe' ? options.stdout : null;
  const fd = toFile ? openSync(toFile, options.append ? 'a' : 'w') : null;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...(options.nodeArgs ?? []), CLI, ...args], { cwd: options.cwd ?? ROOT, env: cliEnv(options.env), stdio: ['pipe', fd ?? 'pipe', 'pipe'] });
    if (fd !== null) closeSync(fd);
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout?.on('data', (d) => out.push(d));
    child.stderr.on('data', (d) => err.push(d));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      const stderr = Buffer.concat(err).toString();
      const logs = stderr
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l));
      const stdout = toFile ? (toFile.startsWith('/dev/') ? '' : readFileSync(toFile, 'utf8')) : Buffer.concat(out).toString();
      resolve({ code, signal, stdout, stderr, logs, summary: logs.find((l) => l.summary) });
    });
    child.stdin.on('error', () => {});
    if (options.input !== undefined) child.stdin.end(options.input);
    else child.stdin.end();
  });
}

export function ndjson(text: string): FlowRecord[] {
  return text
    .split('\n')
    .filter((l) => l.length > 0)
    .map((l) => JSON.parse(l));
}

/** Decodes bytes with the library, in chunks of `chunkSize` bytes (to exercise framing across chunk bounds). */
export function decodeBytes(
  bytes: Buffer | string,
  options: SourceDecoderOptions & { chunkSize?: number; source?: string } = {},
): { records: FlowRecord[]; rejects: Reject[]; decoder: SourceDecoder } {
  const records: FlowRecord[] = [];
  const rejects: Reject[] = [];
  const decoder = new SourceDecoder(
    { record: (rec: DecodedRecord) => records.push(rec.toObject()), reject: (r) => rejects.push(r) },
    options,
  );
  const buf = typeof bytes === 'string' ? Buffer.from(bytes) : bytes;
  decoder.begin(options.source ?? 'test');
  const size = options.chunkSize ?? buf.length;
  for (let i = 0; i < buf.length; i += size) decoder.push(buf.subarray(i, Math.min(buf.length, i + size)));
  decoder.end();
  return { records, rejects, decoder };
}

/**
 * DuckDB, to check that Parquet output reads in a real query engine. Not a dependency: its npm package lists
 * prebuilt bindings for every platform as optional dependencies, and a lockfile made where some of them cannot be
 * fetched makes `npm ci` fail (npm/cli#9846). `.ci/run` installs it with `npm install --no-save @duckdb/node-api`;
 * without it these checks are skipped, saying so.
 */
export const duckdb: { DuckDBInstance: { create(path: string): Promise<any> } } | null = await import(/* @vite-ignore */ '@duckdb/node-api' as string).catch(
  () => null,
);
if (!duckdb) console.warn('DuckDB checks skipped: @duckdb/node-api is not installed (npm install --no-save @duckdb/node-api)');
