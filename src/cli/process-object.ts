import { open } from 'node:fs/promises';
import path from 'node:path';
import type { S3Client } from '@aws-sdk/client-s3';
import type { DecodeCounts, DecoderState } from '../decode/flow-decoder.js';
import type { DecodedRecord } from '../decode/record.js';
import type { Reject } from '../decode/rejects.js';
import { SourceDecoder, type SourceDecoderOptions } from '../decode/source-decoder.js';
import type { Enricher } from '../enrich/enricher.js';
import { describeReadError, isGzipMagic, isParquetMagic } from '../sources/inputs.js';
import { PART_BYTES, partRanges } from '../sources/file-parts.js';
import { openObject, type FlowLogObject } from '../sources/objects.js';
import { CsvWriter } from '../sinks/csv.js';
import { NdjsonWriter } from '../sinks/ndjson.js';
import { AtomicGzipFile, outputStem, safeOutputPath } from '../sinks/out-dir.js';
import type { OutputBuffers } from '../sinks/output-buffers.js';
import type { ParquetFileWriterOptions } from '../sinks/parquet.js';
import type { RecordWriter } from '../sinks/record-writer.js';

export type BatchOutput = 'ndjson' | 'csv' | 'parquet';

/** How every object of a batch is processed: plain data, so a worker thread can be given the same settings. */
export interface ObjectSettings {
  decoder: SourceDecoderOptions;
  fields?: string[];
  isoTimes?: boolean;
  output: BatchOutput;
  /** Write files under this directory; null streams the output to the caller (stdout). */
  outDir: string | null;
}

export interface ObjectHooks {
  /** Output for stdout mode; awaited, so a slow reader slows the object down. */
  output?(chunk: string | Buffer): Promise<void>;
  /** Buffers for the stdout output: each chunk given to `output` is then one of them, to give back once written. */
  buffers?: OutputBuffers;
  /** Output is handed to `output` once at least this many bytes are pending (and at the end); default: every input chunk. */
  outputChunkBytes?: number;
  reject(reject: Reject): void;
  /** Input bytes read so far of this object (for progress). */
  progress?(bytes: number): void;
}

export interface ObjectResult {
  id: string;
  outputs: string[];
  counts: DecodeCounts;
  /** Decompressed bytes read. */
  bytes: number;
  /** Why the object failed for good (outputs are then removed). */
  error?: string;
  /** Where decoding stood at its end (null for a JSON document): where the next part of the same file goes on. */
  endState: DecoderState | null;
}

/** One output file of an object (text formats: one; Parquet: one per hive partition the records fall in). */
interface OutputFile {
  write(rec: DecodedRecord): void;
  flush(): Promise<void>;
  /** The files written, under their final names. */
  commit(): Promise<string[]>;
  abort(): Promise<void>;
}

/**
 * Reads one flow-log object through decode → enrich → sink. With an output directory, its outputs are written to
 * temporary names and renamed into place only when the whole object succeeded; on failure they are removed, so a
 * retry or a resumed run starts clean and nothing is duplicated.
 */
export async function processObject(
  obj: FlowLogObject,
  settings: ObjectSettings,
  enricher: Enricher | null,
  client: S3Client | null,
  hooks: ObjectHooks,
): Promise<ObjectResult> {
  const files = new Map<string, OutputFile>();
  // A part after the first continues the output of the one before it: no second CSV header row.
  const streamWriter: RecordWriter | null = settings.outDir === null ? textWriter(settings, (obj.part?.index ?? 0) === 0, hooks.buffers) : null;
  let failure: Error | null = null;

  // Loaded only for Parquet output: hyparquet-writer (and the hyparquet it loads) cost every worker thread ~40
  // modules at start and memory for as long as it runs.
  const parquet: ParquetSink | null = settings.output === 'parquet' ? await import('../sinks/parquet.js') : null;
  // The object's output name, worked out once: only Parquet's partition depends on the record.
  const stem = outputStem(obj.key);
  const textName = `${stem}.${settings.output}.gz`;
  const parquetName = `${path.posix.basename(stem)}.parquet`;
  const limits = parquet ? { holding: new parquet.HeldRows(2 * PARQUET_ROW_GROUP_ROWS), footers: new parquet.FooterLimit(PARQUET_FOOTER_ROW_GROUPS) } : null;
  const fileFor = (rec: DecodedRecord): OutputFile | null => {
    const name = parquet ? `${parquet.hivePartition(rec, obj.info.region)}/${parquetName}` : textName;
    let file = files.get(name);
    if (!file) {
      try {
        file = parquet ? parquetFile(parquet, safeOutputPath(settings.outDir!, name), limits!) : textFile(safeOutputPath(settings.outDir!, name), settings);
      } catch (err) {
        failure ??= err as Error;
        return null;
      }
      files.set(name, file);
    }
    return file;
  };

  const decoder = new SourceDecoder(
    {
      record(rec) {
        enricher?.enrich(rec);
        if (streamWriter) streamWriter.write(rec);
        else if (!failure) fileFor(rec)?.write(rec);
      },
      reject: (r) => hooks.reject(r),
    },
    settings.decoder,
  );
  // Parts report lines under the file's name (numbered from the part's start; the caller adds the lines before it).
  if (obj.part) decoder.begin(obj.part.file, obj.part.state ?? undefined);
  else decoder.begin(obj.id);
  let bytes = 0;
  try {
    for await (const chunk of await openObject(obj, client)) {
      bytes += chunk.length;
      decoder.push(chunk);
      hooks.progress?.(bytes);
      if (failure) throw failure;
      if (streamWriter) {
        if ((streamWriter.pendingBytes ?? Infinity) >= (hooks.outputChunkBytes ?? 0)) {
          const out = streamWriter.take();
          if (out.length > 0) await hooks.output!(out);
        }
      } else {
        for (const file of files.values()) await file.flush();
      }
    }
    decoder.end();
    if (failure) throw failure;
    if (streamWriter) {
      const out = streamWriter.take(true);
      if (out.length > 0) await hooks.output!(out);
    }
    const outputs: string[] = [];
    for (const file of files.values()) outputs.push(...(await file.commit()));
    return { id: obj.id, outputs, counts: decoder.counts, bytes, endState: decoder.state };
  } catch (err) {
    for (const file of files.values()) await file.abort().catch(() => {});
    if (streamWriter) {
      // On stdout the records before the damage are written, as a one-thread run writes them: they were counted. The
      // line the damage cut short is rejected. (Held output was dropped here, and a worker counted records it never wrote.)
      try {
        decoder.end();
        const out = streamWriter.take(true);
        if (out.length > 0) await hooks.output!(out);
      } catch {
        // Output that cannot be written is reported by whoever writes it.
      }
    }
    return { id: obj.id, outputs: [], counts: decoder.counts, bytes, error: describeReadError(err), endState: decoder.state };
  }
}

