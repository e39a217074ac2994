import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { parquetMetadata, parquetReadObjects, parquetSchema, type FileMetaData, type SchemaElement } from 'hyparquet';
import { compressors as decompressors } from 'hyparquet-compressors';
import { ByteWriter, ParquetWriter } from 'hyparquet-writer';
import { describe, expect, it } from 'vitest';
import type { DecodedRecord, FlowRecord } from '../src/decode/record.js';
import { SourceDecoder } from '../src/decode/source-decoder.js';
import { Enricher } from '../src/enrich/enricher.js';
import { mergeInventories, readInventoryFile } from '../src/enrich/inventory.js';
import { AwsRanges } from '../src/enrich/ip-ranges.js';
import { FooterLimit, HeldRows, hivePartition, ParquetFileWriter, ParquetLayoutError, parquetColumnsFor } from '../src/sinks/parquet.js';
import { fileByteSource, isParquetMagic, parquetToText, type AsyncByteSource } from '../src/sources/parquet.js';
import { decodeBytes, duckdb, fixture } from './helpers.js';

// ---------------------------------------------------------------------------------------------------------------
// Flow-log Parquet in AWS's shape, written by the test itself (no binary fixture to keep in sync): one column per
// field of the format, underscore names, INT32 version/ports/protocol/tcp_flags/traffic_path, INT64
// packets/bytes/start/end, STRING the rest, every column OPTIONAL with null where text has `-`, GZIP pages
// ("Parquet with Gzip compression"). The types are written out here from aws-formats.md §1.2/§2, not taken from
// vpcflow's field catalog, so the reader is checked against AWS's layout rather than against itself.
// ---------------------------------------------------------------------------------------------------------------

const AWS_INT32 = new Set(['version', 'srcport', 'dstport', 'protocol', 'tcp_flags', 'traffic_path']);
const AWS_INT64 = new Set(['packets', 'bytes', 'start', 'end']);

interface AwsParquetOptions {
  /** Rows per row group. */
  rowGroupSize?: number;
  /** Athena's DDL types protocol as bigint: write it INT64. */
  protocolInt64?: boolean;
  codec?: 'GZIP' | 'SNAPPY';
}

/** Flow-log text (header line first) as the Parquet object AWS would deliver for it. */
function awsParquet(text: string, options: AwsParquetOptions = {}): Uint8Array {
  const [header, ...lines] = text.split('\n').filter((l) => l.length > 0);
  const names = header.split(' ').map((n) => n.replaceAll('-', '_'));
  const typeOf = (name: string) => (name === 'protocol' && options.protocolInt64 ? 'INT64' : AWS_INT32.has(name) ? 'INT32' : AWS_INT64.has(name) ? 'INT64' : 'STRING');
  const schema: SchemaElement[] = [
    { name: 'schema', num_children: names.length },
    ...names.map((name): SchemaElement => {
      const type = typeOf(name);
      return type === 'STRING' ? { name, type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'OPTIONAL' } : { name, type, repetition_type: 'OPTIONAL' };
    }),
  ];
  const rows = lines.map((l) => l.split(' '));
  const columnData = names.map((name, c) => ({
    name,
    data: rows.map((r) => {
      const v = r[c];
      if (v === '-') return null;
      const type = typeOf(name);
      return type === 'INT32' ? Number(v) : type === 'INT64' ? BigInt(v) : v;
    }),
  }));
  const writer = new ByteWriter();
  const pq = new ParquetWriter({ writer, schema, codec: options.codec ?? 'GZIP', compressors: { GZIP: (b: Uint8Array) => gzipSync(b) }, createdBy: 'test' });
  pq.write({ columnData, rowGroupSize: options.rowGroupSize ?? 100_000 });
  pq.finish();
  return writer.getBytes().slice();
}

function memorySource(bytes: Uint8Array, log?: [number, number][]): AsyncByteSource {
  return {
    byteLength: bytes.length,
    async slice(start, end = bytes.length) {
      log?.push([start, end]);
      return bytes.slice(start, end).buffer;
    },
  };
}

async function collect(gen: AsyncIterable<Buffer>): Promise<Buffer[]> {
  const out: Buffer[] = [];
  for await (const chunk of gen) out.push(chunk);
  return out;
}

async function parquetRecords(bytes: Uint8Array, name = 'test.parquet') {
  const chunks = await collect(parquetToText(memorySource(bytes), name));
  return { chunks, ...decodeBytes(Buffer.concat(chunks)) };
}

function metadataOf(bytes: Uint8Array): FileMetaData {
  return parquetMetadata(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer);
}

