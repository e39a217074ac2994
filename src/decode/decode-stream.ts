import { Transform, type TransformCallback } from 'node:stream';
import type { Enricher } from '../enrich/enricher.js';
import { FlowDecoder, type DecoderOptions } from './flow-decoder.js';
import type { DecodedRecord, FlowRecord, RecordOptions } from './record.js';
import type { Reject } from './rejects.js';
import { SourceDecoder, type SourceDecoderOptions } from './source-decoder.js';

export interface DecodeStreamOptions extends SourceDecoderOptions, RecordOptions {
  /** Name of the input, used in rejects. Default `-`. */
  source?: string;
  /** Adds src/dst (pkt_src/pkt_dst) ownership objects and direction to every record. */
  enricher?: Enricher;
}

/**
 * A Transform from the bytes of one flow log source to record objects. Rejected lines are emitted as `reject`
 * events (with source, line number, reason and the line itself) and never stop the stream.
 */
export function createDecodeStream(options: DecodeStreamOptions = {}): Transform {
  const { source = '-', isoTimes, enricher, ...decoderOptions } = options;
  const recordOptions: RecordOptions = { isoTimes };
  let stream: Transform;
  const decoder = new SourceDecoder(
    {
      record: (rec: DecodedRecord) => {
        enricher?.enrich(rec);
        stream.push(rec.toObject(recordOptions));
      },
      reject: (reject: Reject) => stream.emit('reject', reject),
    },
    decoderOptions,
  );
  decoder.begin(source);
  stream = new Transform({
    readableObjectMode: true,
    transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback) {
      decoder.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
      callback();
    },
    flush(callback: TransformCallback) {
      decoder.end();
      callback();
    },
  });
  return stream;
}

/** A line that did not decode. */
export class RejectError extends Error {
  override name = 'RejectError';
  constructor(readonly reject: Reject) {
    super(`${reject.reason}: ${reject.message}`);
  }
}

/**
 * Decodes one line: a record, null for a header or blank line, or a thrown RejectError.
 * The line may be a bare record, an `aws logs tail` line or a JSON object with a `message`.
 */
export function decodeLine(line: string, options: DecoderOptions & RecordOptions = {}): FlowRecord | null {
  let result: FlowRecord | null = null;
  let rejected: Reject | null = null;
  const decoder = new FlowDecoder(
    {
      record: (rec) => (result = rec.toObject(options)),
      reject: (r) => (rejected = r),
    },
    options,
  );
  decoder.beginSource('line');
  const bytes = Buffer.from(line);
  const nl = bytes.indexOf(0x0a);
  decoder.line(bytes, 0, nl < 0 ? bytes.length : nl, 1);
  if (rejected) throw new RejectError(rejected);
  return result;
}
