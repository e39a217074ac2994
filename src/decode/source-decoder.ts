import type { InputShape } from './envelope.js';
import { FlowDecoder, type DecodeTarget, type DecoderOptions, type DecoderState } from './flow-decoder.js';
import { JsonEventExtractor } from './json-events.js';
import { DEFAULT_MAX_LINE_BYTES, LineFramer } from './line-framer.js';

export interface SourceDecoderOptions extends Omit<DecoderOptions, 'shape'> {
  /**
   * `auto` (default) decides per source; `raw`, `tail` and `jsonl` are line shapes; `json` reads JSON documents
   * (`aws logs filter-log-events` output, subscription payloads).
   */
  shape?: InputShape | 'json' | 'auto';
  /** Longest line accepted; longer lines are rejected without being buffered. Default 64 KiB. */
  maxLineBytes?: number;
}

type Mode = 'sniff' | 'lines' | 'json' | 'failed';

/**
 * Decodes the bytes of one source after another: frames lines, or, for a JSON document, streams its events.
 * Which of the two is decided from the first bytes of each source.
 */
export class SourceDecoder {
  readonly decoder: FlowDecoder;
  private readonly framer: LineFramer;
  private readonly forced: 'lines' | 'json' | undefined;
  private mode: Mode = 'sniff';
  private sniffed: Buffer[] = [];
  private sniffedBytes = 0;
  /** While sniffing: still only blank space, or a JSON-looking first line that has no newline yet. */
  private waitingFor: 'content' | 'newline' = 'content';
  private readonly maxLineBytes: number;
  private json: JsonEventExtractor | null = null;
  private events = 0;

  constructor(target: DecodeTarget, options: SourceDecoderOptions = {}) {
    const { shape = 'auto', maxLineBytes = DEFAULT_MAX_LINE_BYTES, ...rest } = options;
    this.decoder = new FlowDecoder(target, { ...rest, shape: shape === 'json' ? 'auto' : shape });
    this.framer = new LineFramer(
      (buf, s, e, n) => this.decoder.line(buf, s, e, n),
      (head, n) => this.decoder.tooLong(head, n, maxLineBytes),
      maxLineBytes,
      this.decoder,
    );
    this.maxLineBytes = maxLineBytes;
    this.forced = shape === 'json' ? 'json' : shape === 'auto' ? undefined : 'lines';
  }

  get counts() {
    return this.decoder.counts;
  }

  /** The decoder's state for lines read as lines; null while undecided or for a JSON document (it cannot be split). */
  get state(): DecoderState | null {
    return this.mode === 'lines' ? this.decoder.state : null;
  }

  /**
   * Starts a source. With `state`, the source is the rest of one already begun (a part of a big file, from a line
   * start): lines, in that shape and under that header.
   */
  begin(source: string, state?: DecoderState): void {
    this.decoder.beginSource(source, state);
    this.framer.reset();
    this.mode = state ? 'lines' : (this.forced ?? 'sniff');
    this.sniffed = [];
    this.sniffedBytes = 0;
    this.waitingFor = 'content';
    this.events = 0;
    this.json = this.mode === 'json' ? this.newExtractor() : null;
  }

  push(chunk: Buffer): void {
    switch (this.mode) {
      case 'lines':
        this.framer.push(chunk);
        return;
      case 'json':
        this.pushJson(chunk);
        return;
      case 'sniff':
        this.sniffed.push(chunk);
        this.sniffedBytes += chunk.length;
        // Only look again when this chunk can settle it: chunks of blank space or of a first line still without
        // its newline are just kept, so tiny chunks (a terminal, a slow pipe) cost no repeated concatenation.
        if (this.waitingFor === 'content' ? !isBlank(chunk) : chunk.includes(0x0a)) this.trySniff(false);
        else if (this.sniffedBytes > this.maxLineBytes) this.trySniff(true);
        return;
      case 'failed':
        return;
    }
  }

  end(): void {
    if (this.mode === 'sniff' && this.sniffedBytes > 0) this.trySniff(true);
    if (this.mode === 'lines') this.framer.flush();
    else if (this.mode === 'json') {
      try {
        this.json!.end();
      } catch (err) {
        this.jsonFailed(err);
      }
    }
    this.json = null;
  }

  /** Decides how to read this source from its first bytes; `force` decides with what there is. */
  private trySniff(force: boolean): void {
    const head = this.sniffed.length === 1 ? this.sniffed[0] : Buffer.concat(this.sniffed);
    this.sniffed = [head];
    let i = 0;
    if (head[0] === 0xef && head[1] === 0xbb && head[2] === 0xbf) i = 3;
    while (i < head.length && (head[i] === 0x20 || head[i] === 0x09 || head[i] === 0x0a || head[i] === 0x0d)) i++;
    if (i === head.length && !force) return;
    let mode: Mode = 'lines';
    if (head[i] === 0x7b || head[i] === 0x5b) {
      const nl = head.indexOf(0x0a, i);
      if (nl < 0 && !force) {
        this.waitingFor = 'newline';
        return;
      }
      mode = isJsonLine(head.subarray(i, nl < 0 ? head.length : nl)) ? 'lines' : 'json';
    }
    this.mode = mode;
    this.sniffed = [];
    if (mode === 'json') {
      this.json = this.newExtractor();
      this.pushJson(head);
    } else {
      this.framer.push(head);
    }
  }

  private newExtractor(): JsonEventExtractor {
    return new JsonEventExtractor((message, stream, timestamp) => this.decoder.event(message, stream, timestamp, ++this.events));
  }

  private pushJson(chunk: Buffer): void {
    try {
      this.json!.push(chunk);
    } catch (err) {
      this.jsonFailed(err);
    }
  }

  private jsonFailed(err: unknown): void {
    this.mode = 'failed';
    this.json = null;
    const detail = err instanceof Error ? err.message : String(err);
    this.decoder.unreadable(`not a JSON document of log events after event ${this.events}: ${detail}`, this.events + 1);
  }
}

function isBlank(chunk: Buffer): boolean {
  for (let i = 0; i < chunk.length; i++) {
    const c = chunk[i];
    if (c !== 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d) return false;
  }
  return true;
}

/** Whether a line is one complete JSON object with a `message` (JSON lines), not the start of a document. */
function isJsonLine(line: Buffer): boolean {
  try {
    const v = JSON.parse(line.toString('utf8'));
    return typeof v === 'object' && v !== null && !Array.isArray(v) && typeof v.message === 'string';
  } catch {
    return false;
  }
}
