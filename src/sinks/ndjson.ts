import {
  KIND_IPV4,
  KIND_IPV6,
  KIND_NULL,
  KIND_NUMBER,
  columnValue,
  recordColumns,
  selectColumns,
  type Column,
  type DecodedRecord,
  type RecordOptions,
} from '../decode/record.js';
import { protocolName } from '../decode/protocols.js';
import { tcpFlagNames } from '../decode/tcp-flags.js';
import type { RecordWriter } from './record-writer.js';

export interface NdjsonOptions extends RecordOptions {
  /** Output keys to keep, in order (`--fields`). */
  fields?: readonly string[];
}

interface Layout {
  readonly columns: readonly Column[];
  /** `{"key":` / `,"key":` for each column, as bytes. */
  readonly prefixes: readonly Buffer[];
  readonly prefixBytes: number;
}

const NULL = Buffer.from('null');
const INITIAL_CAPACITY = 1 << 20;
/** Below this, `take()` copies the output out and keeps its buffer; above, it hands the buffer over. */
const COPY_OUT_LIMIT = 64 * 1024;
const QUOTE = 0x22;

/**
 * One JSON object per line, serialised straight from the decoded bytes into a Buffer: keys are pre-encoded per
 * format, numbers are written as digits, addresses and plain text are copied byte for byte, and derived values
 * come from small caches. Building strings per field instead made NDJSON cost 3-4x the decoding itself, most of it
 * garbage collection of the string pieces (measured with bench/decode.ts).
 */
export class NdjsonWriter implements RecordWriter {
  private buf = Buffer.allocUnsafe(INITIAL_CAPACITY);
  private pos = 0;
  private readonly layouts = new WeakMap<readonly Column[], Layout>();
  private readonly protocolJson: (Buffer | undefined)[] = [];
  private readonly flagsJson: (Buffer | undefined)[] = [];
  private lastStream: string | null = null;
  private lastStreamJson = NULL;
  readonly holding = false;

  constructor(private readonly options: NdjsonOptions = {}) {}

  write(rec: DecodedRecord): void {
    const layout = this.layoutOf(rec);
    const { columns, prefixes } = layout;
    const n = rec.format.fields.length;
    // Worst case without escapes: every prefix, every token, 22 bytes per number or quoted value, the line end.
    this.ensure(layout.prefixBytes + (rec.ends[n - 1] - rec.starts[0]) + columns.length * 24 + 2);
    for (let c = 0; c < columns.length; c++) {
      this.copy(prefixes[c]);
      const col = columns[c];
      if (col.source !== 'field') {
        this.writeDerived(rec, col);
        continue;
      }
      const i = col.index;
      const kind = rec.kinds[i];
      if (kind === KIND_NULL) this.copy(NULL);
      else if (kind === KIND_NUMBER) this.writeNumber(rec.numbers[i]);
      else if (kind === KIND_IPV4 || kind === KIND_IPV6) this.writeQuotedBytes(rec.buf, rec.starts[i], rec.ends[i]);
      else this.writeText(rec, i);
    }
    // this.buf, not a local: escaping and derived values may have grown it.
    if (columns.length === 0) this.buf[this.pos++] = 0x7b;
    this.buf[this.pos++] = 0x7d;
    this.buf[this.pos++] = 0x0a;
  }

  take(): Buffer {
    const size = this.pos;
    this.pos = 0;
    if (size <= COPY_OUT_LIMIT) return Buffer.from(this.buf.subarray(0, size));
    const chunk = this.buf.subarray(0, size);
    this.buf = Buffer.allocUnsafe(this.buf.length);
    return chunk;
  }

  private layoutOf(rec: DecodedRecord): Layout {
    const all = recordColumns(rec, this.options);
    let layout = this.layouts.get(all);
    if (!layout) {
      const columns = this.options.fields ? selectColumns(all, this.options.fields) : all;
      const prefixes = columns.map((c, i) => Buffer.from((i === 0 ? '{' : ',') + JSON.stringify(c.key) + ':'));
      layout = { columns, prefixes, prefixBytes: prefixes.reduce((sum, p) => sum + p.length, 0) };
      this.layouts.set(all, layout);
    }
    return layout;
  }

