import { ChunkView, isIPv6, parseIPv4, parseUnsigned, tokenize, bytesEqual } from './bytes.js';
import { eventStream, eventTimestamp, isMessageEvent, parseIsoTime, startsWithIsoTime, stripAnsi, type InputShape } from './envelope.js';
import { knownField } from './field-catalog.js';
import { DEFAULT_FORMAT, FormatSet, formatFromHeader, parseFormat, type Format } from './format.js';
import type { BulkLines } from './line-framer.js';
import { nativeKernel, type NativeKernel } from '../native/addon.js';
import { DecodedRecord, KIND_IPV4, KIND_IPV6, KIND_NULL, KIND_NUMBER, KIND_TEXT } from './record.js';
import { emptyRejectCounts, type Reject, type RejectCounts, type RejectReason } from './rejects.js';

export interface DecoderOptions {
  /**
   * Formats of headerless input (as AWS writes them, space-separated names, or underscores). Several formats are
   * told apart by their number of fields. Default: the default (v2) format. A header line in the input wins.
   */
  formats?: readonly (string | Format)[];
  /** Shape of the lines; `auto` (default) decides from the first non-blank line of each source. */
  shape?: InputShape | 'auto';
  /**
   * Decode plain lines of one known layout with the C decoder when it is built (default true). Either way the
   * records and rejects are the same; false keeps to the JavaScript decoder (tests compare the two).
   */
  native?: boolean;
}

/** Where decoded lines go. Both calls are synchronous; the record is reused after `record` returns. */
export interface DecodeTarget {
  record(rec: DecodedRecord): void;
  reject(reject: Reject): void;
}

/**
 * Where a source's decoding stands between lines: its shape and the header line in effect. A part of a file decoded
 * on its own (a worker's share of one big file) starts from the state the lines before it left.
 */
export interface DecoderState {
  shape: InputShape | null;
  /** The header line in effect (its field names joined by single spaces), or null for headerless input. */
  header: string | null;
}

export function sameState(a: DecoderState, b: DecoderState): boolean {
  return a.shape === b.shape && a.header === b.header;
}

/** What happened to the lines read so far. lines = records + rejects + headers + blank. */
export interface DecodeCounts {
  lines: number;
  records: number;
  headers: number;
  blank: number;
  rejected: number;
  rejects: RejectCounts;
}

export function emptyCounts(): DecodeCounts {
  return { lines: 0, records: 0, headers: 0, blank: 0, rejected: 0, rejects: emptyRejectCounts() };
}

// Field decoders by catalog type, as small integers for a switch on the hot path.
const T_INT = 0;
const T_COUNT = 1;
const T_IP = 2;
const T_ENUM = 3;
const T_STRING = 4;

const INT32_MAX = 2147483647;

interface Plan {
  readonly types: Uint8Array;
  readonly enums: (readonly string[] | undefined)[];
}

/** Rows the C decoder decodes into per call: a 256 KiB chunk of default-format lines is ~2,300 lines. */
const NATIVE_ROWS = 1024;

/**
 * The slots the C decoder writes a layout's rows into, and a view of each row: a decoded row is handed to the
 * target by pointing the record at its views, so nothing is copied or allocated per line.
 */
class NativeRows {
  readonly kinds: Uint8Array;
  readonly starts: Int32Array;
  readonly ends: Int32Array;
  readonly numbers: Float64Array;
  readonly kindRows: Uint8Array[] = [];
  readonly startRows: Int32Array[] = [];
  readonly endRows: Int32Array[] = [];
  readonly numberRows: Float64Array[] = [];
  /** Per field, where its known values are in `enumBytes` ([count, (length, bytes)...]), or -1. */
  readonly enumAt: Int32Array;
  readonly enumBytes: Uint8Array;
  /** The enum fields, whose value the C decoder gives as the index of a known value (or -1). */
  readonly enumFields: number[] = [];
  readonly next = new Int32Array(1);
  /** While its rows are being handed out (a decoder started inside a record callback must not reuse them). */
  inUse = false;

  readonly plan: Plan;

