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
import { ChunkView } from '../decode/bytes.js';
import { protocolName } from '../decode/protocols.js';
import { endpointObject } from '../enrich/endpoint.js';
import { tcpFlagNames } from '../decode/tcp-flags.js';
import {
  endpointSlot,
  endpointWithId,
  makeNativeLayout,
  NativeWriter,
  OP_DIRECTION,
  OP_ENDPOINT,
  OP_FIELD,
  OP_FLAGS,
  OP_NULL,
  OP_PROTOCOL,
  PIECE_ENDPOINT,
  PIECE_FLAGS,
  PIECE_PROTOCOL,
  STYLE_JSON,
  type NativeLayout,
} from './native-writer.js';
import { WorkingBuffer, type OutputBuffers } from './output-buffers.js';
import type { RecordWriter } from './record-writer.js';

export interface NdjsonOptions extends RecordOptions {
  /** Output keys to keep, in order (`--fields`). */
  fields?: readonly string[];
  /** Hand chunks out without copying: give each back (`buffers.put`) once written. */
  buffers?: OutputBuffers;
  /** Write the common case in C when it is built (default true); the output is the same either way. */
  native?: boolean;
}

interface Layout {
  readonly columns: readonly Column[];
  /** Every column's `{"key":` / `,"key":`, one after the other, and where each starts (one more entry: the end). */
  readonly prefixBytes: Uint8Array;
  readonly prefixView: DataView;
  readonly prefixStart: Int32Array;
  /** The field index of a `field` column, -1 for derived ones: typed arrays keep the hot loop off objects. */
  readonly fieldIndex: Int32Array;
  /** How the C writer writes these columns, or null when one of them is one only JavaScript writes. */
  readonly native: NativeLayout | null;
}

/** The C writer's layout for `columns`, or null when one of them is written by JavaScript alone. */
function nativeLayout(columns: readonly Column[], prefixBytes: Uint8Array, prefixStart: Int32Array, fieldCount: number): NativeLayout | null {
  const ops = new Int32Array(columns.length * 3);
  const endpointFields: number[] = [];
  for (let c = 0; c < columns.length; c++) {
    const col = columns[c];
    let op: number;
    let arg = 0;
    switch (col.source) {
      case 'field':
        op = OP_FIELD;
        arg = col.index;
        break;
      case 'protocol_name':
        op = OP_PROTOCOL;
        arg = col.index;
        break;
      case 'tcp_flags_names':
        op = OP_FLAGS;
        arg = col.index;
        break;
      case 'endpoint':
        op = OP_ENDPOINT;
        arg = endpointSlot(endpointFields, col.index);
        if (arg < 0) return null;
        break;
      case 'direction':
        op = OP_DIRECTION;
        break;
      case 'missing':
        op = OP_NULL;
        break;
      default:
        return null;
    }
    ops[3 * c] = op;
    ops[3 * c + 1] = arg;
  }
  return makeNativeLayout(STYLE_JSON, prefixBytes, prefixStart, ops, endpointFields, fieldCount);
}

const NULL = Buffer.from('null');
const INGRESS = Buffer.from('"ingress"');
const EGRESS = Buffer.from('"egress"');
const INITIAL_CAPACITY = 1 << 20;
/**
 * Endpoint objects are shared by every address with the same owner, so each is serialised once, by its id (unique
 * in this thread, whichever enricher made it). Kept for all the writers of the thread: with --workers each 2 MiB part
 * of a file (~18,000 lines) has a writer of its own, and a cache per writer serialised every endpoint again per part.
 * Bounded by the number of distinct answers the enrichers can give.
 */
const endpointJson: (Buffer | undefined)[] = [];
const QUOTE = 0x22;

/**
 * Copies src[s, e) to out at p, four bytes at a time where it can, and returns the new position. Tokens and keys
 * are short (2-25 bytes): a native copy (Buffer#copy, TypedArray#set) costs ~15 ns whatever the length, a byte loop
 * ~1 ns per byte, and word moves through DataViews (inlined by the JIT) about a third of that, so they win below ~32
 * bytes. Callers have made room for the whole run.
 */
function copyRun(outView: DataView, out: Uint8Array, p: number, srcView: DataView, src: Uint8Array, s: number, e: number): number {
  let k = s;
  for (; k + 4 <= e; k += 4, p += 4) outView.setInt32(p, srcView.getInt32(k));
  for (; k < e; k++) out[p++] = src[k];
  return p;
}

