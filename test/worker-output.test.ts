import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { generateFlowLogs } from '../src/sources/generate.js';
import { fixture, runCli } from './helpers.js';

const dir = mkdtempSync(path.join(tmpdir(), 'vpcflow-worker-output-'));
const day = path.join(dir, 'export', 'AWSLogs', '123456789012', 'vpcflowlogs', 'us-east-1', '2024', '11', '07');
mkdirSync(day, { recursive: true });
const OBJECTS = 6;
const LINES = 1500;
for (let i = 0; i < OBJECTS; i++) {
  const name = `123456789012_vpcflowlogs_us-east-1_fl-0123456789abcdef0_20241107T00${String(i * 5).padStart(2, '0')}Z_${String(i).padStart(8, '0')}.log.gz`;
  writeFileSync(path.join(day, name), gzipSync([...generateFlowLogs(LINES, i + 1, { header: true })].join('\n') + '\n'));
}
const exportDir = path.join(dir, 'export');

// Each object's ~800 KB of NDJSON is many times this window: a worker whose object waits for the one before it
// spills the rest to disk (stdout a file), or waits (a pipe, or no place to spill).
const SMALL_WINDOW = { VPCFLOW_OUTPUT_WINDOW: '65536' };

describe('--workers 2 on a directory of gzip objects larger than the output window', () => {
  let n = 0;
  const file = () => path.join(dir, `stdout-${n++}.txt`);

  it.each([
    { how: 'stdout a file', stdout: 'file', env: {} },
    { how: 'stdout a pipe', stdout: 'pipe', env: {} },
    { how: 'stdout a file, nowhere to spill', stdout: 'file', env: { TMPDIR: path.join(dir, 'missing') } },
  ])('writes every object whole and in order, as one thread does ($how)', async ({ stdout, env }) => {
    const one = await runCli(['--no-enrich', exportDir]);
    const two = await runCli(['--no-enrich', '--workers', '2', exportDir], { env: { ...SMALL_WINDOW, ...env }, stdout: stdout === 'file' ? file() : 'pipe' });
    expect(one.code).toBe(0);
    expect(two.code).toBe(0);
    expect(two.summary).toMatchObject({ records: OBJECTS * LINES, rejected: 0 });
    expect(two.stdout.length).toBe(one.stdout.length);
    expect(two.stdout === one.stdout).toBe(true);
  });

  // A file opened for appending cannot take sendfile(2), with which workers copy spilled output out: they copy it
  // themselves, after what the file held.
  it('appends every object whole and in order to a file opened with >>', async () => {
    const one = await runCli(['--no-enrich', exportDir]);
    const target = file();
    writeFileSync(target, 'already here\n');
    const two = await runCli(['--no-enrich', '--workers', '2', exportDir], { env: SMALL_WINDOW, stdout: target, append: true });
    expect(two.code).toBe(0);
    expect(two.summary).toMatchObject({ records: OBJECTS * LINES, rejected: 0 });
    expect(two.stdout.length).toBe('already here\n'.length + one.stdout.length);
    expect(two.stdout === 'already here\n' + one.stdout).toBe(true);
  });
});

describe('--workers auto', () => {
  const autoMessage = (logs: Record<string, any>[]) => logs.map((l) => String(l.msg)).find((m) => m.startsWith('--workers auto:'));

  it.each([
    { input: fixture('sample-default.log.gz'), why: 'one gzip file cannot be shared between workers, and one thread decodes it faster' },
    { input: fixture('sample-default.log'), why: 'MB is under the 128 MiB from which workers pay for their start-up' },
  ])('decodes one file workers would not speed up in this thread, and says so ($why)', async ({ input, why }) => {
    const one = await runCli(['--no-enrich', input]);
    const auto = await runCli(['--no-enrich', '--workers', 'auto', input]);
    expect(auto.code).toBe(0);
    expect(autoMessage(auto.logs)).toContain(`--workers auto: ${input}: `);
    expect(autoMessage(auto.logs)).toContain(`${why}; decoding it in this thread`);
    expect(auto.stdout).toBe(one.stdout);
    const quiet = await runCli(['-q', '--no-enrich', '--workers', 'auto', input]);
    expect(quiet.stderr).toBe('');
    expect(quiet.stdout).toBe(one.stdout);
  });

  it('uses workers for a directory of objects', async () => {
    const one = await runCli(['--no-enrich', exportDir]);
    const auto = await runCli(['--no-enrich', '--workers', 'auto', exportDir]);
    expect(auto.code).toBe(0);
    expect(autoMessage(auto.logs)).toBeUndefined();
    expect(auto.stdout === one.stdout).toBe(true);
  });
});
