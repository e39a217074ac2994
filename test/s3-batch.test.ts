import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { parquetWriteBuffer } from 'hyparquet-writer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixture, hasSharedData, ndjson, runCli, SHARED_DATA } from './helpers.js';
import { createBucket, putObjects, S3RVER_CREDENTIALS, startFaultProxy, startS3Server, type S3TestServer } from './s3-server.js';

// vpcflow run the way a user runs it against S3, with the real SDK, against s3rver on loopback.
let s3: S3TestServer;
const work = mkdtempSync(path.join(tmpdir(), 'vpcflow-s3-batch-'));
const BUCKET = 'flow-logs';
const SAMPLE = readFileSync(fixture('sample-default.log.gz'));
const A = '123456789012';
const B = '210987654321';

const name = (account: string, region: string, stamp: string, n: number, ext = 'log.gz') =>
  `${account}_vpcflowlogs_${region}_fl-0123456789abcdef0_${stamp}Z_${String(n).padStart(8, '0')}.${ext}`;

const OBJECTS: { key: string; body: Buffer }[] = [
  { key: `AWSLogs/${A}/vpcflowlogs/us-east-1/2024/11/07/${name(A, 'us-east-1', '20241107T1720', 1)}`, body: SAMPLE },
  { key: `AWSLogs/${A}/vpcflowlogs/us-east-1/2024/11/08/${name(A, 'us-east-1', '20241108T0900', 2)}`, body: SAMPLE },
  { key: `AWSLogs/${A}/vpcflowlogs/eu-west-1/2024/11/08/${name(A, 'eu-west-1', '20241108T0905', 3)}`, body: SAMPLE },
  { key: `AWSLogs/${B}/vpcflowlogs/us-east-1/2024/11/08/${name(B, 'us-east-1', '20241108T1000', 4)}`, body: SAMPLE },
];
const HIVE = `hive/AWSLogs/aws-account-id=${A}/aws-service=vpcflowlogs/aws-region=us-east-1/year=2024/month=11/day=07/hour=17/${name(A, 'us-east-1', '20241107T1720', 5)}`;
const ORG = `org/AWSLogs/o-a1b2c3d4e5/${A}/vpcflowlogs/us-east-1/2024/11/07/${name(A, 'us-east-1', '20241107T1725', 6)}`;
const CORRUPT = `corrupt/AWSLogs/${A}/vpcflowlogs/us-east-1/2024/11/07/${name(A, 'us-east-1', '20241107T1730', 7)}`;
const GOOD_NEXT_TO_CORRUPT = `corrupt/AWSLogs/${A}/vpcflowlogs/us-east-1/2024/11/07/${name(A, 'us-east-1', '20241107T1735', 8)}`;

function env(endpoint: string): Record<string, string> {
  return {
    AWS_ACCESS_KEY_ID: S3RVER_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: S3RVER_CREDENTIALS.secretAccessKey,
    AWS_REGION: 'us-east-1',
    AWS_ENDPOINT_URL_S3: endpoint,
    AWS_CONFIG_FILE: '/nonexistent',
    AWS_SHARED_CREDENTIALS_FILE: '/nonexistent',
  };
}

/** A Parquet object in the shape AWS writes (underscore column names, INT64 counts), from the sample's records. */
async function parquetSample(): Promise<Buffer> {
  const records = ndjson((await runCli(['--no-enrich', fixture('sample-default.log.gz')])).stdout);
  const int32 = ['version', 'srcport', 'dstport', 'protocol'];
  const int64 = ['packets', 'bytes', 'start', 'end'];
  const names = ['version', 'account_id', 'interface_id', 'srcaddr', 'dstaddr', 'srcport', 'dstport', 'protocol', 'packets', 'bytes', 'start', 'end', 'action', 'log_status'];
  const columnData = names.map((n) => ({
    name: n,
    data: records.map((r) => (r[n] === null ? null : int64.includes(n) ? BigInt(r[n] as number) : r[n])),
    type: int32.includes(n) ? ('INT32' as const) : int64.includes(n) ? ('INT64' as const) : ('STRING' as const),
  }));
  return Buffer.from(parquetWriteBuffer({ columnData }));
}

