import type { DecodedRecord } from '../decode/record.js';
import { nativeKernel, type NativeRowWriter } from '../native/addon.js';
import type { WorkingBuffer } from './output-buffers.js';

// As src/native/write_rows.c numbers them.
export const OP_FIELD = 0;
export const OP_PROTOCOL = 1;
export const OP_FLAGS = 2;
export const OP_ENDPOINT = 3;
export const OP_DIRECTION = 4;
export const OP_NULL = 5;
export const OP_ENDPOINT_RUN = 6;
export const STYLE_JSON = 0;
export const STYLE_CSV = 1;
export const PIECE_PROTOCOL = 0;
export const PIECE_FLAGS = 1;
export const PIECE_ENDPOINT = 2;
/** Kinds PIECE_RUNS + r: the cells of run r of endpoint values, by endpoint id + 1 (0: no endpoint). */
export const PIECE_RUNS = 3;
export const MAX_RUNS = 8;
const IO_ROW = 0;
const IO_POS = 1;
const IO_DIRECTION = 2;
const IO_NEED_KIND = 3;
const IO_NEED_INDEX = 4;
const IO_ENDPOINTS = 5;
const IO_LEN = 16;
const NEED_ROOM = -2;
const NEED_PIECE = -3;

/** How a writer's columns are written by C: [operation, argument, argument] per column, and what they need. */
export interface NativeLayout {
  readonly style: number;
  /** Every column's separator and key (`,"key":` in JSON, `,` in CSV), one after the other, and where each starts. */
  readonly prefixBytes: Uint8Array;
  readonly prefixStart: Int32Array;
  readonly ops: Int32Array;
  /** The address fields whose endpoint ids go to C, in the order of its io slots. */
  readonly endpointFields: Int32Array;
  readonly hasDirection: boolean;
  readonly fieldCount: number;
}

/** A layout from its operations ([op, arg, arg2] per column); whether it has a direction column is read off them. */
export function makeNativeLayout(
  style: number,
  prefixBytes: Uint8Array,
  prefixStart: Int32Array,
  ops: ArrayLike<number>,
  endpointFields: readonly number[],
  fieldCount: number,
): NativeLayout {
  const opArray = Int32Array.from(ops);
  const hasDirection = opArray.some((op, i) => i % 3 === 0 && op === OP_DIRECTION);
  return { style, prefixBytes, prefixStart, ops: opArray, endpointFields: Int32Array.from(endpointFields), hasDirection, fieldCount };
}

/** Asked for the bytes of a piece C needs (a protocol name, an endpoint's JSON or cells); undefined declines the record. */
export type PieceSource = (rec: DecodedRecord, kind: number, index: number) => Uint8Array | undefined;

/**
 * The bridge to the C row writer (src/native/write_rows.c): binds what C reads and writes, again only when it
 * changes, and writes one record per call.
 *
 * One per thread and style, shared by that style's writers (`forThread`): the pieces C holds (an endpoint's JSON or
 * cells, a protocol name) depend only on their kind and index, and with --workers every 2 MiB part of a file has a
 * writer of its own, which gave each one the same pieces again (~5,000-10,000 per 1M lines). Writers that take turns
 * are safe: every write checks each binding against the writer's own layout, input, rows and output first.
 */
export class NativeWriter {
  private readonly io = new Int32Array(IO_LEN);
  private readonly native: NativeRowWriter;
  private layout: NativeLayout | null = null;
  private input: Uint8Array | null = null;
  private slots: ArrayBufferLike | null = null;
  private output: Uint8Array | null = null;

  /** The thread's writer for this style, or null when the native code is not built or not wanted. */
  static forThread(style: number, wanted: boolean | undefined): NativeWriter | null {
    if (wanted === false || nativeKernel === null) return null;
    return (perStyle[style] ??= new NativeWriter());
  }

  private constructor() {
    this.native = nativeKernel!.rowWriter(this.io);
  }

  /** Writes the record into `work`; false when JavaScript must write it (nothing was written then). */
  write(rec: DecodedRecord, layout: NativeLayout, work: WorkingBuffer, pieceFor: PieceSource): boolean {
    const native = this.native;
    const io = this.io;
    if (layout !== this.layout) {
      native.layout(layout.prefixBytes, layout.prefixStart, layout.ops, layout.fieldCount, layout.style);
      this.layout = layout;
    }
    if (rec.buf !== this.input) {
      native.input(rec.buf);
      this.input = rec.buf;
    }
    // The record's slots are a row of larger arrays (the C decoder's rows) or its own, the four always together:
    // bound as wholes, again when they change.
    const starts = rec.starts;
    const slots = starts.buffer;
    if (slots !== this.slots) {
      native.rows(new Uint8Array(rec.kinds.buffer), new Int32Array(slots), new Int32Array(rec.ends.buffer), new Float64Array(rec.numbers.buffer));
      this.slots = slots;
    }
    io[IO_ROW] = starts.byteOffset >> 2;
    const endpointFields = layout.endpointFields;
    for (let k = 0; k < endpointFields.length; k++) {
      const e = rec.endpoints[endpointFields[k]];
      io[IO_ENDPOINTS + k] = e === null ? -1 : e.id;
    }
    if (layout.hasDirection) io[IO_DIRECTION] = rec.direction === 'ingress' ? 1 : rec.direction === 'egress' ? 2 : 0;
    let room = 1 << 16;
    for (;;) {
      if (work.buf !== this.output) {
        native.output(work.buf);
        this.output = work.buf;
      }
      io[IO_POS] = work.pos;
      const end = native.record();
      if (end >= 0) {
        work.pos = end;
        return true;
      }
      if (end === NEED_ROOM) {
        work.ensure(room);
        room *= 2;
      } else if (end === NEED_PIECE) {
        const kind = io[IO_NEED_KIND];
        const index = io[IO_NEED_INDEX];
        const bytes = pieceFor(rec, kind, index);
        if (bytes === undefined) return false;
        native.piece(kind, index, bytes);
      } else {
        return false;
      }
    }
  }
}

const perStyle: NativeWriter[] = [];

/** The endpoint of `rec` with this id among the layout's address fields, if it has one. */
export function endpointWithId(rec: DecodedRecord, layout: NativeLayout, id: number) {
  for (const f of layout.endpointFields) {
    const e = rec.endpoints[f];
    if (e !== null && e.id === id) return e;
  }
  return undefined;
}

/** The io slot for an address field's endpoint id, added to `endpointFields` when new; -1 when the slots are full. */
export function endpointSlot(endpointFields: number[], field: number): number {
  let slot = endpointFields.indexOf(field);
  if (slot < 0) slot = endpointFields.push(field) - 1;
  return IO_ENDPOINTS + slot < IO_LEN ? IO_ENDPOINTS + slot : -1;
}
