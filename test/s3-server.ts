/**
 * Test helpers for S3: a real S3-compatible server (s3rver, on loopback, random port, temp directory) and a fault
 * proxy in front of it that fails chosen requests.
 *
 * s3rver 3.7.1 quirks handled here (see patchListObjectsV2):
 * - its delimiter listing only finds common prefixes of keys one folder deep (`AWSLogs/` with `/` misses
 *   `AWSLogs/123456789012/` when the objects are deeper), and mixes folder and file order;
 * - its ListObjectsV2 continuation tokens use the DES cipher, which OpenSSL 3 (Node >= 17) no longer has: every
 *   truncated listing answers 500 InternalError;
 * so ListObjectsV2 (`list-type=2`) is answered by a small, faithful implementation over s3rver's own store (S3 key
 * order, CommonPrefixes counted in MaxKeys, opaque continuation tokens). Everything else (signature checks,
 * PutObject, GetObject with ranges, errors) is s3rver's.
 * - it ignores `If-Match` on GetObject; tests check that header through the fault proxy.
 * - with the SDK's default flexible checksums a streamed PutObject is sent `aws-chunked`, and s3rver stores the
 *   chunk framing as the object's bytes; createS3Client turns those checksums to WHEN_REQUIRED for custom endpoints.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import http, { type IncomingHttpHeaders, type IncomingMessage } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { CreateBucketCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { createS3Client, type S3ClientOptions } from '../src/sources/s3.js';

const require = createRequire(import.meta.url);

/** s3rver's built-in account. */
export const S3RVER_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };

export interface S3TestServer {
  endpoint: string;
  /** From createS3Client with this endpoint and s3rver's static credentials; nothing read from the environment. */
  client: S3Client;
  /** A client for another endpoint (e.g. a fault proxy in front of this server), same credentials. */
  clientFor(endpoint: string, options?: S3ClientOptions): S3Client;
  directory: string;
  stop(): Promise<void>;
}

export async function startS3Server(): Promise<S3TestServer> {
  patchListObjectsV2();
  const S3rver = require('s3rver');
  const directory = await mkdtemp(path.join(tmpdir(), 'vpcflow-s3rver-'));
  const server = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory });
  const address: AddressInfo = await server.run();
  const endpoint = `http://127.0.0.1:${address.port}`;
  const clients: S3Client[] = [];
  const clientFor = (url: string, options: S3ClientOptions = {}) => {
    const c = createS3Client({ region: 'us-east-1', credentials: S3RVER_CREDENTIALS, ...options, endpointUrl: url }, {});
    clients.push(c);
    return c;
  };
  const client = clientFor(endpoint);
  return {
    endpoint,
    client,
    clientFor,
    directory,
    async stop() {
      for (const c of clients) c.destroy();
      const closed = server.close();
      server.httpServer?.closeAllConnections?.();
      await closed;
      await rm(directory, { recursive: true, force: true });
    },
  };
}

export async function createBucket(client: S3Client, bucket: string): Promise<void> {
  await client.send(new CreateBucketCommand({ Bucket: bucket }));
}

/** Uploads the objects (a few at a time). */
export async function putObjects(client: S3Client, bucket: string, objects: Iterable<{ key: string; body: Buffer }>, concurrency = 16): Promise<void> {
  const queue = [...objects];
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      for (let o = queue.shift(); o; o = queue.shift()) await client.send(new PutObjectCommand({ Bucket: bucket, Key: o.key, Body: o.body }));
    }),
  );
}

// ------------------------------------------------------------------------------------------------------------------
// Fault proxy

/** What the proxy does with one request: forward it, answer with this HTTP status (S3-style XML error), reset the connection, or forward it and cut the response body in half. */
export type FaultAction = 'pass' | 'reset' | 'truncate' | 403 | 404 | 412 | 500 | 503 | number;

export interface SeenRequest {
  no: number;
  method: string;
  /** Path and query as sent. */
  url: string;
  headers: IncomingHttpHeaders;
  action: FaultAction;
}

export interface FaultProxy {
  endpoint: string;
  /** Requests received so far. */
  readonly requests: number;
  /** Every request received, in order. */
  readonly seen: SeenRequest[];
  stop(): Promise<void>;
}

const ERROR_CODES: Record<number, [string, string]> = {
  400: ['InvalidRequest', 'Invalid Request'],
  403: ['AccessDenied', 'Access Denied'],
  404: ['NoSuchKey', 'The specified key does not exist.'],
  412: ['PreconditionFailed', 'At least one of the pre-conditions you specified did not hold'],
  500: ['InternalError', 'We encountered an internal error. Please try again.'],
  503: ['SlowDown', 'Please reduce your request rate.'],
};

