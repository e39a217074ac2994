import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { createDecodeStream, decodeLine, RejectError } from '../src/decode/decode-stream.js';
import { FIELD_CATALOG, type FieldInfo } from '../src/decode/field-catalog.js';
import { parseFormat } from '../src/decode/format.js';
import type { FlowRecord } from '../src/decode/record.js';
import type { Reject } from '../src/decode/rejects.js';
import { decodeBytes, fixture } from './helpers.js';

const DEFAULT_LINE = '2 123456789010 eni-1235b8ca123456789 172.31.16.139 172.31.16.21 20641 22 6 20 4249 1418530010 1418530070 ACCEPT OK';

/** A plausible value for a field, by its type. */
function sample(f: FieldInfo, i: number): { text: string; value: unknown } {
  switch (f.type) {
    case 'int':
      return { text: String(i + 1), value: i + 1 };
    case 'count':
      return { text: '5368709120', value: 5368709120 };
    case 'unix_seconds':
      return { text: '1731000000', value: 1731000000 };
    case 'ip':
      return i % 2 ? { text: '2001:db8::7', value: '2001:db8::7' } : { text: '10.0.0.7', value: '10.0.0.7' };
    case 'enum':
      return { text: f.values![0], value: f.values![0] };
    default:
      return { text: `${f.name}-value`, value: `${f.name}-value` };
  }
}

describe('decoding each format version', () => {
  const versions = [...new Set(FIELD_CATALOG.map((f) => f.version))];
  it.each(versions)('decodes every field of version %i with its type', (version) => {
    // version and the default fields, then all fields of this version, in a custom order (reversed).
    const fields = [...FIELD_CATALOG.filter((f) => f.version === 2), ...FIELD_CATALOG.filter((f) => f.version === version && version !== 2).reverse()];
    const format = parseFormat(fields.map((f) => '${' + f.name + '}').join(' '));
    const samples = fields.map(sample);
    const record = decodeLine(samples.map((s) => s.text).join(' '), { formats: [format] })!;
    fields.forEach((f, i) => expect(record[f.key], f.name).toEqual(samples[i].value));
    expect(Object.keys(record).slice(0, fields.length)).toEqual(fields.map((f) => f.key));
  });

  it('decodes the default format with AWS names and JSON types', () => {
    expect(decodeLine(DEFAULT_LINE)).toEqual({
      version: 2,
      account_id: '123456789010',
      interface_id: 'eni-1235b8ca123456789',
      srcaddr: '172.31.16.139',
      dstaddr: '172.31.16.21',
      srcport: 20641,
      dstport: 22,
      protocol: 6,
      packets: 20,
      bytes: 4249,
      start: 1418530010,
      end: 1418530070,
      action: 'ACCEPT',
      log_status: 'OK',
      protocol_name: 'tcp',
    });
  });

  it('keeps unknown (future) fields as strings', () => {
    const r = decodeLine('2 eni-1 brand-new 42', { formats: ['version interface-id next-gen-field answer-field'] })!;
    expect(r).toMatchObject({ version: 2, interface_id: 'eni-1', next_gen_field: 'brand-new', answer_field: '42' });
  });
});

describe('values', () => {
  it('turns - into null and decodes NODATA and SKIPDATA with their flow fields null', () => {
    for (const status of ['NODATA', 'SKIPDATA']) {
      const r = decodeLine(`2 123456789010 eni-1235b8ca123456789 - - - - - - - 1431280876 1431280934 - ${status}`)!;
      expect(r).toMatchObject({ srcaddr: null, dstaddr: null, srcport: null, dstport: null, protocol: null, packets: null, bytes: null, action: null, protocol_name: null });
      expect(r).toMatchObject({ start: 1431280876, end: 1431280934, log_status: status });
    }
  });

  it('keeps account-id a string, with its leading zeros or as unknown', () => {
    expect(decodeLine(DEFAULT_LINE.replace('123456789010', '000123456789'))!.account_id).toBe('000123456789');
    expect(decodeLine(DEFAULT_LINE.replace('123456789010', 'unknown'))!.account_id).toBe('unknown');
  });

  it('passes IPv6 addresses through', () => {
    const r = decodeLine(DEFAULT_LINE.replace('172.31.16.139 172.31.16.21', '2600:1f18:4a3:6c00::10 ::ffff:10.0.0.1'))!;
    expect(r.srcaddr).toBe('2600:1f18:4a3:6c00::10');
    expect(r.dstaddr).toBe('::ffff:10.0.0.1');
  });

  it('gives byte counts beyond 2^32 as exact numbers', () => {
    expect(decodeLine(DEFAULT_LINE.replace(' 4249 ', ' 5368709120 '))!.bytes).toBe(5368709120);
  });

  it('tolerates runs of spaces or tabs and a trailing carriage return', () => {
    const messy = DEFAULT_LINE.replaceAll(' ', ' \t ').replace('2 ', '  2   ') + '  \r';
    expect(decodeLine(messy)).toEqual(decodeLine(DEFAULT_LINE));
  });

  it('names protocols the IANA way', () => {
    const proto = (n: number) => decodeLine(DEFAULT_LINE.replace(' 6 20 ', ` ${n} 20 `))!.protocol_name;
    expect([1, 6, 17, 47, 50, 58, 132].map(proto)).toEqual(['icmp', 'tcp', 'udp', 'gre', 'esp', 'ipv6-icmp', 'sctp']);
    expect(proto(200)).toBeNull();
  });

  it('names TCP flags with AWS semantics (SYN-ACK is 18, flags are OR-ed over the interval)', () => {
    const flags = (n: string) => decodeLine(`3 ${n}`, { formats: ['version tcp-flags'] })!.tcp_flags_names;
    expect(flags('0')).toEqual([]);
    expect(flags('1')).toEqual(['FIN']);
    expect(flags('2')).toEqual(['SYN']);
    expect(flags('3')).toEqual(['SYN', 'FIN']);
    expect(flags('4')).toEqual(['RST']);
    expect(flags('18')).toEqual(['SYN-ACK']);
    expect(flags('19')).toEqual(['SYN-ACK', 'FIN']);
    expect(flags('-')).toBeNull();
  });

  it('adds ISO-8601 times when asked', () => {
    const r = decodeLine(DEFAULT_LINE, { isoTimes: true })!;
    expect(r.start_iso).toBe('2014-12-14T04:06:50Z');
    expect(r.end_iso).toBe('2014-12-14T04:07:50Z');
    expect(decodeLine(DEFAULT_LINE)!.start_iso).toBeUndefined();
  });
});

