import { closeSync, mkdirSync, openSync, promises as fs, writeSync } from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import type { SchemaElement } from 'hyparquet';
import { ByteWriter, ParquetWriter } from 'hyparquet-writer';
import { columnValue, flattenColumns, recordColumns, type Column, type DecodedRecord } from '../decode/record.js';

/**
 * Parquet output that Athena, Spark, DuckDB or pandas read as they are: one flat column per record value, typed as
 * AWS types its own flow-log Parquet (INT32 / INT64 / STRING, every column nullable), GZIP-compressed like AWS's
 * (SNAPPY on request), with row-group statistics so engines can skip row groups on `start`, `dstport`, …
 */

/**
 * One column of a record: Athena-friendly name (lower-case, `[a-z0-9_]` only); endpoint objects flattened with
 * underscores (`src_scope`, `src_aws_service`, `src_aws_services` (comma-joined), `src_aws_region`, …,
 * `dst_vpc_resource_description`; `pkt_src_…`, `pkt_dst_…`), `tcp_flags_names` comma-joined.
 */
export type ParquetColumn =
  /** `number`: the value, NaN for null (INT64 values are doubles already where they are decoded). */
  | { name: string; type: 'INT32' | 'INT64'; number(rec: DecodedRecord): number }
  | { name: string; type: 'STRING'; text(rec: DecodedRecord): string | null };

/**
 * The Parquet columns of a record, in output order: the format's fields, `log_stream` / `log_timestamp` when the
 * input carried them, then the derived values (`protocol_name`, `tcp_flags_names`, endpoint values, `direction`).
 * Typed from the field catalog: `int` → INT32 (version, ports, protocol, tcp_flags, traffic_path, …), `count` and
 * `unix_seconds` → INT64 (packets, bytes, start, end), `log_timestamp` (milliseconds) → INT64, everything else
 * (addresses, ids, enums, derived text) → STRING.
 */
export function parquetColumnsFor(rec: DecodedRecord): ParquetColumn[] {
  const columns = flattenColumns(recordColumns(rec));
  const fieldNames = new Set(columns.filter((c) => c.source === 'field').map((c) => athenaName(c.key)));
  const taken = new Set<string>();
  return columns.map((col) => {
    let base = athenaName(col.key);
    // The format's own fields keep AWS's names: a derived column that would take one gets `_enriched`. (That is
    // `pkt_src_aws_service` / `pkt_dst_aws_service` in v5+ formats: AWS's field keeps the name, vpcflow's answer
    // for the same address is `pkt_src_aws_service_enriched`.)
    if (col.source !== 'field' && fieldNames.has(base)) base += '_enriched';
    let name = base;
    // Keys that differ only in characters Athena does not take (fields vpcflow does not know) stay apart.
    for (let n = 2; taken.has(name); n++) name = `${base}_${n}`;
    taken.add(name);
    return columnOf(col, name);
  });
}

/** Lower-case, every character outside [a-z0-9_] turned into `_` (`dst.aws.service` → `dst_aws_service`). */
function athenaName(key: string): string {
  return key.toLowerCase().replace(/[^a-z0-9_]/g, '_');
}

function columnOf(col: Column, name: string): ParquetColumn {
  const i = col.index;
  if (col.source === 'field') {
    if (col.type === 'int') return { name, type: 'INT32', number: (rec) => rec.number(i) };
    if (col.type === 'count' || col.type === 'unix_seconds') return { name, type: 'INT64', number: (rec) => rec.number(i) };
    return {
      name,
      type: 'STRING',
      text: (rec) => {
        const v = rec.value(i);
        return v === null ? null : typeof v === 'string' ? v : String(v);
      },
    };
  }
  if (col.source === 'log_timestamp') {
    return { name, type: 'INT64', number: (rec) => Math.trunc(rec.logTimestamp) };
  }
  return {
    name,
    type: 'STRING',
    text: (rec) => {
      const v = columnValue(rec, col);
      if (v === null || typeof v === 'string') return v;
      if (Array.isArray(v)) return v.join(',');
      return typeof v === 'number' ? String(v) : JSON.stringify(v);
    },
  };
}