const DEFAULT_TEXT = [
  'version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status',
  '2 123456789012 eni-0a1b2c3d4e5f60718 10.0.1.25 3.208.215.234 54097 53 17 13 2444 1731000002 1731000039 ACCEPT OK',
  // bytes beyond 2^32 (and packets beyond 2^31): INT64 values, BigInt in hyparquet
  '2 123456789012 eni-0a1b2c3d4e5f60718 10.0.1.25 52.94.213.165 443 36824 6 3000000000 8589934597 1731000005 1731000041 ACCEPT OK',
  // IPv6
  '2 123456789012 eni-0f9e8d7c6b5a40312 2600:1f18:4a3:6c00::10 2001:db8::1 40000 443 6 5 1500 1731000102 1731000150 ACCEPT OK',
  '2 123456789012 eni-0f9e8d7c6b5a40312 fe80::1:2ff:fe03:405 2600:1f18:4a3:6c00::10 0 0 58 2 128 1731000103 1731000103 REJECT OK',
  // NODATA / SKIPDATA: every address, port, protocol, count and action null
  '2 123456789012 eni-0f9e8d7c6b5a40312 - - - - - - - 1731000020 1731000078 - NODATA',
  '2 unknown eni-11111111aaaaaaaaa - - - - - - - 1731000069 1731000127 - SKIPDATA',
  '2 123456789012 eni-0a1b2c3d4e5f60718 10.0.1.25 8.8.8.8 0 0 1 4 336 1731000200 1731000230 ACCEPT OK',
].join('\n') + '\n';

/** A custom v5 format as AWS writes it: fields in the user's order, v5 fields null on NODATA rows. */
const V5_TEXT = readFileSync(fixture('custom-v5.log'), 'utf8');