  constructor(readonly format: Format) {
    const plan = (this.plan = planFor(format));
    const n = format.fields.length;
    this.kinds = new Uint8Array(NATIVE_ROWS * n);
    this.starts = new Int32Array(NATIVE_ROWS * n);
    this.ends = new Int32Array(NATIVE_ROWS * n);
    this.numbers = new Float64Array(NATIVE_ROWS * n);
    for (let r = 0; r < NATIVE_ROWS; r++) {
      this.kindRows.push(this.kinds.subarray(r * n, r * n + n));
      this.startRows.push(this.starts.subarray(r * n, r * n + n));
      this.endRows.push(this.ends.subarray(r * n, r * n + n));
      this.numberRows.push(this.numbers.subarray(r * n, r * n + n));
    }
    this.enumAt = new Int32Array(n).fill(-1);
    const bytes: number[] = [];
    plan.enums.forEach((values, f) => {
      if (!values) return;
      this.enumFields.push(f);
      // Values one-byte lengths cannot hold are not looked up (-1: the record reads the text from the bytes).
      if (values.length > 255 || values.some((v) => v.length > 255 || /[^\x20-\x7e]/.test(v))) return;
      this.enumAt[f] = bytes.length;
      bytes.push(values.length);
      for (const v of values) bytes.push(v.length, ...Buffer.from(v, 'latin1'));
    });
    this.enumBytes = Uint8Array.from(bytes.length > 0 ? bytes : [0]);
  }
}

/**
 * One set of rows per layout and thread, shared by its decoders: with --workers every 2 MiB part of a file gets a
 * decoder of its own, and making 4,096 row views for each part showed as 117 ms per worker over 10M lines.
 */
const sharedRows = new WeakMap<Format, NativeRows>();

function nativeRowsFor(format: Format): NativeRows {
  let rows = sharedRows.get(format);
  if (!rows) sharedRows.set(format, (rows = new NativeRows(format)));
  return rows;
}

const plans = new WeakMap<Format, Plan>();
// The last layout's plan kept at hand: a WeakMap lookup per line is measurable.
let lastFormat: Format | null = null;
let lastPlan: Plan | null = null;

function planFor(format: Format): Plan {
  if (format === lastFormat) return lastPlan!;
  let plan = plans.get(format);
  if (!plan) {
    const types = new Uint8Array(format.fields.length);
    const enums: (readonly string[] | undefined)[] = [];
    format.fields.forEach((f, i) => {
      types[i] =
        f.type === 'int' ? T_INT
        : f.type === 'count' || f.type === 'unix_seconds' ? T_COUNT
        : f.type === 'ip' ? T_IP
        : f.type === 'enum' ? T_ENUM
        : T_STRING;
      enums[i] = f.type === 'enum' ? f.values : undefined;
    });
    plan = { types, enums };
    plans.set(format, plan);
  }
  lastFormat = format;
  return (lastPlan = plan);
}

const headerFormats = new Map<string, Format>();

/**
 * Turns lines into records for one source at a time: detects the input shape and header lines, picks the format,
 * decodes fields straight from the bytes. Knows nothing of streams: `line()` and `event()` are called by the
 * framing layer, and results go to a `DecodeTarget`.
 */
export class FlowDecoder implements BulkLines {
  readonly counts: DecodeCounts = emptyCounts();
  private readonly rec = new DecodedRecord();
  private readonly formatSet: FormatSet;
  private readonly defaultLabel: string;
  // Tokens are found straight into the record's own offset arrays: a decoded field is its token.
  private readonly tokenEnds = this.rec.ends;
  private readonly tokenStarts = this.rec.starts;
  private readonly fixedShape: InputShape | undefined;
  /** The only format of headerless input, when there is just one (the one-pass path needs to know it upfront). */
  private readonly singleFormat: Format | null;

  private source = '-';
  private shape: InputShape | undefined;
  private headerFormat: Format | null = null;
  private headerText: string | null = null;
  private rejectField = -1;
  private rejectDetail = '';
  private readonly zone = { hasZone: false };
  private readonly chunkView = new ChunkView();
  private readonly kernel: NativeKernel | null;
  /** Lines to leave to JavaScript before asking the C decoder again, after it declined (doubles up to 16). */
  private nativeSkip = 0;
  private nativeBackoff = 0;
  /** Where the line after the last one `lines()` decoded starts. */
  bulkEnd = 0;

