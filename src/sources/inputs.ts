import { promises as fs, readSync } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { isMainThread } from 'node:worker_threads';
import path from 'node:path';
import { pipeline, Readable } from 'node:stream';
import type { ZlibOptions } from 'node:zlib';
import { nativeKernel } from '../native/addon.js';
import { readFileChunks } from './file-parts.js';

/** One input: a file, or stdin (`-`). */
export interface InputSource {
  /** How the input is named in messages: the path as given (under its directory), or `-` for stdin. */
  readonly name: string;
  /**
   * The decompressed bytes. A plain local file's chunks are read into reused buffers: each is valid only until the
   * next one is asked for (copy what you keep).
   */
  open(): Promise<AsyncIterable<Buffer>>;
}

/** An input the user named that cannot be read at all (missing file, no permission). */
export class InputError extends Error {
  override name = 'InputError';
  constructor(
    readonly source: string,
    /** What is wrong, without the source's name (the message starts with it). */
    readonly reason: string,
    options?: ErrorOptions,
  ) {
    super(`${source}: ${reason}`, options);
  }
}

/** Bytes read per chunk from files: large enough to amortise per-chunk work, small enough to stay cache-friendly. */
const READ_CHUNK = 256 * 1024;

/**
 * The sources named on the command line, in order: `-` is stdin, a directory stands for every file below it
 * (recursively, sorted, hidden entries skipped), anything else is a file. No arguments means stdin.
 * Problems with a path are yielded as InputErrors so the other inputs still run.
 */
export async function* expandInputs(args: readonly string[], stdin: Readable = process.stdin): AsyncGenerator<InputSource | InputError> {
  if (args.length === 0) args = ['-'];
  for (const arg of args) {
    if (arg === '-') {
      yield { name: '-', open: async () => decompressed(stdin, '-') };
      continue;
    }
    let stat;
    try {
      stat = await fs.stat(arg);
    } catch (err) {
      yield new InputError(arg, describeFsError(err));
      continue;
    }
    if (stat.isDirectory()) yield* walk(arg);
    else yield fileSource(arg);
  }
}

async function* walk(dir: string): AsyncGenerator<InputSource | InputError> {
  let entries;
  try {
    entries = await fs.readdir(dir, { withFileTypes: true });
  } catch (err) {
    yield new InputError(dir, describeFsError(err));
    return;
  }
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const entry of entries) {
    if (entry.name.startsWith('.')) continue;
    const full = path.join(dir, entry.name);
    let isDir = entry.isDirectory();
    if (entry.isSymbolicLink()) {
      try {
        isDir = (await fs.stat(full)).isDirectory();
      } catch (err) {
        yield new InputError(full, describeFsError(err));
        continue;
      }
    }
    if (isDir) yield* walk(full);
    else if (entry.isFile() || entry.isSymbolicLink()) yield fileSource(full);
  }
}

/**
 * A local file as an input: opened on demand; gzip and Parquet recognised from the first bytes. A plain file is read
 * into reused buffers (readFileChunks): on this VM fresh 256 KiB buffers per read (createReadStream) cost a page
 * fault per 4 KiB, which the hypervisor makes dear: reading and counting the lines of the 1.16 GB bench file took
 * 0.74 s (0.46 s of it in the kernel, 26,000 faults) against 0.35 s (3,300 faults) with reused buffers, and two
 * processes reading a half each took as long as one reading it all, where with reused buffers they took half.
 */
export function fileSource(file: string): InputSource {
  return {
    name: file,
    open: async () => {
      const handle = await fs.open(file, 'r').catch((err: NodeJS.ErrnoException) => {
        throw new InputError(file, describeFsError(err));
      });
      let head: Buffer;
      try {
        const magic = Buffer.alloc(4);
        head = magic.subarray(0, (await handle.read(magic, 0, 4, 0)).bytesRead);
      } catch (err) {
        await handle.close();
        throw new InputError(file, describeFsError(err as NodeJS.ErrnoException));
      }
      if (isParquetMagic(head)) {
        await handle.close();
        // Parquet is read footer first, by ranges: it is not a byte stream. Its reader loads only when needed.
        const { fileByteSource, parquetToText } = await import('./parquet.js');
        const source = await fileByteSource(file);
        return Readable.from(parquetToText(source, file)).once('close', () => void source.close());
      }
      if (!isGzipMagic(head)) return readFileChunks(handle);
      if (!isMainThread && nativeKernel?.gunzip) return gunzipHere(handle);
      // gunzip reads its input on libuv's threads, after more has been read: it gets buffers of its own.
      return gunzipped(handle.createReadStream({ start: 0, highWaterMark: READ_CHUNK }));
    },
  };
}

/**
 * The stream itself, or its gunzipped bytes when it starts with the gzip magic: compression is detected from
 * the content, never the name. Parquet is recognised and refused with a clear message.
 */
export async function decompressed(stream: Readable, name: string): Promise<Readable> {
  const { head, rest } = await peek(stream, 4);
  stream = rest;
  if (isGzipMagic(head)) return gunzipped(stream);
  if (isParquetMagic(head)) {
    stream.destroy();
    throw new InputError(name, 'Parquet cannot be read from a pipe (it is read footer first); give the file name instead');
  }
  return stream;
}