function schemaOf(columns: readonly ParquetColumn[]): SchemaElement[] {
  return [
    { name: 'schema', num_children: columns.length },
    ...columns.map((c): SchemaElement =>
      c.type === 'STRING'
        ? { name: c.name, type: 'BYTE_ARRAY', converted_type: 'UTF8', logical_type: { type: 'STRING' }, repetition_type: 'OPTIONAL' }
        : { name: c.name, type: c.type, repetition_type: 'OPTIONAL' },
    ),
  ];
}

/** A record whose columns differ from those of the file being written: the caller opens another file for it. */
export class ParquetLayoutError extends Error {
  override name = 'ParquetLayoutError';
}

export interface ParquetFileWriterOptions {
  /** Rows per row group (default 100,000): also the most rows held in memory at once. */
  rowGroupRows?: number;
  /**
   * `GZIP` (default: what AWS writes; Node's native zlib, level 6, passed to hyparquet-writer as its compressor) or
   * `SNAPPY` (hyparquet-writer's built-in JavaScript snappy: about as fast here, files about 1.7x larger). Both are
   * standard Parquet codecs that Athena, Spark, DuckDB and pyarrow read; the tests read both back with hyparquet.
   */
  compression?: 'GZIP' | 'SNAPPY';
  /** Shared by the files of one output (one per partition): how many rows they may hold at once. */
  holding?: HeldRows;
  /** Shared by the files of one output: how many row groups' footer metadata they may hold at once. */
  footers?: FooterLimit;
}

/**
 * Something an output's Parquet files (one per partition) hold together, bounded: each file reports what it takes on
 * and lets go of, and past the limit the file holding the most is made to let go of its share (`relieve`).
 */
class SharedLimit {
  private held = 0;
  private readonly files = new Set<ParquetFileWriter>();

  constructor(
    readonly limit: number,
    private readonly share: (file: ParquetFileWriter) => number,
    private readonly relieve: (file: ParquetFileWriter) => void,
  ) {}

  /** `file` holds one more. */
  add(file: ParquetFileWriter): void {
    this.files.add(file);
    if (++this.held <= this.limit) return;
    let largest = file;
    for (const f of this.files) if (this.share(f) > this.share(largest)) largest = f;
    this.relieve(largest);
  }

  /** `file` let go of the `count` it held. */
  released(file: ParquetFileWriter, count: number): void {
    this.held -= count;
    this.files.delete(file);
  }
}

/**
 * Bounds the rows an output's Parquet files hold in memory together. Each file holds up to a row group's worth;
 * with records spread over many partitions (the 10M-line bench file spans 10 days), every partition used to hold its
 * last partial group to the end of the object. Past the limit, the file holding the most rows writes them as a
 * (shorter) row group. A limit of two row groups' worth lets two partitions interleaved (flows around midnight) fill
 * whole groups; more partitions interleaved get groups of about limit / partitions.
 */
export class HeldRows extends SharedLimit {
  constructor(limit: number) {
    super(limit, (f) => f.heldRows, (f) => f.writeHeldRows());
  }
}

/**
 * Bounds the footer metadata an output's Parquet files hold together. hyparquet-writer keeps every column chunk's
 * metadata until it writes the footer (~340 bytes a chunk after shareMetadata: ~20 KB per row group of the enriched
 * default format), so a file held ~2 MB per 1M rows to its end: 20 MB over the 10M-line bench file's 10 partitions,
 * alive to the end, with old space grown to a multiple of it. Past the limit, the file holding the most row groups
 * ends its part: the footer is written, and its next rows go to a next file (`name.2.parquet`, `name.3.parquet`, …).
 */
export class FooterLimit extends SharedLimit {
  constructor(limit: number) {
    super(limit, (f) => f.partRowGroups, (f) => f.endPart());
  }
}

export const DEFAULT_ROW_GROUP_ROWS = 100_000;

