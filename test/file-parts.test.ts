import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { partRanges, readPart } from '../src/sources/file-parts.js';
import { generateFlowLogs, mulberry32 } from '../src/sources/generate.js';
import { parseFormat } from '../src/decode/format.js';
import { EXIT } from '../src/cli/options.js';
import { runCli } from './helpers.js';

const dir = mkdtempSync(path.join(tmpdir(), 'vpcflow-parts-'));

async function partsOf(file: string, ranges: { start: number; end: number }[]): Promise<Buffer[]> {
  const out: Buffer[] = [];
  for (const { start, end } of ranges) {
    const chunks: Buffer[] = [];
    // Copied: readPart reuses its buffer.
    for await (const chunk of readPart(file, start, end)) chunks.push(Buffer.from(chunk));
    out.push(Buffer.concat(chunks));
  }
  return out;
}

describe('readPart', () => {
  it('shares out every line exactly once, whatever the cut points', async () => {
    const rand = mulberry32(7);
    for (let round = 0; round < 40; round++) {
      // Lines of 0 to ~300 bytes (some longer than a read), blank lines, and maybe no newline at the end.
      const lines: string[] = [];
      const n = Math.floor(rand() * 60);
      for (let i = 0; i < n; i++) lines.push('x'.repeat(Math.floor(rand() * (rand() < 0.05 ? 300_000 : 300))) + `#${i}`);
      const text = lines.join('\n') + (rand() < 0.5 ? '\n' : '');
      const file = path.join(dir, `lines-${round}.txt`);
      writeFileSync(file, text);
      const size = Buffer.byteLength(text);
      const cuts = new Set<number>();
      const k = Math.floor(rand() * 12);
      for (let i = 0; i < k; i++) cuts.add(Math.floor(rand() * size));
      const points = [0, ...[...cuts].filter((c) => c > 0).sort((a, b) => a - b), size];
      const ranges = points.slice(1).map((end, i) => ({ start: points[i], end })).filter((r) => r.end > r.start);
      const parts = await partsOf(file, ranges);
      expect(Buffer.concat(parts).toString()).toBe(text);
      // Each part is whole lines: it starts where a line starts and ends after a newline (or at the end of the file).
      let offset = 0;
      for (const part of parts) {
        if (part.length === 0) continue;
        expect(offset === 0 || text[offset - 1] === '\n').toBe(true);
        offset += part.length;
        expect(offset === size || text[offset - 1] === '\n').toBe(true);
      }
    }
  });

  it('cuts a file into ranges that cover it', () => {
    expect(partRanges(10, 4)).toEqual([
      { start: 0, end: 3 },
      { start: 3, end: 6 },
      { start: 6, end: 10 },
    ]);
    expect(partRanges(1, 4)).toEqual([{ start: 0, end: 1 }]);
  });
});