  private ensure(bytes: number): void {
    if (this.pos + bytes <= this.buf.length) return;
    const bigger = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.pos + bytes));
    this.buf.copy(bigger, 0, 0, this.pos);
    this.buf = bigger;
  }

  private copy(bytes: Buffer): void {
    const out = this.buf;
    let p = this.pos;
    for (let k = 0; k < bytes.length; k++) out[p++] = bytes[k];
    this.pos = p;
  }

  private writeNumber(n: number): void {
    const out = this.buf;
    if (n < 10) {
      out[this.pos++] = 0x30 + n;
      return;
    }
    if (n > 0x7fffffff) {
      this.pos += out.write(String(n), this.pos, 'latin1');
      return;
    }
    let digits = 1;
    for (let t = n; t >= 10; t = (t / 10) | 0) digits++;
    let p = this.pos + digits;
    this.pos = p;
    for (let t = n; t > 0; t = (t / 10) | 0) out[--p] = 0x30 + (t % 10);
  }

  /** Bytes known to need no escaping (validated addresses). */
  private writeQuotedBytes(src: Uint8Array, s: number, e: number): void {
    const out = this.buf;
    let p = this.pos;
    out[p++] = QUOTE;
    for (let k = s; k < e; k++) out[p++] = src[k];
    out[p++] = QUOTE;
    this.pos = p;
  }

  /** Text fields: copied as they are when they are printable ASCII without `"` or `\`, else escaped by JSON.stringify. */
  private writeText(rec: DecodedRecord, i: number): void {
    const known = rec.interned[i];
    const src = rec.buf;
    const s = rec.starts[i];
    const e = rec.ends[i];
    const out = this.buf;
    let p = this.pos;
    out[p++] = QUOTE;
    if (known !== undefined) {
      for (let k = 0; k < known.length; k++) out[p++] = known.charCodeAt(k);
    } else {
      for (let k = s; k < e; k++) {
        const c = src[k];
        if (c < 0x20 || c > 0x7e || c === QUOTE || c === 0x5c) return this.writeString(rec.text(i));
        out[p++] = c;
      }
    }
    out[p++] = QUOTE;
    this.pos = p;
  }

  private writeString(text: string): void {
    const json = JSON.stringify(text);
    this.ensure(Buffer.byteLength(json) + 1024);
    this.pos += this.buf.write(json, this.pos, 'utf8');
  }

  private writeDerived(rec: DecodedRecord, col: Column): void {
    this.ensure(64);
    switch (col.source) {
      case 'protocol_name': {
        const p = rec.number(col.index);
        if (!(p >= 0 && p < 256)) return this.copy(NULL);
        return this.copy((this.protocolJson[p] ??= Buffer.from(JSON.stringify(protocolName(p)))));
      }
      case 'tcp_flags_names': {
        const f = rec.number(col.index);
        if (!(f >= 0 && f < 256)) return this.writeValue(rec, col);
        return this.copy((this.flagsJson[f] ??= Buffer.from(JSON.stringify(tcpFlagNames(f)))));
      }
      case 'log_stream':
        if (rec.logStream !== this.lastStream) {
          this.lastStream = rec.logStream;
          this.lastStreamJson = Buffer.from(JSON.stringify(rec.logStream));
        }
        this.ensure(this.lastStreamJson.length);
        return this.copy(this.lastStreamJson);
      case 'log_timestamp':
        return Number.isNaN(rec.logTimestamp) ? this.copy(NULL) : this.writeNumber(rec.logTimestamp);
      default:
        return this.writeValue(rec, col);
    }
  }

  private writeValue(rec: DecodedRecord, col: Column): void {
    const json = JSON.stringify(columnValue(rec, col));
    this.ensure(Buffer.byteLength(json));
    this.pos += this.buf.write(json, this.pos, 'utf8');
  }
}