/** Bytes of encoded output kept before they are written to the file. */
const WRITE_BUFFER_BYTES = 1 << 20;

/** The write buffer of every file of this thread (see FdByteWriter). */
let sharedBuffer: ArrayBuffer | null = null;

/**
 * hyparquet-writer's byte buffer, written out to a file descriptor as it fills and after every row group, so the
 * encoded file is never held in memory. (Writing earlier bytes out is safe: the writer only ever appends.) Encoding
 * and writing are synchronous and each row group is written out before another file encodes, so all files share
 * one buffer: one each held 1 MiB per open partition file (10 MB over the 10M-line bench file's 10 days).
 */
class FdByteWriter extends ByteWriter {
  constructor(private readonly fd: number) {
    super(0);
    this.useShared();
  }

  override ensure(size: number): void {
    if (this.index >= WRITE_BUFFER_BYTES) this.flush();
    super.ensure(size);
  }

  /** Writes out what is buffered; a buffer grown past the shared one (a page bigger than 64 KiB) is let go. */
  flush(): void {
    let done = 0;
    while (done < this.index) done += writeSync(this.fd, new Uint8Array(this.buffer, done, this.index - done));
    this.index = 0;
    this.useShared();
  }

  private useShared(): void {
    sharedBuffer ??= new ArrayBuffer(WRITE_BUFFER_BYTES + 64 * 1024);
    if (this.buffer === sharedBuffer) return;
    this.buffer = sharedBuffer;
    this.view = new DataView(sharedBuffer);
  }

  override finish(): void {
    this.flush();
  }
}

/**
 * One column's values while a row group fills, kept compact: numbers in a reused Float64Array (NaN for null), text
 * as codes into the group's distinct values. Held as a JavaScript array of values per column, a group's ~10,000
 * rows outlived young-generation collections and were promoted, and old space grew to ~4x what was alive between
 * full collections.
 */
class GroupValues {
  private numbers = new Float64Array(0);
  private codes = new Int32Array(0);
  private readonly distinct: string[] = [];
  private readonly codeOf = new Map<string, number>();
  private length = 0;

  constructor(
    private readonly type: ParquetColumn['type'],
    private readonly maxRows: number,
  ) {}

  /** `column`: this one, or the same column of another layout of the same columns. */
  push(column: ParquetColumn, rec: DecodedRecord): void {
    const at = this.length++;
    if (column.type === 'STRING') {
      if (at === this.codes.length) this.codes = grown(this.codes, this.maxRows);
      const text = column.text(rec);
      let code = -1;
      if (text !== null) {
        code = this.codeOf.get(text) ?? -1;
        if (code < 0) {
          code = this.distinct.push(text) - 1;
          this.codeOf.set(text, code);
        }
      }
      this.codes[at] = code;
    } else {
      if (at === this.numbers.length) this.numbers = grown(this.numbers, this.maxRows);
      this.numbers[at] = column.number(rec);
    }
  }

  /** The group's values as hyparquet-writer takes them (INT64 as bigint, null for null); the column starts over. */
  take(): (string | number | bigint | null)[] {
    const out = new Array<string | number | bigint | null>(this.length);
    const { numbers, codes, distinct, type } = this;
    if (type === 'STRING') {
      for (let r = 0; r < out.length; r++) out[r] = codes[r] < 0 ? null : distinct[codes[r]];
    } else {
      const int64 = type === 'INT64';
      for (let r = 0; r < out.length; r++) {
        const n = numbers[r];
        out[r] = Number.isNaN(n) ? null : int64 ? BigInt(n) : n;
      }
    }
    this.length = 0;
    this.distinct.length = 0;
    this.codeOf.clear();
    return out;
  }
}

function grown<T extends Float64Array | Int32Array>(array: T, maxRows: number): T {
  const bigger = new (array.constructor as new (length: number) => T)(Math.min(maxRows, Math.max(1024, array.length * 2)));
  bigger.set(array);
  return bigger;
}