beforeAll(async () => {
  s3 = await startS3Server();
  await createBucket(s3.client, BUCKET);
  const extra = [
    { key: HIVE, body: SAMPLE },
    { key: ORG, body: SAMPLE },
    { key: CORRUPT, body: SAMPLE.subarray(0, SAMPLE.length - 40) },
    { key: GOOD_NEXT_TO_CORRUPT, body: SAMPLE },
    { key: `parquet/AWSLogs/${A}/vpcflowlogs/us-east-1/2024/11/07/${name(A, 'us-east-1', '20241107T1720', 9, 'log.parquet')}`, body: await parquetSample() },
  ];
  if (hasSharedData) {
    extra.push({
      key: `real/AWSLogs/841154226728/vpcflowlogs/us-west-2/2022/11/04/${name('841154226728', 'us-west-2', '20221104T2010', 10)}`,
      body: readFileSync(path.join(SHARED_DATA, 'flowlogs', 'splunk-gdi-toolkit_sample-vpcflow.log.gz')),
    });
  }
  await putObjects(s3.client, BUCKET, [...OBJECTS, ...extra]);
}, 60_000);
afterAll(async () => {
  await s3?.stop();
  rmSync(work, { recursive: true, force: true });
});

describe('vpcflow s3://bucket/prefix', () => {
  it('reads every object of the default layout and streams the records to stdout', async () => {
    const r = await runCli([`s3://${BUCKET}/`, '--no-enrich', '-q'], { env: env(s3.endpoint) });
    expect(r.code).toBe(0);
    expect(ndjson(r.stdout)).toHaveLength(4 * 40);
  });

  it('maps --account, --region, --since and --until onto the key layout', async () => {
    const count = async (...args: string[]) => (await runCli([`s3://${BUCKET}/`, '--no-enrich', ...args], { env: env(s3.endpoint) })).summary!.inputs;
    expect(await count('--account', B)).toBe(1);
    expect(await count('--region', 'eu-west-1')).toBe(1);
    expect(await count('--since', '2024-11-08', '--until', '2024-11-08T09:59Z')).toBe(2);
    expect(await count('--account', A, '--region', 'us-east-1', '--since', '2024-11-08')).toBe(1);
  });

  it('reads the hive-compatible, per-hour and organization layouts', async () => {
    for (const prefix of ['hive/', 'org/']) {
      const r = await runCli([`s3://${BUCKET}/${prefix}`, '--no-enrich', '--account', A, '--region', 'us-east-1', '--since', '2024-11-07T17:00Z', '--until', '2024-11-07T18:00Z'], { env: env(s3.endpoint) });
      expect(r.code, prefix).toBe(0);
      expect(r.summary, prefix).toMatchObject({ inputs: 1, records: 40 });
    }
  });

  it('reads Parquet objects (ranged reads) into the same records as the text export', async () => {
    const fromParquet = await runCli([`s3://${BUCKET}/parquet/`, '--no-enrich', '-q'], { env: env(s3.endpoint) });
    const fromText = await runCli(['--no-enrich', '-q', fixture('sample-default.log.gz')]);
    expect(fromParquet.code).toBe(0);
    expect(ndjson(fromParquet.stdout)).toEqual(ndjson(fromText.stdout));
  });

  it.skipIf(!hasSharedData)('reads the real S3 export (806 records, 0 rejects)', async () => {
    const r = await runCli([`s3://${BUCKET}/real/`, '--no-enrich'], { env: env(s3.endpoint) });
    expect(r.summary).toMatchObject({ inputs: 1, records: 806, rejected: 0 });
  });

  it('reports a corrupt object by key, keeps going and exits 1', async () => {
    const out = path.join(work, 'corrupt-out');
    const r = await runCli([`s3://${BUCKET}/corrupt/`, '--out', out, '--no-enrich'], { env: env(s3.endpoint) });
    expect(r.code).toBe(1);
    expect(r.logs.find((l) => l.level === 50)?.msg).toMatch(new RegExp(`s3://${BUCKET}/${CORRUPT}: corrupt or truncated gzip`));
    expect(r.summary).toMatchObject({ inputs: 2, failed_inputs: 1, records: 40 });
    expect(existsSync(path.join(out, GOOD_NEXT_TO_CORRUPT.replace('.log.gz', '.ndjson.gz')))).toBe(true);
    expect(existsSync(path.join(out, CORRUPT.replace('.log.gz', '.ndjson.gz')))).toBe(false);
  });

  it('rides out a server that fails some requests (retries with backoff)', async () => {
    let n = 0;
    const proxy = await startFaultProxy(s3.endpoint, () => (++n % 3 === 0 ? 503 : n % 5 === 0 ? 'reset' : 'pass'));
    try {
      const out = path.join(work, 'faulty-server-out');
      const r = await runCli([`s3://${BUCKET}/`, '--out', out, '--no-enrich', '--account', A, '--region', 'us-east-1'], { env: env(proxy.endpoint) });
      expect(r.code).toBe(0);
      expect(r.summary).toMatchObject({ inputs: 2, failed_inputs: 0, records: 80 });
      expect(n).toBeGreaterThan(3);
    } finally {
      await proxy.stop();
    }
  });

  it('writes its output to S3 (--out s3://…), Parquet in hive partitions, and resumes there too', async () => {
    const { ListObjectsV2Command } = await import('@aws-sdk/client-s3');
    const args = [`s3://${BUCKET}/`, '--out', `s3://${BUCKET}/athena/flows`, '-o', 'parquet', '--no-enrich', '--account', A];
    const first = await runCli(args, { env: env(s3.endpoint) });
    expect(first.code).toBe(0);
    const listed = await s3.client.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: 'athena/flows/' }));
    const keys = (listed.Contents ?? []).map((o) => o.Key!).sort();
    expect(keys.filter((k) => k.endsWith('.parquet')).map((k) => k.split('/').slice(2, 4).join('/'))).toEqual([
      'region=eu-west-1/date=2024-11-07',
      'region=us-east-1/date=2024-11-07',
      'region=us-east-1/date=2024-11-07',
    ]);
    expect(keys.filter((k) => k.includes('_vpcflow-manifest/'))).toHaveLength(3);
    const again = await runCli(args, { env: env(s3.endpoint) });
    expect(again.summary).toMatchObject({ inputs: 0, skipped_inputs: 3 });
  });

  it('resumes an interrupted run without re-reading finished objects or duplicating output', async () => {
    const out = path.join(work, 'resume-out');
    const first = await runCli([`s3://${BUCKET}/`, '--out', out, '--no-enrich', '--account', A], { env: env(s3.endpoint) });
    expect(first.summary).toMatchObject({ inputs: 3 });
    // Lose one finished object's manifest line, as if the run had been killed right before writing it.
    const manifest = path.join(out, '_vpcflow-manifest.jsonl');
    const lines = readFileSync(manifest, 'utf8').trim().split('\n');
    const { writeFileSync } = await import('node:fs');
    writeFileSync(manifest, lines.slice(0, 2).join('\n') + '\n');

    let gets = 0;
    const proxy = await startFaultProxy(s3.endpoint, (_n, req) => {
      if (req.method === 'GET' && !req.url?.includes('list-type')) gets++;
      return 'pass';
    });
    try {
      const second = await runCli([`s3://${BUCKET}/`, '--out', out, '--no-enrich', '--account', A], { env: env(proxy.endpoint) });
      expect(second.summary).toMatchObject({ inputs: 1, skipped_inputs: 2, records: 40 });
      expect(gets).toBe(1);
    } finally {
      await proxy.stop();
    }
    const outputs = readdirSync(out, { recursive: true }).map(String).filter((f) => f.endsWith('.ndjson.gz'));
    expect(outputs).toHaveLength(3);
    let total = 0;
    for (const f of outputs) total += ndjson(gunzipSync(readFileSync(path.join(out, f))).toString()).length;
    expect(total).toBe(120);
  });
});