describe('formats and headers', () => {
  it('applies an S3 header line to the lines after it and never emits it', () => {
    const { records, decoder } = decodeBytes(readFileSync(fixture('custom-v5.log')));
    expect(records).toHaveLength(6);
    expect(decoder.counts).toMatchObject({ lines: 7, headers: 1, records: 6, rejected: 0 });
    expect(records[0]).toMatchObject({ version: 5, vpc_id: 'vpc-0123456789abcdef0', tcp_flags: 19, traffic_path: 2, pkt_dst_aws_service: 'DYNAMODB' });
    expect(records[5]).toMatchObject({ account_id: 'unknown', sublocation_type: 'wavelength', az_id: null });
  });

  it('switches format when a header appears again mid-stream (files joined with cat)', () => {
    const { records, rejects, decoder } = decodeBytes(readFileSync(fixture('concatenated.log')));
    expect(rejects).toEqual([]);
    expect(decoder.counts.headers).toBe(2);
    expect(records).toHaveLength(46);
    expect(Object.keys(records[39])).not.toContain('vpc_id');
    expect(records[40]).toMatchObject({ version: 5, vpc_id: 'vpc-0123456789abcdef0' });
  });

  it('dispatches headerless lines of several formats by their number of fields', () => {
    const mixed = readFileSync(fixture('mixed-no-header.format'), 'utf8');
    const { records, rejects } = decodeBytes(readFileSync(fixture('mixed-no-header.log')), { formats: [mixed, 'version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status'] });
    expect(rejects).toEqual([]);
    expect(records).toHaveLength(10);
    expect(records[0]).toHaveProperty('pkt_srcaddr', '10.0.1.25');
    expect(records[1]).not.toHaveProperty('pkt_srcaddr');
  });

  it('gives a header precedence over --format for the lines after it', () => {
    const text = 'version srcaddr\n2 10.0.0.1\n';
    const { records, rejects } = decodeBytes(text, { formats: ['version dstaddr'] });
    expect(rejects).toEqual([]);
    expect(records).toEqual([{ version: 2, srcaddr: '10.0.0.1' }]);
  });
});

