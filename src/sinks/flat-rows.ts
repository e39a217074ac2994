import { columnValue, flattenColumns, recordColumns, selectColumns, type Column, type DecodedRecord, type RecordOptions } from '../decode/record.js';

export interface FlatRowsOptions extends RecordOptions {
  fields?: readonly string[];
  /** Which endpoint values get a column when --fields does not say (default: all). */
  endpointPaths?: (path: string) => boolean;
}

/**
 * Turns records into rows of text cells under one fixed header, for the column formats (CSV, table). The header
 * is `--fields`, or the columns of the first record, endpoint objects flattened with dots (`dst.aws.service`). When the format changes mid-stream, cells are matched by
 * key: columns the header lacks are dropped (reported once through `onDroppedColumns`), missing ones are empty.
 */
export class FlatRows {
  header: readonly string[] | null;
  private readonly mappings = new WeakMap<readonly Column[], (Column | undefined)[]>();
  private warned = false;

  constructor(
    private readonly options: FlatRowsOptions = {},
    private readonly onDroppedColumns: (keys: string[]) => void = () => {},
  ) {
    this.header = options.fields ?? null;
  }

  /** The record's cells in header order; null for a missing or null value. */
  cells(rec: DecodedRecord): (string | null)[] {
    return this.columns(rec).map((col) => (col ? cellText(columnValue(rec, col)) : null));
  }

  /** The record's columns in header order (undefined where it has none); the same array for records of one layout. */
  columns(rec: DecodedRecord): readonly (Column | undefined)[] {
    const all = recordColumns(rec, this.options);
    const header = (this.header ??= flattenColumns(all, this.options.endpointPaths).map((c) => c.key));
    let mapping = this.mappings.get(all);
    if (!mapping) {
      mapping = selectColumns(all, header).map((c) => (c.source === 'missing' ? undefined : c));
      this.mappings.set(all, mapping);
      const dropped = flattenColumns(all, this.options.endpointPaths).filter((c) => !header.includes(c.key)).map((c) => c.key);
      if (dropped.length > 0 && !this.options.fields && !this.warned) {
        this.warned = true;
        this.onDroppedColumns(dropped);
      }
    }
    return mapping;
  }
}

/** A value as cell text: numbers as JavaScript prints them, lists joined with `|`, objects as JSON. */
export function cellText(value: ReturnType<typeof columnValue>): string | null {
  if (value === null) return null;
  if (typeof value === 'string') return value;
  if (typeof value === 'number') return String(value);
  if (Array.isArray(value)) return value.join('|');
  return JSON.stringify(value);
}
