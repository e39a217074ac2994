/** Called for each complete line, without its `\n`. The bytes are only valid during the call. */
export type LineCallback = (buf: Uint8Array, start: number, end: number, lineNo: number) => void;
/** Called for a line longer than the limit, with its first `limit` bytes. */
export type TooLongCallback = (head: Uint8Array, lineNo: number) => void;

/** Decodes many whole lines at once (the C decoder); the framer hands it each stretch of whole lines first. */
export interface BulkLines {
  /**
   * Decodes whole lines of `chunk` from `pos` (line `lineNo`) and returns how many; 0 leaves the next line to the
   * line callback. `bulkEnd` is then where the first line not decoded starts.
   */
  lines(chunk: Buffer, pos: number, maxLineBytes: number, lineNo: number): number;
  readonly bulkEnd: number;
}

/** 64 KiB: a flow log line with every field AWS offers is well under 4 KiB. */
export const DEFAULT_MAX_LINE_BYTES = 64 * 1024;

/**
 * Frames a byte stream into lines without copying: lines that lie inside a chunk are passed as offsets into it;
 * only a line split across chunks is copied once. A line longer than `maxLineBytes` is reported and skipped
 * without buffering it, so memory stays bounded whatever the input.
 */
export class LineFramer {
  private carry: Buffer | null = null;
  private discarding = false;
  private lineNo = 0;

  constructor(
    private readonly onLine: LineCallback,
    private readonly onTooLong: TooLongCallback,
    readonly maxLineBytes = DEFAULT_MAX_LINE_BYTES,
    private readonly bulk: BulkLines | null = null,
  ) {}

  /** Starts a new source (line numbers restart; a partial line of the previous source must have been flushed). */
  reset(): void {
    this.carry = null;
    this.discarding = false;
    this.lineNo = 0;
  }

  push(chunk: Buffer): void {
    let pos = 0;
    const len = chunk.length;
    if (this.carry !== null || this.discarding) {
      const nl = chunk.indexOf(0x0a);
      if (nl < 0) {
        this.extendCarry(chunk);
        return;
      }
      if (this.discarding) {
        this.discarding = false;
      } else {
        const carry = this.carry!;
        this.carry = null;
        if (carry.length + nl > this.maxLineBytes) {
          this.reportTooLong(Buffer.concat([carry, chunk.subarray(0, Math.max(0, this.maxLineBytes - carry.length))]));
        } else {
          const line = carry.length === 0 ? chunk.subarray(0, nl) : Buffer.concat([carry, chunk.subarray(0, nl)]);
          this.onLine(line, 0, line.length, ++this.lineNo);
        }
      }
      pos = nl + 1;
    }
    const max = this.maxLineBytes;
    const bulk = this.bulk;
    while (pos < len) {
      if (bulk !== null) {
        const n = bulk.lines(chunk, pos, max, this.lineNo + 1);
        if (n > 0) {
          this.lineNo += n;
          pos = bulk.bulkEnd;
          continue;
        }
      }
      const nl = chunk.indexOf(0x0a, pos);
      if (nl < 0) {
        this.extendCarry(chunk.subarray(pos));
        return;
      }
      if (nl - pos > max) this.reportTooLong(chunk.subarray(pos, pos + max));
      else this.onLine(chunk, pos, nl, ++this.lineNo);
      pos = nl + 1;
    }
  }

  /** Ends the source: a last line without `\n` is still a line. */
  flush(): void {
    if (this.discarding) {
      this.discarding = false;
      return;
    }
    const carry = this.carry;
    this.carry = null;
    if (carry !== null && carry.length > 0) this.onLine(carry, 0, carry.length, ++this.lineNo);
  }

  private extendCarry(part: Buffer): void {
    if (this.discarding) return;
    const carry = this.carry;
    const size = (carry?.length ?? 0) + part.length;
    if (size > this.maxLineBytes) {
      const head = carry ? Buffer.concat([carry, part]) : part;
      this.carry = null;
      this.discarding = true;
      this.reportTooLong(head.subarray(0, this.maxLineBytes));
      return;
    }
    // Copied: the chunk it came from will be released or reused.
    this.carry = carry ? Buffer.concat([carry, part]) : Buffer.from(part);
  }

  private reportTooLong(head: Uint8Array): void {
    this.onTooLong(head, ++this.lineNo);
  }
}
