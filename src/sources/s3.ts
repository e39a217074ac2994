/**
 * Flow-log objects in S3: the client (configured the way the AWS CLI is), listing by key layout with as few
 * requests as the layout allows, streaming reads and ranged reads. Errors name the object and say why.
 */
import { buffer } from 'node:stream/consumers';
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { homedir } from 'node:os';
import path from 'node:path';
import { Readable, Transform } from 'node:stream';
import { GetObjectCommand, ListObjectsV2Command, S3Client, type ListObjectsV2CommandOutput, type S3ClientConfig } from '@aws-sdk/client-s3';
import { fromNodeProviderChain } from '@aws-sdk/credential-providers';
import { decompressed, InputError, type InputSource } from './inputs.js';
import { FILE_WINDOW_MS, isFlowLogObjectKey, keyMatches, parseFlowLogKey, type FlowLogKey, type KeyFilter } from './s3-layout.js';

// ---------------------------------------------------------------------------------------------------------------
// URLs

// Pure, so that naming an S3 output does not load the SDK; re-exported here for the library API.
export { parseS3Url, type S3Location } from './s3-layout.js';
import type { S3Location } from './s3-layout.js';

// ---------------------------------------------------------------------------------------------------------------
// Client

export interface S3ClientOptions {
  profile?: string;
  region?: string;
  endpointUrl?: string;
  pathStyle?: boolean;
  /** Attempts per request, the first included (default: $AWS_MAX_ATTEMPTS, else 5). */
  maxAttempts?: number;
  /** Explicit credentials instead of the credential chain (tests, embedding). Not plain data: not for worker threads. */
  credentials?: S3ClientConfig['credentials'];
}

/**
 * Like the AWS CLI: standard credential chain (env, shared config/credentials files with `profile` / AWS_PROFILE,
 * SSO, IMDS…); region from `region`, else AWS_REGION / AWS_DEFAULT_REGION / the profile, else us-east-1; endpoint
 * from `endpointUrl`, else AWS_ENDPOINT_URL_S3, else AWS_ENDPOINT_URL; path-style addressing when asked or when the
 * endpoint host is an IP address or localhost; `followRegionRedirects: true` so a bucket in another region still
 * works; retries with backoff (the SDK's standard retry strategy, maxAttempts).
 *
 * `env` is what is read for the settings above and for static keys (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY /
 * AWS_SESSION_TOKEN); the SDK's other credential providers (files, SSO, IMDS…) read the process environment.
 * As in the CLI, an explicit `profile` wins over keys in the environment, and keys in the environment win over
 * AWS_PROFILE.
 */
