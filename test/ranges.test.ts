import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { cacheDir, locateRanges } from '../src/enrich/ranges-store.js';
import { fixture, runCli } from './helpers.js';

/** A stand-in for ip-ranges.amazonaws.com on loopback: serves whatever body the test sets, or fails. */
let server: Server;
let url = '';
let body: string | null = null;
let status = 200;
let requests = 0;

beforeAll(async () => {
  server = createServer((_req, res) => {
    requests++;
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(body ?? '');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/ip-ranges.json`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

let cache = '';
beforeEach(() => {
  cache = mkdtempSync(path.join(tmpdir(), 'vpcflow-ranges-'));
  status = 200;
  body = null;
});
afterAll(() => rmSync(cache, { recursive: true, force: true }));

const SMALL = readFileSync(fixture('ip-ranges-small.json'), 'utf8');
const NEWER = readFileSync(fixture('ip-ranges-small-newer.json'), 'utf8');
const ranges = (args: string[], input?: string) => runCli(['ranges', ...args], { env: { VPCFLOW_CACHE_DIR: cache, VPCFLOW_IP_RANGES_URL: url }, input });
const cached = () => path.join(cache, 'ip-ranges.json');

describe('vpcflow ranges update', () => {
  it('downloads, checks and caches the file; then takes only a newer one', async () => {
    body = SMALL;
    const first = await ranges(['update']);
    expect(first.code).toBe(0);
    expect(first.stderr).toMatch(/updated .*ip-ranges.json: syncToken \(none\) -> 1731000000/);
    expect(readFileSync(cached(), 'utf8')).toBe(SMALL);

    const again = await ranges(['update']);
    expect(again.code).toBe(0);
    expect(again.stderr).toMatch(/already up to date/);

    body = NEWER;
    expect((await ranges(['update'])).stderr).toMatch(/1731000000 -> 1731086400/);
    expect(readFileSync(cached(), 'utf8')).toBe(NEWER);

    body = SMALL; // an older file (a stale mirror, a replayed response)
    const older = await ranges(['update']);
    expect(older.code).toBe(1);
    expect(older.stderr).toMatch(/older than the cached 1731086400; keeping the cached file/);
    expect(readFileSync(cached(), 'utf8')).toBe(NEWER);
    expect((await ranges(['update', '--force'])).code).toBe(0);
    expect(readFileSync(cached(), 'utf8')).toBe(SMALL);
  });

  it('keeps the cached file when the download fails or is not an ip-ranges.json, and leaves no temp file', async () => {
    writeFileSync(cached(), SMALL);
    for (const [s, b, message] of [
      [500, 'oops', /HTTP 500/],
      [200, '{"syncToken": "1731999999", "prefixes": [', /not valid JSON/],
      [200, '{"syncToken": "1731999999", "createDate": "2024-11-09-00-00-00", "prefixes": "no"}', /"prefixes" is not a list/],
      [200, '<html>maintenance</html>', /not valid JSON/],
    ] as const) {
      status = s;
      body = b;
      const r = await ranges(['update']);
      expect(r.code, b).toBe(1);
      expect(r.stderr).toMatch(message);
      expect(readFileSync(cached(), 'utf8')).toBe(SMALL);
    }
    expect(readdirSync(cache)).toEqual(['ip-ranges.json']);
  });

  it('says clearly when the server cannot be reached', async () => {
    const r = await runCli(['ranges', 'update'], { env: { VPCFLOW_CACHE_DIR: cache, VPCFLOW_IP_RANGES_URL: 'http://127.0.0.1:1/ip-ranges.json' } });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/cannot download http:\/\/127.0.0.1:1\/ip-ranges.json/);
    expect(existsSync(cached())).toBe(false);
  });
});

describe('where ip-ranges.json comes from', () => {
  it('prefers --ip-ranges, then VPCFLOW_IP_RANGES, then the cache', () => {
    const env = { VPCFLOW_CACHE_DIR: cache } as NodeJS.ProcessEnv;
    expect(locateRanges(undefined, env)).toBeNull();
    writeFileSync(cached(), SMALL);
    expect(locateRanges(undefined, env)).toEqual({ path: cached(), origin: 'cache' });
    expect(locateRanges(undefined, { ...env, VPCFLOW_IP_RANGES: '/x.json' })).toEqual({ path: '/x.json', origin: 'VPCFLOW_IP_RANGES' });
    expect(locateRanges('/y.json', { ...env, VPCFLOW_IP_RANGES: '/x.json' })).toEqual({ path: '/y.json', origin: '--ip-ranges' });
    if (process.platform === 'linux') expect(cacheDir({ XDG_CACHE_HOME: '/tmp/xdg' } as NodeJS.ProcessEnv)).toBe('/tmp/xdg/vpcflow');
    expect(cacheDir({ VPCFLOW_CACHE_DIR: '/tmp/mine' } as NodeJS.ProcessEnv)).toBe('/tmp/mine');
  });

  it('uses the cached file in a normal run', async () => {
    writeFileSync(cached(), SMALL);
    const r = await runCli(['--fields', 'dst.aws.service'], {
      env: { VPCFLOW_CACHE_DIR: cache },
      input: '2 1 eni-1 10.0.0.1 3.5.246.198 1 443 6 1 40 1731000000 1731000001 ACCEPT OK\n',
    });
    expect(r.stdout).toBe('{"dst.aws.service":"S3"}\n');
    expect(r.logs.some((l) => /ranges update/.test(l.msg))).toBe(false);
  });
});

describe('vpcflow ranges info and lookup', () => {
  it('prints the file, createDate, syncToken, counts and age', async () => {
    writeFileSync(cached(), SMALL);
    const r = await ranges(['info']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/createDate\s+2024-11-07-12-00-00 UTC \(\d+ days old\)/);
    expect(r.stdout).toMatch(/syncToken\s+1731000000/);
    expect(r.stdout).toMatch(/IPv4\s+18 entries, 9 distinct prefixes/);
    expect(r.stdout).toMatch(/IPv6\s+6 entries, 3 distinct prefixes/);
    const json = JSON.parse((await ranges(['info', '--json'])).stdout);
    expect(json).toMatchObject({ origin: 'cache', syncToken: '1731000000', ipv4_prefixes: 9, ipv6_prefixes: 3 });
  });

  it('says how to get the file when there is none', async () => {
    const r = await ranges(['info']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/vpcflow ranges update/);
  });

  it('answers for single addresses, with the inventory when given', async () => {
    writeFileSync(cached(), SMALL);
    const r = await ranges(['lookup', '15.152.63.145', '10.0.2.40', 'nonsense', '--inventory', 'fixtures/inventory/describe-network-interfaces.json']);
    expect(r.code).toBe(1);
    const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(lines[0]).toMatchObject({ address: '15.152.63.145', scope: 'aws', aws: { service: 'EC2', region: 'ap-northeast-3' } });
    expect(lines[1]).toMatchObject({ address: '10.0.2.40', scope: 'vpc', vpc: { eni: 'eni-0f9e8d7c6b5a40312', resource: { type: 'nat_gateway' } } });
    expect(r.stderr).toMatch(/'nonsense' is not an IP address/);
  });

  it('explains itself and refuses unknown verbs', async () => {
    expect((await ranges(['--help'])).stdout).toMatch(/vpcflow ranges update/);
    expect((await ranges(['frobnicate'])).code).toBe(2);
  });

  it('never touches the network unless asked (update): a plain run makes no request', async () => {
    requests = 0;
    await runCli([], { env: { VPCFLOW_CACHE_DIR: cache, VPCFLOW_IP_RANGES_URL: url }, input: '' });
    expect(requests).toBe(0);
  });
});
