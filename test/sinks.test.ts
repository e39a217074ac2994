import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { DecodedRecord } from '../src/decode/record.js';
import { SourceDecoder, type SourceDecoderOptions } from '../src/decode/source-decoder.js';
import { CsvWriter } from '../src/sinks/csv.js';
import { NdjsonWriter, type NdjsonOptions } from '../src/sinks/ndjson.js';
import { OutputBuffers } from '../src/sinks/output-buffers.js';
import type { RecordWriter } from '../src/sinks/record-writer.js';
import { TableWriter } from '../src/sinks/table.js';
import { fixture } from './helpers.js';

/** Runs input through a writer, and also keeps what JSON.stringify makes of each record object. */
function render(input: string | Buffer, writer: RecordWriter, options: SourceDecoderOptions & NdjsonOptions = {}) {
  const expected: string[] = [];
  const decoder = new SourceDecoder(
    {
      record: (rec: DecodedRecord) => {
        writer.write(rec);
        const obj = rec.toObject(options);
        expected.push(JSON.stringify(options.fields ? Object.fromEntries(options.fields.map((k) => [k, obj[k] ?? null])) : obj));
      },
      reject: () => {},
    },
    options,
  );
  decoder.begin('test');
  decoder.push(typeof input === 'string' ? Buffer.from(input) : input);
  decoder.end();
  return { text: writer.take(true).toString(), expected };
}

describe('NDJSON writer', () => {
  const inputs = ['sample-default.log', 'custom-v5.log', 'concatenated.log', 'tail-detailed.txt', 'filter-log-events.json', 'firehose.jsonl'];
  it.each(inputs)('writes exactly what JSON.stringify writes for the record objects of %s', (name) => {
    const options = { isoTimes: name.startsWith('tail') };
    const { text, expected } = render(readFileSync(fixture(name)), new NdjsonWriter(options), options);
    expect(expected.length).toBeGreaterThan(5);
    expect(text).toBe(expected.map((l) => l + '\n').join(''));
  });

  it('escapes a character that needs it wherever it falls in a text field (the writer checks four bytes at a time)', () => {
    const lines: string[] = [];
    for (const special of ['"', '\\', '\u0001', '\u007f', '\u00e9', '\u2603']) {
      for (let at = 0; at < 9; at++) lines.push(`2 ${'a'.repeat(at)}${special}${'b'.repeat(8 - at)} eni-1 10.0.0.1 10.0.0.2 1 2 6 1 40 1 2 ACCEPT OK`);
    }
    const { text, expected } = render(lines.join('\n') + '\n', new NdjsonWriter());
    expect(expected.length).toBe(6 * 9);
    expect(text).toBe(expected.map((l) => l + '\n').join(''));
    expect(text.split('\n').filter(Boolean).map((l) => JSON.parse(l).account_id)).toEqual(lines.map((l) => l.split(' ')[1]));
  });

  it('escapes text that JSON needs escaped and keeps UTF-8', () => {
    const line = '2 12"3 eni-\\x 10.0.0.1 10.0.0.2 1 2 6 1 40 1 2 ACC\u00c9PT OK\n';
    const { text, expected } = render(line, new NdjsonWriter());
    expect(text).toBe(expected[0] + '\n');
    expect(JSON.parse(text)).toMatchObject({ account_id: '12"3', interface_id: 'eni-\\x', action: 'ACC\u00c9PT' });
  });

  it('writes large numbers and selected fields in the asked order', () => {
    const line = '2 123456789012 eni-1 10.0.0.1 2001:db8::1 65535 0 17 9007199254740991 5368709120 1731000000 1731000060 REJECT OK\n';
    const options = { fields: ['bytes', 'packets', 'nope', 'dstaddr', 'protocol_name'] };
    const { text, expected } = render(line, new NdjsonWriter(options), options);
    expect(text).toBe('{"bytes":5368709120,"packets":9007199254740991,"nope":null,"dstaddr":"2001:db8::1","protocol_name":"udp"}\n');
    expect(text).toBe(expected[0] + '\n');
  });

  it('grows its buffer for output larger than it', () => {
    const line = '2 123456789012 eni-1 10.0.0.1 10.0.0.2 1 2 6 1 40 1731000000 1731000060 ACCEPT OK\n';
    const { text, expected } = render(line.repeat(20_000), new NdjsonWriter());
    expect(text.length).toBeGreaterThan(1 << 20);
    expect(text).toBe(expected.map((l) => l + '\n').join(''));
  });

  it.each(['ndjson', 'csv'])('%s: hands chunks out without copying, leaves them alone until given back, then reuses their buffer', (kind) => {
    const buffers = new OutputBuffers(4096);
    const writer = kind === 'csv' ? new CsvWriter({ buffers }) : new NdjsonWriter({ buffers });
    const line = (n: number) => `2 123456789012 eni-1 10.0.0.${n} 10.0.0.2 1 2 6 1 40 1731000000 1731000060 ACCEPT OK\n`;
    const feed = (from: number, to: number) => {
      const decoder = new SourceDecoder({ record: (rec) => writer.write(rec), reject: () => {} });
      decoder.begin('test');
      for (let n = from; n < to; n++) decoder.push(Buffer.from(line(n)));
      decoder.end();
      return writer.take();
    };
    const first = feed(1, 20);
    const firstText = first.toString();
    expect(firstText).toContain('10.0.0.19');
    // Not given back yet: the next chunks are written elsewhere, and the first is intact.
    const second = feed(20, 40);
    expect(second.buffer).not.toBe(first.buffer);
    expect(first.toString()).toBe(firstText);
    buffers.put(first);
    buffers.put(second);
    // A writer takes a buffer only when it writes (one that is done holds none): the next chunks reuse given-back ones.
    const third = feed(40, 41);
    buffers.put(third);
    const fourth = feed(41, 42);
    expect([first.buffer, second.buffer]).toContain(third.buffer);
    expect(fourth.buffer).toBe(third.buffer);
    expect(fourth.toString()).toContain('10.0.0.41');
    expect(fourth.toString()).not.toContain('10.0.0.40');
    // Without buffers, each chunk is a copy of its own.
    const plain = kind === 'csv' ? new CsvWriter() : new NdjsonWriter();
    expect(plain.take().length).toBe(0);
  });
});

describe('CSV and table writers', () => {
  it('quotes CSV cells that need it and leaves nulls empty', () => {
    const writer = new CsvWriter({ fields: ['account_id', 'srcaddr', 'action', 'tcp_flags_names'] });
    const line = '3 1,2 10.0.0.1 "X" 19\n3 9 - - -\n';
    const { text } = render(line, writer, { formats: ['version account-id srcaddr action tcp-flags'] });
    expect(text).toBe('account_id,srcaddr,action,tcp_flags_names\r\n"1,2",10.0.0.1,"""X""",SYN-ACK|FIN\r\n9,,,\r\n');
  });

  it('aligns table columns, right-aligns numbers and shows null as -', () => {
    const writer = new TableWriter({ fields: ['srcaddr', 'bytes', 'action'] });
    const text = render(readFileSync(fixture('sample-default.log')), writer).text;
    const lines = text.trimEnd().split('\n');
    const widest = '2600:1f18:4a3:6c00:1234:5678:9abc:def0'.length;
    expect(lines[0]).toBe('srcaddr'.padEnd(widest) + '  ' + 'bytes'.padStart('5368709120'.length) + '  action');
    expect(lines[8]).toBe('-'.padEnd(widest) + '  ' + '-'.padStart('5368709120'.length) + '  -');
    expect(new Set(lines.map((l) => l.length)).size).toBeLessThanOrEqual(2);
  });
});
