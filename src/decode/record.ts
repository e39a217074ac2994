import { derivesDirection, endpointObject, ENDPOINT_KEYS, ENDPOINT_PATHS, type EndpointInfo } from '../enrich/endpoint.js';
import type { FieldType } from './field-catalog.js';
import type { Format } from './format.js';
import { protocolName } from './protocols.js';
import { tcpFlagNames } from './tcp-flags.js';

/** What a decoded slot holds. */
export const KIND_NULL = 0;
export const KIND_NUMBER = 1;
export const KIND_TEXT = 2;
export const KIND_IPV4 = 3;
export const KIND_IPV6 = 4;

/** The most fields a line may have; more is a `field_count` reject. */
export const MAX_FIELDS = 256;

/** A decoded record as plain data: the snake_case AWS names, numbers as numbers, `-` as null. */
export type FlowValue = string | number | null | readonly string[] | { readonly [key: string]: unknown };
export type FlowRecord = Record<string, FlowValue>;

/** Derived fields the caller asks for on top of the format's own. */
export interface RecordOptions {
  /** Adds `start_iso` and `end_iso` (and `log_timestamp_iso`): ISO-8601 UTC times. */
  isoTimes?: boolean;
}

/**
 * One decoded line, reused for every line of a stream so the hot path allocates nothing per field: values stay as
 * offsets into the line's bytes or as numbers until a sink reads them. Valid only during the callback that
 * receives it; call `toObject()` to keep it.
 */
export class DecodedRecord {
  format!: Format;
  /** The bytes the offsets point into. */
  buf: Uint8Array = EMPTY;
  // Not readonly: lines the C decoder decoded are handed out by pointing these at its row of slots, not copied.
  kinds: Uint8Array = new Uint8Array(MAX_FIELDS);
  starts: Int32Array = new Int32Array(MAX_FIELDS);
  ends: Int32Array = new Int32Array(MAX_FIELDS);
  /** Integers, and IPv4 addresses as unsigned 32-bit values. */
  numbers: Float64Array = new Float64Array(MAX_FIELDS);
  /** The record's own slots, which the JavaScript decoder writes into; `useOwnSlots()` points back at them. */
  private readonly ownSlots = { kinds: this.kinds, starts: this.starts, ends: this.ends, numbers: this.numbers };
  /** Known values of enum fields, shared strings; undefined when the value is not a known one. */
  readonly interned: (string | undefined)[] = new Array(MAX_FIELDS).fill(undefined);
  /** CloudWatch Logs stream the record came from (`aws logs tail`, JSON events), or null. */
  logStream: string | null = null;
  /** CloudWatch Logs event time in milliseconds, or NaN when the input did not carry one. */
  logTimestamp = NaN;
  source = '';
  line = 0;
  /** Set by the enricher: `endpoints` and `direction` are filled for every record. */
  enriched = false;
  /** Who owns each address field's address, by field index (enrichment). */
  readonly endpoints: (EndpointInfo | null)[] = new Array(MAX_FIELDS).fill(null);
  /** Ingress/egress derived from the interface's own addresses, for formats without flow-direction. */
  direction: 'ingress' | 'egress' | null = null;

  /** Starts a line of `format`. Known enum values are only reset per line for enum fields; a new layout clears them all. */
  useFormat(format: Format): void {
    if (this.format !== format) {
      this.interned.fill(undefined);
      this.format = format;
    }
  }

  /** Points the slots back at the record's own, after they were pointed at rows decoded elsewhere. */
  useOwnSlots(): void {
    ({ kinds: this.kinds, starts: this.starts, ends: this.ends, numbers: this.numbers } = this.ownSlots);
  }

  /** The text of a slot (any kind but null). */
  text(i: number): string {
    const known = this.interned[i];
    if (known !== undefined) return known;
    return Buffer.prototype.toString.call(this.buf, 'utf8', this.starts[i], this.ends[i]);
  }

  /** The value of the i-th field of the format. */
  value(i: number): string | number | null {
    switch (this.kinds[i]) {
      case KIND_NULL:
        return null;
      case KIND_NUMBER:
        return this.numbers[i];
      default:
        return this.text(i);
    }
  }

  /** The i-th field as a number, or NaN when it is not a number. */
  number(i: number): number {
    return this.kinds[i] === KIND_NUMBER ? this.numbers[i] : NaN;
  }

  toObject(options: RecordOptions = {}): FlowRecord {
    const out: FlowRecord = {};
    for (const col of recordColumns(this, options)) out[col.key] = columnValue(this, col);
    return out;
  }
}

const EMPTY = new Uint8Array(0);

/** Where an output column's value comes from. */
export type ColumnSource =
  | 'field'
  | 'log_stream'
  | 'log_timestamp'
  | 'protocol_name'
  | 'tcp_flags_names'
  | 'iso_time'
  | 'log_timestamp_iso'
  | 'endpoint'
  | 'endpoint_path'
  | 'direction'
  | 'missing';

export interface Column {
  readonly key: string;
  readonly source: ColumnSource;
  /** Field index for `field`, and of the field a derived column is computed from. */
  readonly index: number;
  /** Type of the field behind a `field` column. */
  readonly type?: FieldType;
  /** For `endpoint_path`: which of ENDPOINT_PATHS. */
  readonly path?: number;
}

const columnCache = new WeakMap<Format, Map<number, readonly Column[]>>();

/**
 * The output columns of a record: the format's fields in order, then the CloudWatch Logs stream and time when the
 * input carried them, then the derived fields. Cached per format and option set.
 */