describe('reading AWS flow-log Parquet', () => {
  it('yields the default (v2) format as text that decodes to exactly the records of the equivalent text', async () => {
    const bytes = awsParquet(DEFAULT_TEXT);
    expect(isParquetMagic(bytes)).toBe(true);
    const fromParquet = await parquetRecords(bytes);
    const fromText = decodeBytes(DEFAULT_TEXT);
    expect(fromText.records).toHaveLength(7);
    expect(fromParquet.rejects).toEqual([]);
    expect(fromParquet.records).toEqual(fromText.records);
    expect(fromParquet.decoder.counts).toMatchObject({ headers: 1, records: 7, rejected: 0 });

    const text = Buffer.concat(fromParquet.chunks).toString();
    expect(text.split('\n')[0]).toBe(DEFAULT_TEXT.split('\n')[0]);
    expect(text).toBe(DEFAULT_TEXT);
    expect(fromParquet.records[1]).toMatchObject({ packets: 3000000000, bytes: 8589934597 });
    expect(fromParquet.records[2]).toMatchObject({ srcaddr: '2600:1f18:4a3:6c00::10', dstaddr: '2001:db8::1' });
    expect(fromParquet.records[4]).toMatchObject({ srcaddr: null, srcport: null, protocol: null, bytes: null, action: null, log_status: 'NODATA', start: 1731000020 });
  });

  it('reads a custom v5 format, with protocol as INT32 (AWS table) or INT64 (Athena DDL), GZIP or SNAPPY', async () => {
    const fromText = decodeBytes(V5_TEXT);
    expect(fromText.records.length).toBeGreaterThanOrEqual(6);
    expect(fromText.rejects).toEqual([]);
    for (const options of [{}, { protocolInt64: true }, { codec: 'SNAPPY' as const }]) {
      const bytes = awsParquet(V5_TEXT, options);
      const { records, rejects, chunks } = await parquetRecords(bytes);
      expect(rejects).toEqual([]);
      expect(records).toEqual(fromText.records);
      expect(Buffer.concat(chunks).toString()).toBe(V5_TEXT);
    }
    const nodata = fromText.records.find((r) => r.log_status === 'NODATA')!;
    expect(nodata).toMatchObject({ pkt_src_aws_service: null, flow_direction: null, traffic_path: null, region: 'us-east-1' });
  });

  it('checks the Parquet types it was written with (the test file really is in AWS shape)', () => {
    const schema = parquetSchema(metadataOf(awsParquet(V5_TEXT, { protocolInt64: true }))).children.map((c) => [c.element.name, c.element.type]);
    expect(schema).toContainEqual(['account_id', 'BYTE_ARRAY']);
    expect(schema).toContainEqual(['pkt_srcaddr', 'BYTE_ARRAY']);
    expect(schema).toContainEqual(['traffic_path', 'INT32']);
    expect(schema).toContainEqual(['protocol', 'INT64']);
    expect(schema).toContainEqual(['bytes', 'INT64']);
    expect(metadataOf(awsParquet(V5_TEXT)).row_groups[0].columns[0].meta_data?.codec).toBe('GZIP');
  });

  it('reads one row group at a time, in many chunks of whole lines', async () => {
    // 30,000 rows in row groups of 7,000: five groups, about 3 MB of text.
    const [header, ...rows] = DEFAULT_TEXT.trim().split('\n');
    const lines = Array.from({ length: 30_000 }, (_, i) => {
      const parts = rows[i % rows.length].split(' ');
      if (parts[10] !== '-') parts[10] = String(1731000000 + i);
      return parts.join(' ');
    });
    const text = [header, ...lines].join('\n') + '\n';
    const bytes = awsParquet(text, { rowGroupSize: 7_000 });
    const meta = metadataOf(bytes);
    expect(meta.row_groups.map((g) => Number(g.num_rows))).toEqual([7000, 7000, 7000, 7000, 2000]);

    // Byte range of each row group's column chunks.
    const groupRanges = meta.row_groups.map((g) => {
      const starts = g.columns.map((c) => Number(c.meta_data!.dictionary_page_offset ?? c.meta_data!.data_page_offset));
      const ends = g.columns.map((c) => Number(c.meta_data!.data_page_offset) + Number(c.meta_data!.total_compressed_size));
      return [Math.min(...starts), Math.max(...ends)];
    });
    const log: [number, number][] = [];
    const gen = parquetToText(memorySource(bytes, log), 'big.parquet');
    const chunks: Buffer[] = [];
    let groupsReadAfterFirst: number[] = [];
    for await (const chunk of gen) {
      chunks.push(chunk);
      if (chunks.length === 2) {
        // The header and the first group's first lines are out: which groups' bytes have been read so far (the
        // footer read, the file's last bytes, set aside)?
        const reads = log.filter(([, end]) => end < bytes.length);
        groupsReadAfterFirst = groupRanges.flatMap(([s, e], g) => (reads.some(([rs, re]) => rs < e && re > s) ? [g] : []));
      }
    }
    expect(groupsReadAfterFirst).toEqual([0]);
    // Every group was read, each by its own reads.
    const reads = log.filter(([, end]) => end < bytes.length);
    expect(groupRanges.map(([s, e]) => reads.some(([rs, re]) => rs < e && re > s))).toEqual([true, true, true, true, true]);
    expect(chunks.length).toBeGreaterThan(6);
    for (const c of chunks) expect(c[c.length - 1]).toBe(0x0a);
    expect(Buffer.concat(chunks).toString()).toBe(text);
    const decoded = decodeBytes(Buffer.concat(chunks));
    expect(decoded.records).toHaveLength(30_000);
    expect(decoded.records).toEqual(decodeBytes(text).records);
  });

  it('writes strings that text cannot hold so they stay one field: empty as -, whitespace percent-encoded', async () => {
    const writer = new ByteWriter();
    const pq = new ParquetWriter({
      writer,
      schema: [
        { name: 'schema', num_children: 3 },
        { name: 'version', type: 'INT32', repetition_type: 'OPTIONAL' },
        { name: 'instance_tag', type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'OPTIONAL' },
        { name: 'interface_type', type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'OPTIONAL' },
      ],
    });
    pq.write({ columnData: [{ name: 'version', data: [11, 11] }, { name: 'instance_tag', data: ['web server\tA\nB', ''] }, { name: 'interface_type', data: ['interface', null] }] });
    pq.finish();
    const { records, rejects, chunks } = await parquetRecords(writer.getBytes().slice());
    expect(rejects).toEqual([]);
    expect(Buffer.concat(chunks).toString()).toBe('version instance-tag interface-type\n11 web%20server%09A%0AB interface\n11 - -\n');
    expect(records).toEqual([
      { version: 11, instance_tag: 'web%20server%09A%0AB', interface_type: 'interface' },
      { version: 11, instance_tag: null, interface_type: null },
    ]);
  });

  it('keeps columns it does not know as string fields, after a known one', async () => {
    const writer = new ByteWriter();
    const pq = new ParquetWriter({
      writer,
      schema: [
        { name: 'schema', num_children: 3 },
        { name: 'future_field', type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'OPTIONAL' },
        { name: 'version', type: 'INT32', repetition_type: 'OPTIONAL' },
        { name: 'srcaddr', type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'OPTIONAL' },
      ],
    });
    pq.write({ columnData: [{ name: 'future_field', data: ['x1', null] }, { name: 'version', data: [12, 12] }, { name: 'srcaddr', data: ['10.0.0.1', '::1'] }] });
    pq.finish();
    const { records, chunks } = await parquetRecords(writer.getBytes().slice());
    expect(Buffer.concat(chunks).toString().split('\n')[0]).toBe('version future-field srcaddr');
    expect(records).toEqual([
      { version: 12, future_field: 'x1', srcaddr: '10.0.0.1' },
      { version: 12, future_field: null, srcaddr: '::1' },
    ]);
  });

  it('refuses what is not a flow-log Parquet file with an error naming it', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'vpcflow-parquet-'));
    const textFile = path.join(dir, 'flows.log');
    writeFileSync(textFile, DEFAULT_TEXT);
    const source = await fileByteSource(textFile);
    await expect(collect(parquetToText(source, textFile))).rejects.toThrow(`${textFile}: not a Parquet file`);
    await source.close();
    await source.close(); // idempotent

    await expect(collect(parquetToText(memorySource(new Uint8Array(0)), 'empty.parquet'))).rejects.toThrow(/^empty\.parquet: not a Parquet file/);

    const good = awsParquet(DEFAULT_TEXT);
    const truncated = good.slice(0, good.length - 100);
    await expect(collect(parquetToText(memorySource(truncated), 'cut.parquet'))).rejects.toThrow(/^cut\.parquet: not a readable Parquet file/);

    const writer = new ByteWriter();
    const pq = new ParquetWriter({ writer, schema: [{ name: 'schema', num_children: 1 }, { name: 'Price', type: 'DOUBLE', repetition_type: 'OPTIONAL' }] });
    pq.write({ columnData: [{ name: 'Price', data: [1.5] }] });
    pq.finish();
    await expect(collect(parquetToText(memorySource(writer.getBytes().slice()), 'prices.parquet'))).rejects.toThrow(/^prices\.parquet: a Parquet file without flow-log columns \(columns: Price\)/);

    expect(isParquetMagic(Buffer.from('PAR'))).toBe(false);
    expect(isParquetMagic(Buffer.from('2 12'))).toBe(false);
  });

  it('reads a local file by ranges through fileByteSource', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'vpcflow-parquet-'));
    const file = path.join(dir, 'x_vpcflowlogs_us-east-1_fl-1_20241107T1620Z_abcd.log.parquet');
    const bytes = awsParquet(V5_TEXT);
    writeFileSync(file, bytes);
    const source = await fileByteSource(file);
    expect(source.byteLength).toBe(bytes.length);
    expect(new Uint8Array(await source.slice(10, 20))).toEqual(bytes.slice(10, 20));
    expect(Buffer.from(await source.slice(bytes.length - 4)).toString()).toBe('PAR1');
    expect((await source.slice(5, 5)).byteLength).toBe(0);
    const text = Buffer.concat(await collect(parquetToText(source, file))).toString();
    await source.close();
    expect(text).toBe(V5_TEXT);
  });
});

