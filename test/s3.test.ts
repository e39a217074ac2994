import { buffer } from 'node:stream/consumers';
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InputError } from '../src/sources/inputs.js';
import { createS3Client, listFlowLogObjects, openS3Object, parseS3Url, readS3Range, s3Input, S3InputError, type S3Object } from '../src/sources/s3.js';
import { isFlowLogObjectKey, keyMatches, parseFlowLogKey, type FlowLogKey, type KeyFilter } from '../src/sources/s3-layout.js';
import { fixture, ROOT } from './helpers.js';
import { createBucket, listRequests, putObjects, S3RVER_CREDENTIALS, startFaultProxy, startS3Server, type FaultAction, type S3TestServer } from './s3-server.js';

// The SDK warns once per process that its releases after January 2027 need Node 22; not what these tests are about.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

const A = '111111111111';
const B = '222222222222';
const ORG = 'o-abcdef1234';
const FL = 'fl-0123456789abcdef0';
const SPLUNK = path.resolve(ROOT, '../shared/data/flowlogs/splunk-gdi-toolkit_sample-vpcflow.log.gz');

// ---------------------------------------------------------------------------------------------------------------
// Pure functions

describe('parseS3Url', () => {
  it('reads bucket and prefix', () => {
    expect(parseS3Url('s3://my-logs/AWSLogs/123456789012/')).toEqual({ bucket: 'my-logs', prefix: 'AWSLogs/123456789012/' });
    expect(parseS3Url('s3://my-logs/some/prefix')).toEqual({ bucket: 'my-logs', prefix: 'some/prefix' });
    expect(parseS3Url('s3://my-logs')).toEqual({ bucket: 'my-logs', prefix: '' });
    expect(parseS3Url('s3://my-logs/')).toEqual({ bucket: 'my-logs', prefix: '' });
    expect(parseS3Url('S3://my.logs/a%20b')).toEqual({ bucket: 'my.logs', prefix: 'a%20b' });
  });

  it('refuses anything else with a clear message', () => {
    expect(() => parseS3Url('s3://')).toThrow(/no bucket name in "s3:\/\/"/);
    expect(() => parseS3Url('s3:///prefix')).toThrow(/no bucket name/);
    expect(() => parseS3Url('https://my-logs.s3.amazonaws.com/x')).toThrow(/scheme https:\/\/ \(expected s3:\/\/bucket\/prefix\)/);
    expect(() => parseS3Url('my-logs/prefix')).toThrow(/not an S3 URL: "my-logs\/prefix"/);
    expect(() => parseS3Url('s3:/my-logs')).toThrow(/not an S3 URL/);
    expect(() => parseS3Url('s3://my logs/x')).toThrow(/invalid bucket name "my logs"/);
  });
});

describe('parseFlowLogKey', () => {
  const file = `${A}_vpcflowlogs_eu-west-1_${FL}_20240502T1320Z_fe123456.log.gz`;

  it('default layout', () => {
    expect(parseFlowLogKey(`logs/AWSLogs/${A}/vpcflowlogs/eu-west-1/2024/05/02/${file}`)).toEqual({
      account: A,
      region: 'eu-west-1',
      date: '2024-05-02',
      hour: null,
      fileTime: new Date('2024-05-02T13:20:00Z'),
      layout: 'default',
      format: 'text',
    } satisfies FlowLogKey);
  });

  it('default layout per hour, at the bucket root', () => {
    const k = parseFlowLogKey(`AWSLogs/${A}/vpcflowlogs/eu-west-1/2024/05/02/13/${file}`);
    expect(k).toMatchObject({ account: A, region: 'eu-west-1', date: '2024-05-02', hour: '13', layout: 'default' });
  });

  it('hive layout, with and without hours', () => {
    const hive = `p/AWSLogs/aws-account-id=${B}/aws-service=vpcflowlogs/aws-region=us-east-1/year=2024/month=05/day=02`;
    const other = `${B}_vpcflowlogs_us-east-1_${FL}_20240502T0005Z_0a1b2c3d.log.gz`;
    expect(parseFlowLogKey(`${hive}/${other}`)).toEqual({
      account: B,
      region: 'us-east-1',
      date: '2024-05-02',
      hour: null,
      fileTime: new Date('2024-05-02T00:05:00Z'),
      layout: 'hive',
      format: 'text',
    });
    expect(parseFlowLogKey(`${hive}/hour=00/${other}`)).toMatchObject({ date: '2024-05-02', hour: '00', layout: 'hive' });
  });

  it('organization layout (default and hive under the organization id)', () => {
    expect(parseFlowLogKey(`AWSLogs/${ORG}/${A}/vpcflowlogs/eu-west-1/2024/05/02/${file}`)).toMatchObject({ account: A, region: 'eu-west-1', date: '2024-05-02', layout: 'default' });
    expect(parseFlowLogKey(`AWSLogs/${ORG}/aws-account-id=${A}/aws-service=vpcflowlogs/aws-region=eu-west-1/year=2024/month=05/day=02/${file}`)).toMatchObject({
      account: A,
      date: '2024-05-02',
      layout: 'hive',
    });
  });

  it('path facts win over the file name; the file name fills in outside the layouts', () => {
    const moved = `AWSLogs/${B}/vpcflowlogs/us-west-2/2024/05/03/${file}`;
    expect(parseFlowLogKey(moved)).toMatchObject({ account: B, region: 'us-west-2', date: '2024-05-03', fileTime: new Date('2024-05-02T13:20:00Z') });
    expect(parseFlowLogKey(`exports/${file}`)).toEqual({
      account: A,
      region: 'eu-west-1',
      date: null,
      hour: null,
      fileTime: new Date('2024-05-02T13:20:00Z'),
      layout: 'unknown',
      format: 'text',
    });
  });

  it('parquet objects', () => {
    const k = parseFlowLogKey(`AWSLogs/aws-account-id=${A}/aws-service=vpcflowlogs/aws-region=eu-west-3/year=2022/month=09/day=15/${A}_vpcflowlogs_eu-west-3_fl-0f46d0a2ed744cfa1_20220915T1420Z_740b4cc6.log.parquet`);
    expect(k).toMatchObject({ region: 'eu-west-3', date: '2022-09-15', fileTime: new Date('2022-09-15T14:20:00Z'), format: 'parquet', layout: 'hive' });
    expect(parseFlowLogKey('x/flows.parquet').format).toBe('parquet');
  });

  it('keys that are not flow logs', () => {
    const none = { account: null, region: null, date: null, hour: null, fileTime: null, layout: 'unknown', format: 'text' };
    expect(parseFlowLogKey(`AWSLogs/${A}/CloudTrail/eu-west-1/2024/05/02/${A}_CloudTrail_eu-west-1_20240502T1320Z_abc.json.gz`)).toEqual(none);
    expect(parseFlowLogKey('README.txt')).toEqual(none);
    expect(parseFlowLogKey('')).toEqual(none);
    // not a date: the rest is still read
    expect(parseFlowLogKey(`AWSLogs/${A}/vpcflowlogs/eu-west-1/2024/13/02/x.log.gz`)).toMatchObject({ account: A, region: 'eu-west-1', date: null, layout: 'default' });
    expect(parseFlowLogKey(`${A}_vpcflowlogs_eu-west-1_${FL}_20241302T1320Z_fe123456.log.gz`).fileTime).toBeNull();
    expect(isFlowLogObjectKey(`a/${file}`)).toBe(true);
    expect(isFlowLogObjectKey('a/flows.log')).toBe(true);
    expect(isFlowLogObjectKey('a/flows.parquet')).toBe(true);
    expect(isFlowLogObjectKey('a/2024/05/02/')).toBe(false);
    expect(isFlowLogObjectKey('a/notes.txt')).toBe(false);
  });
});

