import os from 'node:os';
import { mkdtempSync, rmSync } from 'node:fs';
import path from 'node:path';
import type { Writable } from 'node:stream';
import type { S3Client } from '@aws-sdk/client-s3';
import { emptyCounts, sameState, type DecodeCounts, type DecoderState } from '../decode/flow-decoder.js';
import { REJECT_REASONS, type Reject } from '../decode/rejects.js';
import type { Enricher } from '../enrich/enricher.js';
import type { EnrichmentSources } from '../enrich/load.js';
import { localObjects, s3Objects, type FlowLogObject } from '../sources/objects.js';
import type { S3ClientOptions } from '../sources/s3.js';
import { parseS3Url, type KeyFilter } from '../sources/s3-layout.js';
import { Manifest } from '../sinks/manifest.js';
import { outputStem, removeStaleTemps } from '../sinks/out-dir.js';
import { OutputBuffers } from '../sinks/output-buffers.js';
import { fmt, type Logger } from './diagnostics.js';
import { filePartsFor, processObject, type ObjectResult, type ObjectSettings } from './process-object.js';
import { TURN_SEQ, TURN_WRITES, type WorkerPool } from './worker-pool.js';

export interface BatchOptions {
  /** `s3://bucket/prefix` URLs and local files or directories of downloaded exports. */
  inputs: readonly string[];
  filter: KeyFilter;
  s3: S3ClientOptions;
  settings: ObjectSettings;
  /** Objects in flight at once. */
  concurrency: number;
  enricher: Enricher | null;
  /** What the workers load their own enricher from (null: no enrichment). */
  enrichment: EnrichmentSources | null;
  logger: Logger;
  reportReject(reject: Reject): void;
  /** A progress bar on stderr (a terminal); else periodic progress log lines. */
  progressBar: boolean;
  quiet: boolean;
  stdout: Writable;
  /** Output could not be written (disk full, I/O error): the run cannot go on. */
  outputFailed?(message: string): void;
  /** Worker threads decoding objects (startWorkers: started early, they load while this thread does); null: none. */
  pool: WorkerPool | null;
}

export interface BatchSummary {
  objects: number;
  skipped: number;
  failed: number;
  bytes: number;
  counts: DecodeCounts;
  interrupted: boolean;
}

/** An input whose objects could not be listed (no such bucket or directory, access denied, unreachable endpoint). */
class ListingError {
  constructor(
    readonly input: string,
    readonly reason: string,
  ) {}
}

/**
 * All objects named by the inputs, in order: S3 prefixes are listed page by page, as they are consumed. An input that
 * cannot be listed (to the end) is reported as a ListingError and the next one goes on.
 */
async function* allObjects(options: BatchOptions, client: () => Promise<S3Client>): AsyncGenerator<FlowLogObject | ListingError> {
  for (const input of options.inputs) {
    try {
      if (input.startsWith('s3://')) yield* s3Objects(await client(), input, options.filter);
      else yield* localObjects(input, options.filter);
    } catch (err) {
      yield new ListingError(input, (err as Error)?.message ?? String(err));
    }
  }
}

/**
 * Runs a batch: lists the objects, skips those a previous run finished (the manifest in --out), and processes the
 * rest `concurrency` at a time, in this thread or in worker threads. On stdout, each object's output stays in one
 * piece and objects come out in listing order: an object waits (and so stops reading) until the ones before it are
 * written, which keeps memory bounded.
 */