/** A tiny HTTP proxy on loopback in front of `target` (an s3rver endpoint) that fails the requests `plan` chooses (numbered from 1). */
export async function startFaultProxy(target: string, plan: (requestNo: number, req: IncomingMessage) => FaultAction = () => 'pass'): Promise<FaultProxy> {
  const upstreamUrl = new URL(target);
  const seen: SeenRequest[] = [];
  let requests = 0;
  const server = http.createServer((req, res) => {
    const no = ++requests;
    const action = plan(no, req);
    seen.push({ no, method: req.method ?? '', url: req.url ?? '', headers: req.headers, action });
    if (action === 'reset') {
      req.socket.resetAndDestroy();
      return;
    }
    if (typeof action === 'number') {
      req.resume();
      req.on('end', () => {
        const [code, message] = ERROR_CODES[action] ?? ['Error', `HTTP ${action}`];
        const body = `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message><RequestId>fault-${no}</RequestId><HostId>fault-proxy</HostId></Error>`;
        res.writeHead(action, { 'content-type': 'application/xml', 'content-length': Buffer.byteLength(body), 'x-amz-request-id': `fault-${no}` });
        res.end(req.method === 'HEAD' ? undefined : body);
      });
      return;
    }
    // The Host header is kept as it is: the request was signed for the proxy's address.
    const upstream = http.request(
      { host: upstreamUrl.hostname, port: upstreamUrl.port, method: req.method, path: req.url, headers: req.headers, agent: false },
      (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        if (action !== 'truncate') {
          up.pipe(res);
          return;
        }
        const parts: Buffer[] = [];
        up.on('data', (c: Buffer) => parts.push(c));
        up.on('end', () => {
          const body = Buffer.concat(parts);
          res.write(body.subarray(0, Math.floor(body.length / 2)), () => res.socket?.destroy());
        });
      },
    );
    upstream.on('error', (err) => res.destroy(err));
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    get requests() {
      return requests;
    },
    seen,
    async stop() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed;
    },
  };
}

/** The ListObjectsV2 requests among `seen`, as `prefix|delimiter` strings (`|` alone: no delimiter), in order. */
export function listRequests(seen: SeenRequest[]): string[] {
  return seen
    .filter((r) => r.method === 'GET' && new URL(r.url, 'http://x').searchParams.get('list-type') === '2')
    .map((r) => {
      const q = new URL(r.url, 'http://x').searchParams;
      return `${q.get('prefix') ?? ''}|${q.get('delimiter') ?? ''}`;
    });
}

// ------------------------------------------------------------------------------------------------------------------
// ListObjectsV2 for s3rver

/* eslint-disable @typescript-eslint/no-explicit-any */
function patchListObjectsV2(): void {
  const controller = require('s3rver/lib/controllers/bucket.js');
  if (controller.vpcflowPatched) return;
  const original = controller.getBucket;
  controller.getBucket = async function getBucket(ctx: any) {
    const q = ctx.query as Record<string, string | undefined>;
    const rawMax = q['max-keys'];
    if (q['list-type'] !== '2' || (rawMax !== undefined && !/^\d+$/.test(rawMax))) return original(ctx); // v1, or s3rver's own argument errors
    const prefix = q.prefix ?? '';
    const delimiter = q.delimiter ?? '';
    const maxKeys = rawMax === undefined ? 1000 : Math.min(1000, Number(rawMax));
    const token = q['continuation-token'];
    const startAfter = token ? Buffer.from(token, 'base64url').toString('utf8') : (q['start-after'] ?? '');
    const { objects } = await ctx.store.listObjects(ctx.params.bucket, { prefix, maxKeys: Infinity });
    const cmp = (a: string, b: string) => Buffer.compare(Buffer.from(a), Buffer.from(b));
    objects.sort((a: any, b: any) => cmp(a.key, b.key));
    const entries: Array<{ key: string; object?: any }> = [];
    let truncated = false;
    let lastPrefix: string | undefined;
    for (const object of objects) {
      const key: string = object.key;
      if (!key.startsWith(prefix) || cmp(key, startAfter) <= 0) continue;
      const at = delimiter ? key.indexOf(delimiter, prefix.length) : -1;
      if (at >= 0) {
        const common = key.slice(0, at + delimiter.length);
        if (common === lastPrefix || cmp(common, startAfter) <= 0) continue;
        lastPrefix = common;
        if (entries.length === maxKeys) {
          truncated = true;
          break;
        }
        entries.push({ key: common });
        continue;
      }
      if (entries.length === maxKeys) {
        truncated = true;
        break;
      }
      entries.push({ key, object });
    }
    const last = entries[entries.length - 1];
    ctx.body = {
      ListBucketResult: {
        '@': { xmlns: 'http://s3.amazonaws.com/doc/2006-03-01/' },
        Name: ctx.params.bucket,
        Prefix: prefix,
        StartAfter: token ? undefined : q['start-after'],
        ContinuationToken: token,
        NextContinuationToken: truncated && last ? Buffer.from(last.key).toString('base64url') : undefined,
        KeyCount: entries.length,
        MaxKeys: maxKeys,
        Delimiter: delimiter || undefined,
        IsTruncated: truncated,
        Contents: entries
          .filter((e) => e.object)
          .map(({ object }) => ({
            Key: object.key,
            LastModified: object.lastModifiedDate.toISOString(),
            ETag: object.metadata.etag,
            Size: object.size,
            StorageClass: 'STANDARD',
          })),
        CommonPrefixes: entries.filter((e) => !e.object).map((e) => ({ Prefix: e.key })),
      },
    };
  };
  controller.vpcflowPatched = true;
}