export function createS3Client(options: S3ClientOptions = {}, env: NodeJS.ProcessEnv = process.env): S3Client {
  const profile = options.profile ?? nonEmpty(env.AWS_PROFILE);
  const region = options.region ?? nonEmpty(env.AWS_REGION) ?? nonEmpty(env.AWS_DEFAULT_REGION) ?? profileRegion(profile ?? 'default', env) ?? 'us-east-1';
  const ignoreEnvEndpoints = env.AWS_IGNORE_CONFIGURED_ENDPOINT_URLS?.toLowerCase() === 'true';
  const endpoint = options.endpointUrl ?? (ignoreEnvEndpoints ? undefined : (nonEmpty(env.AWS_ENDPOINT_URL_S3) ?? nonEmpty(env.AWS_ENDPOINT_URL)));
  let forcePathStyle = options.pathStyle === true;
  if (endpoint !== undefined) {
    let url: URL;
    try {
      url = new URL(endpoint);
    } catch {
      throw new Error(`invalid S3 endpoint URL "${endpoint}" (expected http://host[:port] or https://host[:port])`);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error(`invalid S3 endpoint URL "${endpoint}": the scheme must be http or https`);
    const host = url.hostname.replace(/^\[|\]$/g, '');
    if (isIP(host) !== 0 || host === 'localhost' || host.endsWith('.localhost')) forcePathStyle = true;
  }
  const envKeys = nonEmpty(env.AWS_ACCESS_KEY_ID) && nonEmpty(env.AWS_SECRET_ACCESS_KEY);
  const credentials: S3ClientConfig['credentials'] =
    options.credentials ??
    (options.profile === undefined && envKeys
      ? { accessKeyId: env.AWS_ACCESS_KEY_ID!, secretAccessKey: env.AWS_SECRET_ACCESS_KEY!, sessionToken: nonEmpty(env.AWS_SESSION_TOKEN) }
      : fromNodeProviderChain({ profile, clientConfig: { region } }));
  const envAttempts = Number(env.AWS_MAX_ATTEMPTS);
  const maxAttempts = options.maxAttempts ?? (Number.isInteger(envAttempts) && envAttempts > 0 ? envAttempts : 5);
  return new S3Client({
    region,
    ...(profile !== undefined ? { profile } : {}), // for the SDK's own reading of the config file (endpoint_url…)
    ...(endpoint !== undefined ? { endpoint } : {}),
    forcePathStyle,
    followRegionRedirects: true,
    credentials,
    maxAttempts,
    retryMode: 'standard',
    requestHandler: { connectionTimeout: 10_000 },
    // Since 3.729 the SDK adds CRC32 checksums by default: streamed uploads are sent as `aws-chunked` bodies with a
    // checksum trailer, and downloads ask for checksum mode. Many S3-compatible servers do not speak that: s3rver
    // (used by the tests) stores the aws-chunked framing as the object's bytes. Against a custom endpoint only send
    // and check checksums when the operation requires them; AWS itself keeps the defaults.
    ...(endpoint !== undefined ? { requestChecksumCalculation: 'WHEN_REQUIRED', responseChecksumValidation: 'WHEN_REQUIRED' } : {}),
  });
}

function nonEmpty(v: string | undefined): string | undefined {
  return v === undefined || v === '' ? undefined : v;
}

/** `region` of a profile in the shared config file ($AWS_CONFIG_FILE, else ~/.aws/config), or undefined. */
function profileRegion(profile: string, env: NodeJS.ProcessEnv): string | undefined {
  const home = nonEmpty(env.HOME) ?? nonEmpty(env.USERPROFILE) ?? homedir();
  let file = nonEmpty(env.AWS_CONFIG_FILE) ?? path.join(home, '.aws', 'config');
  if (file.startsWith('~/')) file = path.join(home, file.slice(2));
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
  const wanted = profile === 'default' ? ['default', 'profile default'] : [`profile ${profile}`];
  let inSection = false;
  for (const raw of text.split(/\r?\n/)) {
    if (/^\s*([#;]|$)/.test(raw)) continue;
    const section = /^\s*\[\s*([^\]]*?)\s*\]/.exec(raw);
    if (section) {
      inSection = wanted.includes(section[1].replace(/\s+/g, ' '));
      continue;
    }
    if (!inSection || /^\s/.test(raw)) continue; // indented lines are nested settings (`s3 =` …)
    const kv = /^([^=]+?)\s*=\s*(.*?)\s*$/.exec(raw);
    if (kv && kv[1] === 'region' && kv[2] !== '') return kv[2];
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------------------------
// Errors

/** An S3 request that failed for good (after the client's retries): names the bucket/key and says why. */
export class S3InputError extends InputError {
  constructor(
    source: string,
    message: string,
    /** HTTP status, when the server answered. */
    readonly status: number | undefined,
    /** S3 error code (`AccessDenied`, `NoSuchKey`…) or Node error code. */
    readonly code: string | undefined,
    options?: { cause?: unknown },
  ) {
    super(source, message);
    if (options && 'cause' in options) (this as { cause?: unknown }).cause = options.cause;
  }
}

function s3Error(source: string, err: unknown, what: 'object' | 'listing' = 'object'): S3InputError {
  if (err instanceof S3InputError) return err;
  const e = err as { name?: string; Code?: string; code?: string; message?: string; $metadata?: { httpStatusCode?: number; attempts?: number } };
  const status = e?.$metadata?.httpStatusCode;
  const code = e?.Code ?? (e?.name && e.name !== 'Error' && e.name !== 'S3ServiceException' ? e.name : undefined) ?? e?.code;
  const detail = e?.message && e.message !== code && e.message !== 'UnknownError' ? `: ${e.message}` : '';
  const attempts = e?.$metadata?.attempts && e.$metadata.attempts > 1 ? ` (after ${e.$metadata.attempts} attempts)` : '';
  let reason: string;
  switch (code) {
    case 'NoSuchKey':
      reason = 'no such key';
      break;
    case 'NoSuchBucket':
      reason = 'no such bucket';
      break;
    case 'AccessDenied':
    case 'AllAccessDisabled':
      reason =
        what === 'object'
          ? `access denied (${code}; S3 also answers this for a missing key when s3:ListBucket is not allowed)`
          : `access denied (${code}; listing needs s3:ListBucket on the bucket)`;
      break;
    case 'InvalidAccessKeyId':
    case 'SignatureDoesNotMatch':
    case 'ExpiredToken':
    case 'InvalidToken':
    case 'TokenRefreshRequired':
      reason = `the AWS credentials were refused (${code}${detail})`;
      break;
    case 'CredentialsProviderError':
      reason = `no AWS credentials (${e.message ?? code}); set AWS_PROFILE or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, or log in with aws sso login`;
      break;
    case 'PreconditionFailed':
      reason = 'the object changed since it was listed (its ETag no longer matches)';
      break;
    case 'InvalidRange':
      reason = `the requested range is outside the object (InvalidRange${detail})`;
      break;
    default:
      if (status === 403) reason = `access denied (HTTP 403${code ? ` ${code}` : ''})`;
      else if (status === 404) reason = what === 'object' ? 'no such key (HTTP 404)' : 'not found (HTTP 404)';
      else if (status === 412) reason = 'the object changed since it was listed (its ETag no longer matches)';
      else reason = `${code ?? 'error'}${status ? ` (HTTP ${status})` : ''}${detail}${attempts}`;
  }
  return new S3InputError(source, reason, status, code, { cause: err });
}

// ---------------------------------------------------------------------------------------------------------------
// Listing

export interface S3Object {
  bucket: string;
  key: string;
  size: number;
  etag: string;
  lastModified: Date | null;
  info: FlowLogKey;
}

/** Tuning of listFlowLogObjects; for tests and the odd special case. */
export interface ListOptions {
  /** MaxKeys of each ListObjectsV2 request (default 1000, S3's maximum). */
  pageSize?: number;
  /** With both since and until, day prefixes are listed one by one when the range spans at most this many days (default 31); longer or open ranges are found by walking years, months and days. */
  maxDirectDays?: number;
}

type Layout = 'default' | 'hive';

/**
 * Lists the flow-log objects under `location` that can match `filter`, paginating, visiting as few prefixes as
 * the key layout allows: it discovers the layout with delimiter listings under `{prefix}AWSLogs/` (default: account
 * dirs of 12 digits; hive: `aws-account-id=`; organization: `o-…/` then accounts), then `vpcflowlogs/` or
 * `aws-service=vpcflowlogs/`, then region dirs (only those in filter.regions), and with since/until it lists only
 * the day prefixes in range (`yyyy/mm/dd/` or `year=…/month=…/day=…/`) instead of everything. When `location.prefix`
 * already points inside that tree (e.g. `…/vpcflowlogs/eu-west-1/2024/`), or has no AWSLogs/ under it, it lists
 * everything under the prefix and filters by parsed key. Objects are yielded in key order within each listed
 * prefix; keys that are not flow-log objects (e.g. not .gz/.log/.parquet, or `/` markers) are skipped.
 *
 * Details: a prefix that ends exactly at a level of the tree (`…/AWSLogs/`, `…/AWSLogs/{account}/`,
 * `…/vpcflowlogs/`, `…/vpcflowlogs/{region}/`, same in hive) carries on with the discovery from that level. Without
 * `AWSLogs/` in it, a prefix is a folder for the discovery (`logs` looks in `logs/AWSLogs/`) and a plain key prefix
 * for the fallback listing (so `s3://bucket/path/file.log.gz` lists that one object). A day partition is assumed to
 * hold the files whose file time falls on that day (UTC). Failures throw S3InputError naming the prefix.
 */
export async function* listFlowLogObjects(client: S3Client, location: S3Location, filter: KeyFilter = {}, options: ListOptions = {}): AsyncGenerator<S3Object> {
  for (const [name, d] of [['since', filter.since], ['until', filter.until]] as const) {
    if (d !== undefined && Number.isNaN(d.getTime())) throw new RangeError(`listFlowLogObjects: invalid ${name} date`);
  }
  if (filter.since && filter.until && filter.since.getTime() >= filter.until.getTime()) return;
  const lister = new Lister(client, location.bucket, filter, options);
  yield* lister.run(location.prefix);
}

class Lister {
  private readonly pageSize: number;
  private readonly maxDirectDays: number;
  /** Files can match when their file time is in (lo, hi): their 5-minute window then overlaps [since, until). */
  private readonly lo: number;
  private readonly hi: number;
  private readonly timed: boolean;

  constructor(
    private readonly client: S3Client,
    private readonly bucket: string,
    private readonly filter: KeyFilter,
    options: ListOptions,
  ) {
    this.pageSize = Math.max(1, Math.min(1000, options.pageSize ?? 1000));
    this.maxDirectDays = options.maxDirectDays ?? 31;
    this.lo = filter.since ? filter.since.getTime() - FILE_WINDOW_MS : -Infinity;
    this.hi = filter.until ? filter.until.getTime() : Infinity;
    this.timed = filter.since !== undefined || filter.until !== undefined;
  }

  async *run(prefix: string): AsyncGenerator<S3Object> {
    const at = /(^|\/)AWSLogs\//.exec(prefix);
    if (at) {
      const root = prefix.slice(0, at.index + at[0].length);
      yield* this.resume(root, prefix.slice(root.length), prefix);
      return;
    }
    const root = `${prefix === '' || prefix.endsWith('/') ? prefix : `${prefix}/`}AWSLogs/`;
    const first = await this.page(root, '/', undefined);
    if ((first.CommonPrefixes?.length ?? 0) === 0 && (first.Contents?.length ?? 0) === 0) {
      yield* this.listAll(prefix);
      return;
    }
    yield* this.walkRoot(root, first);
  }

  /** Carries on from where `rest` (the part of the prefix after `AWSLogs/`) stops in the tree. */
  private async *resume(root: string, rest: string, prefix: string): AsyncGenerator<S3Object> {
    const segs = rest.split('/');
    if (rest === '') return yield* this.walkRoot(root);
    if (segs[segs.length - 1] !== '') return yield* this.listAll(prefix); // ends inside a name
    segs.pop();
    let i = 0;
    let base = root;
    if (/^o-[a-z0-9]{10,32}$/.test(segs[0])) {
      base += `${segs[0]}/`;
      i = 1;
      if (segs.length === 1) return yield* this.walkAccounts(base);
    }
    const acct = segs[i];
    const layout: Layout | null = /^\d{12}$/.test(acct) ? 'default' : /^aws-account-id=\d{12}$/.test(acct) ? 'hive' : null;
    if (!layout) return yield* this.listAll(prefix);
    if (!this.accountWanted(layout === 'hive' ? acct.slice(15) : acct)) return;
    const service = layout === 'hive' ? 'aws-service=vpcflowlogs' : 'vpcflowlogs';
    if (segs.length === i + 1) return yield* this.walkService(`${base}${acct}/${service}/`, layout);
    if (segs[i + 1] !== service) return; // another service's logs
    if (segs.length === i + 2) return yield* this.walkService(prefix, layout);
    const regionSeg = segs[i + 2];
    const region = layout === 'hive' ? (regionSeg.startsWith('aws-region=') ? regionSeg.slice(11) : null) : regionSeg;
    if (region === null) return yield* this.listAll(prefix);
    if (!this.regionWanted(region)) return;
    if (segs.length === i + 3) return yield* this.walkRegion(prefix, layout);
    yield* this.listAll(prefix);
  }

  private async *walkRoot(root: string, first?: ListObjectsV2CommandOutput): AsyncGenerator<S3Object> {
    for await (const dir of this.dirs(root, first)) {
      const name = dir.slice(root.length, -1);
      if (/^o-[a-z0-9]{10,32}$/.test(name)) yield* this.walkAccounts(dir);
      else yield* this.walkAccount(dir, name);
    }
  }

  /** The account folders of an organization. */
  private async *walkAccounts(org: string): AsyncGenerator<S3Object> {
    for await (const dir of this.dirs(org)) yield* this.walkAccount(dir, dir.slice(org.length, -1));
  }

  private async *walkAccount(dir: string, name: string): AsyncGenerator<S3Object> {
    if (/^\d{12}$/.test(name)) {
      if (this.accountWanted(name)) yield* this.walkService(`${dir}vpcflowlogs/`, 'default');
    } else if (/^aws-account-id=\d{12}$/.test(name)) {
      if (this.accountWanted(name.slice(15))) yield* this.walkService(`${dir}aws-service=vpcflowlogs/`, 'hive');
    }
    // anything else under AWSLogs/ is not a flow-log layout
  }

  private async *walkService(service: string, layout: Layout): AsyncGenerator<S3Object> {
    const regions = this.filter.regions?.length ? [...new Set(this.filter.regions)] : null;
    if (regions) {
      const dirs = regions.map((r) => `${service}${layout === 'hive' ? `aws-region=${r}` : r}/`).sort(byKey);
      for (const dir of dirs) yield* this.walkRegion(dir, layout);
      return;
    }
    for await (const dir of this.dirs(service)) yield* this.walkRegion(dir, layout);
  }

  private async *walkRegion(region: string, layout: Layout): AsyncGenerator<S3Object> {
    if (!this.timed) return yield* this.listAll(region);
    if (this.lo >= this.hi) return;
    if (Number.isFinite(this.lo) && Number.isFinite(this.hi)) {
      const first = dayStart(this.lo);
      const last = dayStart(this.hi - 1);
      const days = (last - first) / DAY_MS + 1;
      if (days <= this.maxDirectDays) {
        for (let d = first; d <= last; d += DAY_MS) yield* this.listAll(region + dayPath(d, layout));
        return;
      }
    }
    yield* this.descend(region, layout, 0, 0, 0);
  }

  /**
   * Walks the date folders below `dir` (level 0 years, 1 months, 2 days): a folder entirely inside the range is
   * listed whole, one that overlaps it is walked further (a day is listed and filtered by key), others are skipped.
   */
  private async *descend(dir: string, layout: Layout, level: 0 | 1 | 2, year: number, month: number): AsyncGenerator<S3Object> {
    const names = ['year', 'month', 'day'] as const;
    for await (const child of this.dirs(dir)) {
      let seg = child.slice(dir.length, -1);
      if (layout === 'hive') {
        if (!seg.startsWith(`${names[level]}=`)) continue;
        seg = seg.slice(names[level].length + 1);
      }
      if (!(level === 0 ? /^\d{4}$/ : /^\d{1,2}$/).test(seg)) continue;
      const n = Number(seg);
      let start: number;
      let end: number;
      if (level === 0) {
        start = Date.UTC(n, 0, 1);
        end = Date.UTC(n + 1, 0, 1);
      } else if (level === 1) {
        if (n < 1 || n > 12) continue;
        start = Date.UTC(year, n - 1, 1);
        end = Date.UTC(year, n, 1);
      } else {
        if (n < 1 || n > 31) continue;
        start = Date.UTC(year, month - 1, n);
        end = start + DAY_MS;
      }
      if (end <= this.lo || start >= this.hi) continue; // a file time t in [start, end) needs lo < t < hi
      if ((start > this.lo && end <= this.hi) || level === 2) yield* this.listAll(child);
      else yield* this.descend(child, layout, (level + 1) as 1 | 2, level === 0 ? n : year, level === 1 ? n : month);
    }
  }

  private accountWanted(account: string): boolean {
    const a = this.filter.accounts;
    return !a || a.length === 0 || a.includes(account);
  }

  private regionWanted(region: string): boolean {
    const r = this.filter.regions;
    return !r || r.length === 0 || r.includes(region);
  }

  /** Every object under `prefix` (no delimiter), page by page, keeping the flow-log objects that match the filter. */
  private async *listAll(prefix: string): AsyncGenerator<S3Object> {
    let token: string | undefined;
    do {
      const out = await this.page(prefix, undefined, token);
      for (const c of out.Contents ?? []) {
        const key = c.Key;
        if (key === undefined || !isFlowLogObjectKey(key)) continue;
        const info = parseFlowLogKey(key);
        // below AWSLogs/ but not a flow-log layout nor a flow-log file name: another service's logs (CloudTrail…)
        if (info.layout === 'unknown' && info.account === null && /(^|\/)AWSLogs\//.test(key)) continue;
        if (!keyMatches(info, this.filter)) continue;
        yield { bucket: this.bucket, key, size: c.Size ?? 0, etag: c.ETag ?? '', lastModified: c.LastModified ?? null, info };
      }
      token = out.IsTruncated ? out.NextContinuationToken : undefined;
    } while (token);
  }

  /** The sub-folders (common prefixes, with their trailing `/`) of `prefix`, across pages. */
  private async *dirs(prefix: string, first?: ListObjectsV2CommandOutput): AsyncGenerator<string> {
    let out = first ?? (await this.page(prefix, '/', undefined));
    for (;;) {
      for (const p of out.CommonPrefixes ?? []) if (p.Prefix) yield p.Prefix;
      const token = out.IsTruncated ? out.NextContinuationToken : undefined;
      if (!token) return;
      out = await this.page(prefix, '/', token);
    }
  }

  private async page(prefix: string, delimiter: string | undefined, token: string | undefined): Promise<ListObjectsV2CommandOutput> {
    try {
      return await this.client.send(
        new ListObjectsV2Command({ Bucket: this.bucket, Prefix: prefix || undefined, Delimiter: delimiter, MaxKeys: this.pageSize, ContinuationToken: token }),
      );
    } catch (err) {
      throw s3Error(`s3://${this.bucket}/${prefix}`, err, 'listing');
    }
  }
}

const DAY_MS = 24 * 3600 * 1000;

function dayStart(t: number): number {
  return Math.floor(t / DAY_MS) * DAY_MS;
}

function dayPath(t: number, layout: Layout): string {
  const d = new Date(t);
  const y = String(d.getUTCFullYear()).padStart(4, '0');
  const m = String(d.getUTCMonth() + 1).padStart(2, '0');
  const day = String(d.getUTCDate()).padStart(2, '0');
  return layout === 'hive' ? `year=${y}/month=${m}/day=${day}/` : `${y}/${m}/${day}/`;
}

/** S3 key order: by UTF-8 bytes. */
function byKey(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}

// ---------------------------------------------------------------------------------------------------------------
// Reading

/**
 * GetObject as a Node Readable (streaming, not buffered whole). Transient errors before the body starts are retried
 * by the client; an error mid-body surfaces as a stream error. A 403/404 gives an Error whose message names the key
 * and the reason (access denied / no such key).
 *
 * Errors are S3InputErrors (InputErrors, source `s3://bucket/key`), in the stream too; a body that ends before its
 * Content-Length is an error as well.
 */
export async function openS3Object(client: S3Client, bucket: string, key: string, etag?: string): Promise<Readable> {
  const source = `s3://${bucket}/${key}`;
  let body: Readable;
  let expected: number | undefined;
  try {
    const out = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key, IfMatch: etag || undefined }));
    body = asReadable(out.Body, source);
    expected = out.ContentLength;
  } catch (err) {
    throw s3Error(source, err);
  }
  let received = 0;
  const counted = new Transform({
    highWaterMark: 256 * 1024, // a little read-ahead over the network
    transform(chunk: Buffer, _encoding, callback) {
      received += chunk.length;
      callback(null, chunk);
    },
    flush(callback) {
      if (expected !== undefined && received !== expected) {
        callback(new S3InputError(source, `the body ended after ${received} of ${expected} bytes`, undefined, 'Truncated'));
      } else callback();
    },
    destroy(err, callback) {
      if (!body.destroyed) body.destroy(); // the consumer stopped early: release the connection
      if (err && !(err instanceof S3InputError)) {
        const lost = expected !== undefined ? ` after ${received} of ${expected} bytes` : ` after ${received} bytes`;
        const code = (err as NodeJS.ErrnoException).code;
        err = new S3InputError(source, `reading failed${lost} (${code ? `${code}: ` : ''}${err.message})`, undefined, code ?? err.name, { cause: err });
      }
      callback(err);
    },
  });
  body.on('error', (err) => counted.destroy(err));
  body.pipe(counted);
  return counted;
}

/** Ranged reads for Parquet (footer first): returns the bytes [start, end) of the object (fewer if it ends before `end`). */
export async function readS3Range(client: S3Client, bucket: string, key: string, start: number, end: number): Promise<Buffer> {
  const source = `s3://${bucket}/${key}`;
  if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || start < 0 || end < start) {
    throw new RangeError(`${source}: invalid byte range [${start}, ${end})`);
  }
  if (end === start) return Buffer.alloc(0);
  const want = end - start;
  const attempts = 3; // for bodies cut short; errors before the body are retried by the client itself
  for (let attempt = 1; ; attempt++) {
    let out;
    try {
      out = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key, Range: `bytes=${start}-${end - 1}` }));
    } catch (err) {
      throw s3Error(source, err);
    }
    let bytes: Buffer;
    try {
      bytes = await buffer(asReadable(out.Body, source));
    } catch (err) {
      if (attempt < attempts) continue;
      throw s3Error(source, err);
    }
    if (out.ContentLength !== undefined && bytes.length !== out.ContentLength) {
      if (attempt < attempts) continue;
      throw new S3InputError(source, `the body ended after ${bytes.length} of ${out.ContentLength} bytes`, undefined, 'Truncated');
    }
    // Content-Range: bytes first-last/total. A server that ignores the range (200) sends the whole object; some
    // (s3rver for `bytes=0-0`) send more than asked: cut what was asked for out of what came.
    const range = /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(out.ContentRange ?? '');
    const from = range ? Number(range[1]) : out.$metadata.httpStatusCode === 206 ? start : 0;
    if (from > start) throw new S3InputError(source, `the server sent bytes from ${from} for a range starting at ${start}`, out.$metadata.httpStatusCode, 'BadRange');
    return bytes.subarray(start - from, start - from + want);
  }
}

function asReadable(body: unknown, source: string): Readable {
  if (body instanceof Readable) return body;
  throw new S3InputError(source, 'the response has no readable body', undefined, 'NoBody');
}

/** An S3 object as an input of the decoder: named `s3://bucket/key`, gunzipped when it is gzip (detected from the bytes). */
export function s3Input(client: S3Client, object: Pick<S3Object, 'bucket' | 'key' | 'etag'>): InputSource {
  const name = `s3://${object.bucket}/${object.key}`;
  return { name, open: async () => decompressed(await openS3Object(client, object.bucket, object.key, object.etag || undefined), name) };
}
