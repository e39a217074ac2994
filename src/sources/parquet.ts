import { promises as fs } from 'node:fs';
import { gunzipSync, inflateRawSync, inflateSync } from 'node:zlib';
import { parquetMetadataAsync, parquetRead, parquetSchema, type Compressors, type FileMetaData } from 'hyparquet';
import { compressors as allDecompressors } from 'hyparquet-compressors';
import { knownField } from '../decode/field-catalog.js';
import { formatFromHeader } from '../decode/format.js';
import { InputError, isGzipMagic, isParquetMagic } from './inputs.js';

/**
 * Reading flow-log objects AWS writes with `FileFormat=parquet` ("Parquet with Gzip compression"): one column per
 * field of the flow log's format, named with underscores (`account_id`, `pkt_srcaddr`), typed INT32 (version, ports,
 * protocol, tcp_flags, traffic_path), INT64 (packets, bytes, start, end; protocol too in Athena's DDL) or STRING,
 * null where the text format has `-`.
 *
 * Rather than decode Parquet values into records a second way, the rows are turned back into flow-log text — a
 * header line, then one line per row — and go through the same decoder as S3 text exports, so a record read from
 * Parquet is exactly the record read from the equivalent text.
 */

/** A file-like object read by byte ranges: hyparquet's AsyncBuffer shape (local file, S3 ranged GETs, memory). */
export interface AsyncByteSource {
  byteLength: number;
  slice(start: number, end?: number): Promise<ArrayBuffer>;
}

/** Ranged reads from a local file through one open file handle; the file is never read whole. */
/** Recognises Parquet by its first bytes (defined beside the other input sniffing). */
export { isParquetMagic };

export async function fileByteSource(path: string): Promise<AsyncByteSource & { close(): Promise<void> }> {
  const handle = await fs.open(path, 'r');
  let size: number;
  try {
    size = (await handle.stat()).size;
  } catch (err) {
    await handle.close().catch(() => {});
    throw err;
  }
  let closed = false;
  return {
    byteLength: size,
    async slice(start: number, end: number = size): Promise<ArrayBuffer> {
      // ArrayBuffer.slice semantics: negative offsets count from the end, both are clamped to the file.
      const from = clamp(start < 0 ? size + start : start, size);
      const to = Math.max(from, clamp(end < 0 ? size + end : end, size));
      const out = new Uint8Array(to - from);
      let done = 0;
      while (done < out.length) {
        const { bytesRead } = await handle.read(out, done, out.length - done, from + done);
        if (bytesRead === 0) throw new InputError(path, 'the file got shorter while it was being read');
        done += bytesRead;
      }
      return out.buffer;
    },
    async close() {
      if (closed) return;
      closed = true;
      await handle.close();
    },
  };
}

function clamp(n: number, size: number): number {
  return Math.min(Math.max(0, Math.trunc(n)), size);
}

/**
 * Decompressors for reading: every codec hyparquet-compressors knows (snappy, gzip, zstd, brotli, lz4), with GZIP —
 * what AWS writes — done by Node's native zlib (several times faster than the JavaScript inflater). GZIP pages are
 * gzip members (RFC 1952) as the Parquet spec says; zlib-wrapped and raw deflate, which some writers produce, are
 * accepted as well.
 */
const DECOMPRESSORS: Compressors = {
  ...(allDecompressors as Compressors),
  GZIP: (input: Uint8Array) => {
    if (isGzipMagic(input)) return gunzipSync(input);
    if ((input[0] & 0x0f) === 8 && ((input[0] << 8) | input[1]) % 31 === 0) return inflateSync(input);
    return inflateRawSync(input);
  },
};

/** About how many bytes of text each yielded chunk holds. */
const CHUNK_BYTES = 256 * 1024;

/** A column name that can be a flow-log field name in a header line. */
const FIELD_NAME = /^[a-z][a-z0-9_-]*$/;

/**
 * Yields a Parquet flow-log object as flow-log text: first a header line of the dashed field names in column order
 * (`version account-id …`), then one line per row, fields separated by single spaces, null as `-`; every chunk is
 * a Buffer of many whole lines (about 256 KiB). Reads one row group at a time, so memory is bounded by the largest
 * row group, not by the object.
 *
 * Columns: every top-level column with a field-shaped name (`[a-z][a-z0-9_-]*`, case-insensitive) is a field,
 * whether vpcflow knows it or not (an unknown one decodes as a string, as in text); nested columns and others are
 * left out. The header must start with a known field for the decoder to take it as a header, so if the first
 * column is not a known field, the first known one is moved to the front.
 *
 * Values: integers (INT32 numbers, INT64 BigInts) in decimal; strings as they are, except that an empty string is
 * written `-` (null; text cannot hold an empty field) and spaces, tabs and line breaks inside a string are
 * percent-encoded (`%20`, `%09`, `%0A`, `%0D`, as AWS writes tag values in text) so a value never splits into two
 * fields or lines — AWS itself writes neither; booleans as `true`/`false`; timestamps (a column annotated as one)
 * as Unix seconds; other numbers as JavaScript prints them.
 *
 * Throws an Error naming `name` for an object that is not Parquet, has no flow-log columns, or cannot be read.
 */