describe('keyMatches', () => {
  const key = (over: Partial<FlowLogKey>): FlowLogKey => ({ account: A, region: 'eu-west-1', date: null, hour: null, fileTime: null, layout: 'default', format: 'text', ...over });
  const file = key({ date: '2024-05-02', fileTime: new Date('2024-05-02T13:20:00Z') });
  const at = (s: string) => new Date(s);

  it('accounts and regions', () => {
    expect(keyMatches(file, {})).toBe(true);
    expect(keyMatches(file, { accounts: [B, A] })).toBe(true);
    expect(keyMatches(file, { accounts: [B] })).toBe(false);
    expect(keyMatches(file, { accounts: [] })).toBe(true);
    expect(keyMatches(file, { regions: ['eu-west-1'] })).toBe(true);
    expect(keyMatches(file, { regions: ['us-east-1'] })).toBe(false);
    expect(keyMatches(key({ account: null }), { accounts: [A] })).toBe(false);
    expect(keyMatches(key({ region: null }), { regions: ['eu-west-1'] })).toBe(false);
  });

  it('the 5-minute window of the file time overlaps [since, until)', () => {
    expect(keyMatches(file, { since: at('2024-05-02T13:24:59Z') })).toBe(true);
    expect(keyMatches(file, { since: at('2024-05-02T13:25:00Z') })).toBe(false);
    expect(keyMatches(file, { until: at('2024-05-02T13:20:01Z') })).toBe(true);
    expect(keyMatches(file, { until: at('2024-05-02T13:20:00Z') })).toBe(false);
    expect(keyMatches(file, { since: at('2024-05-02T13:00:00Z'), until: at('2024-05-02T14:00:00Z') })).toBe(true);
    expect(keyMatches(file, { since: at('2024-05-02T14:00:00Z'), until: at('2024-05-02T15:00:00Z') })).toBe(false);
    expect(keyMatches(file, { since: at('2024-05-02T13:22:00Z'), until: at('2024-05-02T13:22:00Z') })).toBe(false); // empty range
    // the file time, not the partition date, decides
    expect(keyMatches(key({ date: '2024-05-03', fileTime: new Date('2024-05-02T13:20:00Z') }), { since: at('2024-05-03T00:00:00Z') })).toBe(false);
  });

  it('without a file time: the partition day, or hour', () => {
    const day = key({ date: '2024-05-02' });
    expect(keyMatches(day, { since: at('2024-05-02T23:59:00Z') })).toBe(true);
    expect(keyMatches(day, { since: at('2024-05-03T00:00:00Z') })).toBe(false);
    expect(keyMatches(day, { until: at('2024-05-02T00:00:01Z') })).toBe(true);
    expect(keyMatches(day, { until: at('2024-05-02T00:00:00Z') })).toBe(false);
    const hour = key({ date: '2024-05-02', hour: '13' });
    expect(keyMatches(hour, { since: at('2024-05-02T13:59:00Z'), until: at('2024-05-02T15:00:00Z') })).toBe(true);
    expect(keyMatches(hour, { since: at('2024-05-02T14:00:00Z') })).toBe(false);
    // nothing to go by: never in a time range, always without one
    expect(keyMatches(key({}), { since: at('2000-01-01T00:00:00Z') })).toBe(false);
    expect(keyMatches(key({}), {})).toBe(true);
  });
});

// ---------------------------------------------------------------------------------------------------------------
// Against a real SDK and s3rver

const BUCKET = 'flow-logs';
const TIMES = ['2023-12-31T23:50Z', '2024-05-01T10:00Z', '2024-05-01T23:55Z', '2024-05-02T00:05Z', '2024-05-02T13:20Z', '2024-05-03T08:45Z'].map((s) => new Date(s));

interface Fact {
  root: string;
  key: string;
  account: string;
  region: string;
  time: Date;
  body: Buffer;
}

const pad = (n: number, w = 2) => String(n).padStart(w, '0');
const stamp = (t: Date) => `${t.getUTCFullYear()}${pad(t.getUTCMonth() + 1)}${pad(t.getUTCDate())}T${pad(t.getUTCHours())}${pad(t.getUTCMinutes())}Z`;

