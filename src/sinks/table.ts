import type { DecodedRecord } from '../decode/record.js';
import { TABLE_ENDPOINT_PATHS } from '../enrich/endpoint.js';
import { FlatRows, type FlatRowsOptions } from './flat-rows.js';
import { WorkingBuffer, type OutputBuffers } from './output-buffers.js';
import type { RecordWriter } from './record-writer.js';

export interface TableOptions extends FlatRowsOptions {
  /** Rows aligned together before they are shown. Default 100. */
  pageRows?: number;
  /** Hand chunks out without copying: give each back (`buffers.put`) once written. */
  buffers?: OutputBuffers;
}

const SPACE = 0x20;

/**
 * An aligned table for people. Rows are held back in pages so their columns line up; a page is released when it
 * is full or when the caller forces it (the CLI does when input pauses, so `aws logs tail --follow` shows rows as
 * they come). Widths only grow; the header is repeated when they do, so columns stay readable.
 *
 * Released rows are encoded straight into a Buffer, as CSV's are: built as one string per input chunk
 * (`line += cell + pad`), the rope of pieces outlived young-generation collections and the 1M-line table run
 * peaked at 160-170 MB and spent a third of its time collecting it (CPU profile of 200k lines).
 */
export class TableWriter implements RecordWriter {
  private readonly rows: FlatRows;
  private readonly pageRows: number;
  private readonly working: WorkingBuffer;
  private page: (string | null)[][] = [];
  private widths: number[] = [];
  private headerShownFor = '';
  private pageStarted = 0;

  constructor(options: TableOptions = {}, onDroppedColumns?: (keys: string[]) => void) {
    this.rows = new FlatRows({ endpointPaths: (path) => TABLE_ENDPOINT_PATHS.has(path), ...options }, onDroppedColumns);
    this.pageRows = options.pageRows ?? 100;
    this.working = new WorkingBuffer(options.buffers, 1 << 16);
  }

  get holding(): boolean {
    return this.page.length > 0;
  }

  get heldSince(): number {
    return this.pageStarted;
  }

  write(rec: DecodedRecord): void {
    if (this.page.length === 0) this.pageStarted = performance.now();
    this.page.push(this.rows.cells(rec));
    if (this.page.length >= this.pageRows) this.releasePage();
  }

  take(force = false): Buffer {
    if (force && this.page.length > 0) this.releasePage();
    return this.working.take();
  }

  private releasePage(): void {
    const header = this.rows.header!;
    const widths = this.widths;
    for (let i = 0; i < header.length; i++) widths[i] = Math.max(widths[i] ?? 0, header[i].length);
    const numeric = header.map(() => true);
    for (const row of this.page) {
      for (let i = 0; i < row.length; i++) {
        const cell = row[i];
        const length = cell === null ? 1 : cell.length;
        if (length > widths[i]) widths[i] = length;
        if (cell !== null && numeric[i] && !isDigits(cell)) numeric[i] = false;
      }
    }
    const shape = widths.join(',');
    if (shape !== this.headerShownFor) {
      this.headerShownFor = shape;
      this.writeRow(header, widths, numeric);
    }
    for (const row of this.page) this.writeRow(row, widths, numeric);
    this.page = [];
  }

  private writeRow(cells: readonly (string | null)[], widths: readonly number[], rightAlign: readonly boolean[]): void {
    const w = this.working;
    let room = cells.length * 2 + 1;
    for (let i = 0; i < cells.length; i++) room += Math.max(widths[i], 3 * (cells[i]?.length ?? 1));
    w.ensure(room);
    const buf = w.buf;
    let pos = w.pos;
    for (let i = 0; i < cells.length; i++) {
      const cell = cells[i] ?? '-';
      const pad = widths[i] - cell.length;
      const last = i === cells.length - 1;
      if (rightAlign[i]) for (let k = 0; k < pad; k++) buf[pos++] = SPACE;
      pos += buf.write(cell, pos);
      if (!last) {
        const after = (rightAlign[i] ? 0 : pad) + 2;
        for (let k = 0; k < after; k++) buf[pos++] = SPACE;
      }
    }
    buf[pos++] = 0x0a;
    w.pos = pos;
  }
}

function isDigits(text: string): boolean {
  if (text.length === 0) return false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x30 || c > 0x39) return false;
  }
  return true;
}
