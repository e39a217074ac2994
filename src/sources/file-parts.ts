import { closeSync, openSync, readSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { isMainThread } from 'node:worker_threads';

/**
 * Input bytes per part when one big file is shared between worker threads. Small enough that a part's output
 * (enriched NDJSON is ~5x its input) fits in the window a worker may have waiting for its turn on stdout, so the
 * workers never wait for each other; large enough that the per-part messages cost nothing (measured with
 * `vpcflow --workers 2` on the 1.16 GB bench file: 1 MiB to 4 MiB parts all within noise).
 */
export const PART_BYTES = byteSizeSetting(process.env.VPCFLOW_PART_BYTES) ?? 2 * 1024 * 1024;

/**
 * A byte size from the environment (at least 1 KiB), or undefined: VPCFLOW_PART_BYTES overrides the part size, for
 * tests (many parts from a small file) and for tuning.
 */
export function byteSizeSetting(raw: string | undefined): number | undefined {
  const n = Number(raw);
  return raw && Number.isSafeInteger(n) && n >= 1024 ? n : undefined;
}

/**
 * Read buffers are reused for the whole part: they stay in the core's cache. With two threads at work, fresh buffers
 * (and so memory traffic) made each thread ~1.7x slower on this 2-core VM, where cache-resident work scales fully.
 * Each read goes through libuv's thread pool and wakes this thread when done; on a VM those wake-ups are dear
 * (~60,000 context switches for the 10M-line file at 128 KiB), so reads are larger and handed on in slices.
 */
const READ_BYTES = 512 * 1024;
/** What the consumer gets at a time: its output per slice (~600 KB of NDJSON) stays within one output buffer. */
const SLICE_BYTES = 128 * 1024;

/** Byte ranges of about `partBytes` covering a file of `size` bytes; lines are assigned to them by readPart. */
export function partRanges(size: number, partBytes = PART_BYTES): { start: number; end: number }[] {
  const count = Math.max(1, Math.round(size / partBytes));
  const ranges: { start: number; end: number }[] = [];
  for (let i = 0; i < count; i++) ranges.push({ start: Math.floor((size * i) / count), end: Math.floor((size * (i + 1)) / count) });
  return ranges;
}

/**
 * Whether reads block the thread instead of going through libuv's thread pool: in a worker thread, which has nothing
 * else to do while it waits. A read through the pool wakes a pool thread and then this one, and with as many workers
 * as cores each wake-up preempts a worker: with `--workers 2` on the 10M-line bench file the workers were switched
 * out ~3,000 times each for reads, file opens and closes.
 */
const BLOCKING_READS = !isMainThread;

/** An open file as readRange reads it. */
interface RangeFile {
  read(buffer: Buffer, position: number): Promise<number>;
  close(): Promise<void> | void;
}

function asyncFile(fh: FileHandle): RangeFile {
  return {
    read: async (buffer, position) => (await fh.read(buffer, 0, buffer.length, position)).bytesRead,
    close: () => fh.close(),
  };
}

function blockingFile(fd: number, close: () => Promise<void> | void): RangeFile {
  return {
    // Async only in shape: the read is done when the promise is made.
    read: (buffer, position) => Promise.resolve(readSync(fd, buffer, 0, buffer.length, position)),
    close,
  };
}

/**
 * The lines of a file that start within [start, end): from the first line start at or after `start` to the end of
 * the line holding byte end-1. Adjacent ranges thus share every line out exactly once, without anyone reading the
 * whole file first. A range where no line starts yields nothing. Each chunk is valid only until the next one is
 * asked for (buffers are reused): the consumer must copy what it keeps, as the line framer does.
 */
export async function* readPart(file: string, start: number, end: number): AsyncGenerator<Buffer> {
  if (BLOCKING_READS) {
    const fd = openSync(file, 'r');
    yield* readRange(blockingFile(fd, () => closeSync(fd)), start, end);
  } else {
    yield* readRange(asyncFile(await open(file, 'r')), start, end);
  }
}

/**
 * A whole open file, as readPart reads a part (and closes it at the end). Each chunk is valid only until the next one
 * is asked for: for a consumer that is done with a chunk when it asks for the next, as the decoder is.
 */
export function readFileChunks(fh: FileHandle): AsyncGenerator<Buffer> {
  return readRange(BLOCKING_READS ? blockingFile(fh.fd, () => fh.close()) : asyncFile(fh), 0, Infinity);
}

async function* readRange(file: RangeFile, start: number, end: number): AsyncGenerator<Buffer> {
  // Two buffers: the next read goes on (on libuv's threads) while the chunk just read is decoded. Reading only when
  // asked left each worker idle ~17% of the time on one big file.
  const buffers = spareReadBuffers.pop() ?? [Buffer.allocUnsafe(READ_BYTES), Buffer.allocUnsafe(READ_BYTES)];
  let which = 0;
  // From the byte before: if it is a newline, a line starts exactly at `start`.
  let pos = start > 0 ? start - 1 : 0;
  let pending: Promise<number> | null = file.read(buffers[0], pos);
  try {
    let skipping = start > 0;
    for (;;) {
      const bytesRead = await pending!;
      pending = null;
      if (bytesRead === 0) return;
      const chunk = buffers[which].subarray(0, bytesRead);
      const chunkStart = pos;
      pos += bytesRead;
      let from = 0;
      if (skipping) {
        const nl = chunk.indexOf(0x0a);
        if (nl >= 0) {
          skipping = false;
          from = nl + 1;
          if (chunkStart + from >= end) return;
        }
      }
      let to = bytesRead;
      let last = false;
      if (!skipping && pos >= end) {
        // The last line: up to the first newline at or after byte end-1.
        const nl = chunk.indexOf(0x0a, Math.max(from, end - 1 - chunkStart));
        if (nl >= 0) {
          to = nl + 1;
          last = true;
        }
      }
      if (!last) {
        which ^= 1;
        pending = file.read(buffers[which], pos);
      }
      if (!skipping) for (let s = from; s < to; s += SLICE_BYTES) yield chunk.subarray(s, Math.min(s + SLICE_BYTES, to));
      if (last) return;
    }
  } finally {
    await pending?.catch(() => {});
    await file.close();
    // The consumer is done with the last chunk once it asks for more or stops.
    if (spareReadBuffers.length < 4) spareReadBuffers.push(buffers);
  }
}

/**
 * Read buffers of finished parts, for the next part of this thread: fresh ones per part (256 KiB each) showed as
 * garbage collection and page faults in --workers profiles.
 */
const spareReadBuffers: Buffer[][] = [];
