/**
 * vpcflow as a library: the same pieces the command line wires together.
 *
 *   import { createDecodeStream, decodeLine, parseFormat, FIELD_CATALOG } from 'vpcflow';
 */
export { FIELD_CATALOG, DEFAULT_FIELD_NAMES, fieldInfo, knownField, fieldKey } from './decode/field-catalog.js';
export type { FieldInfo, FieldType } from './decode/field-catalog.js';
export { parseFormat, formatFromHeader, DEFAULT_FORMAT, FormatSet, FormatError } from './decode/format.js';
export type { Format } from './decode/format.js';
export { createDecodeStream, decodeLine, RejectError } from './decode/decode-stream.js';
export type { DecodeStreamOptions } from './decode/decode-stream.js';
export { FlowDecoder, emptyCounts } from './decode/flow-decoder.js';
export type { DecoderOptions, DecodeTarget, DecodeCounts } from './decode/flow-decoder.js';
export { SourceDecoder } from './decode/source-decoder.js';
export type { SourceDecoderOptions } from './decode/source-decoder.js';
export { LineFramer, DEFAULT_MAX_LINE_BYTES } from './decode/line-framer.js';
export { DecodedRecord, columnsFor, columnValue, recordColumns, selectColumns, isoSeconds } from './decode/record.js';
export type { FlowRecord, FlowValue, RecordOptions, Column } from './decode/record.js';
export { REJECT_REASONS } from './decode/rejects.js';
export type { Reject, RejectReason, RejectCounts } from './decode/rejects.js';
export type { InputShape } from './decode/envelope.js';
export { protocolName } from './decode/protocols.js';
export { tcpFlagNames } from './decode/tcp-flags.js';
export { parseIPv4, formatIPv4, isIPv6 } from './decode/bytes.js';
