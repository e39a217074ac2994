import { createRequire } from 'node:module';
import { StringDecoder } from 'node:string_decoder';

type Parser = typeof import('stream-json/core/parser.js');
type Defs = typeof import('stream-chain/defs.js');

interface StreamJson {
  jsonParser: Parser['jsonParser'];
  getManyValues: Defs['getManyValues'];
  isMany: Defs['isMany'];
  none: symbol;
}

let streamJson: StreamJson | undefined;

/**
 * stream-json's tokenizer, loaded on first use: it costs ~10 ms of start-up, and only JSON documents need it.
 * A synchronous require() (SourceDecoder.push is synchronous); of these ES modules, it needs Node 20.19 or 22.12.
 */
function loadStreamJson(): StreamJson {
  if (!streamJson) {
    const require = createRequire(import.meta.url);
    const { jsonParser } = require('stream-json/core/parser.js') as Parser;
    const { getManyValues, isMany, none } = require('stream-chain/defs.js') as Defs;
    streamJson = { jsonParser, getManyValues, isMany, none };
  }
  return streamJson;
}

/** A CloudWatch Logs event carrying one flow log record. */
export type LogEventCallback = (message: string, logStream: string | null, timestamp: number) => void;

interface Frame {
  readonly isArray: boolean;
  /** Key of the value being read, inside an object. */
  key: string | null;
  /** The key under which this container sits in its parent (null at top level or inside an array). */
  readonly parentKey: string | null;
  readonly capturing: boolean;
  message?: string;
  stream?: string;
  timestamp?: number;
}

const PIECE = 512;

const EVENT_ARRAYS = new Set(['events', 'logEvents']);

/**
 * Pulls flow log events out of JSON documents as they stream in, holding only the event being read:
 * `aws logs filter-log-events` / `get-log-events` output (`events[]`), CloudWatch Logs subscription payloads
 * (`logEvents[]` with `logStream`, or still wrapped as `{"awslogs":{"data":…}}`), and bare `{"message":…}` objects,
 * several documents one after another included. Subscription control messages are skipped.
 */
export class JsonEventExtractor {
  private readonly lib = loadStreamJson();
  private readonly parse = this.lib.jsonParser({ jsonStreaming: true, streamValues: false });
  private readonly text = new StringDecoder('utf8');
  private readonly stack: Frame[] = [];
  private documentStream: string | null = null;
  private controlMessage = false;

  constructor(private readonly onEvent: LogEventCallback) {}

  /** Feeds bytes; throws an Error with the parser's message on malformed JSON. */
  push(chunk: Buffer): void {
    const text = this.text.write(chunk);
    // The parser throws away the tokens of a piece that ends in an error, so pieces are kept short (a line of
    // pretty-printed JSON, or at most PIECE characters): events read before a syntax error are still decoded.
    for (let start = 0; start < text.length; ) {
      const nl = text.indexOf('\n', start);
      const end = Math.min(nl < 0 ? text.length : nl + 1, start + PIECE);
      this.consume(this.parse(text.slice(start, end)));
      start = end;
    }
  }

  end(): void {
    const rest = this.text.end();
    if (rest) this.consume(this.parse(rest));
    this.consume(this.parse(this.lib.none as never));
    if (this.stack.length > 0) throw new Error('the JSON document ends in the middle of a value');
  }

  private consume(result: unknown): void {
    if (!this.lib.isMany(result)) return;
    for (const token of this.lib.getManyValues(result) as { name: string; value?: unknown }[]) this.token(token.name, token.value);
  }

  private token(name: string, value: unknown): void {
    const stack = this.stack;
    const top = stack[stack.length - 1];
    switch (name) {
      case 'startObject':
      case 'startArray': {
        const parentKey = top && !top.isArray ? top.key : null;
        if (!top) {
          this.documentStream = null;
          this.controlMessage = false;
        }
        const capturing =
          name === 'startObject' &&
          (top === undefined || (top.isArray && top.parentKey !== null && EVENT_ARRAYS.has(top.parentKey) && stack.length === 2));
        stack.push({ isArray: name === 'startArray', key: null, parentKey, capturing });
        return;
      }
      case 'endObject':
      case 'endArray': {
        stack.pop();
        if (top?.capturing && top.message !== undefined && !this.controlMessage) {
          this.onEvent(top.message, top.stream ?? this.documentStream, top.timestamp ?? NaN);
        }
        return;
      }
      case 'keyValue':
        if (top) top.key = value as string;
        return;
      case 'stringValue':
      case 'numberValue':
        if (!top || top.isArray) return;
        this.scalar(top, value as string, name === 'numberValue');
        return;
      default:
        return;
    }
  }

  private scalar(frame: Frame, value: string, isNumber: boolean): void {
    const key = frame.key;
    const depth = this.stack.length;
    if (depth === 1) {
      if (key === 'logStream' && !isNumber) this.documentStream = value || null;
      if (key === 'messageType' && value === 'CONTROL_MESSAGE') this.controlMessage = true;
    }
    if (depth === 2 && key === 'data' && frame.parentKey === 'awslogs' && !isNumber) {
      this.nested(value);
      return;
    }
    if (!frame.capturing) return;
    if (key === 'message' && !isNumber) frame.message = value;
    else if ((key === 'logStreamName' || key === 'logStream') && !isNumber) frame.stream = value || undefined;
    else if (key === 'timestamp' && (isNumber || /^\d+$/.test(value))) frame.timestamp = Number(value);
  }

  /** `{"awslogs":{"data":"<base64 of gzip>"}}`: the Lambda event of a CloudWatch Logs subscription. */
  private nested(base64: string): void {
    const inner = new JsonEventExtractor(this.onEvent);
    // node:zlib is fetched when first needed: it is not in Node's start-up snapshot, and compiling it at every
    // start cost ~1-2 ms of a ~55 ms start-up.
    inner.push(process.getBuiltinModule('node:zlib').gunzipSync(Buffer.from(base64, 'base64')));
    inner.end();
  }
}
