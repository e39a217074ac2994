import { createHash } from 'node:crypto';
import { createReadStream, promises as fs } from 'node:fs';
import path from 'node:path';
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { S3Location } from '../sources/s3.js';
import { FinishedObjects, type ManifestEntry } from './manifest.js';

/** Marker objects of finished inputs, under the output prefix (S3 has no append, so one small object each). */
const MARKERS = '_vpcflow-manifest/';

function join(prefix: string, rel: string): string {
  return prefix === '' || prefix.endsWith('/') ? prefix + rel : `${prefix}/${rel}`;
}

/**
 * The manifest of a run writing to S3: an input is finished once its outputs were uploaded (PutObject is atomic:
 * an object is there whole or not at all) and then its marker; a resumed run lists the markers.
 */
export class S3Manifest extends FinishedObjects {
  private constructor(
    private readonly client: S3Client,
    private readonly location: S3Location,
  ) {
    super();
  }

  static async open(client: S3Client, location: S3Location): Promise<S3Manifest> {
    const manifest = new S3Manifest(client, location);
    let token: string | undefined;
    do {
      const page = await client.send(new ListObjectsV2Command({ Bucket: location.bucket, Prefix: join(location.prefix, MARKERS), ContinuationToken: token }));
      for (const o of page.Contents ?? []) {
        const body = await client.send(new GetObjectCommand({ Bucket: location.bucket, Key: o.Key! }));
        try {
          const entry = JSON.parse(await body.Body!.transformToString()) as ManifestEntry;
          manifest.done.set(entry.id, entry.etag);
        } catch {
          // An unreadable marker: that input is simply done again.
        }
      }
      token = page.NextContinuationToken;
    } while (token);
    return manifest;
  }

  async add(entry: Omit<ManifestEntry, 'finished'>): Promise<void> {
    const key = join(this.location.prefix, `${MARKERS}${createHash('sha256').update(entry.id).digest('hex')}.json`);
    const body = JSON.stringify({ ...entry, finished: new Date().toISOString() });
    await this.client.send(new PutObjectCommand({ Bucket: this.location.bucket, Key: key, Body: body, ContentType: 'application/json' }));
    this.done.set(entry.id, entry.etag);
  }

  async close(): Promise<void> {}
}

/**
 * Uploads an object's finished output files from the local staging directory to the output prefix (same relative
 * keys), then removes them locally. Returns the `s3://` URLs written.
 */
export async function uploadOutputs(client: S3Client, location: S3Location, stagingDir: string, files: readonly string[]): Promise<string[]> {
  const urls: string[] = [];
  for (const file of files) {
    const rel = path.relative(stagingDir, file).split(path.sep).join('/');
    const key = join(location.prefix, rel);
    const { size } = await fs.stat(file);
    await client.send(
      new PutObjectCommand({
        Bucket: location.bucket,
        Key: key,
        Body: createReadStream(file),
        ContentLength: size,
        ContentType: file.endsWith('.parquet') ? 'application/vnd.apache.parquet' : 'application/gzip',
      }),
    );
    await fs.rm(file, { force: true });
    urls.push(`s3://${location.bucket}/${key}`);
  }
  return urls;
}