function flowLogBody(account: string, t: Date, n: number): Buffer {
  const start = Math.floor(t.getTime() / 1000);
  return gzipSync(
    'version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status\n' +
      `2 ${account} eni-0a1b2c3d4e5f60718 10.0.1.25 10.0.2.${n % 250} 443 ${40000 + n} 6 10 840 ${start} ${start + 60} ACCEPT OK\n` +
      `2 ${account} eni-0a1b2c3d4e5f60718 10.0.2.${n % 250} 10.0.1.25 ${40000 + n} 443 6 12 9000 ${start} ${start + 60} ACCEPT OK\n`,
  );
}

function makeKey(root: string, o: { hive?: boolean; hourly?: boolean; org?: boolean }, account: string, region: string, t: Date, ext = 'log.gz'): string {
  const [y, m, d, h] = [String(t.getUTCFullYear()), pad(t.getUTCMonth() + 1), pad(t.getUTCDate()), pad(t.getUTCHours())];
  const hash = createHash('md5').update(`${root}${account}${region}${t.toISOString()}`).digest('hex').slice(0, 8);
  const file = `${account}_vpcflowlogs_${region}_${FL}_${stamp(t)}_${hash}.${ext}`;
  const org = o.org ? `${ORG}/` : '';
  if (o.hive) {
    return `${root}AWSLogs/${org}aws-account-id=${account}/aws-service=vpcflowlogs/aws-region=${region}/year=${y}/month=${m}/day=${d}/${o.hourly ? `hour=${h}/` : ''}${file}`;
  }
  return `${root}AWSLogs/${org}${account}/vpcflowlogs/${region}/${y}/${m}/${d}/${o.hourly ? `${h}/` : ''}${file}`;
}

const facts: Fact[] = [];
function addSet(root: string, o: { hive?: boolean; hourly?: boolean; org?: boolean }, accounts: string[], regions: string[], times = TIMES): void {
  for (const account of accounts) {
    for (const region of regions) {
      for (const time of times) facts.push({ root, key: makeKey(root, o, account, region, time), account, region, time, body: flowLogBody(account, time, facts.length) });
    }
  }
}
addSet('default/', {}, [A, B], ['eu-west-1', 'us-east-1']);
addSet('hive/', { hive: true }, [A, B], ['eu-west-1', 'us-east-1']);
addSet('hourly/', { hourly: true }, [A], ['eu-west-1']);
addSet('hive-hourly/', { hive: true, hourly: true }, [A], ['us-east-1']);
addSet('org/', { org: true }, [A, B], ['eu-west-1']);
addSet('org-hive/', { org: true, hive: true }, [B], ['us-east-1']);
const PARQUET_TIME = new Date('2024-05-02T13:25Z');
const PARQUET_BODY = Buffer.concat([Buffer.from('PAR1'), randomBytes(300), Buffer.from([0x2c, 0x01, 0, 0]), Buffer.from('PAR1')]);
facts.push({ root: 'default/', key: makeKey('default/', {}, A, 'eu-west-1', PARQUET_TIME, 'log.parquet'), account: A, region: 'eu-west-1', time: PARQUET_TIME, body: PARQUET_BODY });
for (const t of [TIMES[1], TIMES[4]]) {
  facts.push({ root: 'loose/', key: `loose/exports/${A}_vpcflowlogs_eu-west-1_${FL}_${stamp(t)}_0000abcd.log.gz`, account: A, region: 'eu-west-1', time: t, body: flowLogBody(A, t, facts.length) });
}
const NOISE = [
  `default/AWSLogs/${A}/vpcflowlogs/eu-west-1/2024/05/01/`,
  `default/AWSLogs/${A}/vpcflowlogs/eu-west-1/2024/05/01/README.txt`,
  `default/AWSLogs/${A}/CloudTrail/eu-west-1/2024/05/01/${A}_CloudTrail_eu-west-1_20240501T1000Z_abc.json.gz`,
  `default/AWSLogs/${A}/vpcflowlogs/eu-west-1/notes.log.gz/`,
  `hive/AWSLogs/aws-account-id=${A}/aws-service=vpcflowlogs/`,
  `loose/notes.txt`,
];
const ROOT_BUCKET = 'root-logs';
const rootFacts: Fact[] = [TIMES[1], TIMES[2]].map((time, i) => ({
  root: '',
  key: makeKey('', {}, A, 'us-east-1', time),
  account: A,
  region: 'us-east-1',
  time,
  body: flowLogBody(A, time, 900 + i),
}));

const byteOrder = (a: string, b: string) => Buffer.compare(Buffer.from(a), Buffer.from(b));

/** The keys under `root` that the filter asks for, worked out from the facts the objects were made from. */
function expected(root: string, f: KeyFilter = {}, from: Fact[] = facts): string[] {
  return from
    .filter((x) => x.root === root)
    .filter((x) => !f.accounts?.length || f.accounts.includes(x.account))
    .filter((x) => !f.regions?.length || f.regions.includes(x.region))
    .filter((x) => !f.since || x.time.getTime() + 5 * 60_000 > f.since.getTime())
    .filter((x) => !f.until || x.time.getTime() < f.until.getTime())
    .map((x) => x.key)
    .sort(byteOrder);
}

async function collect(gen: AsyncIterable<S3Object>): Promise<S3Object[]> {
  const out: S3Object[] = [];
  for await (const o of gen) out.push(o);
  return out;
}
const keysOf = async (client: S3Client, bucket: string, prefix: string, filter?: KeyFilter, pageSize?: number) =>
  (await collect(listFlowLogObjects(client, { bucket, prefix }, filter, { pageSize }))).map((o) => o.key);