/**
 * Collects the records of one output file and writes them as Parquet, streaming: every `rowGroupRows` records
 * become a row group, encoded and written to disk at once, so memory holds at most one row group of values and its
 * encoding, plus a 1 MiB write buffer and the footer metadata (a few hundred bytes per column per row group, bounded
 * with `footers`) — never the file. Measured on the enriched default format (58 columns), before the values were
 * kept in typed arrays: about 190 MB above the baseline at 100,000 rows per group, about 35 MB at 20,000.
 * Data pages are Parquet v2 pages, PLAIN or RLE_DICTIONARY encoded (what hyparquet-writer writes).
 *
 * The columns are those of the first record (`parquetColumnsFor`); a record with other columns throws a
 * ParquetLayoutError and is not written (the caller opens another file for it). Nothing touches the disk until the
 * first row group is full or `close()`; then `path + '.tmp'` is written (its directory created) and renamed to
 * `path` by `close()`, so a crash never leaves a partial file under the final name. A writer that got no record
 * writes no file. With a FooterLimit the output may be several files, `path` then `name.2.parquet`, … (`paths`),
 * each a complete Parquet file, all renamed by `close()`. Disk writes are synchronous, like the encoding before them.
 */
export class ParquetFileWriter {
  /** The first part's path; the others are numbered (`paths`). */
  readonly path: string;
  private readonly rowGroupRows: number;
  private readonly compression: 'GZIP' | 'SNAPPY';
  private readonly holding: HeldRows | undefined;
  private readonly footers: FooterLimit | undefined;
  /** The part being written (1, 2, …) and the row groups it has. */
  private part = 1;
  private partGroups = 0;
  /** Parts whose footer is written: renamed into place by close(). */
  private readonly finishedParts: string[] = [];
  private columns: ParquetColumn[] | null = null;
  /** The record columns the file's columns were made from: the fast check for every following record. */
  private layout: readonly Column[] | null = null;
  private readonly otherLayouts = new WeakMap<readonly Column[], ParquetColumn[]>();
  private values: GroupValues[] = [];
  private groupRows = 0;
  private total = 0;
  private fd: number | null = null;
  private parquet: ParquetWriter | null = null;
  private byteWriter: FdByteWriter | null = null;
  private state: 'open' | 'closed' | 'failed' = 'open';
  private failure: Error | null = null;
  /** Metadata values every row group repeats, one object each (see shareMetadata). */
  private readonly sharedMetadata = new Map<string, unknown>();
  private metadataShared = 0;

  constructor(path: string, options: ParquetFileWriterOptions = {}) {
    const { rowGroupRows = DEFAULT_ROW_GROUP_ROWS, compression = 'GZIP', holding, footers } = options;
    if (!Number.isInteger(rowGroupRows) || rowGroupRows < 1) throw new RangeError(`rowGroupRows must be a positive integer, not ${rowGroupRows}`);
    if (compression !== 'GZIP' && compression !== 'SNAPPY') throw new RangeError(`compression must be GZIP or SNAPPY, not ${String(compression)}`);
    this.path = path;
    this.rowGroupRows = rowGroupRows;
    this.compression = compression;
    this.holding = holding;
    this.footers = footers;
  }

  /** The files written: one per part, the first at `path`. */
  get paths(): string[] {
    return this.parquet ? [...this.finishedParts, this.partPath(this.part)] : [...this.finishedParts];
  }

  /** Row groups of the part being written (their metadata is held until its footer). */
  get partRowGroups(): number {
    return this.partGroups;
  }

  private partPath(part: number): string {
    if (part === 1) return this.path;
    return this.path.endsWith('.parquet') ? `${this.path.slice(0, -'.parquet'.length)}.${part}.parquet` : `${this.path}.${part}`;
  }

  /** Records written so far (buffered or on disk). */
  get rows(): number {
    return this.total;
  }

