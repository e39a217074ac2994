import { createWriteStream, promises as fs, type WriteStream } from 'node:fs';
import path from 'node:path';
import { once } from 'node:events';
import { createGzip, type Gzip } from 'node:zlib';

/** A key that would write outside the output directory. */
export class UnsafeKeyError extends Error {
  override name = 'UnsafeKeyError';
}

/**
 * The path under `root` for an object key, refusing anything that could land outside it: absolute keys, `..` or
 * `.` segments, backslashes, NUL. S3 keys are arbitrary strings; a crafted one must never become a write elsewhere.
 */
export function safeOutputPath(root: string, key: string): string {
  if (key.length === 0 || key.startsWith('/') || key.includes('\\') || key.includes('\0') || /^[A-Za-z]:/.test(key)) {
    throw new UnsafeKeyError(`refusing to write '${key}': not a relative key`);
  }
  const segments = key.split('/');
  if (segments.some((s) => s === '..' || s === '.' || s === '')) {
    throw new UnsafeKeyError(`refusing to write '${key}': it has an empty, '.' or '..' segment`);
  }
  const resolvedRoot = path.resolve(root);
  const full = path.resolve(resolvedRoot, ...segments);
  if (!full.startsWith(resolvedRoot + path.sep)) throw new UnsafeKeyError(`refusing to write '${key}': outside ${root}`);
  return full;
}

/** An input key without its flow-log extensions: `…_abcd.log.gz` → `…_abcd`. */
export function outputStem(key: string): string {
  return key.replace(/(\.log)?(\.gz|\.parquet|\.txt|\.log)$/i, '').replace(/\.log$/i, '');
}

/**
 * A gzip text file written to `<path>.tmp` and renamed into place on `commit()`, so an interrupted run never leaves
 * a partial file under the final name (and a re-run simply overwrites it).
 */
export class AtomicGzipFile {
  private readonly gzip: Gzip;
  private readonly file: WriteStream;
  private readonly tmp: string;

  private constructor(readonly path: string) {
    this.tmp = `${path}.tmp`;
    // Level 3: on flow-log NDJSON it compresses 2.3x faster than the default 6 for 12.1% instead of 9.7% of the
    // size (measured on a generated 25,000-line object); compression is most of the cost of a --out run.
    this.gzip = createGzip({ level: 3 });
    this.file = createWriteStream(this.tmp);
    this.gzip.pipe(this.file);
  }

  static async create(file: string): Promise<AtomicGzipFile> {
    await fs.mkdir(path.dirname(file), { recursive: true });
    return new AtomicGzipFile(file);
  }

  /** Writes, waiting when the disk is slower than decoding (backpressure). */
  async write(chunk: string | Buffer): Promise<void> {
    if (chunk.length === 0) return;
    if (!this.gzip.write(chunk)) await once(this.gzip, 'drain');
  }

  async commit(): Promise<void> {
    this.gzip.end();
    await once(this.file, 'close');
    await fs.rename(this.tmp, this.path);
  }

  async abort(): Promise<void> {
    this.gzip.destroy();
    this.file.destroy();
    await fs.rm(this.tmp, { force: true });
  }
}

/** Removes `*.tmp` files an interrupted run left behind (they never count as output). */
export async function removeStaleTemps(root: string): Promise<number> {
  let removed = 0;
  const visit = async (dir: string): Promise<void> => {
    let entries;
    try {
      entries = await fs.readdir(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const full = path.join(dir, e.name);
      if (e.isDirectory()) await visit(full);
      else if (e.name.endsWith('.tmp')) {
        await fs.rm(full, { force: true });
        removed++;
      }
    }
  };
  await visit(root);
  return removed;
}
