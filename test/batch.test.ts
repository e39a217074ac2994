import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { parquetReadObjects } from 'hyparquet';
import { compressors } from 'hyparquet-compressors';
import { afterAll, describe, expect, it } from 'vitest';
import { safeOutputPath, UnsafeKeyError } from '../src/sinks/out-dir.js';
import { CLI, cliEnv, duckdb, fixture, ndjson, ROOT, runCli } from './helpers.js';

const work = mkdtempSync(path.join(tmpdir(), 'vpcflow-batch-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const SAMPLE = readFileSync(fixture('sample-default.log.gz'));
const ACCOUNT = '123456789012';

/** An S3 export copied locally: `AWSLogs/{account}/vpcflowlogs/{region}/{yyyy}/{mm}/{dd}/{file}`. */
function exportKey(region: string, day: string, time: string, n: number): string {
  const [y, m, d] = day.split('-');
  return `AWSLogs/${ACCOUNT}/vpcflowlogs/${region}/${y}/${m}/${d}/${ACCOUNT}_vpcflowlogs_${region}_fl-0123456789abcdef0_${y}${m}${d}T${time}Z_${String(n).padStart(8, '0')}.log.gz`;
}

function makeExport(name: string, keys: string[], body: (key: string) => Buffer = () => SAMPLE): string {
  const root = path.join(work, name);
  for (const key of keys) {
    mkdirSync(path.dirname(path.join(root, key)), { recursive: true });
    writeFileSync(path.join(root, key), body(key));
  }
  return root;
}

function files(dir: string): string[] {
  const out: string[] = [];
  const visit = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      if (e.isDirectory()) visit(path.join(d, e.name));
      else out.push(path.relative(dir, path.join(d, e.name)));
    }
  };
  if (existsSync(dir)) visit(dir);
  return out.sort();
}

const KEYS = [
  exportKey('us-east-1', '2024-11-07', '1720', 1),
  exportKey('us-east-1', '2024-11-07', '1725', 2),
  exportKey('eu-west-1', '2024-11-08', '0005', 3),
];

