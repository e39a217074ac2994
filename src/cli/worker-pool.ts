/**
 * The worker threads of `vpcflow --workers N` as the main thread sees them, and what both sides share. Kept apart
 * from batch.ts, with few imports, so that the workers' code (which takes its constants from here) leaves out the
 * batch runner, the manifest and the listing of objects.
 */
import { statSync } from 'node:fs';
import os from 'node:os';
import { Worker } from 'node:worker_threads';
import type { Reject } from '../decode/rejects.js';
import type { EnrichmentSources } from '../enrich/load.js';
import type { FlowLogObject } from '../sources/objects.js';
import type { S3ClientOptions } from '../sources/s3.js';
import { byteSizeSetting } from '../sources/file-parts.js';
import type { ObjectResult, ObjectSettings } from './process-object.js';

/**
 * Whose turn it is to write stdout, shared with the workers when they write it themselves: TURN_SEQ holds the place
 * in the output order of the object at the head (see runBatch), TURN_WRITES whether its output is written (1) or
 * dropped (0: a part decoded from the wrong state, decoded again in this thread).
 */
export const TURN_SEQ = 0;
export const TURN_WRITES = 1;

/**
 * What each worker runs: batch-worker.ts bundled into a few files by the build (`npm run build:worker`, esbuild), or
 * its compiled module when there is no bundle as new as it (a build by tsc alone). Loading batch-worker.js and its
 * 37 modules one by one, with two workers and this thread starting at once on two cores, the later worker was ready
 * 247-282 ms after being started; with the bundle, 187-228 ms (8 runs each). On the 10M-line file, 3.49 -> 3.45 s
 * (medians of 6 interleaved runs). ipaddr.js is bundled too (only the S3 SDK and the Parquet packages, loaded on
 * demand, stay outside): imported as a CommonJS package, Node lexed its source for its exports first, and a worker
 * alone was ready ~100 instead of ~120 ms after start (6 runs each); 48 small .gz objects, 1.31 against 1.35 s
 * (medians of 11 interleaved runs).
 */
const WORKER_SCRIPT = ((): URL => {
  const compiled = new URL('./batch-worker.js', import.meta.url);
  const bundle = new URL('../../worker/batch-worker.js', import.meta.url);
  const modified = (file: URL) => statSync(file, { throwIfNoEntry: false })?.mtimeMs ?? -1;
  return modified(bundle) >= modified(compiled) ? bundle : compiled;
})();

/**
 * Starts `count` worker threads (at most one per core). They load their modules at once, and get their settings and
 * enrichment with `setup`: started before this thread loads ip-ranges.json (each takes ~150 ms to load its modules),
 * `--workers 2` on a 3 MB file took 609 instead of 655 ms (medians of 15 interleaved runs).
 */
export function startWorkers(count: number, options: { s3: S3ClientOptions; stdoutFd?: number }): WorkerPool {
  return new WorkerPool(Math.max(1, Math.min(count, os.availableParallelism())), options);
}

/**
 * Objects handed to worker threads, each running the same processObject with its own decoder and enricher.
 *
 * Their stdout output either comes to this thread to be written (a pipe or terminal: process.stdout handles a slow
 * reader and `| head`), or, when stdout is a file, is written by the worker itself once `turn` says it is its object's
 * turn. Passing 5.8 GB of NDJSON through this thread (a message, a write and an acknowledgement per 3 MB chunk, and
 * this thread woken for each) cost `--workers 2` ~8% of its time on the 10M-line bench file (4.33 -> 3.94 s, median
 * of 5 interleaved runs), most of what separated it from two processes given a half each.
 */
export class WorkerPool {
  /** Objects each worker has been given and not yet finished decoding. */
  private readonly load = new Map<Worker, number>();
  /** Objects waiting for a slot in each worker, in order. */
  private readonly waiting = new Map<Worker, (() => void)[]>();
  private readonly all: Worker[] = [];
  private outputFailed: (message: string) => void = () => {};
  /** Whose turn it is on stdout, when the workers write it themselves (TURN_SEQ, TURN_WRITES). */
  readonly turn: Int32Array | null;

  constructor(count: number, options: { s3: S3ClientOptions; stdoutFd?: number }) {
    this.turn = options.stdoutFd !== undefined ? new Int32Array(new SharedArrayBuffer(8)).fill(-1) : null;
    const stdout = this.turn ? { fd: options.stdoutFd, turn: this.turn } : null;
    for (let i = 0; i < count; i++) {
      const worker = new Worker(WORKER_SCRIPT, {
        workerData: { s3: options.s3, stdout, workers: count },
        resourceLimits: { maxYoungGenerationSizeMb: WORKER_YOUNG_GENERATION_MB },
      });
      worker.unref();
      this.all.push(worker);
      this.load.set(worker, 0);
      this.waiting.set(worker, []);
    }
  }

  /** How every object is processed, and what the workers load their own enricher from (null: no enrichment). */
  setup(settings: ObjectSettings, enrichment: EnrichmentSources | null, outputFailed?: (message: string) => void): void {
    if (outputFailed) this.outputFailed = outputFailed;
    for (const worker of this.all) worker.postMessage({ type: 'setup', settings, enrichment });
  }