export async function runBatch(options: BatchOptions, isInterrupted: () => boolean): Promise<BatchSummary> {
  let s3: S3Client | null = null;
  // The SDK is loaded only for S3 inputs or outputs: it costs ~150 ms of start-up.
  const client = async () => (s3 ??= (await import('../sources/s3.js')).createS3Client(options.s3));
  const s3Out = options.settings.outDir?.startsWith('s3://') ? parseS3Url(options.settings.outDir) : null;
  const { S3Manifest, uploadOutputs } = s3Out ? await import('../sinks/s3-out.js') : { S3Manifest: null, uploadOutputs: null };
  // Output to S3: each object's files are written to a local staging directory, then uploaded and removed.
  const staging = s3Out ? mkdtempSync(path.join(os.tmpdir(), 'vpcflow-out-')) : null;
  if (staging) options = { ...options, settings: { ...options.settings, outDir: staging } };
  const outDir = options.settings.outDir;
  const manifest = S3Manifest && s3Out ? await S3Manifest.open(await client(), s3Out) : outDir ? await Manifest.open(outDir) : null;
  if (outDir && !s3Out) {
    const stale = await removeStaleTemps(outDir);
    if (stale > 0) options.logger.info(`removed ${stale} unfinished temporary file${stale === 1 ? '' : 's'} of an earlier run`);
  }
  const summary: BatchSummary = { objects: 0, skipped: 0, failed: 0, bytes: 0, counts: emptyCounts(), interrupted: false };
  const progress = new Progress(options, summary);
  const pool = options.pool;
  pool?.setup(options.settings, options.enrichment, options.outputFailed);
  // Workers write stdout themselves, each object in its turn, when it is a file: see WorkerPool.
  const turn = pool?.turn ?? null;

  // Output order on stdout: each object writes only when all objects started before it are done.
  const order: string[] = [];
  // Each object's place in that order, and whether its output is to be written when its turn comes (see isRight).
  const turns = new Map<string, { seq: number; mayWrite(): boolean }>();
  let nextSeq = 0;
  /** Tells the workers whose turn it is: `id`'s, now at the head of `order`. */
  const publishTurn = (id: string) => {
    if (!turn) return;
    const t = turns.get(id)!;
    Atomics.store(turn, TURN_WRITES, t.mayWrite() ? 1 : 0);
    Atomics.store(turn, TURN_SEQ, t.seq);
    Atomics.notify(turn, TURN_SEQ);
  };
  const turnWaiters = new Map<string, (() => void)[]>();
  const waitTurn = (id: string) =>
    order[0] === id
      ? Promise.resolve()
      : new Promise<void>((resolve) => {
          const list = turnWaiters.get(id);
          if (list) list.push(resolve);
          else turnWaiters.set(id, [resolve]);
        });
  const finishTurn = (id: string) => {
    const wasHead = order[0] === id;
    order.splice(order.indexOf(id), 1);
    turns.delete(id);
    turnWaiters.delete(id);
    if (wasHead && order.length > 0) publishTurn(order[0]);
    // The next object's chunks, held while it waited, go out in the order they came.
    const next = order.length > 0 ? turnWaiters.get(order[0]) : undefined;
    if (next) {
      turnWaiters.delete(order[0]);
      for (const resolve of next) resolve();
    }
  };
  // Done once the chunk is written, not only queued (its callback): its buffer is then reused, here or by the worker
  // that made it. For process.stdout on a file or pipe that is at once (Node writes them synchronously on Linux); a
  // slow stream holds the writer back until then, which is its backpressure. (Waiting for 'drain' instead put a
  // listener per chunk on a pipe when an object's held chunks were released at once.)
  const write = (chunk: string | Buffer) => new Promise<void>((resolve) => options.stdout.write(chunk, () => resolve()));
  // In this thread, stdout chunks are handed over without a copy and their buffers come back once written.
  const buffers = pool ? undefined : new OutputBuffers();

  // Parts of one big file (shared between the workers): the lines and decoder state the parts written so far
  // ended with, by file. A part's rejects are numbered from its own start, so they are held until its turn.
  const continued = new Map<string, { lines: number; state: DecoderState | null }>();

  const running = new Set<Promise<void>>();
  const claimed = new Map<string, string>();
  const run = async (obj: FlowLogObject) => {
    const part = obj.part;
    if (part?.index === 0) continued.set(part.file, { lines: 0, state: null });
    // Whether a part started in the state the one before it ended in; asked only on its turn, when that is known.
    let startedRight: boolean | undefined;
    const isRight = () => (startedRight ??= !part || part.index === 0 || sameState(part.state!, continued.get(part.file)?.state ?? part.state!));
    const seq = nextSeq++;
    turns.set(obj.id, { seq, mayWrite: isRight });
    order.push(obj.id);
    if (order.length === 1) publishTurn(obj.id);
    progress.started(obj);
    const held: Reject[] = [];
    const hooks = {
      output: async (chunk: string | Buffer) => {
        await waitTurn(obj.id);
        if (isRight()) await write(chunk);
        if (buffers && typeof chunk !== 'string') buffers.put(chunk);
      },
      buffers,
      reject: part ? (r: Reject) => void held.push(r) : options.reportReject,
      progress: (bytes: number) => progress.bytes(obj.id, bytes),
    };
    let result: ObjectResult;
    try {
      result = pool ? await pool.process(obj, seq, hooks) : await processObject(obj, options.settings, options.enricher, obj.location.kind === 's3' ? await client() : null, hooks);
      if (part) {
        await waitTurn(obj.id);
        const before = continued.get(part.file)!;
        if (!isRight()) {
          // The part before ended under another header than the file's head (a concatenated export of another
          // format): this part is decoded again, here, from the right state; what it wrote was held back.
          held.length = 0;
          const again: FlowLogObject = { ...obj, part: { ...part, state: before.state } };
          result = await processObject(again, options.settings, options.enricher, null, { output: write, reject: (r) => void held.push(r) });
        }
        for (const r of held) options.reportReject({ ...r, line: r.line + before.lines });
        continued.set(part.file, { lines: before.lines + result.counts.lines, state: result.endState });
        if (part.last) continued.delete(part.file);
      }
    } finally {
      finishTurn(obj.id);
    }
    summary.bytes += result.bytes;
    // A failed object's files are removed (a re-run does it again), so its records were not written; on stdout they were.
    if (!(result.error && outDir)) addCounts(summary.counts, result.counts);
    progress.finished(obj, result);
    let outputs = result.outputs;
    if (!result.error && s3Out) {
      try {
        outputs = await uploadOutputs!(await client(), s3Out, staging!, result.outputs);
      } catch (err) {
        result = { ...result, error: `cannot upload its output to s3://${s3Out.bucket}/${s3Out.prefix}: ${(err as Error).message}` };
      }
    }
    if (result.error) {
      summary.failed++;
      options.logger.error({ object: obj.id, reason: result.error }, `${obj.id}: ${result.error}`);
    } else if (!part || part.index === 0) {
      summary.objects++;
      await manifest?.add({ id: obj.id, etag: obj.etag, outputs, records: result.counts.records, rejected: result.counts.rejected });
    }
  };

  try {
    for await (const obj of allObjects(options, client)) {
      if (isInterrupted()) break;
      if (obj instanceof ListingError) {
        summary.failed++;
        const reason = obj.reason.startsWith(obj.input) ? obj.reason : `${obj.input}: cannot list: ${obj.reason}`;
        options.logger.error({ input: obj.input }, reason);
        continue;
      }
      progress.listed(obj);
      if (outDir) {
        // Two inputs that would write the same output file (`x.log` and `x.log.gz` side by side, or one file name
        // in two folders for Parquet's flat partitions): the second is an error, never an overwrite.
        const stem = outputStem(obj.key);
        const name = options.settings.output === 'parquet' ? path.posix.basename(stem) : stem;
        const owner = claimed.get(name);
        if (owner !== undefined) {
          summary.failed++;
          options.logger.error({ object: obj.id }, `${obj.id}: its output would overwrite that of ${owner}; skipped`);
          continue;
        }
        claimed.set(name, obj.id);
      }
      if (manifest?.isFinished(obj.id, obj.etag)) {
        summary.skipped++;
        continue;
      }
      // One big file is shared between the workers in parts, when its output goes to stdout in one piece.
      for (const one of (pool && !outDir && (await filePartsFor(obj, options.settings))) || [obj]) {
        if (isInterrupted()) break;
        const task: Promise<void> = run(one).finally(() => running.delete(task));
        running.add(task);
        if (running.size >= options.concurrency) await Promise.race(running);
      }
    }
    await Promise.all(running);
  } finally {
    summary.interrupted = isInterrupted();
    progress.stop();
    await pool?.close();
    await manifest?.close();
    if (staging) rmSync(staging, { recursive: true, force: true });
  }
  return summary;
}

