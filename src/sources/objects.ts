import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { S3Client } from '@aws-sdk/client-s3';
import type { DecoderState } from '../decode/flow-decoder.js';
import { readPart } from './file-parts.js';
import { fileSource, InputError } from './inputs.js';
import type { AsyncByteSource } from './parquet.js';
import { keyMatches, parseFlowLogKey, parseS3Url, type FlowLogKey, type KeyFilter, type S3Location } from './s3-layout.js';

/**
 * One flow-log object of a batch: an S3 object or a local file of a downloaded export. The same shape for both, so
 * a local directory goes through exactly the path an S3 prefix does.
 */
export interface FlowLogObject {
  /** `s3://bucket/key` or the local path. */
  readonly id: string;
  /** Where to read it from: plain data, so an object can be handed to a worker thread. */
  readonly location: { readonly kind: 'local'; readonly path: string } | { readonly kind: 's3'; readonly bucket: string; readonly key: string };
  /** The key (or the path relative to the directory given), used to name outputs. */
  readonly key: string;
  readonly size: number;
  /** S3 ETag, or size and modification time of a local file: a changed object is not "finished". */
  readonly etag: string;
  readonly info: FlowLogKey;
  /** Set when the object is one part of a big local file shared between worker threads. */
  readonly part?: FilePart;
}

/** The lines starting within bytes [start, end) of a file (see readPart). */
export interface FilePart {
  /** The file itself (the object's id names the part). */
  readonly file: string;
  readonly index: number;
  readonly last: boolean;
  readonly start: number;
  readonly end: number;
  /**
   * The decoder state the part starts in: for the first part none (it starts like any file); for the others the
   * state after the head of the file, a guess checked against where the part before really ended.
   */
  readonly state: DecoderState | null;
}

/** The object as flow-log text: gunzipped, or Parquet turned into a header line and record lines. */
export function openObject(obj: FlowLogObject, client: S3Client | null): Promise<AsyncIterable<Buffer>> {
  if (obj.part) return Promise.resolve(readPart(obj.part.file, obj.part.start, obj.part.end));
  // A local file is opened like any file input: gzip and Parquet are recognised from their first bytes.
  if (obj.location.kind === 'local') return fileSource(obj.location.path).open();
  if (!client) throw new Error(`${obj.id}: no S3 client`);
  return openS3(client, obj.location.bucket, obj.location.key, obj.etag, obj.size, obj.info);
}

const FLOW_LOG_FILE = /\.(log|txt|gz|parquet)$/i;

/** Every flow-log file below a local directory (or the file itself), matching the filter, in name order. */
export async function* localObjects(root: string, filter: KeyFilter = {}): AsyncGenerator<FlowLogObject> {
  const stat = await fs.stat(root).catch((err: NodeJS.ErrnoException) => {
    throw new InputError(root, err.code === 'ENOENT' ? 'no such file or directory' : err.message);
  });
  const files = stat.isDirectory() ? await walk(root) : [root];
  for (const file of files) {
    const key = stat.isDirectory() ? path.relative(root, file).split(path.sep).join('/') : path.basename(file);
    if (!FLOW_LOG_FILE.test(key)) continue;
    const info = parseFlowLogKey(key);
    if (!keyMatches(info, filter)) continue;
    const s = await fs.stat(file);
    yield { id: file, location: { kind: 'local', path: file }, key, size: s.size, etag: `${s.size}-${Math.floor(s.mtimeMs)}`, info };
  }
}

async function walk(dir: string): Promise<string[]> {
  const out: string[] = [];
  const entries = (await fs.readdir(dir, { withFileTypes: true })).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const e of entries) {
    if (e.name.startsWith('.') || e.name.startsWith('_')) continue;
    const full = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...(await walk(full)));
    else if (e.isFile()) out.push(full);
  }
  return out;
}

/** The flow-log objects under an S3 URL, matching the filter. */
export async function* s3Objects(client: S3Client, url: string | S3Location, filter: KeyFilter = {}): AsyncGenerator<FlowLogObject> {
  const location = typeof url === 'string' ? parseS3Url(url) : url;
  // Loaded on demand: the SDK costs ~150 ms of start-up, in every worker thread too.
  const { listFlowLogObjects } = await import('./s3.js');
  for await (const o of listFlowLogObjects(client, location, filter)) {
    yield { id: `s3://${o.bucket}/${o.key}`, location: { kind: 's3', bucket: o.bucket, key: o.key }, key: o.key, size: o.size, etag: o.etag, info: o.info };
  }
}

async function openS3(client: S3Client, bucket: string, key: string, etag: string, size: number, info: FlowLogKey): Promise<AsyncIterable<Buffer>> {
  const { readS3Range, s3Input } = await import('./s3.js');
  if (info.format === 'parquet') {
    const { parquetToText } = await import('./parquet.js');
    // Parquet is read footer first, with ranged GETs: the object is never held whole.
    const source: AsyncByteSource = {
      byteLength: size,
      slice: async (start, end) => {
        const bytes = await readS3Range(client, bucket, key, start, end ?? size);
        return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
      },
    };
    return parquetToText(source, `s3://${bucket}/${key}`);
  }
  return s3Input(client, { bucket, key, etag }).open();
}
