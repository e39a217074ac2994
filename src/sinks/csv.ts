import type { DecodedRecord } from '../decode/record.js';
import { FlatRows, type FlatRowsOptions } from './flat-rows.js';
import type { RecordWriter } from './record-writer.js';

export interface CsvOptions extends FlatRowsOptions {
  /** Start with the header row (default); false continues an output that already has one. */
  headerRow?: boolean;
}

/** RFC 4180 CSV with a header row; null is an empty cell, lists (tcp_flags_names) are joined with `|`. */
export class CsvWriter implements RecordWriter {
  private out = '';
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
      this.out += this.rows.header!.map(csvCell).join(',') + '\r\n';
    }
    let line = '';
    for (let i = 0; i < cells.length; i++) {
      if (i > 0) line += ',';
      const cell = cells[i];
      if (cell !== null) line += csvCell(cell);
    }
    this.out += line + '\r\n';
  }

  take(): string {
    const text = this.out;
    this.out = '';
    return text;
  }
}

const NEEDS_QUOTES = /[",\r\n]/;

function csvCell(text: string): string {
  return NEEDS_QUOTES.test(text) ? '"' + text.replaceAll('"', '""') + '"' : text;
}
