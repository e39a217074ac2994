import type { DecodedRecord } from '../decode/record.js';
import { FlatRows, type FlatRowsOptions } from './flat-rows.js';
import { WorkingBuffer, type OutputBuffers } from './output-buffers.js';
import type { RecordWriter } from './record-writer.js';

export interface CsvOptions extends FlatRowsOptions {
  /** Start with the header row (default); false continues an output that already has one. */
  headerRow?: boolean;
  /** Hand chunks out without copying: give each back (`buffers.put`) once written. */
  buffers?: OutputBuffers;
}

/**
 * RFC 4180 CSV with a header row; null is an empty cell, lists (tcp_flags_names) are joined with `|`.
 * Rows are encoded into a Buffer as they are made: accumulating a chunk's rows as one string kept them alive
 * across garbage collections, and the heap grew by ~40 MiB of promoted string pieces.
 */
export class CsvWriter implements RecordWriter {
  private readonly working: WorkingBuffer;
  private headerWritten = false;
  private readonly rows: FlatRows;
  readonly holding = false;

  constructor(options: CsvOptions = {}, onDroppedColumns?: (keys: string[]) => void) {
    this.rows = new FlatRows(options, onDroppedColumns);
    this.working = new WorkingBuffer(options.buffers, 1 << 20);
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
    return this.working.take();
  }

  get pendingBytes(): number {
    return this.working.pos;
  }

  private append(text: string): void {
    // UTF-8 takes at most 3 bytes per UTF-16 unit, so this bound needs no Buffer.byteLength call per row.
    const working = this.working;
    working.ensure(3 * text.length);
    working.pos += working.buf.write(text, working.pos);
  }
}

const NEEDS_QUOTES = /[",\r\n]/;

function csvCell(text: string): string {
  return NEEDS_QUOTES.test(text) ? '"' + text.replaceAll('"', '""') + '"' : text;
}
