import { isJsonSafeAscii } from '../decode/bytes.js';
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
import type { RecordWriter } from './record-writer.js';

export interface NdjsonOptions extends RecordOptions {
  /** Output keys to keep, in order (`--fields`). */
  fields?: readonly string[];
}

interface Layout {
  readonly columns: readonly Column[];
  /** `{"key":` / `,"key":` for each column. */
  readonly prefixes: readonly string[];
}

/**
 * One JSON object per line. Written straight from the decoded bytes: no record object is built, keys are
 * pre-serialised per format, and addresses, numbers and known enum values need no escaping.
 */
export class NdjsonWriter implements RecordWriter {
  private out = '';
  private readonly layouts = new WeakMap<readonly Column[], Layout>();
  readonly holding = false;

  constructor(private readonly options: NdjsonOptions = {}) {}

  write(rec: DecodedRecord): void {
    const all = recordColumns(rec, this.options);
    let layout = this.layouts.get(all);
    if (!layout) {
      const columns = this.options.fields ? selectColumns(all, this.options.fields) : all;
      const prefixes = columns.map((c, i) => (i === 0 ? '{' : ',') + JSON.stringify(c.key) + ':');
      layout = { columns, prefixes };
      this.layouts.set(all, layout);
    }
    const { columns, prefixes } = layout;
    let line = '';
    for (let c = 0; c < columns.length; c++) {
      const col = columns[c];
      line += prefixes[c];
      if (col.source === 'field') {
        const i = col.index;
        const kind = rec.kinds[i];
        if (kind === KIND_NULL) line += 'null';
        else if (kind === KIND_NUMBER) line += rec.numbers[i];
        else line += jsonText(rec, i, kind);
      } else {
        line += JSON.stringify(columnValue(rec, col));
      }
    }
    this.out += columns.length === 0 ? '{}\n' : line + '}\n';
  }

  take(): string {
    const text = this.out;
    this.out = '';
    return text;
  }
}

function jsonText(rec: DecodedRecord, i: number, kind: number): string {
  const known = rec.interned[i];
  if (known !== undefined) return '"' + known + '"';
  const buf = rec.buf;
  const s = rec.starts[i];
  const e = rec.ends[i];
  if (kind === KIND_IPV4 || kind === KIND_IPV6 || isJsonSafeAscii(buf, s, e)) {
    return '"' + Buffer.prototype.latin1Slice.call(buf, s, e) + '"';
  }
  return JSON.stringify(rec.text(i));
}