function addCounts(total: DecodeCounts, add: DecodeCounts): void {
  total.lines += add.lines;
  total.records += add.records;
  total.headers += add.headers;
  total.blank += add.blank;
  total.rejected += add.rejected;
  for (const r of REJECT_REASONS) total.rejects[r] += add.rejects[r];
}

/** Objects, bytes, records/s and ETA: a bar on a terminal, a log line every 10 s otherwise. */
class Progress {
  private readonly startedAt = performance.now();
  private listedObjects = 0;
  private listedBytes = 0;
  private doneObjects = 0;
  private doneBytes = 0;
  private records = 0;
  private readonly inFlight = new Map<string, { size: number; read: number }>();
  private readonly timer: NodeJS.Timeout | null;

  constructor(
    private readonly options: BatchOptions,
    private readonly summary: BatchSummary,
  ) {
    this.timer = options.quiet ? null : setInterval(() => this.show(), options.progressBar ? 250 : 10_000);
    this.timer?.unref();
  }

  listed(obj: FlowLogObject): void {
    this.listedObjects++;
    this.listedBytes += obj.size;
  }

  started(obj: FlowLogObject): void {
    this.inFlight.set(obj.id, { size: obj.size, read: 0 });
  }

  bytes(id: string, read: number): void {
    const f = this.inFlight.get(id);
    if (f) f.read = read;
  }