/** A gzip stream's decompressed bytes. */
async function gunzipped(stream: Readable): Promise<Readable> {
  // Room for a few decompressed chunks: gunzip (on libuv's threads) keeps working while this thread decodes,
  // instead of the two taking turns.
  // (Transform options pass through zlib's constructor; its TypeScript type does not list them.)
  const options = { chunkSize: READ_CHUNK, readableHighWaterMark: 4 * READ_CHUNK } as ZlibOptions;
  // Loaded here: node:zlib is not in Node's start-up snapshot, and compiling it cost every run ~1-2 ms.
  const { createGunzip } = await import('node:zlib');
  return pipeline(stream, createGunzip(options), () => {});
}

/**
 * A gzip file's decompressed bytes, read and inflated on this thread into reused buffers (each chunk valid until the
 * next is asked for). For worker threads: with as many workers as cores busy decoding, gunzip on libuv's threads
 * preempted a worker on every chunk and page-faulted in a fresh buffer per chunk. The main thread keeps the stream,
 * whose gunzip runs beside its decoding on another core.
 */
async function* gunzipHere(handle: FileHandle): AsyncGenerator<Buffer> {
  const kernel = nativeKernel!;
  const state = kernel.gunzip!();
  const input = Buffer.allocUnsafeSlow(READ_CHUNK);
  const output = Buffer.allocUnsafeSlow(READ_CHUNK);
  // [input used, output filled]
  const io = new Int32Array(2);
  let have = 0;
  let position = 0;
  let ended = false;
  try {
    for (;;) {
      if (io[0] === have) {
        have = readSync(handle.fd, input, 0, input.length, position);
        if (have === 0) break;
        position += have;
        io[0] = 0;
      }
      io[1] = 0;
      const used = io[0];
      ended = kernel.gunzipChunk(state, have === input.length ? input : input.subarray(0, have), output, io);
      if (io[1] > 0) yield output.subarray(0, io[1]);
      else if (io[0] === used) throw Object.assign(new Error('gzip data that cannot be decompressed'), { code: 'Z_DATA_ERROR' });
    }
    // Node's zlib says the same of a gzip file cut short.
    if (!ended) throw Object.assign(new Error('unexpected end of file'), { code: 'Z_BUF_ERROR' });
  } finally {
    await handle.close();
  }
}

export function isGzipMagic(head: Uint8Array): boolean {
  return head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b;
}

/** 'PAR1' (kept here so that recognising Parquet does not load its reader). */
export function isParquetMagic(head: Uint8Array): boolean {
  return head.length >= 4 && head[0] === 0x50 && head[1] === 0x41 && head[2] === 0x52 && head[3] === 0x31;
}

/**
 * Reads at least `n` bytes (fewer at the end of the stream) and returns them with a stream that still starts with
 * them: the same one, or a new one when the stream ended while peeking (bytes put back after its end would be lost,
 * and an input of 1-3 bytes was silently read as empty).
 */
async function peek(stream: Readable, n: number): Promise<{ head: Buffer; rest: Readable }> {
  const parts: Buffer[] = [];
  let size = 0;
  while (size < n) {
    const chunk: Buffer | null = stream.read();
    if (chunk === null) {
      if (stream.readableEnded || stream.destroyed) break;
      const more = await new Promise<boolean>((resolve, reject) => {
        const onReadable = () => done(true);
        const onEnd = () => done(false);
        const onError = (err: Error) => {
          cleanup();
          reject(err);
        };
        const cleanup = () => {
          stream.off('readable', onReadable);
          stream.off('end', onEnd);
          stream.off('error', onError);
        };
        const done = (v: boolean) => {
          cleanup();
          resolve(v);
        };
        stream.on('readable', onReadable);
        stream.once('end', onEnd);
        stream.once('error', onError);
      });
      if (!more) break;
      continue;
    }
    parts.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
    size += chunk.length;
  }
  const head = Buffer.concat(parts);
  if (stream.readableEnded || stream.destroyed) return { head, rest: Readable.from(head.length > 0 ? [head] : [], { objectMode: false }) };
  if (head.length > 0) stream.unshift(head);
  return { head, rest: stream };
}

function describeFsError(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  switch (e?.code) {
    case 'ENOENT':
      return 'no such file or directory';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'EISDIR':
      return 'is a directory';
    default:
      return e?.message ?? String(err);
  }
}

/** A reading error as a person should see it: a broken gzip stream is named as such. */
export function describeReadError(err: unknown): string {
  // Callers name the source themselves.
  if (err instanceof InputError) return err.reason;
  const e = err as NodeJS.ErrnoException;
  if (e?.code === 'Z_DATA_ERROR' || e?.code === 'Z_BUF_ERROR' || /unexpected end of file/i.test(e?.message ?? '')) {
    return `corrupt or truncated gzip (${e.message})`;
  }
  return e?.message ?? String(err);
}
