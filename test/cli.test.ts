import { spawn } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { parseCli } from '../src/cli/options.js';
import { CLI, cliEnv, fixture, ndjson, ROOT, runCli } from './helpers.js';

const work = mkdtempSync(path.join(tmpdir(), 'vpcflow-cli-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const SAMPLE_LINES = readFileSync(fixture('sample-default.log'), 'utf8').split('\n').filter(Boolean);

describe('vpcflow on files', () => {
  it('decodes the bundled gzip S3 export to NDJSON and sums it up on stderr', async () => {
    const r = await runCli(['fixtures/sample-default.log.gz']);
    expect(r.code).toBe(0);
    const records = ndjson(r.stdout);
    expect(records).toHaveLength(40);
    expect(records[0]).toMatchObject({ version: 2, account_id: '123456789012', log_status: 'OK' });
    expect(r.summary).toMatchObject({ lines: 41, records: 40, rejected: 0, headers: 1, inputs: 1, failed_inputs: 0 });
    expect(r.summary!.msg).toMatch(/41 lines from 1 input: 40 records, 0 rejected, 1 header in [\d.]+ s \([\d,]+ lines\/s/);
  });

  it('gives the same records from a big file (read into reused buffers) as from stdin', async () => {
    // ~3.5 MB: several rounds of the file reader's two 512 KiB buffers, with lines across every boundary.
    const big = path.join(work, 'reused-buffers.log');
    writeFileSync(big, (await runCli(['gen', '--lines', '30000', '--seed', '5'])).stdout);
    const fromFile = await runCli(['--no-enrich', '-q', big]);
    const fromStdin = await runCli(['--no-enrich', '-q', '-'], { input: readFileSync(big) });
    expect(fromFile.code).toBe(0);
    expect(fromFile.stdout.split('\n').length).toBeGreaterThan(30_000);
    expect(fromFile.stdout).toBe(fromStdin.stdout);
  });

  it('detects gzip from the content, not the name, on files and on stdin', async () => {
    const disguised = path.join(work, 'flows.txt');
    copyFileSync(fixture('sample-default.log.gz'), disguised);
    const fromFile = await runCli([disguised]);
    const fromStdin = await runCli([], { input: readFileSync(fixture('sample-default.log.gz')) });
    expect(ndjson(fromFile.stdout)).toHaveLength(40);
    expect(fromStdin.stdout).toBe(fromFile.stdout);
  });

  it('reads directories recursively in name order, each file with its own header', async () => {
    const dir = path.join(work, 'export');
    mkdirSync(path.join(dir, '2024/11/07'), { recursive: true });
    mkdirSync(path.join(dir, '2024/11/08'), { recursive: true });
    copyFileSync(fixture('sample-default.log.gz'), path.join(dir, '2024/11/07/a.log.gz'));
    copyFileSync(fixture('custom-v5.log'), path.join(dir, '2024/11/08/b.log'));
    writeFileSync(path.join(dir, '.hidden'), 'junk\n');
    const r = await runCli([dir]);
    expect(r.code).toBe(0);
    const records = ndjson(r.stdout);
    expect(records).toHaveLength(46);
    expect(records[40]).toHaveProperty('vpc_id');
    expect(r.summary).toMatchObject({ inputs: 2, headers: 2, rejected: 0 });
  });

  it('writes CSV with a header row and the selected fields', async () => {
    const r = await runCli(['-o', 'csv', '--fields', 'srcaddr,dstaddr,dst-port,tcp_flags_names,action', 'fixtures/custom-v5.log']);
    expect(r.code).toBe(0);
    const rows = r.stdout.trimEnd().split('\r\n');
    expect(rows[0]).toBe('srcaddr,dstaddr,dst_port,tcp_flags_names,action');
    expect(rows[1]).toBe('10.0.1.25,52.94.213.165,,SYN-ACK|FIN,ACCEPT');
    expect(rows[5]).toBe(',,,,');
    expect(r.logs.some((l) => /dst_port.*not a known field/.test(l.msg))).toBe(true);
  });

  it('writes an aligned table', async () => {
    const r = await runCli(['-o', 'table', '--fields', 'srcaddr,dstport,action', 'fixtures/sample-default.log']);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(41);
    expect(lines[0]).toMatch(/^srcaddr\s+dstport\s+action$/);
    const actionColumn = lines[0].indexOf('action');
    expect(lines.every((l) => l.length >= actionColumn)).toBe(true);
    expect(lines.slice(1).every((l) => /^(ACCEPT|REJECT|-)$/.test(l.slice(actionColumn).trim()))).toBe(true);
  });

  it('shows table rows from a stream that trickles without pausing, within about a second', async () => {
    const child = spawn(process.execPath, [CLI, '-o', 'table', '--no-enrich', '-q', '-'], { cwd: ROOT, env: cliEnv(), stdio: ['pipe', 'pipe', 'pipe'] });
    const started = performance.now();
    let firstRowAt = -1;
    let stdout = '';
    child.stdout.on('data', (d) => {
      stdout += d;
      if (firstRowAt < 0 && stdout.split('\n').length > 2) firstRowAt = performance.now() - started;
    });
    // A line every 100 ms for 3 s: never the 200 ms pause that shows held rows, and far from a page of 100.
    let sent = 0;
    await new Promise<void>((resolve) => {
      const tick = setInterval(() => {
        child.stdin.write(SAMPLE_LINES[1 + (sent++ % 10)] + '\n');
        if (sent === 30) {
          clearInterval(tick);
          resolve();
        }
      }, 100);
    });
    const rowsBeforeEnd = stdout.split('\n').length - 1;
    child.stdin.end();
    await new Promise((resolve) => child.on('close', resolve));
    expect(rowsBeforeEnd).toBeGreaterThan(1);
    expect(firstRowAt).toBeGreaterThan(0);
    expect(firstRowAt).toBeLessThan(2500);
    expect(stdout.trimEnd().split('\n').filter((l) => !l.startsWith('version'))).toHaveLength(30);
  });

  it('reads the formats given with --format, repeated for mixed input', async () => {
    const mixed = readFileSync(fixture('mixed-no-header.format'), 'utf8').trim();
    const r = await runCli(['-f', mixed, '-f', 'version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status', 'fixtures/mixed-no-header.log']);
    expect(r.code).toBe(0);
    expect(ndjson(r.stdout).filter((x) => 'pkt_srcaddr' in x)).toHaveLength(5);
  });

  it('adds ISO times on request', async () => {
    const r = await runCli(['--iso-times', '--fields', 'start,start_iso', 'fixtures/sample-default.log']);
    expect(ndjson(r.stdout)[0]).toEqual({ start: 1731000002, start_iso: '2024-11-07T17:20:02Z' });
  });
});

describe('bad input', () => {
  it('counts, reports and keeps rejected lines, and still exits 0', async () => {
    const rejectsFile = path.join(work, 'rejects.tsv');
    const r = await runCli(['fixtures/rejects.log', '--rejects', rejectsFile]);
    expect(r.code).toBe(0);
    expect(ndjson(r.stdout)).toHaveLength(3);
    expect(r.summary).toMatchObject({ lines: 7, records: 3, rejected: 4, rejects: { field_count: 1, bad_number: 1, bad_address: 1, line_too_long: 1, bad_envelope: 0 } });
    const warnings = r.logs.filter((l) => l.level === 40 && l.reason);
    expect(warnings.map((w) => [w.line, w.reason])).toEqual([
      [2, 'field_count'],
      [3, 'bad_number'],
      [4, 'bad_address'],
      [6, 'line_too_long'],
    ]);
    expect(warnings[1].msg).toBe("fixtures/rejects.log:3: bad_number: srcport: 'http' is not a number");
    const kept = readFileSync(rejectsFile, 'utf8').split('\n').filter(Boolean);
    const original = readFileSync(fixture('rejects.log'), 'utf8').split('\n');
    expect(kept).toHaveLength(4);
    expect(kept[0]).toBe(`fixtures/rejects.log\t2\tfield_count\t${original[1]}`);
    expect(kept[2]).toBe(`fixtures/rejects.log\t4\tbad_address\t${original[3]}`);
  });

  it('fails with --strict when a line is rejected', async () => {
    expect((await runCli(['--strict', 'fixtures/rejects.log'])).code).toBe(1);
    expect((await runCli(['--strict', 'fixtures/sample-default.log'])).code).toBe(0);
  });

  it('does not flood stderr: after the first rejects it only counts', async () => {
    const junk = Array.from({ length: 500 }, (_, i) => `junk line ${i}`).join('\n');
    const r = await runCli([], { input: junk });
    expect(r.summary).toMatchObject({ rejected: 500 });
    expect(r.logs.filter((l) => l.level === 40).length).toBeLessThan(16);
  });

  it.each(['x', 'x\n', 'ab\n'])('counts an input shorter than the 4 bytes looked at for gzip or Parquet (%j) as a line, not as empty', async (text) => {
    const r = await runCli(['--no-enrich'], { input: text });
    expect(r.summary).toMatchObject({ lines: 1, rejected: 1, bytes: Buffer.byteLength(text) });
    expect(r.logs.find((l) => l.level === 40)?.msg).toMatch(/^-:1: field_count: 1 fields/);
  });

  it('reports an unreadable input by name, goes on with the others and exits 1', async () => {
    const r = await runCli(['no/such/file.log', 'fixtures/sample-default.log']);
    expect(r.code).toBe(1);
    expect(ndjson(r.stdout)).toHaveLength(40);
    expect(r.logs.find((l) => l.level === 50)?.msg).toBe('no/such/file.log: no such file or directory');
    expect(r.summary).toMatchObject({ inputs: 2, failed_inputs: 1 });
  });

  it('reports a truncated gzip by name and keeps the records before the damage', async () => {
    const whole = gzipSync(Buffer.from(SAMPLE_LINES.join('\n').repeat(1) + '\n'));
    const truncated = path.join(work, 'truncated.log.gz');
    writeFileSync(truncated, whole.subarray(0, whole.length - 20));
    const r = await runCli([truncated, 'fixtures/sample-default.log']);
    expect(r.code).toBe(1);
    expect(r.logs.find((l) => l.level === 50)?.msg).toMatch(/truncated\.log\.gz: corrupt or truncated gzip/);
    expect(ndjson(r.stdout).length).toBeGreaterThan(40);
  });

  it('refuses a Parquet file with a clear message', async () => {
    const parquet = path.join(work, 'flows.parquet');
    writeFileSync(parquet, Buffer.concat([Buffer.from('PAR1'), Buffer.alloc(100), Buffer.from('PAR1')]));
    const r = await runCli([parquet]);
    expect(r.code).toBe(1);
    expect(r.logs.find((l) => l.level === 50)?.msg).toMatch(/Parquet/);
  });

  it('exits 2 on usage errors, saying what is wrong', async () => {
    for (const args of [['--no-such-option'], ['-o', 'xml'], ['-f', 'version srcaddr version'], ['-f', 'a b', '-f', 'c d'], ['--input', 'xml']]) {
      const r = await runCli(args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toMatch(/^vpcflow: [^]+\nTry 'vpcflow --help'/);
      expect(r.stdout).toBe('');
    }
  });
});

describe('the command', () => {
  it('explains itself with --help, including exit codes', async () => {
    const r = await runCli(['--help']);
    expect(r.code).toBe(0);
    for (const text of ['--format', '--rejects', '--strict', 'Exit status', 'aws logs tail', 'filter-log-events']) expect(r.stdout).toContain(text);
  });

  it('runs -o parquet in one worker thread unless --workers says otherwise (its memory is bounded tighter there)', () => {
    expect(parseCli(['flows/', '-o', 'parquet', '--out', 'out/']).workers).toBe(1);
    expect(parseCli(['flows/', '-o', 'parquet', '--out', 'out/', '--workers', '0']).workers).toBe(0);
    expect(parseCli(['flows/', '--out', 'out/']).workers).toBe(0);
  });

  it('lists the field catalog', async () => {
    const r = await runCli(['fields']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^pkt-dst-aws-service\s+pkt_dst_aws_service\s+enum\s+5\s/m);
  });

  it('stays quiet with -q', async () => {
    const r = await runCli(['-q', 'fixtures/rejects.log']);
    expect(r.stderr).toBe('');
  });

  it('exits 0 silently when the reader of its output goes away (| head)', async () => {
    const big = path.join(work, 'big.log');
    writeFileSync(big, (SAMPLE_LINES.slice(1).join('\n') + '\n').repeat(5000));
    // pipefail: the exit status is vpcflow's own, not head's.
    const result = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
      const child = spawn('bash', ['-c', `set -o pipefail; node "${CLI}" --no-enrich "${big}" 2>"${work}/epipe.err" | head -n 2 >/dev/null`], { cwd: ROOT, env: cliEnv() });
      child.on('close', (code) => resolve({ code, stderr: readFileSync(path.join(work, 'epipe.err'), 'utf8') }));
    });
    expect(result.code).toBe(0);
    expect(result.stderr).toBe('');
  });

  it('prints the summary of what was done on Ctrl-C and exits 130', async () => {
    const child = spawn(process.execPath, [CLI, '-'], { cwd: ROOT, env: cliEnv(), stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    // Like `aws logs tail --follow`: some records, then the stream stays open.
    child.stdin.write(SAMPLE_LINES.slice(1, 6).join('\n') + '\n');
    await new Promise<void>((resolve) => {
      const poll = setInterval(() => {
        if (stdout.split('\n').length > 5) {
          clearInterval(poll);
          resolve();
        }
      }, 20);
    });
    child.kill('SIGINT');
    const code = await new Promise((resolve) => child.on('close', resolve));
    expect(code).toBe(130);
    expect(ndjson(stdout)).toHaveLength(5);
    const summary = JSON.parse(stderr.trim().split('\n').pop()!);
    expect(summary).toMatchObject({ summary: true, interrupted: true, records: 5 });
  });
});