describe('S3 against s3rver', () => {
  let s3: S3TestServer;
  const proxies: Array<{ stop(): Promise<void> }> = [];
  /** A fault proxy in front of the server and a client that goes through it. */
  async function viaProxy(plan?: (no: number, req: import('node:http').IncomingMessage) => FaultAction, options?: { maxAttempts?: number }) {
    const proxy = await startFaultProxy(s3.endpoint, plan);
    proxies.push(proxy);
    return { proxy, client: s3.clientFor(proxy.endpoint, options) };
  }

  beforeAll(async () => {
    s3 = await startS3Server();
    await createBucket(s3.client, BUCKET);
    await createBucket(s3.client, ROOT_BUCKET);
    await putObjects(s3.client, BUCKET, [...facts, ...NOISE.map((key) => ({ key, body: key.endsWith('/') ? Buffer.alloc(0) : Buffer.from('not a flow log\n') }))]);
    await putObjects(s3.client, ROOT_BUCKET, rootFacts);
  });

  afterAll(async () => {
    for (const p of proxies) await p.stop();
    await s3?.stop();
  });

  describe('listFlowLogObjects', () => {
    it('finds every flow-log object of each layout, in key order, and nothing else', async () => {
      for (const root of ['default/', 'hive/', 'hourly/', 'hive-hourly/', 'org/', 'org-hive/', 'loose/']) {
        const keys = await keysOf(s3.client, BUCKET, root);
        expect(keys, root).toEqual(expected(root));
        expect(keys.length, root).toBeGreaterThan(0);
      }
      expect(await keysOf(s3.client, ROOT_BUCKET, '')).toEqual(expected('', {}, rootFacts));
    });

    it('gives size, ETag, time and the parsed key of each object', async () => {
      const objects = await collect(listFlowLogObjects(s3.client, { bucket: BUCKET, prefix: 'default/' }, { accounts: [A], regions: ['eu-west-1'], since: new Date('2024-05-02T13:00Z'), until: new Date('2024-05-02T14:00Z') }));
      const fact = facts.find((f) => f.root === 'default/' && f.account === A && f.region === 'eu-west-1' && f.time.getTime() === TIMES[4].getTime())!;
      const parquet = facts.find((f) => f.body === PARQUET_BODY)!;
      expect(objects.map((o) => o.key)).toEqual([fact.key, parquet.key]);
      const [text, pq] = objects;
      expect(text).toMatchObject({ bucket: BUCKET, size: fact.body.length, etag: `"${createHash('md5').update(fact.body).digest('hex')}"` });
      expect(text.lastModified).toBeInstanceOf(Date);
      expect(text.info).toEqual({ account: A, region: 'eu-west-1', date: '2024-05-02', hour: null, fileTime: TIMES[4], layout: 'default', format: 'text' });
      expect(pq.info.format).toBe('parquet');
    });

    it('filters by account, region and time in every layout', async () => {
      const filters: KeyFilter[] = [
        { accounts: [B] },
        { regions: ['us-east-1'] },
        { accounts: [A], regions: ['eu-west-1', 'us-east-1'] },
        { since: new Date('2024-05-02T00:00Z') },
        { until: new Date('2024-05-01T23:57Z') },
        { since: new Date('2024-05-01T23:58Z'), until: new Date('2024-05-02T00:06Z') },
        { since: new Date('2024-05-02T00:00Z'), until: new Date('2024-05-02T23:00Z'), accounts: [A] },
        { since: new Date('2023-06-01T00:00Z'), until: new Date('2024-05-01T12:00Z') },
        { since: new Date('2025-01-01T00:00Z') },
        { regions: ['ap-south-1'], since: new Date('2024-05-01T00:00Z'), until: new Date('2024-05-02T00:00Z') },
      ];
      for (const root of ['default/', 'hive/', 'hourly/', 'hive-hourly/', 'org/', 'org-hive/', 'loose/']) {
        for (const filter of filters) expect(await keysOf(s3.client, BUCKET, root, filter), `${root} ${JSON.stringify(filter)}`).toEqual(expected(root, filter));
      }
    });

    it('a prefix inside the tree: carries on from there, or lists it all and filters by key', async () => {
      const region = `default/AWSLogs/${A}/vpcflowlogs/eu-west-1/`;
      const filter = { since: new Date('2024-05-01T12:00Z'), until: new Date('2024-05-02T12:00Z') };
      const all = expected('default/', { ...filter, accounts: [A], regions: ['eu-west-1'] });
      expect(all.length).toBe(2);
      for (const prefix of [region, `${region}2024/`, `${region}2024/05/0`]) {
        expect(await keysOf(s3.client, BUCKET, prefix, filter), prefix).toEqual(all);
      }
      for (const prefix of [`default/AWSLogs/${A}/`, `default/AWSLogs/${A}/vpcflowlogs/`]) {
        expect(await keysOf(s3.client, BUCKET, prefix, filter), prefix).toEqual(expected('default/', { ...filter, accounts: [A] }));
      }
      expect(expected('default/', { ...filter, accounts: [A] }).length).toBe(4);
      // a prefix that names one object
      expect(await keysOf(s3.client, BUCKET, all[0])).toEqual([all[0]]);
      // another account's folder, another service
      expect(await keysOf(s3.client, BUCKET, `default/AWSLogs/${A}/`, { accounts: [B] })).toEqual([]);
      expect(await keysOf(s3.client, BUCKET, `default/AWSLogs/${A}/CloudTrail/`)).toEqual([]);
      // organization and hive folders
      expect(await keysOf(s3.client, BUCKET, `org/AWSLogs/${ORG}/`, { accounts: [B] })).toEqual(expected('org/', { accounts: [B] }));
      expect(await keysOf(s3.client, BUCKET, `hive/AWSLogs/aws-account-id=${B}/aws-service=vpcflowlogs/aws-region=us-east-1/`, filter)).toEqual(
        expected('hive/', { ...filter, accounts: [B], regions: ['us-east-1'] }),
      );
      // `prefix` without a slash is the folder for the discovery
      expect(await keysOf(s3.client, BUCKET, 'hive', { accounts: [A] })).toEqual(expected('hive/', { accounts: [A] }));
    });

    it('visits only the prefixes it needs', async () => {
      const { proxy, client } = await viaProxy();
      const count = async (prefix: string, filter: KeyFilter) => {
        const before = proxy.seen.length;
        const keys = await keysOf(client, BUCKET, prefix, filter);
        return { keys, lists: listRequests(proxy.seen.slice(before)) };
      };

      // accounts and regions given, a few hours: the root, then one day
      const f1 = { accounts: [A], regions: ['eu-west-1'], since: new Date('2024-05-02T12:00Z'), until: new Date('2024-05-02T14:00Z') };
      const r1 = await count('default/', f1);
      expect(r1.keys).toEqual(expected('default/', f1));
      expect(r1.lists).toEqual(['default/AWSLogs/|/', `default/AWSLogs/${A}/vpcflowlogs/eu-west-1/2024/05/02/|`]);

      // hive, no account or region: regions are listed per account, then the two days the range touches
      const f2 = { since: new Date('2024-05-01T23:58Z'), until: new Date('2024-05-02T00:10Z') };
      const r2 = await count('hive/', f2);
      expect(r2.keys).toEqual(expected('hive/', f2));
      expect(r2.keys.length).toBe(8);
      const svc = (acct: string) => `hive/AWSLogs/aws-account-id=${acct}/aws-service=vpcflowlogs/`;
      const days = (acct: string, region: string) => [1, 2].map((d) => `${svc(acct)}aws-region=${region}/year=2024/month=05/day=0${d}/|`);
      expect(r2.lists).toEqual([
        'hive/AWSLogs/|/',
        `${svc(A)}|/`,
        ...days(A, 'eu-west-1'),
        ...days(A, 'us-east-1'),
        `${svc(B)}|/`,
        ...days(B, 'eu-west-1'),
        ...days(B, 'us-east-1'),
      ]);

      // open range: years, months, days are walked; 2023 is not visited
      const f3 = { accounts: [B], regions: ['us-east-1'], since: new Date('2024-05-02T00:00Z') };
      const r3 = await count('default/', f3);
      expect(r3.keys).toEqual(expected('default/', f3));
      const region = `default/AWSLogs/${B}/vpcflowlogs/us-east-1/`;
      expect(r3.lists).toEqual([
        'default/AWSLogs/|/',
        `${region}|/`,
        `${region}2024/|/`,
        `${region}2024/05/|/`,
        `${region}2024/05/01/|`, // holds files up to 00:00, and a file at 23:56 would reach past 00:00
        `${region}2024/05/02/|`,
        `${region}2024/05/03/|`,
      ]);

      // a long range: whole years inside it are listed at once
      const f4 = { accounts: [A], regions: ['us-east-1'], since: new Date('2022-12-31T00:00Z'), until: new Date('2025-01-01T00:00Z') };
      const r4 = await count('default/', f4);
      expect(r4.keys).toEqual(expected('default/', f4));
      const region4 = `default/AWSLogs/${A}/vpcflowlogs/us-east-1/`;
      expect(r4.lists).toEqual(['default/AWSLogs/|/', `${region4}|/`, `${region4}2023/|`, `${region4}2024/|`]);

      // organization: the organization folder is listed for its accounts
      const r5 = await count('org/', { accounts: [B], regions: ['eu-west-1'] });
      expect(r5.keys).toEqual(expected('org/', { accounts: [B] }));
      expect(r5.lists).toEqual(['org/AWSLogs/|/', `org/AWSLogs/${ORG}/|/`, `org/AWSLogs/${ORG}/${B}/vpcflowlogs/eu-west-1/|`]);

      // no AWSLogs/ below the prefix: one look for it, then everything under the prefix
      const r6 = await count('loose/', { since: new Date('2024-05-02T00:00Z') });
      expect(r6.keys).toEqual(expected('loose/', { since: new Date('2024-05-02T00:00Z') }));
      expect(r6.lists).toEqual(['loose/AWSLogs/|/', 'loose/|']);
    });

    it('pages through folders and objects (small pages)', async () => {
      const { proxy, client } = await viaProxy();
      for (const root of ['default/', 'hive/', 'org/']) {
        const filter = { since: new Date('2024-05-01T00:00Z'), until: new Date('2024-05-03T00:00Z') };
        const before = proxy.seen.length;
        expect(await keysOf(client, BUCKET, root, filter, 1), root).toEqual(expected(root, filter));
        const tokens = proxy.seen.slice(before).filter((r) => r.url.includes('continuation-token=')).length;
        expect(tokens, root).toBeGreaterThan(3);
      }
      expect(await keysOf(client, BUCKET, 'default/', {}, 2)).toEqual(expected('default/'));
    });

    it('pages through more than 1000 objects under one prefix', async () => {
      const bucket = 'big-logs';
      await createBucket(s3.client, bucket);
      const day = `AWSLogs/${A}/vpcflowlogs/eu-west-1/2024/06/01/`;
      const keys = Array.from({ length: 1105 }, (_, i) => {
        const t = new Date(Date.UTC(2024, 5, 1) + (i % 288) * 5 * 60_000);
        return `${day}${A}_vpcflowlogs_eu-west-1_fl-${pad(Math.floor(i / 288), 17)}_${stamp(t)}_${pad(i, 8)}.log.gz`;
      });
      await putObjects(s3.client, bucket, keys.map((key) => ({ key, body: Buffer.from(key) })));
      const { proxy, client } = await viaProxy();
      const got = await keysOf(client, bucket, '');
      expect(got.length).toBe(1105);
      expect(got).toEqual([...keys].sort(byteOrder));
      const lists = listRequests(proxy.seen);
      expect(lists).toEqual(['AWSLogs/|/', `AWSLogs/${A}/vpcflowlogs/|/`, `AWSLogs/${A}/vpcflowlogs/eu-west-1/|`, `AWSLogs/${A}/vpcflowlogs/eu-west-1/|`]);
      expect(proxy.seen[proxy.seen.length - 1].url).toContain('continuation-token=');
    });

    it('errors name the bucket and prefix', async () => {
      const e1 = await collect(listFlowLogObjects(s3.client, { bucket: 'no-such-bucket', prefix: 'x/' })).catch((e) => e);
      expect(e1).toBeInstanceOf(InputError);
      expect(e1.message).toBe('s3://no-such-bucket/x/AWSLogs/: no such bucket');
      const { proxy, client } = await viaProxy(() => 403);
      const e2 = await collect(listFlowLogObjects(client, { bucket: BUCKET, prefix: 'default/' })).catch((e) => e);
      expect(e2).toBeInstanceOf(S3InputError);
      expect(e2.message).toMatch(/^s3:\/\/flow-logs\/default\/AWSLogs\/: access denied/);
      expect(e2.status).toBe(403);
      expect(proxy.requests).toBe(1); // not retried
      await expect(collect(listFlowLogObjects(s3.client, { bucket: BUCKET, prefix: '' }, { since: new Date('nope') }))).rejects.toThrow(/invalid since/);
    });

    it('retries transient failures of listings: 500, 503, connection reset, truncated body', async () => {
      const filter = { accounts: [A], regions: ['eu-west-1'], since: new Date('2024-05-02T12:00Z'), until: new Date('2024-05-02T14:00Z') };
      const plan: FaultAction[] = [500, 503, 'reset', 'pass', 'truncate'];
      const { proxy, client } = await viaProxy((no) => plan[no - 1] ?? 'pass');
      expect(await keysOf(client, BUCKET, 'default/', filter)).toEqual(expected('default/', filter));
      // root listing: 3 failures then success; day listing: cut short, then success
      expect(proxy.seen.map((r) => r.action)).toEqual([500, 503, 'reset', 'pass', 'truncate', 'pass']);
      expect(listRequests(proxy.seen)).toEqual([...Array(4).fill('default/AWSLogs/|/'), ...Array(2).fill(`default/AWSLogs/${A}/vpcflowlogs/eu-west-1/2024/05/02/|`)]);
    });

    it('gives up after maxAttempts and says why', async () => {
      const { proxy, client } = await viaProxy(() => 500, { maxAttempts: 2 });
      const err = await collect(listFlowLogObjects(client, { bucket: BUCKET, prefix: 'default/' })).catch((e) => e);
      expect(err).toBeInstanceOf(S3InputError);
      expect(err.message).toMatch(/^s3:\/\/flow-logs\/default\/AWSLogs\/: InternalError \(HTTP 500\).*after 2 attempts/);
      expect(proxy.requests).toBe(2);
    });
  });

  describe('openS3Object / readS3Range', () => {
    const sample = readFileSync(fixture('sample-default.log.gz'));
    const big = randomBytes(3 * 1024 * 1024 + 17);
    const sampleKey = `samples/AWSLogs/${A}/vpcflowlogs/eu-west-1/2024/05/04/${A}_vpcflowlogs_eu-west-1_${FL}_20240504T0000Z_5a5a5a5a.log.gz`;
    const bigKey = 'blobs/big.log.gz';

    beforeAll(async () => {
      await putObjects(s3.client, BUCKET, [
        { key: sampleKey, body: sample },
        { key: bigKey, body: big },
      ]);
    });

    it('streams the body as uploaded', async () => {
      const [listed] = await collect(listFlowLogObjects(s3.client, { bucket: BUCKET, prefix: sampleKey }));
      expect(listed.key).toBe(sampleKey);
      const body = await buffer(await openS3Object(s3.client, BUCKET, sampleKey, listed.etag));
      expect(body.equals(sample)).toBe(true);
      const chunks: number[] = [];
      const stream = await openS3Object(s3.client, BUCKET, bigKey);
      stream.on('data', (c: Buffer) => chunks.push(c.length));
      const all = await buffer(stream);
      expect(all.equals(big)).toBe(true);
      expect(chunks.length).toBeGreaterThan(1); // streamed, not one buffer
    });

    it('s3Input gunzips, detected from the bytes', async () => {
      const input = s3Input(s3.client, { bucket: BUCKET, key: sampleKey, etag: '' });
      expect(input.name).toBe(`s3://${BUCKET}/${sampleKey}`);
      const text = await buffer(await input.open());
      expect(text.equals(gunzipSync(sample))).toBe(true);
      expect(text.toString().split('\n')[0]).toMatch(/^version account-id interface-id/);
    });

    it.skipIf(!existsSync(SPLUNK))('the real S3 export from ../shared/data (skipped when absent)', async () => {
      const bytes = readFileSync(SPLUNK);
      const key = `real/AWSLogs/${A}/vpcflowlogs/us-east-1/2024/05/05/${A}_vpcflowlogs_us-east-1_${FL}_20240505T1200Z_00c0ffee.log.gz`;
      await putObjects(s3.client, BUCKET, [{ key, body: bytes }]);
      const listed = await collect(listFlowLogObjects(s3.client, { bucket: BUCKET, prefix: 'real/' }, { regions: ['us-east-1'], since: new Date('2024-05-05T12:04Z') }));
      expect(listed.map((o) => o.key)).toEqual([key]);
      expect(listed[0].size).toBe(bytes.length);
      const text = await buffer(await s3Input(s3.client, listed[0]).open());
      expect(text.equals(gunzipSync(bytes))).toBe(true);
      expect(text.toString().startsWith('version account-id interface-id srcaddr dstaddr')).toBe(true);
    });
    if (!existsSync(SPLUNK)) console.warn(`s3 real-export test skipped: ${SPLUNK} is absent`);

    it('a missing key, a missing bucket, a denied request: clear errors', async () => {
      const missing = await openS3Object(s3.client, BUCKET, 'nope/x.log.gz').catch((e) => e);
      expect(missing).toBeInstanceOf(S3InputError);
      expect(missing.message).toBe('s3://flow-logs/nope/x.log.gz: no such key');
      expect(missing.status).toBe(404);
      const noBucket = await openS3Object(s3.client, 'no-such-bucket', 'x.log.gz').catch((e) => e);
      expect(noBucket.message).toBe('s3://no-such-bucket/x.log.gz: no such bucket');
      const { proxy, client } = await viaProxy(() => 403);
      const denied = await openS3Object(client, BUCKET, sampleKey).catch((e) => e);
      expect(denied).toBeInstanceOf(InputError);
      expect(denied.message).toMatch(new RegExp(`^s3://flow-logs/${sampleKey}: access denied \\(AccessDenied`));
      expect(proxy.requests).toBe(1);
      const range = await readS3Range(client, BUCKET, sampleKey, 0, 10).catch((e) => e);
      expect(range.message).toMatch(/: access denied/);
    });

    it('wrong credentials are reported as such', async () => {
      const client = createS3Client({ endpointUrl: s3.endpoint }, { AWS_ACCESS_KEY_ID: 'NOT-S3RVER', AWS_SECRET_ACCESS_KEY: 'x', AWS_REGION: 'us-east-1' });
      const err = await openS3Object(client, BUCKET, sampleKey).catch((e) => e);
      client.destroy();
      expect(err.message).toMatch(/: the AWS credentials were refused \(InvalidAccessKeyId/);
    });

    it('sends If-Match with the ETag; a changed object is reported', async () => {
      const [listed] = await collect(listFlowLogObjects(s3.client, { bucket: BUCKET, prefix: sampleKey }));
      // s3rver ignores If-Match: the proxy plays S3's part
      const { proxy, client } = await viaProxy((_no, req) => (req.headers['if-match'] !== undefined && req.headers['if-match'] !== listed.etag ? 412 : 'pass'));
      const ok = await buffer(await openS3Object(client, BUCKET, sampleKey, listed.etag));
      expect(ok.equals(sample)).toBe(true);
      expect(proxy.seen[0].headers['if-match']).toBe(listed.etag);
      const stale = await openS3Object(client, BUCKET, sampleKey, '"0123456789abcdef0123456789abcdef"').catch((e) => e);
      expect(stale.message).toBe(`s3://flow-logs/${sampleKey}: the object changed since it was listed (its ETag no longer matches)`);
      const none = await buffer(await openS3Object(client, BUCKET, sampleKey));
      expect(none.equals(sample)).toBe(true);
      expect(proxy.seen[2].headers['if-match']).toBeUndefined();
    });

    it('retries 500, 503 and resets before the body', async () => {
      const plan: FaultAction[] = [503, 'reset', 500];
      const { proxy, client } = await viaProxy((no) => plan[no - 1] ?? 'pass');
      const body = await buffer(await openS3Object(client, BUCKET, bigKey));
      expect(body.equals(big)).toBe(true);
      expect(proxy.seen.map((r) => r.action)).toEqual([503, 'reset', 500, 'pass']);
    });

    it('a body cut short is a stream error naming the key', async () => {
      const { client } = await viaProxy(() => 'truncate');
      const stream = await openS3Object(client, BUCKET, bigKey);
      const err = await buffer(stream).catch((e) => e);
      expect(err).toBeInstanceOf(S3InputError);
      expect(err.message).toMatch(new RegExp(`^s3://flow-logs/${bigKey}: reading failed after \\d+ of ${big.length} bytes`));
    });

    it('readS3Range returns [start, end)', async () => {
      const size = big.length;
      for (const [start, end] of [
        [0, 1],
        [0, 4],
        [10, 20],
        [size - 8, size],
        [1000, 1000 + 300_000],
        [0, size],
        [5, 5],
        [size - 4, size + 100], // past the end: what there is
      ]) {
        const got = await readS3Range(s3.client, BUCKET, bigKey, start, end);
        expect(got.equals(big.subarray(start, end)), `[${start}, ${end})`).toBe(true);
      }
      // a Parquet footer: length then magic
      const parquet = facts.find((f) => f.body === PARQUET_BODY)!;
      const tail = await readS3Range(s3.client, BUCKET, parquet.key, PARQUET_BODY.length - 8, PARQUET_BODY.length);
      expect(tail.readUInt32LE(0)).toBe(300);
      expect(tail.toString('latin1', 4)).toBe('PAR1');
      await expect(readS3Range(s3.client, BUCKET, bigKey, 10, 5)).rejects.toThrow(RangeError);
      await expect(readS3Range(s3.client, BUCKET, bigKey, size + 10, size + 20)).rejects.toThrow(/outside the object/);
    });

    it('readS3Range reads again when the body is cut short', async () => {
      const plan: FaultAction[] = ['truncate', 503];
      const { proxy, client } = await viaProxy((no) => plan[no - 1] ?? 'pass');
      const got = await readS3Range(client, BUCKET, bigKey, 100, 200_100);
      expect(got.equals(big.subarray(100, 200_100))).toBe(true);
      expect(proxy.seen.map((r) => r.action)).toEqual(['truncate', 503, 'pass']);
      expect(proxy.seen.every((r) => r.headers.range === 'bytes=100-200099')).toBe(true);
    });
  });

  describe('createS3Client', () => {
    const home = mkdtempSync(path.join(tmpdir(), 'vpcflow-aws-home-'));
    const configFile = path.join(home, 'config');
    writeFileSync(configFile, '[default]\nregion = eu-north-1\n\n[profile other]\ns3 =\n  region = not-this-one\nregion = ap-southeast-2\n');
    afterAll(() => rmSync(home, { recursive: true, force: true }));
    /** An environment with nothing from the user's own AWS setup. */
    const env = (extra: Record<string, string> = {}): NodeJS.ProcessEnv => ({ HOME: home, AWS_CONFIG_FILE: path.join(home, 'absent'), ...extra });

    it('region: option, AWS_REGION, AWS_DEFAULT_REGION, the profile, us-east-1', async () => {
      const region = async (options: object, e: NodeJS.ProcessEnv) => {
        const c = createS3Client(options, e);
        const r = await c.config.region();
        c.destroy();
        return r;
      };
      expect(await region({}, env())).toBe('us-east-1');
      expect(await region({}, env({ AWS_CONFIG_FILE: configFile }))).toBe('eu-north-1');
      expect(await region({}, env({ AWS_CONFIG_FILE: configFile, AWS_PROFILE: 'other' }))).toBe('ap-southeast-2');
      expect(await region({ profile: 'other' }, env({ AWS_CONFIG_FILE: configFile }))).toBe('ap-southeast-2');
      expect(await region({ profile: 'absent' }, env({ AWS_CONFIG_FILE: configFile }))).toBe('us-east-1');
      expect(await region({}, env({ AWS_CONFIG_FILE: configFile, AWS_DEFAULT_REGION: 'sa-east-1' }))).toBe('sa-east-1');
      expect(await region({}, env({ AWS_DEFAULT_REGION: 'sa-east-1', AWS_REGION: 'ca-central-1' }))).toBe('ca-central-1');
      expect(await region({ region: 'me-south-1' }, env({ AWS_REGION: 'ca-central-1' }))).toBe('me-south-1');
    });

    it('settings: retries, redirects, path style, checksums', async () => {
      const c1 = createS3Client({}, env());
      expect(await c1.config.maxAttempts()).toBe(5);
      expect(c1.config.followRegionRedirects).toBe(true);
      expect(c1.config.forcePathStyle).toBe(false);
      expect(await c1.config.requestChecksumCalculation()).toBe('WHEN_SUPPORTED'); // AWS itself: the SDK defaults
      const c2 = createS3Client({ maxAttempts: 2, endpointUrl: 'http://localhost:9000' }, env({ AWS_MAX_ATTEMPTS: '7' }));
      expect(await c2.config.maxAttempts()).toBe(2);
      expect(c2.config.forcePathStyle).toBe(true);
      expect(await c2.config.requestChecksumCalculation()).toBe('WHEN_REQUIRED');
      expect(await c2.config.responseChecksumValidation()).toBe('WHEN_REQUIRED');
      const c3 = createS3Client({}, env({ AWS_MAX_ATTEMPTS: '7', AWS_ENDPOINT_URL: 'http://[::1]:9000' }));
      expect(await c3.config.maxAttempts()).toBe(7);
      expect(c3.config.forcePathStyle).toBe(true);
      const c4 = createS3Client({ endpointUrl: 'https://s3.example.test' }, env());
      expect(c4.config.forcePathStyle).toBe(false);
      for (const c of [c1, c2, c3, c4]) c.destroy();
      expect(() => createS3Client({ endpointUrl: 'localhost:9000' }, env())).toThrow(/invalid S3 endpoint URL "localhost:9000"/);
    });

    it('path-style or virtual-hosted requests', async () => {
      const target = async (options: { pathStyle?: boolean }) => {
        const c = createS3Client({ endpointUrl: 'https://s3.example.test', credentials: S3RVER_CREDENTIALS, maxAttempts: 1, ...options }, env());
        let url = '';
        c.middlewareStack.add(
          () => async (args: any) => {
            url = `${args.request.hostname}${args.request.path}`;
            throw new Error('not sent');
          },
          { step: 'build', name: 'captureUrl' },
        );
        await expect(c.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'a/b.log.gz' }))).rejects.toThrow('not sent');
        c.destroy();
        return url;
      };
      expect(await target({})).toBe(`${BUCKET}.s3.example.test/a/b.log.gz`);
      expect(await target({ pathStyle: true })).toBe(`s3.example.test/${BUCKET}/a/b.log.gz`);
      // an IP endpoint, for real: the bucket goes in the path
      const { proxy, client } = await viaProxy();
      await keysOf(client, BUCKET, 'loose/');
      expect(proxy.seen.length).toBeGreaterThan(0);
      for (const r of proxy.seen) {
        expect(r.url.startsWith(`/${BUCKET}?`) || r.url.startsWith(`/${BUCKET}/`)).toBe(true);
        expect(r.headers.host).toBe(new URL(proxy.endpoint).host);
      }
    });

    it('endpoint and keys from the environment: AWS_ENDPOINT_URL_S3 before AWS_ENDPOINT_URL', async () => {
      const dead = 'http://127.0.0.1:9'; // nothing listens there
      const keys = { AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'S3RVER' };
      const viaS3 = createS3Client({ maxAttempts: 1 }, env({ ...keys, AWS_ENDPOINT_URL_S3: s3.endpoint, AWS_ENDPOINT_URL: dead }));
      expect(await keysOf(viaS3, BUCKET, 'loose/')).toEqual(expected('loose/'));
      const viaGeneric = createS3Client({ maxAttempts: 1 }, env({ ...keys, AWS_ENDPOINT_URL: s3.endpoint }));
      expect(await keysOf(viaGeneric, BUCKET, 'loose/')).toEqual(expected('loose/'));
      const viaOption = createS3Client({ maxAttempts: 1, endpointUrl: s3.endpoint }, env({ ...keys, AWS_ENDPOINT_URL_S3: dead }));
      expect(await keysOf(viaOption, BUCKET, 'loose/')).toEqual(expected('loose/'));
      const ignored = createS3Client({ maxAttempts: 1 }, env({ ...keys, AWS_ENDPOINT_URL_S3: s3.endpoint, AWS_IGNORE_CONFIGURED_ENDPOINT_URLS: 'true' }));
      expect(ignored.config.forcePathStyle).toBe(false); // back to AWS itself
      const toDead = createS3Client({ maxAttempts: 1 }, env({ ...keys, AWS_ENDPOINT_URL_S3: dead, AWS_ENDPOINT_URL: s3.endpoint }));
      const err = await keysOf(toDead, BUCKET, 'loose/').catch((e) => e);
      expect(err.message).toMatch(/^s3:\/\/flow-logs\/loose\/AWSLogs\/: .*ECONNREFUSED/);
      for (const c of [viaS3, viaGeneric, viaOption, ignored, toDead]) c.destroy();
    });

    it('streamed uploads through a custom endpoint store the bytes as they are (checksums WHEN_REQUIRED)', async () => {
      const file = fixture('sample-default.log.gz');
      await s3.client.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'streamed/sample.log.gz', Body: createReadStream(file), ContentLength: statSync(file).size }));
      const back = await buffer(await openS3Object(s3.client, BUCKET, 'streamed/sample.log.gz'));
      expect(back.equals(readFileSync(file))).toBe(true);
      const listed = await s3.client.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: 'streamed/' }));
      expect(listed.Contents?.[0]?.Size).toBe(statSync(file).size);
    });
  });
});
