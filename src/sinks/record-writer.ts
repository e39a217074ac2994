import type { DecodedRecord } from '../decode/record.js';

/**
 * Serialises records into text. Writers accumulate; the caller drains them with `take()` after each input chunk,
 * so output goes out in large writes and backpressure is handled in one place.
 */
export interface RecordWriter {
  write(rec: DecodedRecord): void;
  /** The text produced since the last call; `force` also releases rows a writer holds back (table pages). */
  take(force?: boolean): string | Buffer;
  /** Whether `take(true)` would return rows held back. */
  readonly holding: boolean;
  /** When the oldest row held back was written (performance.now()), while `holding`. */
  readonly heldSince?: number;
  /** Bytes written since the last take, for writers that write as they go (NDJSON, CSV). */
  readonly pendingBytes?: number;
}

export type OutputFormat = 'ndjson' | 'csv' | 'table';
export const OUTPUT_FORMATS: readonly OutputFormat[] = ['ndjson', 'csv', 'table'];
