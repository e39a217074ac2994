import { protocolName } from '../decode/protocols.js';
import type { Column, DecodedRecord } from '../decode/record.js';
import { tcpFlagNames } from '../decode/tcp-flags.js';
import { ENDPOINT_PATHS } from '../enrich/endpoint.js';
import { cellText, FlatRows, type FlatRowsOptions } from './flat-rows.js';
import {
  endpointSlot,
  endpointWithId,
  makeNativeLayout,
  MAX_RUNS,
  NativeWriter,
  OP_DIRECTION,
  OP_ENDPOINT_RUN,
  OP_FIELD,
  OP_FLAGS,
  OP_NULL,
  OP_PROTOCOL,
  PIECE_FLAGS,
  PIECE_PROTOCOL,
  PIECE_RUNS,
  STYLE_CSV,
  type NativeLayout,
} from './native-writer.js';
import { WorkingBuffer, type OutputBuffers } from './output-buffers.js';
import type { RecordWriter } from './record-writer.js';

export interface CsvOptions extends FlatRowsOptions {
  /** Start with the header row (default); false continues an output that already has one. */
  headerRow?: boolean;
  /** Hand chunks out without copying: give each back (`buffers.put`) once written. */
  buffers?: OutputBuffers;
  /** Write the common case in C when it is built (default true); the output is the same either way. */
  native?: boolean;
}

/**
 * RFC 4180 CSV with a header row; null is an empty cell, lists (tcp_flags_names) are joined with `|`.
 * Rows are encoded into a Buffer as they are made: accumulating a chunk's rows as one string kept them alive
 * across garbage collections, and the heap grew by ~40 MiB of promoted string pieces.
 *
 * Where the native code is built, rows whose cells are all plain copies are written by the C row writer
 * (src/native/write_rows.c), with each endpoint's cells made once per distinct answer: a string per cell made
 * CSV ~10x slower than NDJSON. It declines the rest (quoting, non-ASCII, ISO times, ...) and this class writes those.
 */
export class CsvWriter implements RecordWriter {
  private readonly working: WorkingBuffer;
  private headerWritten = false;
  private readonly rows: FlatRows;
  readonly holding = false;
  private readonly native: NativeWriter | null;
  /** The C writer's layout per column mapping (null: JavaScript writes that layout). */
  private readonly layouts = new WeakMap<readonly (Column | undefined)[], NativeLayout | null>();
  private layout: NativeLayout | null = null;

  constructor(options: CsvOptions = {}, onDroppedColumns?: (keys: string[]) => void) {
    this.rows = new FlatRows(options, onDroppedColumns);
    this.working = new WorkingBuffer(options.buffers, 1 << 20);
    this.headerWritten = options.headerRow === false;
    this.native = NativeWriter.forThread(STYLE_CSV, options.native);
  }

  write(rec: DecodedRecord): void {
    if (this.native !== null) {
      const columns = this.rows.columns(rec);
      this.writeHeader();
      let layout = this.layouts.get(columns);
      if (layout === undefined) this.layouts.set(columns, (layout = this.nativeLayout(columns, rec.format.fields.length)));
      this.layout = layout;
      if (layout !== null && this.native.write(rec, layout, this.working, this.pieceFor)) return;
    }
    const cells = this.rows.cells(rec);
    this.writeHeader();
    let line = '';
    for (let i = 0; i < cells.length; i++) {
      if (i > 0) line += ',';
      const cell = cells[i];
      if (cell !== null) line += csvCell(cell);
    }
    this.append(line + '\r\n');
  }

  take(): Buffer {
    return this.working.take();
  }

  get pendingBytes(): number {
    return this.working.pos;
  }

  private writeHeader(): void {
    if (this.headerWritten) return;
    this.headerWritten = true;
    this.append(this.rows.header!.map(csvCell).join(',') + '\r\n');
  }

  /** The C writer's layout for these columns, or null when one of them is one only JavaScript writes. */
  private nativeLayout(columns: readonly (Column | undefined)[], fieldCount: number): NativeLayout | null {
    const ops: number[] = [];
    const endpointFields: number[] = [];
    for (let c = 0; c < columns.length; c++) {
      const col = columns[c];
      if (col === undefined) {
        ops.push(OP_NULL, 0, 0);
      } else if (col.source === 'field') {
        ops.push(OP_FIELD, col.index, 0);
      } else if (col.source === 'protocol_name') {
        ops.push(OP_PROTOCOL, col.index, 0);
      } else if (col.source === 'tcp_flags_names') {
        ops.push(OP_FLAGS, col.index, 0);
      } else if (col.source === 'direction') {
        ops.push(OP_DIRECTION, 0, 0);
      } else if (col.source === 'endpoint_path') {
        // The endpoint's columns that follow one another are one run: its cells are made once per endpoint.
        const paths = [col.path!];
        while (columns[c + 1]?.source === 'endpoint_path' && columns[c + 1]!.index === col.index) paths.push(columns[++c]!.path!);
        let run = csvRuns.findIndex((r) => r.length === paths.length && r.every((p, i) => p === paths[i]));
        if (run < 0) run = csvRuns.push(paths) - 1;
        const slot = endpointSlot(endpointFields, col.index);
        if (run >= MAX_RUNS || slot < 0) return null;
        ops.push(OP_ENDPOINT_RUN, slot, run);
      } else {
        return null;
      }
    }
    const count = ops.length / 3;
    // No separator before the first cell, a comma before each of the others.
    const prefixStart = Int32Array.from({ length: count + 1 }, (_, i) => Math.max(0, i - 1));
    return makeNativeLayout(STYLE_CSV, Buffer.alloc(Math.max(0, count - 1), ','), prefixStart, ops, endpointFields, fieldCount);
  }

  /** The cells the C writer asks for. */
  private readonly pieceFor = (rec: DecodedRecord, kind: number, index: number): Buffer | undefined => {
    if (kind === PIECE_PROTOCOL) return (protocolCells[index] ??= Buffer.from(csvCell(protocolName(index) ?? '')));
    if (kind === PIECE_FLAGS) return (flagsCells[index] ??= Buffer.from(csvCell(tcpFlagNames(index).join('|'))));
    const paths = csvRuns[kind - PIECE_RUNS];
    if (paths === undefined) return undefined;
    const e = index === 0 ? null : endpointWithId(rec, this.layout!, index - 1);
    if (e === undefined) return undefined;
    const cells = paths.map((p) => {
      const text = e === null ? null : cellText(ENDPOINT_PATHS[p][1](e));
      return text === null ? '' : csvCell(text);
    });
    return Buffer.from(cells.join(','));
  };

  private append(text: string): void {
    // UTF-8 takes at most 3 bytes per UTF-16 unit, so this bound needs no Buffer.byteLength call per row.
    const working = this.working;
    working.ensure(3 * text.length);
    working.pos += working.buf.write(text, working.pos);
  }
}

/**
 * Endpoint path sequences by run number, and the cells of protocol and tcp-flags values: per thread, as the C
 * writer's pieces are (NativeWriter.forThread), so every CSV writer numbers runs alike.
 */
const csvRuns: number[][] = [];
const protocolCells: (Buffer | undefined)[] = [];
const flagsCells: (Buffer | undefined)[] = [];

const NEEDS_QUOTES = /[",\r\n]/;

function csvCell(text: string): string {
  return NEEDS_QUOTES.test(text) ? '"' + text.replaceAll('"', '""') + '"' : text;
}