  /**
   * Object `seq` goes to worker `seq mod N`, which holds up to WORKER_SLOTS objects: the workers take turns, so each
   * one's next object is right behind the other's, close enough to the one being written to spill rather than wait
   * (see batch-worker.ts). Handing each object to the least loaded worker let one worker get two in a row whenever
   * it freed a slot first; on 100 .gz objects the workers then fell into taking turns two objects each, one waiting
   * while the other worked (6.5-7.5 s instead of 4.7). (Before that, a stack of free workers gave every part of a
   * big file to one worker while the other sat idle for seconds.)
   */
  private acquire(seq: number): Promise<Worker> {
    const worker = this.all[seq % this.all.length];
    const load = this.load.get(worker)!;
    if (load >= WORKER_SLOTS) return new Promise<Worker>((resolve) => this.waiting.get(worker)!.push(() => resolve(worker)));
    this.load.set(worker, load + 1);
    return Promise.resolve(worker);
  }

  private release(worker: Worker): void {
    const next = this.waiting.get(worker)!.shift();
    // The slot goes straight to the next object waiting for this worker, if any.
    if (next) next();
    else this.load.set(worker, this.load.get(worker)! - 1);
  }

  async process(obj: FlowLogObject, seq: number, hooks: { output(chunk: string | Buffer): Promise<void>; reject(r: Reject): void; progress(bytes: number): void }): Promise<ObjectResult> {
    const worker = await this.acquire(seq);
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      this.release(worker);
    };
    try {
      return await new Promise<ObjectResult>((resolve, reject) => {
        // Chunks still waiting for their turn on stdout when the worker says it is done.
        let written: Promise<void> = Promise.resolve();
        let result: ObjectResult | null = null;
        let writtenByWorker = false;
        const onMessage = (m: WorkerMessage) => {
          // A worker writing stdout itself may be on its next object while this one's output waits for its turn.
          if (m.seq !== seq) return;
          if (m.type === 'reject') hooks.reject(m.reject);
          else if (m.type === 'progress') hooks.progress(m.bytes);
          else if (m.type === 'output') {
            // Acknowledged once written: a worker stops when OUTPUT_WINDOW bytes of its output are unwritten.
            const bytes = m.chunk.byteLength;
            const buffer = m.chunk.buffer as ArrayBuffer;
            // Its buffer goes back with the acknowledgement, for the worker to fill again.
            const write = hooks.output(Buffer.from(buffer, m.chunk.byteOffset, bytes)).then(() => worker.postMessage({ type: 'ack', bytes, buffer }, [buffer]));
            written = written.then(() => write);
          } else if (m.type === 'done') {
            // The worker goes on with the next object at once: its output still waiting for its turn is bounded by
            // OUTPUT_WINDOW (acknowledgements span objects). Holding it until then left it idle ~20% of the time
            // on one big file's parts, each waiting for its neighbour.
            release();
            result = m.result;
            if (!this.turn || writtenByWorker) {
              cleanup();
              void written.then(() => resolve(m.result));
            }
          } else if (m.type === 'written') {
            writtenByWorker = true;
            if (result) {
              cleanup();
              resolve(result);
            }
          } else if (m.type === 'output-failed') {
            this.outputFailed(m.message);
          }
        };
        const onError = (err: Error) => {
          cleanup();
          reject(err);
        };
        const cleanup = () => {
          worker.off('message', onMessage);
          worker.off('error', onError);
        };
        worker.on('message', onMessage);
        worker.on('error', onError);
        worker.postMessage({ type: 'object', obj, seq });
      });
    } finally {
      release();
    }
  }

  async close(): Promise<void> {
    await Promise.all(this.all.map((w) => w.terminate()));
  }
}

/**
 * Output a worker may hold in memory but not yet seen written. Objects go to stdout whole and in order, so a worker
 * on a later object keeps decoding into this much buffer while the earlier object is written (past it, when the
 * workers write stdout themselves, the rest goes to a spill file: see batch-worker.ts); memory stays bounded at
 * workers x OUTPUT_WINDOW. 8 MB rather than 16: on the 10M-line bench file with `--workers 2`, peak memory went from
 * 169 to 153 MB and the time stayed within noise (3.99 against 3.95 s, 3 interleaved runs each), since a worker
 * that waits for its turn is only ever waiting for the other one, which is busy anyway.
 * VPCFLOW_OUTPUT_WINDOW overrides it: for tests (objects larger than the window without large inputs) and tuning.
 */
export const OUTPUT_WINDOW = byteSizeSetting(process.env.VPCFLOW_OUTPUT_WINDOW) ?? 8 * 1024 * 1024;

/**
 * Objects a worker is given at once: the one it decodes and the next, which it starts on without waiting for the
 * main thread. With one, each worker waited ~60-80 ms in all for its next part of the 10M-line bench file.
 */
const WORKER_SLOTS = 2;

/**
 * A worker's young generation. A worker's garbage is short-lived and small (a decoder batch, a few messages), so a
 * small young generation is collected as often but at no cost in time: on the 10M-line bench file with
 * `--workers 2`, 4 MB took peak memory from 153 to 143-147 MB, in 3.93 against 3.95 s (3 interleaved runs each).
 */
const WORKER_YOUNG_GENERATION_MB = 4;

/** From a worker, about the object `seq`. */
export type WorkerMessage = { seq: number } & (
  | { type: 'reject'; reject: Reject }
  | { type: 'progress'; bytes: number }
  | { type: 'output'; chunk: Uint8Array }
  /** Decoded; a worker writing stdout itself (WorkerPool.turn) then says 'written' once it has written it all. */
  | { type: 'done'; result: ObjectResult }
  | { type: 'written' }
  | { type: 'output-failed'; message: string }
);