  constructor(
    private readonly target: DecodeTarget,
    options: DecoderOptions = {},
  ) {
    const formats = (options.formats ?? []).map((f) => (typeof f === 'string' ? parseFormat(f) : f));
    this.formatSet = new FormatSet(formats.length > 0 ? formats : [DEFAULT_FORMAT]);
    this.singleFormat = formats.length <= 1 ? (formats[0] ?? DEFAULT_FORMAT) : null;
    this.defaultLabel =
      formats.length === 0 ? 'the default format (14 fields)'
      : formats.length === 1 ? `the format (${formats[0].fields.length} fields)`
      : `any of the formats (${formats.map((f) => f.fields.length).join(', ')} fields)`;
    this.fixedShape = options.shape === 'auto' ? undefined : options.shape;
    this.kernel = options.native === false ? null : nativeKernel;
  }

  /** Starts a new source: its own line numbers, shape detection and header, or those of `state` to go on from. */
  beginSource(name: string, state?: DecoderState): void {
    this.source = name;
    this.shape = state?.shape ?? this.fixedShape;
    this.headerFormat = null;
    this.headerText = null;
    if (state?.header) this.useHeader(state.header.split(' '));
    this.rec.source = name;
  }

  get state(): DecoderState {
    return { shape: this.shape ?? null, header: this.headerText };
  }

  /** Decodes one line (without its `\n`); `lineNo` is 1-based within the source. */
  line(buf: Uint8Array, start: number, end: number, lineNo: number): void {
    this.counts.lines++;
    if (end > start && buf[end - 1] === 0x0d) end--;
    let s = start;
    while (s < end && (buf[s] === 0x20 || buf[s] === 0x09)) s++;
    if (s === end) {
      this.counts.blank++;
      return;
    }
    const rec = this.rec;
    rec.line = lineNo;
    rec.logStream = null;
    rec.logTimestamp = NaN;
    const shape = this.shape ?? (this.shape = detectShape(buf, s, end));
    if (shape === 'raw') {
      this.decodeText(buf, s, end, buf, start, end);
    } else if (shape === 'tail') {
      this.decodeTailLine(buf, s, end, start);
    } else {
      this.decodeJsonLine(buf, s, end, start);
    }
  }

  /**
   * Decodes whole plain lines of `chunk` from `pos` with the C decoder, as many as it takes (lines of the one known
   * layout that fit it exactly), and hands each record to the target. Returns how many; 0 when there is no C
   * decoder, the shape is not plain lines or the next line is not one it takes (the caller then gives that line to
   * `line()`, which decides what it is).
   */
  lines(chunk: Buffer, pos: number, maxLineBytes: number, lineNo: number): number {
    const kernel = this.kernel;
    if (kernel === null || this.shape !== 'raw') return 0;
    const format = this.headerFormat ?? this.singleFormat;
    if (format === null) return 0;
    if (this.nativeSkip > 0) {
      this.nativeSkip--;
      return 0;
    }
    let rows = nativeRowsFor(format);
    if (rows.inUse) rows = new NativeRows(format);
    const n = kernel.decodeLines(chunk, pos, maxLineBytes, rows.plan.types, rows.enumAt, rows.enumBytes, rows.kinds, rows.starts, rows.ends, rows.numbers, rows.next);
    if (n === 0) {
      // Declined: back off so input the C decoder never takes (every line a reject, say) costs no call per line.
      this.nativeSkip = this.nativeBackoff;
      this.nativeBackoff = Math.min(Math.max(1, this.nativeBackoff * 2), 16);
      return 0;
    }
    this.nativeBackoff = 0;
    this.bulkEnd = rows.next[0];
    const rec = this.rec;
    rec.useFormat(format);
    rec.buf = chunk;
    rec.logStream = null;
    rec.logTimestamp = NaN;
    const interned = rec.interned;
    const enumFields = rows.enumFields;
    const enums = rows.plan.enums;
    const target = this.target;
    const counts = this.counts;
    rows.inUse = true;
    try {
      for (let r = 0; r < n; r++) {
        const kinds = (rec.kinds = rows.kindRows[r]);
        const numbers = (rec.numbers = rows.numberRows[r]);
        rec.starts = rows.startRows[r];
        rec.ends = rows.endRows[r];
        for (let k = 0; k < enumFields.length; k++) {
          const f = enumFields[k];
          const index = numbers[f];
          interned[f] = kinds[f] === KIND_TEXT && index >= 0 ? enums[f]![index] : undefined;
        }
        rec.line = lineNo + r;
        counts.lines++;
        counts.records++;
        target.record(rec);
      }
    } finally {
      rows.inUse = false;
      rec.useOwnSlots();
    }
    return n;
  }

