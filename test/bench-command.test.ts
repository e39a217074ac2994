import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runStage } from '../src/cli/bench-command.js';
import { loadEnrichment } from '../src/enrich/load.js';
import { expandInputs, type InputSource } from '../src/sources/inputs.js';
import { decodeBytes, fixture, ndjson, runCli } from './helpers.js';

const work = mkdtempSync(path.join(tmpdir(), 'vpcflow-gen-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('vpcflow gen', () => {
  it('writes the same realistic records for the same seed, others for another', async () => {
    const a = await runCli(['gen', '--lines', '3000', '--seed', '7']);
    const b = await runCli(['gen', '--lines', '3000', '--seed', '7']);
    const c = await runCli(['gen', '--lines', '3000', '--seed', '8']);
    expect(a.code).toBe(0);
    expect(a.stdout).toBe(b.stdout);
    expect(a.stdout).not.toBe(c.stdout);
    const { records, rejects } = decodeBytes(a.stdout);
    expect(rejects).toEqual([]);
    expect(records).toHaveLength(3000);
    expect(records.some((r) => String(r.srcaddr).includes(':'))).toBe(true);
    expect(records.some((r) => r.log_status === 'NODATA')).toBe(true);
    expect(records.some((r) => r.action === 'REJECT')).toBe(true);
  });

  it('writes custom formats with their header, and the aws logs tail shape', async () => {
    const custom = await runCli(['gen', '--lines', '500', '--header', '--format', '${version} ${vpc-id} ${srcaddr} ${dstaddr} ${tcp-flags} ${flow-direction} ${log-status}']);
    const decoded = decodeBytes(custom.stdout);
    expect(decoded.rejects).toEqual([]);
    expect(decoded.decoder.counts.headers).toBe(1);
    expect(decoded.records[0]).toMatchObject({ version: 5, vpc_id: expect.stringMatching(/^vpc-/), flow_direction: expect.stringMatching(/gress$/) });
    const tail = decodeBytes((await runCli(['gen', '--lines', '500', '--shape', 'tail'])).stdout);
    expect(tail.rejects).toEqual([]);
    expect(tail.records[0]).toHaveProperty('log_stream', `${tail.records[0].interface_id}-all`);
  });
});

describe('vpcflow bench', () => {
  it('measures every stage on the given files and reports them as JSON', async () => {
    const file = path.join(work, 'flows.log');
    writeFileSync(file, (await runCli(['gen', '--lines', '20000'])).stdout);
    const r = await runCli(['bench', file, '--runs', '1', '--json']);
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report.stages.map((s: { stage: string }) => s.stage)).toEqual(['read', 'decode', 'enrich', 'serialise']);
    for (const s of report.stages) {
      expect(s.lines).toBe(20000);
      expect(s.lines_per_s).toBeGreaterThan(0);
      expect(s.peak_rss_mb).toBeGreaterThan(0);
    }
    for (const s of report.stages) expect(s.share >= 0 && s.share <= 1).toBe(true);
    // Which decoder ran, so figures from two machines are compared knowingly.
    expect(report.decoder).toMatch(/^C decoder and NDJSON\/CSV writer|^JavaScript decoder and writers/);
    const js = JSON.parse((await runCli(['bench', file, '--runs', '1', '--json'], { env: { VPCFLOW_NATIVE: '0' } })).stdout);
    expect(js.decoder).toBe('JavaScript decoder and writers (native code turned off by VPCFLOW_NATIVE=0)');
  });

  it('serialises exactly what the CLI prints (no shortcut changes the records)', async () => {
    const options = { ipRanges: fixture('ip-ranges-small.json'), vpcs: ['vpc-1=10.0.0.0/16'] };
    const inputs: InputSource[] = [];
    for await (const i of expandInputs([fixture('sample-default.log.gz'), fixture('custom-v5.log')])) inputs.push(i as InputSource);
    const chunks: Buffer[] = [];
    await runStage('serialise', inputs, loadEnrichment(options).enricher, (c) => chunks.push(c));
    const cli = await runCli([fixture('sample-default.log.gz'), fixture('custom-v5.log'), '--ip-ranges', options.ipRanges, '--vpc', options.vpcs[0], '-q']);
    expect(ndjson(Buffer.concat(chunks).toString())).toHaveLength(46);
    expect(Buffer.concat(chunks).toString()).toBe(cli.stdout);
  });
});