// ---------------------------------------------------------------------------------------------------------------
// Writing
// ---------------------------------------------------------------------------------------------------------------

const inventory = mergeInventories(
  ['describe-vpcs.json', 'describe-subnets.json', 'describe-network-interfaces.json', 'describe-addresses.json'].map((f) => readInventoryFile(fixture(`inventory/${f}`))),
);
const enricher = new Enricher({ awsRanges: AwsRanges.fromFile(fixture('ip-ranges-small.json')), inventory });

/** Decodes (and enriches) a fixture, handing each reused record view to `each`, and returns the plain records. */
function decodeFixture(name: string, each: (rec: DecodedRecord) => void, enrich = true): FlowRecord[] {
  const out: FlowRecord[] = [];
  const decoder = new SourceDecoder({
    record(rec) {
      if (enrich) enricher.enrich(rec);
      each(rec);
      out.push(rec.toObject());
    },
    reject(r) {
      throw new Error(r.message);
    },
  });
  decoder.begin(name);
  decoder.push(readFileSync(fixture(name)));
  decoder.end();
  return out;
}

const ENDPOINT_VALUES = ['scope', 'aws_service', 'aws_services', 'aws_region', 'aws_border_group', 'aws_prefix', 'vpc_vpc_id', 'vpc_subnet_id', 'vpc_eni', 'vpc_instance_id', 'vpc_resource_type', 'vpc_resource_description'];
const endpointColumns = (key: string) => ENDPOINT_VALUES.map((v) => `${key}_${v}`);

/** AWS's own `pkt_src_aws_service` field keeps its name; vpcflow's value for that address gets `_enriched`. */
function endpointColumn(rec: FlowRecord, key: string, name: string): string {
  const column = `${key}_${name}`;
  return column in rec ? `${column}_enriched` : column;
}