  /** Decodes one CloudWatch Logs event from a JSON document (`events[]` of `filter-log-events`). */
  event(message: string, logStream: string | null, timestamp: number, eventNo: number): void {
    this.counts.lines++;
    const rec = this.rec;
    rec.line = eventNo;
    rec.logStream = logStream;
    rec.logTimestamp = timestamp;
    const bytes = Buffer.from(message);
    let end = bytes.length;
    while (end > 0 && (bytes[end - 1] === 0x0a || bytes[end - 1] === 0x0d)) end--;
    if (end === 0) {
      this.counts.blank++;
      return;
    }
    this.decodeText(bytes, 0, end, bytes, 0, end);
  }

  /** Counts an over-long line as rejected; `head` is its first bytes. */
  tooLong(head: Uint8Array, lineNo: number, limit: number): void {
    this.counts.lines++;
    this.emitReject('line_too_long', `line is longer than ${limit} bytes`, head, lineNo);
  }

  /** Counts a part of the source that could not be read at all (malformed JSON document) as one reject. */
  unreadable(message: string, lineNo: number): void {
    this.counts.lines++;
    this.emitReject('bad_envelope', message, new Uint8Array(0), lineNo);
  }

  private decodeTailLine(buf: Uint8Array, s: number, end: number, lineStart: number): void {
    const original = buf.subarray(lineStart, end);
    let line = buf;
    let ls = lineStart;
    if (buf[s] === 0x1b) {
      // Coloured output: decode a cleaned copy so the reject file still gets the line as it was.
      line = Buffer.from(buf.subarray(s, end));
      end = stripAnsi(line, 0, line.length);
      ls = s = 0;
    }
    let i = s;
    while (i < end && line[i] !== 0x20 && line[i] !== 0x09) i++;
    const ms = parseIsoTime(line, s, i, this.zone);
    if (Number.isNaN(ms)) {
      this.emitReject('bad_envelope', 'expected an `aws logs tail` line starting with a timestamp', original, this.rec.line);
      return;
    }
    this.rec.logTimestamp = ms;
    while (i < end && (line[i] === 0x20 || line[i] === 0x09)) i++;
    if (this.zone.hasZone) {
      // detailed / json formats: the log stream name comes next.
      const streamStart = i;
      while (i < end && line[i] !== 0x20 && line[i] !== 0x09) i++;
      if (i === streamStart) {
        this.emitReject('bad_envelope', 'expected a log stream name after the timestamp', original, this.rec.line);
        return;
      }
      this.rec.logStream = Buffer.prototype.toString.call(line, 'utf8', streamStart, i);
      while (i < end && (line[i] === 0x20 || line[i] === 0x09)) i++;
    }
    if (line === buf) this.decodeText(line, i, end, buf, ls, end);
    else this.decodeText(line, i, end, original, 0, original.length);
  }

  private decodeJsonLine(buf: Uint8Array, s: number, end: number, lineStart: number): void {
    let event: unknown;
    try {
      event = JSON.parse(Buffer.prototype.toString.call(buf, 'utf8', s, end));
    } catch {
      event = undefined;
    }
    if (!isMessageEvent(event)) {
      this.emitReject('bad_envelope', 'expected a JSON object with a "message" string', buf.subarray(lineStart, end), this.rec.line);
      return;
    }
    const e = event as unknown as Record<string, unknown>;
    const message = Buffer.from(event.message);
    let mEnd = message.length;
    while (mEnd > 0 && (message[mEnd - 1] === 0x0a || message[mEnd - 1] === 0x0d)) mEnd--;
    this.rec.logStream = eventStream(e);
    this.rec.logTimestamp = eventTimestamp(e);
    this.decodeText(message, 0, mEnd, buf, lineStart, end);
  }