export function recordColumns(rec: DecodedRecord, options: RecordOptions = {}): readonly Column[] {
  const hasStream = rec.logStream !== null;
  const hasTimestamp = !Number.isNaN(rec.logTimestamp);
  return columnsFor(rec.format, hasStream, hasTimestamp, options, rec.enriched);
}

export function columnsFor(
  format: Format,
  hasStream: boolean,
  hasTimestamp: boolean,
  options: RecordOptions = {},
  enriched = false,
): readonly Column[] {
  const variant = (hasStream ? 1 : 0) | (hasTimestamp ? 2 : 0) | (options.isoTimes ? 4 : 0) | (enriched ? 8 : 0);
  let byVariant = columnCache.get(format);
  if (!byVariant) columnCache.set(format, (byVariant = new Map()));
  const hit = byVariant.get(variant);
  if (hit) return hit;

  const cols: Column[] = format.fields.map((f, index) => ({ key: f.key, source: 'field', index, type: f.type }));
  if (hasStream) cols.push({ key: 'log_stream', source: 'log_stream', index: -1 });
  if (hasTimestamp) cols.push({ key: 'log_timestamp', source: 'log_timestamp', index: -1 });
  const protocol = format.indexOf.get('protocol');
  if (protocol !== undefined) cols.push({ key: 'protocol_name', source: 'protocol_name', index: protocol });
  const flags = format.indexOf.get('tcp_flags');
  if (flags !== undefined) cols.push({ key: 'tcp_flags_names', source: 'tcp_flags_names', index: flags });
  if (options.isoTimes) {
    for (const key of ['start', 'end']) {
      const index = format.indexOf.get(key);
      if (index !== undefined) cols.push({ key: `${key}_iso`, source: 'iso_time', index });
    }
    if (hasTimestamp) cols.push({ key: 'log_timestamp_iso', source: 'log_timestamp_iso', index: -1 });
  }
  if (enriched) {
    for (const [field, key] of Object.entries(ENDPOINT_KEYS)) {
      const index = format.indexOf.get(field);
      if (index !== undefined) cols.push({ key, source: 'endpoint', index });
    }
    if (derivesDirection(format)) cols.push({ key: 'direction', source: 'direction', index: -1 });
  }
  Object.freeze(cols);
  byVariant.set(variant, cols);
  return cols;
}

/** Every output key a record could have, for checking `--fields`. */
export const DERIVED_KEYS = [
  'log_stream',
  'log_timestamp',
  'protocol_name',
  'tcp_flags_names',
  'start_iso',
  'end_iso',
  'log_timestamp_iso',
  'direction',
  ...Object.values(ENDPOINT_KEYS).flatMap((key) => [key, ...ENDPOINT_PATHS.map(([path]) => `${key}.${path}`)]),
];

/**
 * Keeps the requested keys, in the requested order; a key the record lacks becomes a null column.
 * `dst.aws.service` picks one value out of an endpoint object.
 */
export function selectColumns(all: readonly Column[], keys: readonly string[]): Column[] {
  return keys.map((key) => {
    const direct = all.find((c) => c.key === key);
    if (direct) return direct;
    const dot = key.indexOf('.');
    const endpoint = dot > 0 ? all.find((c) => c.source === 'endpoint' && c.key === key.slice(0, dot)) : undefined;
    const path = ENDPOINT_PATHS.findIndex(([p]) => p === key.slice(dot + 1));
    if (endpoint && path >= 0) return { key, source: 'endpoint_path', index: endpoint.index, path };
    return { key, source: 'missing', index: -1 };
  });
}

/**
 * Columns for flat outputs (CSV, table): each endpoint object becomes one column per value (`dst.aws.service`),
 * or only those `keep` accepts.
 */
export function flattenColumns(columns: readonly Column[], keep: (path: string) => boolean = () => true): Column[] {
  return columns.flatMap((c) =>
    c.source !== 'endpoint'
      ? [c]
      : ENDPOINT_PATHS.flatMap(([path], i) => (keep(path) ? [{ key: `${c.key}.${path}`, source: 'endpoint_path' as const, index: c.index, path: i }] : [])),
  );
}

export function columnValue(rec: DecodedRecord, col: Column): FlowValue {
  switch (col.source) {
    case 'field':
      return rec.value(col.index);
    case 'log_stream':
      return rec.logStream;
    case 'log_timestamp':
      return Number.isNaN(rec.logTimestamp) ? null : rec.logTimestamp;
    case 'protocol_name': {
      const p = rec.number(col.index);
      return Number.isNaN(p) ? null : protocolName(p);
    }
    case 'tcp_flags_names': {
      const f = rec.number(col.index);
      return Number.isNaN(f) ? null : tcpFlagNames(f);
    }
    case 'iso_time': {
      const t = rec.number(col.index);
      return Number.isNaN(t) ? null : isoSeconds(t);
    }
    case 'log_timestamp_iso':
      return Number.isNaN(rec.logTimestamp) ? null : new Date(rec.logTimestamp).toISOString();
    case 'endpoint': {
      const e = rec.endpoints[col.index];
      return e ? endpointObject(e) : null;
    }
    case 'endpoint_path': {
      const e = rec.endpoints[col.index];
      return e ? ENDPOINT_PATHS[col.path!][1](e) : null;
    }
    case 'direction':
      return rec.direction;
    case 'missing':
      return null;
  }
}

/** Unix seconds as ISO-8601 UTC without milliseconds (flow log times are whole seconds). */
export function isoSeconds(seconds: number): string {
  const d = new Date(seconds * 1000);
  return Number.isNaN(d.getTime()) ? String(seconds) : d.toISOString().replace('.000Z', 'Z');
}