// With stdout a file, the workers write it themselves, each part in its turn; through a pipe, the main thread does.
describe.each([{ stdout: 'pipe' }, { stdout: 'file' }])('one big file shared between workers, stdout a $stdout', ({ stdout: kind }) => {
  let n = 0;
  const stdout = () => (kind === 'pipe' ? 'pipe' : path.join(dir, `stdout-${n++}.txt`));
  // Small parts, so that a file of a few hundred kB is cut in many; with stdout a file, a small output window too, so
  // that a part waiting for the one before it spills its output to disk (and a dropped part's spill is dropped).
  const env: Record<string, string> = kind === 'file' ? { VPCFLOW_PART_BYTES: '16384', VPCFLOW_OUTPUT_WINDOW: '4096' } : { VPCFLOW_PART_BYTES: '16384' };
  const lines = [...generateFlowLogs(4000, 3, { header: true })];
  // Rejects at known line numbers, in different parts.
  lines[1200] = 'this is not a flow log line';
  lines[3001] = lines[3001].replace(/ ACCEPT | REJECT /, ' ACCEPT 42 ');
  const file = path.join(dir, `export-${kind}.log`);
  writeFileSync(file, lines.join('\n') + '\n');

  it('writes the same records in the same order as one thread, and numbers rejects by the line in the file', async () => {
    const one = await runCli(['--no-enrich', '--rejects', path.join(dir, 'one.tsv'), file]);
    const two = await runCli(['--no-enrich', '--workers', '2', '--rejects', path.join(dir, 'two.tsv'), file], { env, stdout: stdout() });
    expect(one.code).toBe(0);
    expect(two.code).toBe(0);
    expect(two.stdout.split('\n').length).toBe(4000 - 2 + 1);
    expect(two.stdout).toBe(one.stdout);
    const rejects = readFileSync(path.join(dir, 'two.tsv'), 'utf8');
    expect(rejects).toBe(readFileSync(path.join(dir, 'one.tsv'), 'utf8'));
    expect(rejects.split('\n').filter(Boolean).map((l) => l.split('\t').slice(0, 2))).toEqual([
      [file, '1201'],
      [file, '3002'],
    ]);
    expect(two.summary).toMatchObject({ inputs: 1, records: 4000 - 2, rejected: 2, headers: 1 });
  });

  it('writes one CSV header row', async () => {
    const one = await runCli(['--no-enrich', '-o', 'csv', file]);
    const two = await runCli(['--no-enrich', '-o', 'csv', '--workers', '2', file], { env, stdout: stdout() });
    expect(two.stdout).toBe(one.stdout);
    expect(two.stdout.match(/^version,/gm)).toHaveLength(1);
  });

  // The second export's records have 29 fields: a part that went on under the first header would reject them all.
  const v5 = 'version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status vpc-id subnet-id instance-id tcp-flags type pkt-srcaddr pkt-dstaddr region az-id sublocation-type sublocation-id pkt-src-aws-service pkt-dst-aws-service flow-direction traffic-path';
  // srcport and dstport swapped: the second export's records decode under the first header too, but wrongly, so what
  // such a part decoded must be dropped.
  const swapped = 'version account-id interface-id srcaddr dstaddr dstport srcport protocol packets bytes start end action log-status';
  it.each([
    { name: 'mixed', second: v5, seeds: [4, 5], what: 'another format' },
    { name: 'swapped', second: swapped, seeds: [7, 8], what: 'the same width in another order' },
  ])('follows a header of $what in the middle of the file (concatenated exports)', async ({ name, second, seeds }) => {
    const mixed = path.join(dir, `${name}-${kind}.log`);
    const text = [...generateFlowLogs(1500, seeds[0], { header: true }), ...generateFlowLogs(1500, seeds[1], { header: true, format: parseFormat(second) })].join('\n') + '\n';
    writeFileSync(mixed, text);
    const one = await runCli(['--no-enrich', mixed]);
    const two = await runCli(['--no-enrich', '--workers', '2', mixed], { env, stdout: stdout() });
    expect(one.summary).toMatchObject({ records: 3000, rejected: 0, headers: 2 });
    expect(two.summary).toMatchObject({ records: 3000, rejected: 0, headers: 2 });
    expect(two.stdout).toBe(one.stdout);
  });
});

describe('output that cannot be written', () => {
  const file = path.join(dir, 'to-full.log');
  writeFileSync(file, [...generateFlowLogs(20_000, 6)].join('\n') + '\n');

  // /dev/full refuses every write (ENOSPC): a run that lost its output must say so and fail, not report success.
  it.each([{ workers: [] as string[] }, { workers: ['--workers', '2'] }])('is an error naming the cause ($workers)', async ({ workers }) => {
    const r = await runCli(['--no-enrich', ...workers, file], { env: { VPCFLOW_PART_BYTES: '65536' }, stdout: '/dev/full' });
    expect(r.code).toBe(EXIT.DATA);
    expect(r.stderr).toMatch(/cannot write output: .*(ENOSPC|no space)/i);
  });
});