export async function* parquetToText(source: AsyncByteSource, name: string): AsyncGenerator<Buffer> {
  if (source.byteLength < 12) throw new InputError(name, `not a Parquet file (${source.byteLength} bytes)`);
  const head = new Uint8Array(await source.slice(0, 4));
  if (!isParquetMagic(head)) throw new InputError(name, `not a Parquet file (it does not start with PAR1)`);

  let metadata: FileMetaData;
  try {
    metadata = await parquetMetadataAsync(source);
  } catch (err) {
    throw new InputError(name, `not a readable Parquet file: ${message(err)}`, { cause: err });
  }

  const columns = flowLogColumns(metadata, name);
  yield Buffer.from(columns.map(([, field]) => field).join(' ') + '\n');

  const names = columns.map(([column]) => column);
  let rowStart = 0;
  for (const group of metadata.row_groups) {
    const groupRows = Number(group.num_rows);
    if (groupRows === 0) continue;
    let rows: unknown[][] = [];
    try {
      await parquetRead({
        file: source,
        metadata,
        columns: names,
        rowStart,
        rowEnd: rowStart + groupRows,
        compressors: DECOMPRESSORS,
        rowFormat: 'array',
        onComplete: (r) => {
          rows = r;
        },
      });
    } catch (err) {
      throw new InputError(name, `cannot read rows ${rowStart}-${rowStart + groupRows - 1}: ${message(err)}`, { cause: err });
    }
    rowStart += groupRows;

    const width = names.length;
    let lines: string[] = [];
    let size = 0;
    for (let r = 0; r < rows.length; r++) {
      const row = rows[r];
      let line = fieldText(row[0]);
      for (let c = 1; c < width; c++) line += ' ' + fieldText(row[c]);
      lines.push(line);
      size += line.length + 1;
      if (size >= CHUNK_BYTES) {
        yield Buffer.from(lines.join('\n') + '\n');
        lines = [];
        size = 0;
      }
    }
    rows = [];
    if (lines.length > 0) yield Buffer.from(lines.join('\n') + '\n');
  }
}

/** The flow-log columns of the file as [column name, dashed field name], header order. */
function flowLogColumns(metadata: FileMetaData, name: string): [string, string][] {
  const all = parquetSchema(metadata).children;
  const columns: [string, string][] = [];
  for (const child of all) {
    if (child.children.length > 0) continue;
    const column = child.element.name;
    const lower = column.toLowerCase();
    if (!FIELD_NAME.test(lower)) continue;
    columns.push([column, knownField(lower)?.name ?? lower.replaceAll('_', '-')]);
  }
  const firstKnown = columns.findIndex(([, field]) => knownField(field) !== undefined);
  const listed = all.map((c) => c.element.name).join(', ') || 'none';
  if (firstKnown < 0) throw new InputError(name, `a Parquet file without flow-log columns (columns: ${listed})`);
  if (firstKnown > 0) columns.unshift(...columns.splice(firstKnown, 1));
  if (!formatFromHeader(columns.map(([, field]) => field))) {
    throw new InputError(name, `the Parquet columns do not make a flow-log format (a field appears twice?): ${listed}`);
  }
  return columns;
}

const NEEDS_ESCAPE = /[ \t\n\r]/;
const ESCAPES: Record<string, string> = { ' ': '%20', '\t': '%09', '\n': '%0A', '\r': '%0D' };

/** One value as a flow-log text field. */
function fieldText(v: unknown): string {
  switch (typeof v) {
    case 'string':
      if (v.length === 0) return '-';
      return NEEDS_ESCAPE.test(v) ? v.replace(/[ \t\n\r]/g, (c) => ESCAPES[c]) : v;
    case 'number':
    case 'bigint':
      return String(v);
    case 'boolean':
      return v ? 'true' : 'false';
    case 'undefined':
      return '-';
    default:
      if (v === null) return '-';
      if (v instanceof Date) return Number.isNaN(v.getTime()) ? '-' : String(Math.floor(v.getTime() / 1000));
      if (v instanceof Uint8Array) return fieldText(Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('utf8'));
      return fieldText(JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? x.toString() : x)));
  }
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