  /** Copies the record's values out of the (reused) view. */
  write(rec: DecodedRecord): void {
    if (this.state !== 'open') throw new Error(`${this.path}: write after ${this.state === 'failed' ? `a failure (${this.failure?.message})` : 'close'}`);
    const layout = recordColumns(rec);
    const columns = layout === this.layout ? this.columns! : this.columnsFor(rec, layout);
    const values = this.values;
    for (let j = 0; j < values.length; j++) values[j].push(columns[j], rec);
    this.total++;
    this.groupRows++;
    this.holding?.add(this);
    if (this.groupRows >= this.rowGroupRows) this.writeGroup();
  }

  /** Rows held in memory, not yet written as a row group. */
  get heldRows(): number {
    return this.groupRows;
  }

  /** Writes the rows held as a row group now, short of `rowGroupRows`. */
  writeHeldRows(): void {
    if (this.state === 'open') this.writeGroup();
  }

  /**
   * Writes what is buffered and the part's footer (to its temporary name); the rows that follow go to the next part.
   * Nothing happens to a part with no rows.
   */
  endPart(): void {
    if (this.state !== 'open') return;
    this.writeGroup();
    if (!this.parquet) return;
    try {
      this.parquet.finish();
      closeSync(this.fd!);
    } catch (err) {
      throw this.fail(err);
    }
    this.fd = null;
    this.parquet = null;
    this.byteWriter = null;
    this.finishedParts.push(this.partPath(this.part));
    this.footers?.released(this, this.partGroups);
    this.part++;
    this.partGroups = 0;
    this.metadataShared = 0;
  }

  /** Writes what is buffered and the footer, then renames the file(s) into place. */
  async close(): Promise<void> {
    if (this.state === 'closed') return;
    try {
      if (this.state === 'failed') throw this.failure!;
      this.endPart();
      for (const part of this.finishedParts) await fs.rename(`${part}.tmp`, part);
      this.state = 'closed';
      this.values = [];
    } catch (err) {
      await this.abort();
      throw err;
    }
  }

  /** Drops everything and removes the temporary files. */
  async abort(): Promise<void> {
    this.state = 'closed';
    this.holding?.released(this, this.groupRows);
    this.footers?.released(this, this.partGroups);
    this.groupRows = 0;
    this.partGroups = 0;
    this.values = [];
    this.parquet = null;
    this.byteWriter = null;
    if (this.fd !== null) {
      try {
        closeSync(this.fd);
      } catch {
        // already unusable: the file is removed next
      }
      this.fd = null;
    }
    for (const part of [...this.finishedParts, this.partPath(this.part)]) await fs.rm(`${part}.tmp`, { force: true });
  }

  private columnsFor(rec: DecodedRecord, layout: readonly Column[]): ParquetColumn[] {
    if (this.columns === null) {
      this.columns = parquetColumnsFor(rec);
      this.layout = layout;
      this.values = this.columns.map((c) => new GroupValues(c.type, this.rowGroupRows));
      return this.columns;
    }
    let columns = this.otherLayouts.get(layout);
    if (!columns) {
      // Another format object with the same columns (a header line read again, another source) is the same layout.
      columns = parquetColumnsFor(rec);
      const same = columns.length === this.columns.length && columns.every((c, j) => c.name === this.columns![j].name && c.type === this.columns![j].type);
      if (!same) {
        const mine = this.columns.map((c) => c.name).join(',');
        throw new ParquetLayoutError(`${this.path}: record columns (${columns.map((c) => c.name).join(',')}) differ from the file's (${mine})`);
      }
      this.otherLayouts.set(layout, columns);
    }
    return columns;
  }