  /**
   * Decodes the record text in buf[s, end). `line`/`ls`/`le` delimit the whole input line, for rejects.
   */
  private decodeText(buf: Uint8Array, s: number, end: number, line: Uint8Array, ls: number, le: number): void {
    // The common case (one known layout, a line that fits it) in a single pass; anything else — a header, another
    // field count, a value that does not parse — goes the general way below, which finds out what it is.
    const known = this.headerFormat ?? this.singleFormat;
    const first = buf[s];
    if (known !== null && !(first >= 0x61 && first <= 0x7a) && this.decodeInOnePass(known, buf, s, end)) {
      this.counts.records++;
      this.target.record(this.rec);
      return;
    }
    const starts = this.tokenStarts;
    const ends = this.tokenEnds;
    const n = tokenize(buf, s, end, starts, ends);
    if (n === 0) {
      this.counts.blank++;
      return;
    }
    const firstByte = buf[starts[0]];
    if (firstByte >= 0x61 && firstByte <= 0x7a && this.tryHeader(buf, n)) return;

    const format = this.headerFormat ?? this.formatSet.forCount(n);
    if (format === undefined || format.fields.length !== n) {
      const expected = this.headerFormat ? `the header's format (${this.headerFormat.fields.length} fields)` : this.defaultLabel;
      const hint = this.headerFormat ? '' : '; pass the flow log\'s format with --format';
      this.emitReject('field_count', `${n} fields, expected ${expected}${hint}`, line.subarray(ls, le), this.rec.line);
      return;
    }
    const reason = this.decodeFields(format, buf);
    if (reason !== null) {
      const field = format.fields[this.rejectField];
      this.emitReject(reason, `${field.name}: ${this.rejectDetail}`, line.subarray(ls, le), this.rec.line);
      return;
    }
    this.counts.records++;
    this.target.record(this.rec);
  }

  private decodeFields(format: Format, buf: Uint8Array): RejectReason | null {
    const rec = this.rec;
    const { types, enums } = planFor(format);
    const starts = this.tokenStarts;
    const ends = this.tokenEnds;
    const kinds = rec.kinds;
    const numbers = rec.numbers;
    const interned = rec.interned;
    rec.useFormat(format);
    rec.buf = buf;
    for (let i = 0; i < types.length; i++) {
      const s = starts[i];
      const e = ends[i];
      if (e - s === 1 && buf[s] === 0x2d) {
        kinds[i] = KIND_NULL;
        continue;
      }
      switch (types[i]) {
        case T_INT:
        case T_COUNT: {
          const v = parseUnsigned(buf, s, e);
          if (v < 0 || (types[i] === T_INT && v > INT32_MAX)) return this.fail(i, buf, s, e, 'is not a number', 'bad_number');
          kinds[i] = KIND_NUMBER;
          numbers[i] = v;
          break;
        }
        case T_IP: {
          const v = parseIPv4(buf, s, e);
          if (v >= 0) {
            kinds[i] = KIND_IPV4;
            numbers[i] = v;
          } else if (isIPv6(buf, s, e)) {
            kinds[i] = KIND_IPV6;
          } else {
            return this.fail(i, buf, s, e, 'is not an IP address', 'bad_address');
          }
          break;
        }
        case T_ENUM: {
          kinds[i] = KIND_TEXT;
          interned[i] = undefined;
          const values = enums[i];
          if (values) {
            for (let k = 0; k < values.length; k++) {
              if (bytesEqual(buf, s, e, values[k])) {
                interned[i] = values[k];
                break;
              }
            }
          }
          break;
        }
        default:
          kinds[i] = KIND_TEXT;
      }
    }
    return null;
  }