/** Bytes of a file's head read to learn the shape and header its later parts start with. */
const HEAD_BYTES = 64 * 1024;

/**
 * A big plain local file as parts for the workers to share, or null when it is small or cannot be split: gzip and
 * Parquet (no way to start in the middle), JSON documents. Later parts start in the state the decoder is in after
 * the file's head; runBatch checks that guess against where the part before really ended.
 */
export async function filePartsFor(obj: FlowLogObject, settings: ObjectSettings): Promise<FlowLogObject[] | null> {
  if (obj.location.kind !== 'local' || obj.part || settings.output === 'parquet' || settings.decoder.shape === 'json') return null;
  if (obj.size < 2 * PART_BYTES) return null;
  const file = obj.location.path;
  const head = Buffer.alloc(HEAD_BYTES);
  const fh = await open(file, 'r');
  let bytes: number;
  try {
    bytes = (await fh.read(head, 0, HEAD_BYTES, 0)).bytesRead;
  } finally {
    await fh.close();
  }
  if (isGzipMagic(head) || isParquetMagic(head)) return null;
  const lastLine = head.lastIndexOf(0x0a, bytes - 1);
  if (lastLine < 0) return null;
  const decoder = new SourceDecoder({ record() {}, reject() {} }, settings.decoder);
  decoder.begin(file);
  decoder.push(head.subarray(0, lastLine + 1));
  const state = decoder.state;
  if (state === null || state.shape === null) return null;
  const ranges = partRanges(obj.size);
  return ranges.map(({ start, end }, index) => ({
    ...obj,
    id: `${obj.id} (part ${index + 1} of ${ranges.length})`,
    size: end - start,
    part: { file, index, last: index === ranges.length - 1, start, end, state: index === 0 ? null : state },
  }));
}

function textWriter(settings: ObjectSettings, headerRow = true, buffers?: OutputBuffers): RecordWriter {
  const options = { fields: settings.fields, isoTimes: settings.isoTimes, buffers };
  return settings.output === 'csv' ? new CsvWriter({ ...options, headerRow }) : new NdjsonWriter(options);
}

/** gzip NDJSON or CSV; each file is complete on its own (CSV repeats its header). */
function textFile(file: string, settings: ObjectSettings): OutputFile {
  const writer = textWriter(settings);
  const opened = AtomicGzipFile.create(file);
  return {
    write: (rec) => writer.write(rec),
    flush: async () => {
      const out = writer.take(true);
      if (out.length > 0) await (await opened).write(out);
    },
    commit: async () => {
      const gz = await opened;
      const out = writer.take(true);
      if (out.length > 0) await gz.write(out);
      await gz.commit();
      return [file];
    },
    abort: async () => (await opened).abort(),
  };
}

type ParquetSink = typeof import('../sinks/parquet.js');

/** Small row groups: a group is held in memory until written. */
const PARQUET_ROW_GROUP_ROWS = 10_000;
/**
 * Row groups whose footer metadata an object's Parquet files hold together (~20 KB each, ~2 MB in all): one
 * partition's rows go to files of 1M rows (~20 MB), `name.parquet`, `name.2.parquet`, …; partitions that fill at
 * the same time share the limit (the 10M-line bench file's 10 days: 19 files).
 */
const PARQUET_FOOTER_ROW_GROUPS = 100;

type ParquetLimits = Required<Pick<ParquetFileWriterOptions, 'holding' | 'footers'>>;

function parquetFile(parquet: ParquetSink, file: string, limits: ParquetLimits): OutputFile {
  const writer = new parquet.ParquetFileWriter(file, { rowGroupRows: PARQUET_ROW_GROUP_ROWS, ...limits });
  return {
    write: (rec) => writer.write(rec),
    flush: async () => {},
    commit: async () => {
      await writer.close();
      return writer.paths;
    },
    abort: () => writer.abort(),
  };
}
