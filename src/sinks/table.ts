import type { DecodedRecord } from '../decode/record.js';
import { TABLE_ENDPOINT_PATHS } from '../enrich/endpoint.js';
import { FlatRows, type FlatRowsOptions } from './flat-rows.js';
import type { RecordWriter } from './record-writer.js';

export interface TableOptions extends FlatRowsOptions {
  /** Rows aligned together before they are shown. Default 100. */
  pageRows?: number;
}

const NUMERIC = /^\d+$/;

/**
 * An aligned table for people. Rows are held back in pages so their columns line up; a page is released when it
 * is full or when the caller forces it (the CLI does when input pauses, so `aws logs tail --follow` shows rows as
 * they come). Widths only grow; the header is repeated when they do, so columns stay readable.
 */
export class TableWriter implements RecordWriter {
  private readonly rows: FlatRows;
  private readonly pageRows: number;
  private page: (string | null)[][] = [];
  private widths: number[] = [];
  private headerShownFor = '';
  private out = '';

  constructor(options: TableOptions = {}, onDroppedColumns?: (keys: string[]) => void) {
    this.rows = new FlatRows({ endpointPaths: (path) => TABLE_ENDPOINT_PATHS.has(path), ...options }, onDroppedColumns);
    this.pageRows = options.pageRows ?? 100;
  }

  get holding(): boolean {
    return this.page.length > 0;
  }

  write(rec: DecodedRecord): void {
    this.page.push(this.rows.cells(rec));
    if (this.page.length >= this.pageRows) this.releasePage();
  }

  take(force = false): string {
    if (force && this.page.length > 0) this.releasePage();
    const text = this.out;
    this.out = '';
    return text;
  }

  private releasePage(): void {
    const header = this.rows.header!;
    const widths = this.widths;
    header.forEach((h, i) => (widths[i] = Math.max(widths[i] ?? 0, h.length)));
    const numeric = header.map(() => true);
    for (const row of this.page) {
      row.forEach((cell, i) => {
        const text = cell ?? '-';
        if (text.length > widths[i]) widths[i] = text.length;
        if (cell !== null && !NUMERIC.test(cell)) numeric[i] = false;
      });
    }
    const shape = widths.join(',');
    if (shape !== this.headerShownFor) {
      this.headerShownFor = shape;
      this.out += formatRow(header, widths, numeric) + '\n';
    }
    for (const row of this.page) this.out += formatRow(row.map((c) => c ?? '-'), widths, numeric) + '\n';
    this.page = [];
  }
}

function formatRow(cells: readonly string[], widths: readonly number[], rightAlign: readonly boolean[]): string {
  let line = '';
  for (let i = 0; i < cells.length; i++) {
    const cell = cells[i];
    const pad = ' '.repeat(widths[i] - cell.length);
    const last = i === cells.length - 1;
    line += rightAlign[i] ? pad + cell : last ? cell : cell + pad;
    if (!last) line += '  ';
  }
  return line;
}