/** The row a record should become, computed from its plain object (independently of the writer's getters). */
function expectedRow(rec: FlowRecord, int64: ReadonlySet<string>): Record<string, unknown> {
  const row: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(rec)) {
    if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
      const e = value as { scope: string; aws: any; vpc: any };
      const v = [
        e.scope,
        e.aws?.service,
        e.aws?.services?.join(','),
        e.aws?.region,
        e.aws?.border_group,
        e.aws?.prefix,
        e.vpc?.vpc_id,
        e.vpc?.subnet_id,
        e.vpc?.eni,
        e.vpc?.instance_id,
        e.vpc?.resource?.type,
        e.vpc?.resource?.description,
      ];
      ENDPOINT_VALUES.forEach((name, i) => (row[endpointColumn(rec, key, name)] = v[i] ?? null));
    } else if (value === null && ['src', 'dst', 'pkt_src', 'pkt_dst'].includes(key)) {
      for (const name of ENDPOINT_VALUES) row[endpointColumn(rec, key, name)] = null;
    } else if (Array.isArray(value)) {
      row[key] = value.join(',');
    } else if (typeof value === 'number' && int64.has(key)) {
      row[key] = BigInt(value);
    } else {
      row[key] = value;
    }
  }
  return row;
}

async function readBack(file: string) {
  const bytes = new Uint8Array(readFileSync(file)); // a copy with its own ArrayBuffer (Buffers share a pool)
  const meta = metadataOf(bytes);
  const rows = await parquetReadObjects({ file: memorySource(bytes), compressors: decompressors });
  const schema = parquetSchema(meta).children.map((c) => c.element);
  return { meta, rows, schema };
}

const tmp = () => mkdtempSync(path.join(tmpdir(), 'vpcflow-parquet-out-'));