  /** Encodes the buffered rows as one row group and writes them out. */
  private writeGroup(): void {
    if (this.groupRows === 0) return;
    const columns = this.columns!;
    try {
      if (!this.parquet) {
        mkdirSync(path.dirname(this.path), { recursive: true });
        this.fd = openSync(`${this.partPath(this.part)}.tmp`, 'w');
        this.byteWriter = new FdByteWriter(this.fd);
        this.parquet = new ParquetWriter({
          writer: this.byteWriter,
          schema: schemaOf(columns),
          codec: this.compression,
          compressors: this.compression === 'GZIP' ? { GZIP: (bytes: Uint8Array) => gzipSync(bytes) } : {},
          createdBy: 'vpcflow',
        });
      }
      void this.parquet.write({
        columnData: columns.map((c, j) => ({ name: c.name, data: this.values[j].take() })),
        rowGroupSize: this.groupRows,
      });
      this.byteWriter!.flush();
    } catch (err) {
      throw this.fail(err);
    }
    this.holding?.released(this, this.groupRows);
    this.groupRows = 0;
    this.shareMetadata();
    this.partGroups++;
    // Last: past the limit, this may end a part (this file's too).
    this.footers?.add(this);
  }

  private fail(err: unknown): Error {
    this.state = 'failed';
    this.failure = err instanceof Error ? err : new Error(String(err));
    this.failure.message = `${this.partPath(this.part)}: ${this.failure.message}`;
    return this.failure;
  }

  /**
   * hyparquet-writer keeps every column chunk's metadata until the footer is written, with new arrays for the
   * column's path and encodings in each (~690 bytes a chunk: 4 MB per 1M enriched rows in 10,000-row groups, all of
   * it alive to the end of the file). The repeated ones are made one shared object: ~340 bytes a chunk.
   */
  private shareMetadata(): void {
    const groups = this.parquet!.row_groups;
    const one = <T>(value: T): T => {
      if (value === undefined) return value;
      const key = JSON.stringify(value);
      const known = this.sharedMetadata.get(key);
      if (known !== undefined) return known as T;
      this.sharedMetadata.set(key, value);
      return value;
    };
    for (; this.metadataShared < groups.length; this.metadataShared++) {
      for (const { meta_data: meta } of groups[this.metadataShared].columns) {
        if (!meta) continue;
        meta.path_in_schema = one(meta.path_in_schema);
        meta.encodings = one(meta.encodings);
        meta.encoding_stats = one(meta.encoding_stats);
      }
    }
  }
}

/**
 * Hive partition directory of a record: `region=<region>/date=<yyyy-mm-dd>`. The region is the record's own
 * `region` field when the format has one and it is set, else `fallbackRegion` (e.g. from the S3 key), else
 * `unknown`; the date is the UTC day of `start`, or of the CloudWatch Logs event time when the record has no
 * `start`, else `unknown`. Values that are not region-shaped (`[a-z0-9-]`) become `unknown`, so a value from the
 * data can never make a path.
 */
export function hivePartition(rec: DecodedRecord, fallbackRegion: string | null): string {
  const regionIndex = rec.format.indexOf.get('region');
  const own = regionIndex === undefined ? null : rec.value(regionIndex);
  const region = partitionValue(typeof own === 'string' ? own : null) ?? partitionValue(fallbackRegion) ?? 'unknown';
  const startIndex = rec.format.indexOf.get('start');
  const start = startIndex === undefined ? NaN : rec.number(startIndex);
  return `region=${region}/date=${utcDay(Number.isNaN(start) ? rec.logTimestamp / 1000 : start)}`;
}

// hivePartition runs for every record of a Parquet output; records of one object nearly all share a region and a
// day, so the last answer of each is kept (a regex, a Date and toISOString per record cost ~0.6 µs).
let lastValue: string | null = null;
let lastPartitionValue: string | null = null;
let lastDay = NaN;
let lastDayText = '';

function partitionValue(v: string | null): string | null {
  if (v === null) return null;
  if (v === lastValue) return lastPartitionValue;
  const lower = v.toLowerCase();
  lastValue = v;
  return (lastPartitionValue = /^[a-z0-9][a-z0-9-]*$/.test(lower) ? lower : null);
}

function utcDay(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0 || seconds >= 253402300800) return 'unknown'; // 0000..9999
  const day = Math.floor(seconds / 86400);
  if (day !== lastDay) {
    lastDay = day;
    lastDayText = new Date(day * 86400 * 1000).toISOString().slice(0, 10);
  }
  return lastDayText;
}