describe('rejects', () => {
  const decodeReject = (line: string, options = {}): Reject => {
    try {
      decodeLine(line, options);
    } catch (err) {
      expect(err).toBeInstanceOf(RejectError);
      return (err as RejectError).reject;
    }
    throw new Error(`expected ${line} to be rejected`);
  };

  it('rejects a wrong number of fields, naming what was expected', () => {
    const r = decodeReject(DEFAULT_LINE.replace(' ACCEPT', ''));
    expect(r.reason).toBe('field_count');
    expect(r.message).toMatch(/13 fields, expected the default format \(14 fields\)/);
  });

  it('rejects a non-number in a numeric field, naming the field and value', () => {
    const r = decodeReject(DEFAULT_LINE.replace('20641', 'http'));
    expect(r).toMatchObject({ reason: 'bad_number', message: "srcport: 'http' is not a number" });
    expect(decodeReject(DEFAULT_LINE.replace(' 4249 ', ' -5 ')).reason).toBe('bad_number');
    expect(decodeReject(DEFAULT_LINE.replace('2 ', '99999999999 ')).reason).toBe('bad_number');
  });

  it('rejects a bad address', () => {
    expect(decodeReject(DEFAULT_LINE.replace('172.31.16.139', '172.31.16.300'))).toMatchObject({ reason: 'bad_address', message: "srcaddr: '172.31.16.300' is not an IP address" });
    expect(decodeReject(DEFAULT_LINE.replace('172.31.16.21', 'example.com')).reason).toBe('bad_address');
  });

  it('rejects an over-long line without buffering it, and goes on with the next line', () => {
    const long = DEFAULT_LINE + ' ' + 'x'.repeat(10_000);
    const { records, rejects, decoder } = decodeBytes(`${DEFAULT_LINE}\n${long}\n${DEFAULT_LINE}\n`, { maxLineBytes: 1024, chunkSize: 100 });
    expect(records).toHaveLength(2);
    expect(rejects).toHaveLength(1);
    expect(rejects[0]).toMatchObject({ reason: 'line_too_long', line: 2 });
    expect(rejects[0].text.length).toBe(1024);
    expect(decoder.counts.lines).toBe(3);
  });

  it('rejects lines that do not fit their stream shape', () => {
    const { rejects } = decodeBytes('{"message":"' + DEFAULT_LINE + '"}\n{"msg":"x"}\nnot json\n');
    expect(rejects.map((r) => [r.line, r.reason])).toEqual([
      [2, 'bad_envelope'],
      [3, 'bad_envelope'],
    ]);
    const tail = decodeBytes(`2024-11-07T17:20:02+00:00 eni-1-all ${DEFAULT_LINE}\n${DEFAULT_LINE}\n`);
    expect(tail.records).toHaveLength(1);
    expect(tail.rejects[0]).toMatchObject({ line: 2, reason: 'bad_envelope' });
  });

  it('keeps the rejected line verbatim with its source and line number', () => {
    const bad = DEFAULT_LINE.replace('20641', 'x\u00e9');
    const { rejects } = decodeBytes(`${DEFAULT_LINE}\r\n${bad}\r\n`, { source: 'flows.log' });
    expect(rejects).toHaveLength(1);
    expect(rejects[0]).toMatchObject({ source: 'flows.log', line: 2, reason: 'bad_number' });
    expect(Buffer.from(rejects[0].text).toString()).toBe(bad);
  });

  it('accounts for every line: records + rejects + headers + blank = lines', () => {
    const { decoder } = decodeBytes(readFileSync(fixture('rejects.log')));
    const c = decoder.counts;
    expect(c.rejected).toBe(4);
    expect(c.rejects).toMatchObject({ field_count: 1, bad_number: 1, bad_address: 1, line_too_long: 1 });
    expect(c.records + c.rejected + c.headers + c.blank).toBe(c.lines);
  });
});

describe('line framing', () => {
  it('gives the same records whatever the chunk boundaries', () => {
    const bytes = readFileSync(fixture('sample-default.log'));
    const whole = decodeBytes(bytes).records;
    expect(whole).toHaveLength(40);
    for (const size of [1, 7, 64, 1000]) expect(decodeBytes(bytes, { chunkSize: size }).records).toEqual(whole);
  });

  it('decodes a last line without a newline and skips blank lines', () => {
    const { records, decoder } = decodeBytes(`\n${DEFAULT_LINE}\n\n   \n${DEFAULT_LINE}`);
    expect(records).toHaveLength(2);
    expect(decoder.counts).toMatchObject({ lines: 5, blank: 3 });
  });
});

describe('the decode stream (library)', () => {
  it('turns bytes into record objects and reports rejects as events', async () => {
    const stream = createDecodeStream({ source: 'sample.gz' });
    const records: FlowRecord[] = [];
    const rejects: Reject[] = [];
    stream.on('data', (r: FlowRecord) => records.push(r));
    stream.on('reject', (r: Reject) => rejects.push(r));
    const done = new Promise((resolve) => stream.on('end', resolve));
    stream.write(readFileSync(fixture('sample-default.log')));
    stream.end(DEFAULT_LINE.replace('22', 'ssh') + '\n');
    await done;
    expect(records).toHaveLength(40);
    expect(rejects).toHaveLength(1);
    expect(rejects[0]).toMatchObject({ source: 'sample.gz', line: 42, reason: 'bad_number' });
  });

  it('reads JSON documents given to it', async () => {
    const stream = createDecodeStream();
    const records: FlowRecord[] = [];
    stream.on('data', (r: FlowRecord) => records.push(r));
    const done = new Promise((resolve) => stream.on('end', resolve));
    const payload = { messageType: 'DATA_MESSAGE', logStream: 'eni-1-all', logEvents: [{ id: '1', timestamp: 1418530010000, message: DEFAULT_LINE }] };
    stream.end(JSON.stringify({ awslogs: { data: gzipSync(JSON.stringify(payload)).toString('base64') } }));
    await done;
    expect(records).toEqual([{ ...decodeLine(DEFAULT_LINE)!, log_stream: 'eni-1-all', log_timestamp: 1418530010000 }]);
  });
});
