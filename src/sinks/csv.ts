import type { DecodedRecord } from '../decode/record.js';
import { FlatRows, type FlatRowsOptions } from './flat-rows.js';
import type { RecordWriter } from './record-writer.js';

export interface CsvOptions extends FlatRowsOptions {
  /** Start with the header row (default); false continues an output that already has one. */
  headerRow?: boolean;
}

/**
 * RFC 4180 CSV with a header row; null is an empty cell, lists (tcp_flags_names) are joined with `|`.
 * Rows are encoded into a Buffer as they are made: accumulating a chunk's rows as one string kept them alive
 * across garbage collections, and the heap grew by ~40 MiB of promoted string pieces.
 */
export class CsvWriter implements RecordWriter {
  private buf = Buffer.allocUnsafe(1 << 20);
  private pos = 0;
  private headerWritten = false;
  private readonly rows: FlatRows;
  readonly holding = false;

  constructor(options: CsvOptions = {}, onDroppedColumns?: (keys: string[]) => void) {
    this.rows = new FlatRows(options, onDroppedColumns);
    this.headerWritten = options.headerRow === false;
  }

  write(rec: DecodedRecord): void {
    const cells = this.rows.cells(rec);
    if (!this.headerWritten) {
      this.headerWritten = true;
      this.append(this.rows.header!.map(csvCell).join(',') + '\r\n');
    }
    let line = '';
    for (let i = 0; i < cells.length; i++) {
      if (i > 0) line += ',';
      const cell = cells[i];
      if (cell !== null) line += csvCell(cell);
    }
    this.append(line + '\r\n');
  }

  take(): Buffer {
    // Copied out at its exact size, as NdjsonWriter does.
    const chunk = Buffer.from(this.buf.subarray(0, this.pos));
    this.pos = 0;
    return chunk;
  }

  private append(text: string): void {
    // UTF-8 takes at most 3 bytes per UTF-16 unit, so this bound needs no Buffer.byteLength call per row.
    const most = 3 * text.length;
    if (this.pos + most > this.buf.length) {
      const bigger = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.pos + most));
      this.buf.copy(bigger, 0, 0, this.pos);
      this.buf = bigger;
    }
    this.pos += this.buf.write(text, this.pos);
  }
}

const NEEDS_QUOTES = /[",\r\n]/;

function csvCell(text: string): string {
  return NEEDS_QUOTES.test(text) ? '"' + text.replaceAll('"', '""') + '"' : text;
}
