/**
 * A worker thread of `vpcflow --workers N`: processes the objects the main thread hands it with its own decoder,
 * enricher and S3 client, and sends back rejects, progress, the result of each object, and its stdout output: as
 * chunks (one at a time, each acknowledged) or, when stdout is a file, written here in the object's turn.
 */
import { writeSync } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import type { S3Client } from '@aws-sdk/client-s3';
import type { Enricher } from '../enrich/enricher.js';
import type { EnrichmentSources } from '../enrich/load.js';
import { loadEnrichment } from '../enrich/load.js';
import { OutputBuffers } from '../sinks/output-buffers.js';
import { SpillFile } from '../sinks/spill-file.js';
import type { FlowLogObject } from '../sources/objects.js';
import type { S3ClientOptions } from '../sources/s3.js';
import { processObject, type ObjectSettings } from './process-object.js';
import { OUTPUT_WINDOW, TURN_SEQ, TURN_WRITES, type WorkerMessage } from './worker-pool.js';

const { s3, stdout, workers } = workerData as {
  s3: S3ClientOptions;
  /** How many workers there are: objects up to that many places after the one being written are in progress. */
  workers: number;
  /** Where to write stdout output, and whose turn it is (see WorkerPool); null: send it to the main thread. */
  stdout: { fd: number; turn: Int32Array } | null;
};
const port = parentPort!;
// From the 'setup' message, which comes before any object.
let settings: ObjectSettings;
let enricher: Enricher | null = null;
let client: S3Client | null = null;
/** Output bytes sent and not yet acknowledged as written. */
let unwritten = 0;
let waitingForRoom: (() => void) | null = null;

const send = (m: WorkerMessage, transfer?: ArrayBuffer[]) => port.postMessage(m, transfer);

/**
 * Stdout chunks move to the main thread without a copy and their buffers come back with the acknowledgement.
 * Chunks of ~3 MB: a message per input chunk (~600 KB of NDJSON) cost ~8% more time on `--workers 2` over the
 * 10M-line file, each one waking the main thread and coming back as an acknowledgement. As many buffers are kept as
 * can be out at once (OUTPUT_WINDOW bytes of chunks): keeping fewer dropped the ones coming back after a wait for
 * stdout's turn and allocated new ones (~130 buffers of 1 MiB per 1M lines, each page-faulted in and collected).
 */
const OUTPUT_CHUNK_BYTES = Math.min(3 * 1024 * 1024, OUTPUT_WINDOW / 2);
const BUFFER_BYTES = 4 * 1024 * 1024;
const buffers = new OutputBuffers(BUFFER_BYTES, Math.ceil(OUTPUT_WINDOW / OUTPUT_CHUNK_BYTES) + 2);

function written(bytes: number): void {
  unwritten -= bytes;
  if (waitingForRoom && unwritten < OUTPUT_WINDOW) {
    waitingForRoom();
    waitingForRoom = null;
  }
}

type FromMain =
  | { type: 'setup'; settings: ObjectSettings; enrichment: EnrichmentSources | null }
  | { type: 'object'; obj: FlowLogObject; seq: number }
  | { type: 'ack'; bytes: number; buffer: ArrayBuffer };

port.on('message', (m: FromMain) => {
  if (m.type === 'setup') {
    settings = m.settings;
    enricher = m.enrichment ? loadEnrichment(m.enrichment).enricher : null;
    return;
  }
  if (m.type === 'ack') {
    buffers.put(m.buffer);
    written(m.bytes);
    return;
  }
  objects.push(m);
  if (objects.length === 1) void processQueued();
});

/**
 * Objects handed over, in order: the main thread gives each worker its next object before it is done with the one
 * in hand (see WORKER_SLOTS), so it goes on at once instead of waiting for a message round trip per object.
 */
const objects: { obj: FlowLogObject; seq: number }[] = [];

async function processQueued(): Promise<void> {
  while (objects.length > 0) {
    const { obj, seq } = objects[0];
    await processIn(obj, seq);
    objects.shift();
  }
}

/**
 * Output of this worker's objects waiting for their turn on stdout, in order: chunks in memory, then, once those
 * fill OUTPUT_WINDOW, the rest of the object's output in a spill file; an entry with neither is the object's end.
 */
const queued: { seq: number; chunk?: Buffer; spill?: SpillFile }[] = [];
let draining = false;
/** Why stdout could not be written; later output is dropped (the main thread stops the run). */
let writeFailure: string | null = null;
/** False once output could not be spilled to disk: it then waits in memory for its turn, as before spill files. */
let canSpill = true;
/** A spill file copied out, for the next object that spills (see SpillFile.clear). */
let spareSpill: SpillFile | null = null;

/**
 * Queues an object's output chunk for its turn. Past OUTPUT_WINDOW bytes in memory, an object that is not at the head
 * spills the rest of its output to disk and this worker goes on: whole .gz objects (~50 MB of NDJSON each for 100,000
 * lines) otherwise held each worker up until the other's object was written, and `--workers 2` was slower than one
 * thread on a directory of them (6.40 against 5.85 s for 100 such objects). Only an object fewer than `workers`
 * places after the head spills, one another worker is busy ahead of: a worker's next object waits in memory as
 * before, so no worker runs far ahead writing everything twice (that made the 10M-line file 4.9 s instead of 3.5).
 */
