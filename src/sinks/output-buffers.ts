/**
 * Output buffers a writer fills and hands out without copying; whoever writes a chunk out gives its buffer back
 * with `put` once the write is done, and the writer fills it again. Copying each chunk out at its exact size cost
 * 11% of an enrich + NDJSON run (1 CPU profile of 10M lines), and a fresh buffer per chunk cost more: allocating and
 * freeing ~1 MiB per input chunk, and with worker threads a buffer freed on another thread than the one that made
 * it. Each buffer owns its whole ArrayBuffer, so it can move to another thread and back.
 */
export class OutputBuffers {
  private readonly spare: Buffer[] = [];

  /** `size`: bytes of a new buffer; `keep`: spare buffers kept for reuse, past which given-back ones are dropped. */
  constructor(
    readonly size = 1 << 20,
    private readonly keep = 8,
  ) {}

  /** A buffer of at least `min` bytes, a spare one when there is one. */
  get(min = 0): Buffer {
    for (let i = this.spare.length - 1; i >= 0; i--) {
      const buf = this.spare[i];
      if (buf.length >= min) {
        this.spare.splice(i, 1);
        return buf;
      }
    }
    return Buffer.allocUnsafeSlow(Math.max(this.size, min));
  }

  /** Gives back the buffer under a chunk from a writer (any view of it), once nothing reads the chunk any more. */
  put(chunk: Uint8Array | ArrayBuffer): void {
    if (this.spare.length >= this.keep) return;
    const whole = chunk instanceof ArrayBuffer ? chunk : chunk.buffer;
    if (!(whole instanceof ArrayBuffer) || whole.byteLength < this.size) return;
    this.spare.push(Buffer.from(whole));
  }
}

/** A writer's working buffer when it hands its chunks out through OutputBuffers, or copies them (without). */
export class WorkingBuffer {
  buf: Buffer;
  /** Over `buf`, for word-at-a-time writes. */
  view: DataView;
  pos = 0;

  /**
   * With OutputBuffers the buffer is taken from them on the first write, and after `take()` again only when written
   * to: a writer that is done holds none. (Taking one up front left each finished writer's spare buffer to the
   * garbage collector: with --workers, one 1 MiB buffer per 2 MiB part of a file, ~550 MB over the 10M-line bench
   * file, each one page-faulted in and collected.)
   */
  constructor(
    private readonly buffers: OutputBuffers | undefined,
    private readonly initial: number,
  ) {
    this.buf = buffers ? EMPTY : Buffer.allocUnsafe(initial);
    this.view = viewOf(this.buf);
  }

  /** Makes room for `more` bytes past `pos`. */
  ensure(more: number): void {
    if (this.pos + more <= this.buf.length) return;
    const size = Math.max(this.buf.length * 2, this.pos + more, this.initial);
    const bigger = this.buffers ? this.buffers.get(size) : Buffer.allocUnsafe(size);
    this.buf.copy(bigger, 0, 0, this.pos);
    this.buffers?.put(this.buf);
    this.buf = bigger;
    this.view = viewOf(bigger);
  }

  /**
   * What was written since the last take. With OutputBuffers it is the working buffer itself, and the next write
   * takes another (give the chunk back once written); without, a copy at its exact size.
   */
  take(): Buffer {
    const used = this.pos;
    this.pos = 0;
    if (!this.buffers) return Buffer.from(this.buf.subarray(0, used));
    if (used === 0) return EMPTY;
    const chunk = this.buf.subarray(0, used);
    this.buf = EMPTY;
    this.view = viewOf(this.buf);
    return chunk;
  }
}

const viewOf = (buf: Buffer) => new DataView(buf.buffer, buf.byteOffset, buf.length);

const EMPTY = Buffer.alloc(0);