  finished(obj: FlowLogObject, result: ObjectResult): void {
    this.doneBytes += this.inFlight.get(obj.id)?.size ?? 0;
    this.inFlight.delete(obj.id);
    // A big file's parts were listed as one object: it is done with its last part.
    if (!obj.part || obj.part.last) this.doneObjects++;
    this.records += result.counts.records;
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    if (this.options.progressBar && !this.options.quiet) process.stderr.write('\r\x1b[K');
  }

  private show(): void {
    const seconds = (performance.now() - this.startedAt) / 1000;
    const total = this.listedObjects - this.summary.skipped;
    const rate = this.records / Math.max(seconds, 1e-3);
    const doneFraction = this.listedBytes > 0 ? this.doneBytes / Math.max(1, this.listedBytes) : 0;
    const eta = doneFraction > 0 ? (seconds / doneFraction) * (1 - doneFraction) : NaN;
    const text =
      `${this.doneObjects}/${total} objects` +
      (this.summary.skipped > 0 ? ` (+${this.summary.skipped} already done)` : '') +
      `, ${(this.doneBytes / 1e6).toFixed(1)}/${(this.listedBytes / 1e6).toFixed(1)} MB, ` +
      `${fmt(Math.round(rate))} records/s` +
      (this.summary.failed > 0 ? `, ${this.summary.failed} failed` : '') +
      (Number.isFinite(eta) ? `, ETA ${Math.ceil(eta)} s` : '');
    if (this.options.progressBar) {
      const width = 24;
      const filled = Math.round(width * Math.min(1, doneFraction));
      process.stderr.write(`\r\x1b[K[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${text}`);
    } else {
      this.options.logger.info({ progress: true, objects_done: this.doneObjects, objects_listed: total, bytes_done: this.doneBytes, records_per_s: Math.round(rate) }, text);
    }
  }
}