describe('writing Parquet', () => {
  it('writes the enriched default format: every record, typed columns, the records’ values', async () => {
    const file = path.join(tmp(), 'region=us-east-1/date=2024-11-07/out.parquet');
    const writer = new ParquetFileWriter(file, { rowGroupRows: 7 });
    let columns: string[] = [];
    const records = decodeFixture('sample-default.log', (rec) => {
      if (columns.length === 0) columns = parquetColumnsFor(rec).map((c) => `${c.name}:${c.type}`);
      writer.write(rec);
    });
    expect(writer.rows).toBe(records.length);
    await writer.close();

    expect(columns).toEqual([
      'version:INT32', 'account_id:STRING', 'interface_id:STRING', 'srcaddr:STRING', 'dstaddr:STRING', 'srcport:INT32', 'dstport:INT32',
      'protocol:INT32', 'packets:INT64', 'bytes:INT64', 'start:INT64', 'end:INT64', 'action:STRING', 'log_status:STRING', 'protocol_name:STRING',
      ...endpointColumns('src').map((c) => `${c}:STRING`), ...endpointColumns('dst').map((c) => `${c}:STRING`), 'direction:STRING',
    ]);

    const { meta, rows, schema } = await readBack(file);
    expect(Number(meta.num_rows)).toBe(records.length);
    expect(meta.row_groups.length).toBe(Math.ceil(records.length / 7));
    expect(meta.row_groups[0].columns[0].meta_data?.codec).toBe('GZIP');
    expect(schema.map((e) => `${e.name}:${e.type}${e.converted_type ? ':' + e.converted_type : ''}:${e.repetition_type}`)).toEqual(
      columns.map((c) => {
        const [name, type] = c.split(':');
        return type === 'STRING' ? `${name}:BYTE_ARRAY:UTF8:OPTIONAL` : `${name}:${type}:OPTIONAL`;
      }),
    );
    const int64 = new Set(['packets', 'bytes', 'start', 'end']);
    expect(rows).toEqual(records.map((r) => expectedRow(r, int64)));

    // The values the enrichment added really are there (not all null).
    expect(rows.some((r) => r.dst_aws_service === 'DYNAMODB' || r.src_aws_service === 'DYNAMODB')).toBe(true);
    expect(rows.some((r) => typeof r.src_aws_services === 'string' && r.src_aws_services.includes(','))).toBe(true);
    expect(rows.some((r) => r.src_vpc_vpc_id !== null)).toBe(true);
    expect(rows.some((r) => r.direction === 'egress')).toBe(true);
    const nodata = rows.find((r) => r.log_status === 'NODATA')!;
    expect(nodata).toMatchObject({ srcaddr: null, bytes: null, protocol: null, src_scope: null, start: 1731000020n });
  });

  it('writes a custom v5 format: tcp_flags_names comma-joined, packet-level endpoints, INT32 traffic_path', async () => {
    const file = path.join(tmp(), 'v5.parquet');
    const writer = new ParquetFileWriter(file);
    const records = decodeFixture('custom-v5.log', (rec) => writer.write(rec));
    await writer.close();
    const { rows, schema } = await readBack(file);
    const types = Object.fromEntries(schema.map((e) => [e.name, e.type]));
    expect(types).toMatchObject({ version: 'INT32', tcp_flags: 'INT32', traffic_path: 'INT32', protocol: 'INT32', bytes: 'INT64', start: 'INT64', pkt_srcaddr: 'BYTE_ARRAY', tcp_flags_names: 'BYTE_ARRAY', pkt_dst_aws_service: 'BYTE_ARRAY' });
    expect(Object.keys(types)).toEqual(expect.arrayContaining([...endpointColumns('pkt_src'), ...endpointColumns('pkt_dst')]));
    expect(Object.keys(types)).not.toContain('direction'); // the format has flow-direction
    for (const name of Object.keys(types)) expect(name).toMatch(/^[a-z0-9_]+$/);
    expect(rows).toEqual(records.map((r) => expectedRow(r, new Set(['packets', 'bytes', 'start', 'end']))));
    expect(rows[0]).toMatchObject({ tcp_flags: 19, tcp_flags_names: 'SYN-ACK,FIN', traffic_path: 2, pkt_dst_aws_service: 'DYNAMODB', pkt_dst_aws_service_enriched: 'DYNAMODB' });
    expect(types).toMatchObject({ pkt_src_aws_service_enriched: 'BYTE_ARRAY', pkt_dst_aws_service_enriched: 'BYTE_ARRAY' });
    expect(Object.keys(types).filter((k) => k.includes('aws_service'))).toEqual([
      'pkt_src_aws_service', 'pkt_dst_aws_service',
      'src_aws_service', 'src_aws_services', 'dst_aws_service', 'dst_aws_services',
      'pkt_src_aws_service_enriched', 'pkt_src_aws_services', 'pkt_dst_aws_service_enriched', 'pkt_dst_aws_services',
    ]);
  });

  it('writes SNAPPY on request, and CloudWatch Logs stream and time as log_stream STRING / log_timestamp INT64', async () => {
    const file = path.join(tmp(), 'tail.parquet');
    const writer = new ParquetFileWriter(file, { compression: 'SNAPPY' });
    const records = decodeFixture('tail-detailed.txt', (rec) => writer.write(rec), false);
    await writer.close();
    const { meta, rows, schema } = await readBack(file);
    expect(meta.row_groups[0].columns[0].meta_data?.codec).toBe('SNAPPY');
    expect(schema.find((e) => e.name === 'log_timestamp')?.type).toBe('INT64');
    expect(schema.find((e) => e.name === 'log_stream')?.type).toBe('BYTE_ARRAY');
    expect(records.length).toBeGreaterThan(0);
    expect(rows.map((r) => [r.log_stream, r.log_timestamp])).toEqual(records.map((r) => [r.log_stream, BigInt(r.log_timestamp as number)]));
    expect(rows[0].log_stream).toMatch(/^eni-/);
  });

  it('writes to <path>.tmp and renames on close; abort removes it; no records, no file', async () => {
    const dir = tmp();
    const file = path.join(dir, 'a/b/out.parquet');
    const writer = new ParquetFileWriter(file, { rowGroupRows: 5 });
    let n = 0;
    decodeFixture('sample-default.log', (rec) => {
      if (n++ < 12) writer.write(rec);
    });
    // Two row groups are on disk already, under the temporary name only.
    expect(existsSync(`${file}.tmp`)).toBe(true);
    expect(existsSync(file)).toBe(false);
    await writer.close();
    expect(existsSync(file)).toBe(true);
    expect(existsSync(`${file}.tmp`)).toBe(false);
    expect(readdirSync(path.dirname(file))).toEqual(['out.parquet']);
    expect(Number((await readBack(file)).meta.num_rows)).toBe(12);
    await writer.close(); // idempotent
    expect(() => decodeFixture('sample-default.log', (rec) => writer.write(rec))).toThrow(/write after close/);

    const aborted = new ParquetFileWriter(path.join(dir, 'aborted.parquet'), { rowGroupRows: 5 });
    decodeFixture('sample-default.log', (rec) => aborted.write(rec));
    expect(existsSync(path.join(dir, 'aborted.parquet.tmp'))).toBe(true);
    await aborted.abort();
    expect(existsSync(path.join(dir, 'aborted.parquet.tmp'))).toBe(false);
    expect(existsSync(path.join(dir, 'aborted.parquet'))).toBe(false);

    const empty = new ParquetFileWriter(path.join(dir, 'empty.parquet'));
    await empty.close();
    expect(empty.rows).toBe(0);
    expect(existsSync(path.join(dir, 'empty.parquet'))).toBe(false);
    expect(existsSync(path.join(dir, 'empty.parquet.tmp'))).toBe(false);
  });

  it('keeps the rows its files hold together under a limit: past it, the file holding most writes a shorter row group', async () => {
    const dir = tmp();
    const holding = new HeldRows(12);
    const [a, b, c] = ['a', 'b', 'c'].map((name) => new ParquetFileWriter(path.join(dir, `${name}.parquet`), { rowGroupRows: 10, holding }));
    // Two partitions interleaved (a, b, a, b, ...), then three (a, b, c, a, b, c, ...).
    const order = [...Array.from({ length: 12 }, (_, i) => [a, b][i % 2]), ...Array.from({ length: 28 }, (_, i) => [a, b, c][i % 3])];
    let n = 0;
    let most = 0;
    const records = decodeFixture('sample-default.log', (rec) => {
      order[n++].write(rec);
      most = Math.max(most, a.heldRows + b.heldRows + c.heldRows);
      // Within the limit, nothing is written before a group is full.
      if (n === 12) expect(readdirSync(dir)).toEqual([]);
    });
    expect(records).toHaveLength(40);
    expect(most).toBe(12);
    for (const w of [a, b, c]) await w.close();
    const groups = async (name: string) => (await readBack(path.join(dir, `${name}.parquet`))).meta.row_groups.map((g) => Number(g.num_rows));
    expect({ a: await groups('a'), b: await groups('b'), c: await groups('c') }).toEqual({ a: [7, 7, 2], b: [9, 6], c: [5, 4] });
    const back = await Promise.all(['a', 'b', 'c'].map(async (name) => (await readBack(path.join(dir, `${name}.parquet`))).rows));
    expect(back.flat().map((r) => r.start).sort()).toEqual(records.map((r) => BigInt(r.start as number)).sort());
  });

  it('ends a part when the files hold more row groups than the footer limit, and goes on in name.2.parquet, …', async () => {
    const dir = tmp();
    const footers = new FooterLimit(3);
    const [a, b] = ['a', 'b'].map((name) => new ParquetFileWriter(path.join(dir, `${name}.parquet`), { rowGroupRows: 2, footers }));
    // a alone for 4 groups (past the limit of 3: a.parquet is finished), then b 2 groups, then a 3 more.
    const order = [...Array(8).fill(a), ...Array(4).fill(b), ...Array(6).fill(a)];
    let n = 0;
    const records = decodeFixture('sample-default.log', (rec) => {
      if (n < order.length) order[n++].write(rec);
    }).slice(0, order.length);
    expect(a.paths.map((p) => path.basename(p))).toEqual(['a.parquet', 'a.2.parquet', 'a.3.parquet']);
    // Finished parts wait under their temporary names until close.
    expect(readdirSync(dir).sort()).toEqual(['a.2.parquet.tmp', 'a.3.parquet.tmp', 'a.parquet.tmp', 'b.parquet.tmp']);
    await a.close();
    await b.close();
    expect(readdirSync(dir).sort()).toEqual(['a.2.parquet', 'a.3.parquet', 'a.parquet', 'b.parquet']);
    const rows = async (name: string) => (await readBack(path.join(dir, name))).rows;
    const parts = await Promise.all(['a.parquet', 'a.2.parquet', 'a.3.parquet', 'b.parquet'].map(rows));
    expect(parts.map((p) => p.length)).toEqual([8, 4, 2, 4]);
    const starts = (recs: { start: unknown }[]) => recs.map((r) => BigInt(r.start as number));
    expect(parts[0].concat(parts[1], parts[2]).map((r) => r.start)).toEqual(starts(order.map((w, i) => [w, records[i]] as const).filter(([w]) => w === a).map(([, r]) => r)));
    expect(parts[3].map((r) => r.start)).toEqual(starts(records.slice(8, 12)));
  });

  it('removes every part on abort', async () => {
    const dir = tmp();
    const footers = new FooterLimit(1);
    const writer = new ParquetFileWriter(path.join(dir, 'a.parquet'), { rowGroupRows: 2, footers });
    decodeFixture('sample-default.log', (rec) => writer.write(rec));
    expect(writer.paths.length).toBeGreaterThan(2);
    await writer.abort();
    expect(readdirSync(dir)).toEqual([]);
  });

  it('refuses a record with another layout, and goes on with the file it has', async () => {
    const file = path.join(tmp(), 'one-layout.parquet');
    const writer = new ParquetFileWriter(file);
    const v2 = decodeFixture('sample-default.log', (rec) => writer.write(rec));
    let refused = 0;
    decodeFixture('custom-v5.log', (rec) => {
      try {
        writer.write(rec);
      } catch (err) {
        expect(err).toBeInstanceOf(ParquetLayoutError);
        refused++;
      }
    });
    // The same layout from another decoder (another format object) is accepted.
    const again = decodeFixture('sample-default.log', (rec) => writer.write(rec));
    await writer.close();
    expect(refused).toBeGreaterThan(0);
    expect(writer.rows).toBe(v2.length + again.length);
    expect((await readBack(file)).rows).toHaveLength(v2.length * 2);
  });

  it('names hive partitions by region and UTC day of start', () => {
    const parts: string[] = [];
    decodeFixture('custom-v5.log', (rec) => parts.push(hivePartition(rec, 'eu-west-1')));
    expect(parts[0]).toBe('region=us-east-1/date=2024-11-07');
    expect(parts.at(-1)).toBe('region=us-west-2/date=2024-11-07');

    const v2: string[] = [];
    decodeFixture('sample-default.log', (rec) => {
      v2.push(hivePartition(rec, 'eu-west-1'));
      v2.push(hivePartition(rec, null));
    });
    expect(v2.slice(0, 2)).toEqual(['region=eu-west-1/date=2024-11-07', 'region=unknown/date=2024-11-07']);

    const odd = (line: string, fallback: string | null) => {
      const out: string[] = [];
      const decoder = new SourceDecoder({ record: (rec) => out.push(hivePartition(rec, fallback)), reject: (r) => out.push(`reject ${r.reason}`) });
      decoder.begin('t');
      decoder.push(Buffer.from(line + '\n'));
      decoder.end();
      return out;
    };
    // A region from the data that is not region-shaped never becomes a path; a start of 0 is 1970, a missing one unknown.
    expect(odd('version region start\n4 ../../etc 1730937600', 'eu-west-1')).toEqual(['region=eu-west-1/date=2024-11-07']);
    expect(odd('version region start\n4 US-EAST-1 0', null)).toEqual(['region=us-east-1/date=1970-01-01']);
    expect(odd('version region start\n4 - -', '../x')).toEqual(['region=unknown/date=unknown']);
    expect(odd('version srcaddr\n2 10.0.0.1', 'ap-south-1')).toEqual(['region=ap-south-1/date=unknown']);
    // Without a start, the CloudWatch Logs event time names the day.
    const fromEvents: string[] = [];
    const events = new SourceDecoder({ record: (rec) => fromEvents.push(hivePartition(rec, null)), reject: (r) => fromEvents.push(`reject ${r.reason}`) }, { formats: ['version srcaddr'] });
    events.begin('events');
    events.push(Buffer.from(JSON.stringify({ message: '2 10.0.0.1', timestamp: 1731023999000, logStreamName: 's' }) + '\n'));
    events.end();
    expect(fromEvents).toEqual(['region=unknown/date=2024-11-07']);
    // Just before midnight UTC is still that day.
    expect(odd('version start\n2 1731023999', null)).toEqual(['region=unknown/date=2024-11-07']);
    expect(odd('version start\n2 1731024000', null)).toEqual(['region=unknown/date=2024-11-08']);
  });
});