/**
 * One JSON object per line, serialised straight from the decoded bytes into a Buffer: keys are pre-encoded per
 * format, numbers, addresses and plain text are copied byte for byte from the validated tokens, and derived
 * values come from small caches. Building strings per field instead made NDJSON cost 3-4x the decoding itself, most of it
 * garbage collection of the string pieces (measured with bench/decode.ts).
 *
 * Where the native code is built, each record whose columns are all plain copies goes to the C writer
 * (src/native/write_ndjson.c), which does the same ~4x faster; it declines the rest (escapes, non-ASCII text, ISO
 * times, endpoint paths, ...) and this class writes those, so the output is the same byte for byte.
 */
export class NdjsonWriter implements RecordWriter {
  private readonly working: WorkingBuffer;
  /** The C writer, or null when JavaScript writes every record. */
  private readonly native: NativeWriter | null;
  /** The input chunk the records point into. */
  private readonly chunkView = new ChunkView();
  private readonly layouts = new WeakMap<readonly Column[], Layout>();
  private readonly protocolJson: (Buffer | undefined)[] = [];
  private readonly flagsJson: (Buffer | undefined)[] = [];
  private lastFormat: DecodedRecord['format'] | null = null;
  private lastVariant = -1;
  private lastLayout: Layout | null = null;
  private lastStream: string | null = null;
  private lastStreamJson = NULL;
  readonly holding = false;

  constructor(private readonly options: NdjsonOptions = {}) {
    this.working = new WorkingBuffer(options.buffers, INITIAL_CAPACITY);
    this.native = NativeWriter.forThread(STYLE_JSON, options.native);
  }

  write(rec: DecodedRecord): void {
    const layout = this.layoutOf(rec);
    if (layout.native !== null && this.native !== null && this.native.write(rec, layout.native, this.working, this.pieceFor)) return;
    const { columns, prefixBytes, prefixStart, fieldIndex } = layout;
    const n = rec.format.fields.length;
    // Worst case without escapes: every prefix, every token, 24 bytes per number or quoted value, the line end.
    this.working.ensure(prefixBytes.length + (rec.ends[n - 1] - rec.starts[0]) + columns.length * 24 + 2);
    // The common cases are written with a local buffer and position; the rare ones (escaping, derived values)
    // go through methods that may grow the buffer, so both are reloaded after them.
    let out = this.working.buf;
    let outView = this.working.view;
    let p = this.working.pos;
    const kinds = rec.kinds;
    const starts = rec.starts;
    const ends = rec.ends;
    const src = rec.buf;
    const srcView = this.chunkView.get(src);
    const prefixView = layout.prefixView;
    const count = columns.length;
    for (let c = 0; c < count; c++) {
      p = copyRun(outView, out, p, prefixView, prefixBytes, prefixStart[c], prefixStart[c + 1]);
      const i = fieldIndex[c];
      const kind = i >= 0 ? kinds[i] : -1;
      if (kind === KIND_NUMBER) {
        // The token is validated digits: copied as it is, unless a leading zero would make it invalid JSON.
        const s0 = starts[i];
        const e = ends[i];
        if (src[s0] !== 0x30 || e - s0 === 1) {
          p = copyRun(outView, out, p, srcView, src, s0, e);
        } else {
          p += out.write(String(rec.numbers[i]), p, 'latin1');
        }
      } else if (kind === KIND_IPV4 || kind === KIND_IPV6) {
        out[p++] = QUOTE;
        p = copyRun(outView, out, p, srcView, src, starts[i], ends[i]);
        out[p++] = QUOTE;
      } else if (kind === KIND_NULL) {
        out[p++] = 0x6e; // null
        out[p++] = 0x75;
        out[p++] = 0x6c;
        out[p++] = 0x6c;
      } else {
        this.working.pos = p;
        if (kind === -1) this.writeDerived(rec, columns[c]);
        else this.writeText(rec, i, srcView);
        out = this.working.buf;
        outView = this.working.view;
        p = this.working.pos;
      }
    }
    if (count === 0) out[p++] = 0x7b;
    out[p++] = 0x7d;
    out[p++] = 0x0a;
    this.working.pos = p;
  }

  take(): Buffer {
    return this.working.take();
  }

  get pendingBytes(): number {
    return this.working.pos;
  }

  /** The JSON the C writer asks for. */
  private readonly pieceFor = (rec: DecodedRecord, kind: number, index: number): Buffer | undefined => {
    if (kind === PIECE_PROTOCOL) return (this.protocolJson[index] ??= Buffer.from(JSON.stringify(protocolName(index))));
    if (kind === PIECE_FLAGS) return (this.flagsJson[index] ??= Buffer.from(JSON.stringify(tcpFlagNames(index))));
    if (kind !== PIECE_ENDPOINT) return undefined;
    const e = endpointWithId(rec, this.lastLayout!.native!, index);
    return e && (endpointJson[index] ??= Buffer.from(JSON.stringify(endpointObject(e))));
  };

