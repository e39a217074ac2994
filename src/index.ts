/**
 * vpcflow as a library: the same pieces the command line wires together.
 *
 *   import { createDecodeStream, decodeLine, parseFormat, FIELD_CATALOG, loadEnrichment } from 'vpcflow';
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

// Enrichment: who owns each address.
export { Enricher } from './enrich/enricher.js';
export type { EnricherOptions } from './enrich/enricher.js';
export { loadEnrichment } from './enrich/load.js';
export type { EnrichmentSources, LoadedEnrichment } from './enrich/load.js';
export { AwsRanges, IpRangesError, compareServiceSpecificity, validateIpRanges } from './enrich/ip-ranges.js';
export type { AwsRange, IpRangesInfo } from './enrich/ip-ranges.js';
export { updateRanges, locateRanges, cacheDir, cachedRangesPath, IP_RANGES_URL } from './enrich/ranges-store.js';
export { parseInventoryDocument, readInventoryFile, parseVpcOption, mergeInventories, InventoryError } from './enrich/inventory.js';
export type { Inventory, KnownVpc, KnownSubnet, KnownInterface } from './enrich/inventory.js';
export { PrefixTrie, PrefixTrieBuilder } from './enrich/prefix-trie.js';
export { parseCidr, parseIPv6Words, parseIPv6String, formatIPv6Words } from './enrich/ip-words.js';
export type { EndpointInfo, Scope, VpcOwner } from './enrich/endpoint.js';
export { NdjsonWriter } from './sinks/ndjson.js';
export { CsvWriter } from './sinks/csv.js';
export { TableWriter } from './sinks/table.js';
export type { RecordWriter, OutputFormat } from './sinks/record-writer.js';