// A real reader users query these files with: DuckDB (see `duckdb` in test/helpers.ts).
describe.skipIf(!duckdb)('DuckDB reads the written files', () => {
  it('has the same columns, types and values', async () => {
    const file = path.join(tmp(), 'duck.parquet');
    const writer = new ParquetFileWriter(file, { rowGroupRows: 7 });
    const records = decodeFixture('custom-v5.log', (rec) => writer.write(rec));
    await writer.close();
    const instance = await duckdb!.DuckDBInstance.create(':memory:');
    const conn = await instance.connect();
    const described = (await conn.runAndReadAll(`DESCRIBE SELECT * FROM read_parquet('${file}')`)).getRowObjects();
    const types = Object.fromEntries(described.map((r: any) => [String(r.column_name), String(r.column_type)]));
    expect(types).toMatchObject({ version: 'INTEGER', bytes: 'BIGINT', start: 'BIGINT', srcaddr: 'VARCHAR', tcp_flags_names: 'VARCHAR' });
    const [summary] = (
      await conn.runAndReadAll(`SELECT count(*)::INTEGER AS n, sum(bytes)::VARCHAR AS total, string_agg(coalesce(pkt_dst_aws_service, '-'), ' ' ORDER BY start) AS svc FROM read_parquet('${file}')`)
    ).getRowObjects();
    expect(Number(summary.n)).toBe(records.length);
    expect(String(summary.total)).toBe(String(records.reduce((s, r) => s + ((r.bytes as number) ?? 0), 0)));
  });
});