  private layoutOf(rec: DecodedRecord): Layout {
    // What decides the columns besides the writer's options; looking them up per record showed in profiles.
    const variant = (rec.logStream !== null ? 1 : 0) | (Number.isNaN(rec.logTimestamp) ? 0 : 2) | (rec.enriched ? 4 : 0);
    if (rec.format === this.lastFormat && variant === this.lastVariant) return this.lastLayout!;
    const all = recordColumns(rec, this.options);
    let layout = this.layouts.get(all);
    if (!layout) {
      const columns = this.options.fields ? selectColumns(all, this.options.fields) : all;
      const prefixes = columns.map((c, i) => Buffer.from((i === 0 ? '{' : ',') + JSON.stringify(c.key) + ':'));
      const prefixStart = new Int32Array(columns.length + 1);
      prefixes.forEach((b, i) => (prefixStart[i + 1] = prefixStart[i] + b.length));
      const prefixBytes = Buffer.concat(prefixes);
      layout = {
        columns,
        native: nativeLayout(columns, prefixBytes, prefixStart, rec.format.fields.length),
        prefixBytes,
        prefixView: new DataView(prefixBytes.buffer, prefixBytes.byteOffset, prefixBytes.length),
        prefixStart,
        fieldIndex: Int32Array.from(columns, (c) => (c.source === 'field' ? c.index : -1)),
      };
      this.layouts.set(all, layout);
    }
    this.lastFormat = rec.format;
    this.lastVariant = variant;
    this.lastLayout = layout;
    return layout;
  }

  private copy(bytes: Buffer): void {
    // Short runs (keys, small values) are faster copied in JS than through a native copy; long ones the other way
    // round (the crossover is ~32 bytes).
    if (bytes.length > 32) {
      this.working.buf.set(bytes, this.working.pos);
      this.working.pos += bytes.length;
      return;
    }
    const out = this.working.buf;
    let p = this.working.pos;
    for (let k = 0; k < bytes.length; k++) out[p++] = bytes[k];
    this.working.pos = p;
  }

  /** Text fields: copied as they are when they are printable ASCII without `"` or `\`, else escaped by JSON.stringify. */
  private writeText(rec: DecodedRecord, i: number, view: DataView<ArrayBufferLike>): void {
    const known = rec.interned[i];
    const src = rec.buf;
    const s = rec.starts[i];
    const e = rec.ends[i];
    const out = this.working.buf;
    let p = this.working.pos;
    out[p++] = QUOTE;
    if (known !== undefined) {
      for (let k = 0; k < known.length; k++) out[p++] = known.charCodeAt(k);
    } else {
      // Four bytes at a time while none needs a closer look (a control byte, DEL or non-ASCII, `"` or `\`): each
      // test is exact, by the classic has-zero-byte/has-less-than tricks on the word.
      const outView = this.working.view;
      let k = s;
      for (; k + 4 <= e; k += 4, p += 4) {
        const w = view.getInt32(k);
        const q = w ^ 0x22222222;
        const b = w ^ 0x5c5c5c5c;
        if ((((w - 0x20202020) & ~w) | (w + 0x01010101) | w | ((q - 0x01010101) & ~q) | ((b - 0x01010101) & ~b)) & 0x80808080) break;
        outView.setInt32(p, w);
      }
      for (; k < e; k++) {
        const c = src[k];
        if (c < 0x20 || c > 0x7e || c === QUOTE || c === 0x5c) return this.writeString(rec.text(i));
        out[p++] = c;
      }
    }
    out[p++] = QUOTE;
    this.working.pos = p;
  }

  private writeString(text: string): void {
    const json = JSON.stringify(text);
    this.working.ensure(Buffer.byteLength(json) + 1024);
    this.working.pos += this.working.buf.write(json, this.working.pos, 'utf8');
  }

  private writeDerived(rec: DecodedRecord, col: Column): void {
    this.working.ensure(64);
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
        this.working.ensure(this.lastStreamJson.length);
        return this.copy(this.lastStreamJson);
      case 'endpoint': {
        const e = rec.endpoints[col.index];
        if (e === null) return this.copy(NULL);
        const json = (endpointJson[e.id] ??= Buffer.from(JSON.stringify(endpointObject(e))));
        this.working.ensure(json.length);
        // 60-250 bytes: copy() takes the native way (~15 ns; word moves through DataViews took ~55 ns).
        return this.copy(json);
      }
      case 'direction':
        return this.copy(rec.direction === 'ingress' ? INGRESS : rec.direction === 'egress' ? EGRESS : NULL);
      default:
        return this.writeValue(rec, col);
    }
  }

  private writeValue(rec: DecodedRecord, col: Column): void {
    const json = JSON.stringify(columnValue(rec, col));
    this.working.ensure(Buffer.byteLength(json));
    this.working.pos += this.working.buf.write(json, this.working.pos, 'utf8');
  }
}