  /**
   * Tokenises and decodes in one pass over the bytes, for a line of a known layout. Returns false, having decided
   * nothing, when the line does not fit exactly (the general path then tells why); never rejects by itself.
   */
  private decodeInOnePass(format: Format, buf: Uint8Array, s: number, end: number): boolean {
    const rec = this.rec;
    const { types, enums } = planFor(format);
    const starts = rec.starts;
    const ends = rec.ends;
    const kinds = rec.kinds;
    const numbers = rec.numbers;
    const interned = rec.interned;
    const n = types.length;
    rec.useFormat(format);
    const view = this.chunkView.get(buf);
    let i = s;
    let c = 0;
    for (let f = 0; f < n; f++) {
      while (i < end && ((c = buf[i]) === 0x20 || c === 0x09)) i++;
      if (i >= end) return false;
      const start = i;
      starts[f] = start;
      const type = types[f];
      if (c === 0x2d && (i + 1 === end || buf[i + 1] === 0x20 || buf[i + 1] === 0x09)) {
        kinds[f] = KIND_NULL;
        ends[f] = ++i;
        continue;
      }
      if (type === T_INT || type === T_COUNT) {
        let v = 0;
        for (; i < end; i++) {
          c = buf[i];
          if (c === 0x20 || c === 0x09) break;
          const d = c - 0x30;
          if (d < 0 || d > 9) return false;
          v = v * 10 + d;
        }
        if (i - start > 15 || (type === T_INT && v > INT32_MAX)) return false;
        kinds[f] = KIND_NUMBER;
        numbers[f] = v;
      } else if (type === T_IP) {
        let acc = 0;
        let part = 0;
        let digits = 0;
        let dots = 0;
        let ok = true;
        for (; i < end; i++) {
          c = buf[i];
          if (c === 0x20 || c === 0x09) break;
          if (c >= 0x30 && c <= 0x39) {
            part = part * 10 + (c - 0x30);
            if (++digits > 3 || part > 255) ok = false;
          } else if (c === 0x2e && digits > 0) {
            acc = acc * 256 + part;
            part = 0;
            digits = 0;
            dots++;
          } else {
            ok = false;
          }
        }
        if (ok && dots === 3 && digits > 0) {
          kinds[f] = KIND_IPV4;
          numbers[f] = acc * 256 + part;
        } else if (isIPv6(buf, start, i)) {
          kinds[f] = KIND_IPV6;
        } else {
          return false;
        }
      } else {
        // Text (ids of 12-25 bytes): its end is looked for four bytes at a time, a word at a time being checked
        // for a space or tab byte (the has-zero-byte test on the word XOR each).
        while (i + 4 <= end) {
          const w = view.getInt32(i);
          const sp = w ^ 0x20202020;
          const tab = w ^ 0x09090909;
          if ((((sp - 0x01010101) & ~sp) | ((tab - 0x01010101) & ~tab)) & 0x80808080) break;
          i += 4;
        }
        while (i < end && (c = buf[i]) !== 0x20 && c !== 0x09) i++;
        kinds[f] = KIND_TEXT;
        if (type === T_ENUM) {
          interned[f] = undefined;
          const values = enums[f]!;
          for (let k = 0; k < values.length; k++) {
            if (bytesEqual(buf, start, i, values[k])) {
              interned[f] = values[k];
              break;
            }
          }
        }
      }
      ends[f] = i;
    }
    while (i < end && (buf[i] === 0x20 || buf[i] === 0x09)) i++;
    if (i !== end) return false;
    rec.buf = buf;
    return true;
  }

  private fail(i: number, buf: Uint8Array, s: number, e: number, what: string, reason: RejectReason): RejectReason {
    this.rejectField = i;
    const shown = Buffer.prototype.toString.call(buf, 'utf8', s, Math.min(e, s + 64));
    this.rejectDetail = `'${shown}' ${what}`;
    return reason;
  }

  private tryHeader(buf: Uint8Array, n: number): boolean {
    const starts = this.tokenStarts;
    const ends = this.tokenEnds;
    const firstToken = Buffer.prototype.toString.call(buf, 'latin1', starts[0], ends[0]);
    if (!knownField(firstToken)) return false;
    const tokens: string[] = [];
    for (let i = 0; i < n; i++) tokens.push(Buffer.prototype.toString.call(buf, 'latin1', starts[i], ends[i]));
    if (!this.useHeader(tokens)) return false;
    this.counts.headers++;
    return true;
  }

  private useHeader(tokens: string[]): boolean {
    const text = tokens.join(' ');
    let format = headerFormats.get(text);
    if (!format) {
      const parsed = formatFromHeader(tokens);
      if (!parsed) return false;
      format = parsed;
      if (headerFormats.size < 1000) headerFormats.set(text, format);
    }
    this.headerFormat = format;
    this.headerText = text;
    return true;
  }

  private emitReject(reason: RejectReason, message: string, text: Uint8Array, line: number): void {
    this.counts.rejected++;
    this.counts.rejects[reason]++;
    // Copied: the caller's buffer is reused once this returns.
    this.target.reject({ reason, message, source: this.source, line, text: Uint8Array.prototype.slice.call(text) });
  }
}

/** Decides a stream's shape from its first non-blank line. */
export function detectShape(buf: Uint8Array, s: number, end: number): InputShape {
  let i = s;
  if (buf[i] === 0x1b) {
    // Skip a leading colour sequence from `aws logs tail --color on`.
    while (i < end && buf[i] !== 0x6d) i++;
    i++;
  }
  if (startsWithIsoTime(buf, i, end)) return 'tail';
  if (buf[s] === 0x7b) return 'jsonl';
  return 'raw';
}