function queueOutput(seq: number, chunk: Buffer, turn: Int32Array): void {
  const last = queued.at(-1);
  let spill = last?.seq === seq ? last.spill : undefined;
  const ahead = seq - Atomics.load(turn, TURN_SEQ);
  if (!spill && canSpill && unwritten + chunk.length > OUTPUT_WINDOW && ahead > 0 && ahead < workers) {
    try {
      spill = spareSpill ?? new SpillFile();
      spareSpill = null;
      queued.push({ seq, spill });
    } catch {
      canSpill = false;
    }
  }
  if (spill && canSpill) {
    const taken = spill.append(chunk);
    if (taken === chunk.length) {
      buffers.put(chunk);
      return;
    }
    // The disk is full: the rest waits in memory, after what the file holds.
    canSpill = false;
    chunk = chunk.subarray(taken);
  }
  queued.push({ seq, chunk });
  unwritten += chunk.length;
}

/**
 * Writes the queued output whose turn has come, then waits (without blocking) for the turns of the rest. Called with
 * every chunk queued: what is due is written at once even while an earlier call waits, because a worker busy decoding
 * comes back to its event loop only when it has to wait, so the waiting call hears of a new turn late, and every
 * object after this one waits for it.
 */
async function drainQueue(turn: Int32Array, fd: number): Promise<void> {
  if (!writeDue(turn, fd) || draining) return;
  draining = true;
  try {
    do {
      const now = Atomics.load(turn, TURN_SEQ);
      if (queued[0].seq === now) continue;
      // Not a blocking wait: acknowledgements and new objects keep coming while this waits.
      const wait = (Atomics as unknown as AtomicsWithWaitAsync).waitAsync(turn, TURN_SEQ, now);
      if (wait.async) await wait.value;
    } while (writeDue(turn, fd));
  } finally {
    draining = false;
  }
}

/** Writes the queued output of the objects whose turn has come, in order; true if output is left waiting. */
function writeDue(turn: Int32Array, fd: number): boolean {
  while (queued.length > 0) {
    const { seq, chunk, spill } = queued[0];
    if (!chunk && !spill) {
      queued.shift();
      send({ type: 'written', seq });
      continue;
    }
    if (Atomics.load(turn, TURN_SEQ) !== seq) return true;
    queued.shift();
    const writes = writeFailure === null && Atomics.load(turn, TURN_WRITES) === 1;
    try {
      if (chunk && writes) writeAll(fd, chunk);
      else if (spill && writes) spill.copyTo(fd, buffers);
    } catch (err) {
      writeFailure = (err as Error).message;
      send({ type: 'output-failed', seq, message: writeFailure });
    } finally {
      if (spill && spill.clear() && !spareSpill) spareSpill = spill;
      else spill?.close();
    }
    if (chunk) {
      buffers.put(chunk);
      written(chunk.length);
    }
  }
  return false;
}

function writeAll(fd: number, bytes: Uint8Array): void {
  for (let off = 0; off < bytes.length; ) off += writeSync(fd, bytes, off, bytes.length - off);
}

interface AtomicsWithWaitAsync {
  waitAsync(typed: Int32Array, index: number, value: number): { async: false; value: string } | { async: true; value: Promise<string> };
}

async function processIn(obj: FlowLogObject, seq: number): Promise<void> {
  // Loaded on demand: the SDK costs ~150 ms of start-up in every worker.
  if (obj.location.kind === 's3') client ??= (await import('../sources/s3.js')).createS3Client(s3);
  // The first report after 200 ms, not at the first chunk: a part of a big file (~10 ms) then sends none, and its
  // 'done' moves the progress bar instead.
  let lastProgress = Date.now();
  const result = await processObject(obj, settings, enricher, client, {
    buffers,
    outputChunkBytes: OUTPUT_CHUNK_BYTES,
    reject: (reject) => send({ type: 'reject', seq, reject }),
    progress: (bytes) => {
      // A message per chunk would cost more than the chunk; a few per second are enough for a progress bar.
      const now = Date.now();
      if (now - lastProgress > 200) {
        lastProgress = now;
        send({ type: 'progress', seq, bytes });
      }
    },
    output: async (chunk) => {
      const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
      if (stdout) {
        queueOutput(seq, bytes, stdout.turn);
        void drainQueue(stdout.turn, stdout.fd);
        // Only chunks in memory count: a spilled one never waits here.
        if (unwritten >= OUTPUT_WINDOW) await new Promise<void>((resolve) => (waitingForRoom = resolve));
        return;
      }
      // A chunk of one of `buffers` owns its ArrayBuffer, so it moves to the main thread without a copy.
      let owned: Uint8Array = bytes;
      if (bytes.byteOffset !== 0 || bytes.buffer.byteLength < buffers.size) {
        owned = new Uint8Array(bytes.byteLength);
        owned.set(bytes);
      }
      unwritten += owned.byteLength;
      send({ type: 'output', seq, chunk: owned }, [owned.buffer as ArrayBuffer]);
      if (unwritten >= OUTPUT_WINDOW) await new Promise<void>((resolve) => (waitingForRoom = resolve));
    },
  });
  send({ type: 'done', seq, result });
  if (stdout) {
    queued.push({ seq });
    void drainQueue(stdout.turn, stdout.fd);
  }
}