describe('batch processing of a local export', () => {
  it('writes one gzip NDJSON file per object, mirroring its key, and a manifest', async () => {
    const root = makeExport('plain', KEYS);
    const out = path.join(work, 'plain-out');
    const r = await runCli([root, '--out', out]);
    expect(r.code).toBe(0);
    expect(r.summary).toMatchObject({ records: 120, inputs: 3, failed_inputs: 0 });
    expect(files(out)).toEqual([...KEYS.map((k) => k.replace('.log.gz', '.ndjson.gz')), '_vpcflow-manifest.jsonl'].sort());
    const records = ndjson(gunzipSync(readFileSync(path.join(out, KEYS[0].replace('.log.gz', '.ndjson.gz')))).toString());
    const direct = ndjson((await runCli([fixture('sample-default.log.gz')])).stdout);
    expect(records).toEqual(direct);
    const manifest = readFileSync(path.join(out, '_vpcflow-manifest.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(manifest.map((m) => m.records)).toEqual([40, 40, 40]);
  });

  it('lists only what the filters ask for', async () => {
    const root = makeExport('filtered', KEYS);
    const only = async (...args: string[]) => (await runCli([root, ...args])).summary!.inputs;
    expect(await only('--region', 'eu-west-1')).toBe(1);
    // A file covers the 5 minutes after its time: the 17:20 file ends before 17:25, the 17:25 one is in.
    expect(await only('--since', '2024-11-07T17:25Z', '--until', '2024-11-08')).toBe(1);
    expect(await only('--since', '2024-11-07T17:24Z', '--until', '2024-11-08')).toBe(2);
    expect(await only('--since', '2024-11-08')).toBe(1);
    expect(await only('--account', '999999999999')).toBe(0);
    expect(await only('--account', ACCOUNT, '--region', 'us-east-1')).toBe(2);
  });

  it('keeps going when an object is corrupt, reports it by name, exits 1, and a re-run does only what is left', async () => {
    const corrupt = KEYS[1];
    const root = makeExport('faulty', KEYS, (key) => (key === corrupt ? SAMPLE.subarray(0, SAMPLE.length - 30) : SAMPLE));
    const out = path.join(work, 'faulty-out');
    const first = await runCli([root, '--out', out]);
    expect(first.code).toBe(1);
    expect(first.logs.find((l) => l.level === 50)?.msg).toMatch(new RegExp(`${path.basename(corrupt)}: corrupt or truncated gzip`));
    expect(first.summary).toMatchObject({ inputs: 3, failed_inputs: 1 });
    expect(files(out).filter((f) => f.endsWith('.gz'))).toHaveLength(2);
    expect(files(out).some((f) => f.endsWith('.tmp'))).toBe(false);

    writeFileSync(path.join(root, corrupt), SAMPLE); // the object is fixed (new ETag)
    const second = await runCli([root, '--out', out]);
    expect(second.code).toBe(0);
    expect(second.summary).toMatchObject({ inputs: 1, skipped_inputs: 2, records: 40 });
    expect(files(out).filter((f) => f.endsWith('.gz'))).toHaveLength(3);
  });

  it('resumes after kill -9 without losing or duplicating a record', async () => {
    const keys = Array.from({ length: 150 }, (_, i) => exportKey('us-east-1', '2024-11-07', `17${String(i % 60).padStart(2, '0')}`, i));
    const root = makeExport('killed', keys);
    const out = path.join(work, 'killed-out');
    const manifest = path.join(out, '_vpcflow-manifest.jsonl');
    const child = spawn(process.execPath, [CLI, root, '--out', out, '--concurrency', '1', '-q'], { cwd: ROOT, env: cliEnv(), stdio: 'ignore' });
    await new Promise<void>((resolve) => {
      const poll = setInterval(() => {
        const done = existsSync(manifest) ? readFileSync(manifest, 'utf8').split('\n').filter(Boolean).length : 0;
        if (done >= 5) {
          clearInterval(poll);
          child.kill('SIGKILL');
          resolve();
        }
      }, 5);
    });
    await new Promise((resolve) => child.on('close', resolve));
    const finishedBefore = readFileSync(manifest, 'utf8').split('\n').filter(Boolean).length;
    expect(finishedBefore).toBeLessThan(150);

    const resumed = await runCli([root, '--out', out]);
    expect(resumed.code).toBe(0);
    expect(resumed.summary!.skipped_inputs).toBe(finishedBefore);
    const outputs = files(out).filter((f) => f.endsWith('.ndjson.gz'));
    expect(outputs).toHaveLength(150);
    expect(files(out).some((f) => f.endsWith('.tmp'))).toBe(false);
    let total = 0;
    for (const f of outputs) total += ndjson(gunzipSync(readFileSync(path.join(out, f))).toString()).length;
    expect(total).toBe(150 * 40);
  }, 120_000);

  it('writes typed Parquet in hive partitions that read back with the same values', async () => {
    const root = makeExport('parquet', KEYS);
    const out = path.join(work, 'parquet-out');
    const r = await runCli([root, '--out', out, '-o', 'parquet']);
    expect(r.code).toBe(0);
    const parquetFiles = files(out).filter((f) => f.endsWith('.parquet'));
    expect(parquetFiles.map((f) => path.dirname(f)).sort()).toEqual(['region=eu-west-1/date=2024-11-07', 'region=us-east-1/date=2024-11-07', 'region=us-east-1/date=2024-11-07']);
    const bytes = readFileSync(path.join(out, parquetFiles[0]));
    const rows = await parquetReadObjects({ file: bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer, compressors });
    expect(rows).toHaveLength(40);
    expect(rows[0]).toMatchObject({ version: 2, account_id: ACCOUNT, srcaddr: '10.0.1.25', srcport: 54097, bytes: 2444n, start: 1731000002n, src_scope: 'private' });
    // What a user then runs: DuckDB over the whole output, partitions included (when DuckDB is installed).
    if (duckdb) {
      const db = await (await duckdb.DuckDBInstance.create(':memory:')).connect();
      const rowsByPartition = (
        await db.runAndReadAll(`SELECT region, count(*)::INTEGER AS n, typeof(any_value(bytes)) AS t FROM read_parquet('${out}/**/*.parquet', hive_partitioning = true) GROUP BY region ORDER BY region`)
      ).getRowObjects();
      expect(rowsByPartition).toEqual([
        { region: 'eu-west-1', n: 40, t: 'BIGINT' },
        { region: 'us-east-1', n: 80, t: 'BIGINT' },
      ]);
    }
    // Read again as input, Parquet gives the same decoded records as the text it came from.
    const back = ndjson((await runCli(['--no-enrich', path.join(out, parquetFiles[1])])).stdout);
    const text = ndjson((await runCli(['--no-enrich', fixture('sample-default.log.gz')])).stdout);
    expect(back).toHaveLength(40);
    expect(back[3]).toMatchObject(text[3]);
  });

  it('gives the same stdout with worker threads, objects whole and in order', async () => {
    const root = makeExport('workers', KEYS);
    const single = await runCli([root, '--concurrency', '1', '-q']);
    const parallel = await runCli([root, '--workers', '2', '--concurrency', '3', '-q']);
    expect(parallel.code).toBe(0);
    expect(ndjson(parallel.stdout)).toHaveLength(120);
    expect(parallel.stdout).toBe(single.stdout);
  });
});

describe('inputs that cannot be read or written as asked', () => {
  it('reports an input it cannot list, and two inputs that would write the same output, and goes on', async () => {
    const root = makeExport('collide', [KEYS[0]]);
    writeFileSync(path.join(root, KEYS[0].replace('.log.gz', '.log')), gunzipSync(SAMPLE));
    const out = path.join(work, 'collide-out');
    const r = await runCli([path.join(work, 'no-such-export'), root, '--out', out, '--no-enrich']);
    expect(r.code).toBe(1);
    const errors = r.logs.filter((l) => l.level === 50).map((l) => l.msg);
    expect(errors[0]).toMatch(/no-such-export: no such file or directory/);
    expect(errors[1]).toMatch(/\.log\.gz: its output would overwrite that of .*\.log; skipped/);
    expect(r.summary).toMatchObject({ records: 40, failed_inputs: 2 });
    expect(files(out).filter((f) => f.endsWith('.ndjson.gz'))).toHaveLength(1);
  });

  it.each([{ workers: [] as string[] }, { workers: ['--workers', '1'] }])('names a file that is not what it says once in its error ($workers)', async ({ workers }) => {
    const root = path.join(work, `not-parquet-${workers.length}`);
    mkdirSync(root, { recursive: true });
    const file = path.join(root, 'x.parquet');
    writeFileSync(file, 'PAR1 but not Parquet');
    const r = await runCli([root, '--no-enrich', ...workers]);
    expect(r.code).toBe(1);
    const errors = r.logs.filter((l) => l.level === 50).map((l) => String(l.msg));
    expect(errors).toHaveLength(1);
    expect(errors[0].startsWith(`${file}: not a readable Parquet file`)).toBe(true);
    expect(errors[0].split(file)).toHaveLength(2);
  });
});

describe('stdin with batch options', () => {
  // A directory with an export in it (80 records, stdin has 40): a batch run that wrongly listed the current
  // directory would find these.
  const cwd = () => makeExport('stdin-cwd', [KEYS[0], KEYS[1]]);

  it('decodes stdin in this thread with --workers, default input or -, instead of reading the current directory', async () => {
    for (const inputs of [[], ['-']]) {
      const r = await runCli(['--no-enrich', '--workers', '2', ...inputs], { input: gunzipSync(SAMPLE), cwd: cwd() });
      expect(r.code).toBe(0);
      expect(ndjson(r.stdout)).toHaveLength(40);
      expect(r.summary).toMatchObject({ records: 40, inputs: 1 });
      expect(r.logs.map((l) => l.msg)).toContain('--workers: stdin is one stream; it is decoded in this thread');
    }
  });

  it.each([
    { args: ['--out', 'o'], option: '--out', what: 'stdin, the default input when no file is given' },
    { args: ['--since', '2d', '-'], option: '--since', what: 'stdin (-)' },
    { args: ['--account', ACCOUNT], option: '--account', what: 'stdin, the default input when no file is given' },
  ])('refuses $option on stdin (exit 2) and writes nothing', async ({ args, option, what }) => {
    const dir = cwd();
    const r = await runCli(['--no-enrich', ...args], { input: gunzipSync(SAMPLE), cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain(`vpcflow: ${option} works on files, directories and s3:// prefixes, not on ${what}`);
    expect(existsSync(path.join(dir, 'o'))).toBe(false);
  });
});

describe('output paths', () => {
  it('never lets an object key escape the output directory', () => {
    const root = path.join(work, 'safe');
    expect(safeOutputPath(root, 'AWSLogs/1/x.ndjson.gz')).toBe(path.join(root, 'AWSLogs', '1', 'x.ndjson.gz'));
    for (const key of ['../escape', 'a/../../escape', '/etc/passwd', 'a//b', './a', 'C:\\\\x', 'a\\\\..\\\\b', '']) {
      expect(() => safeOutputPath(root, key), key).toThrow(UnsafeKeyError);
    }
  });
});
