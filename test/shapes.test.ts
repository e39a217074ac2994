import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { decodeBytes, fixture } from './helpers.js';

/** The records of the bundled S3 export, the ground truth the other shapes carry. */
const plain = decodeBytes(readFileSync(fixture('sample-default.log'))).records;
const strip = (r: Record<string, unknown>) => {
  const { log_stream, log_timestamp, ...rest } = r;
  return rest;
};

describe('aws logs tail output', () => {
  it('reads --format detailed (with and without microseconds) and keeps the stream and event time', () => {
    const { records, rejects } = decodeBytes(readFileSync(fixture('tail-detailed.txt')));
    expect(rejects).toEqual([]);
    expect(records).toHaveLength(12);
    expect(records.map(strip)).toEqual(plain.slice(0, 12));
    expect(records[0]).toMatchObject({ log_stream: 'eni-0a1b2c3d4e5f60718-all', log_timestamp: 1731000002000 });
    expect(records.every((r) => r.log_timestamp === (r.start as number) * 1000)).toBe(true);
  });

  it('reads --format short (no stream name, time without zone is UTC)', () => {
    const { records, rejects } = decodeBytes(readFileSync(fixture('tail-short.txt')));
    expect(rejects).toEqual([]);
    expect(records.map(strip)).toEqual(plain.slice(0, 12));
    expect(records[0]).not.toHaveProperty('log_stream');
    expect(records[0].log_timestamp).toBe(1731000002000);
  });

  it('reads coloured output (--color on)', () => {
    const { records, rejects } = decodeBytes(readFileSync(fixture('tail-color.txt')));
    expect(rejects).toEqual([]);
    expect(records.map(strip)).toEqual(plain.slice(0, 3));
    expect(records[0].log_stream).toBe('eni-0a1b2c3d4e5f60718-all');
  });

  it('reads a time zone offset other than UTC', () => {
    const line = '2024-11-07T19:20:02+02:00 eni-1-all 2 123456789012 eni-1 10.0.0.1 10.0.0.2 1 2 6 1 40 1731000002 1731000003 ACCEPT OK\n';
    expect(decodeBytes(line).records[0].log_timestamp).toBe(1731000002000);
  });

  it('follows a stream that arrives a few bytes at a time (aws logs tail --follow)', () => {
    const bytes = readFileSync(fixture('tail-detailed.txt'));
    expect(decodeBytes(bytes, { chunkSize: 3 }).records).toEqual(decodeBytes(bytes).records);
  });
});

describe('JSON inputs', () => {
  it('reads aws logs filter-log-events output (a pretty-printed document) event by event', () => {
    const { records, rejects, decoder } = decodeBytes(readFileSync(fixture('filter-log-events.json')), { chunkSize: 97 });
    expect(rejects).toEqual([]);
    expect(records.map(strip)).toEqual(plain.slice(0, 10));
    expect(records[1]).toMatchObject({ log_stream: 'eni-0f9e8d7c6b5a40312-all', log_timestamp: 1731000002000 });
    expect(decoder.counts.lines).toBe(10);
  });

  it('reads get-log-events output (no stream name in the events)', () => {
    const doc = { events: plain.slice(0, 2).map((_, i) => ({ timestamp: 1731000002000 + i, message: readFileSync(fixture('sample-default.log'), 'utf8').split('\n')[i + 1], ingestionTime: 1 })), nextForwardToken: 'f/1', nextBackwardToken: 'b/1' };
    const { records } = decodeBytes(JSON.stringify(doc, null, 4));
    expect(records.map(strip)).toEqual(plain.slice(0, 2));
    expect(records[0]).not.toHaveProperty('log_stream');
  });

  it('reads JSON lines with a message field (Firehose direct delivery)', () => {
    const { records, rejects } = decodeBytes(readFileSync(fixture('firehose.jsonl')));
    expect(rejects).toEqual([]);
    expect(records).toEqual(plain.slice(0, 8));
  });

  it('reads CloudWatch Logs subscription payloads, decoded or still wrapped, and skips control messages', () => {
    const line = readFileSync(fixture('sample-default.log'), 'utf8').split('\n')[1];
    const payload = { messageType: 'DATA_MESSAGE', owner: '123456789012', logGroup: 'flows', logStream: 'eni-0a1b2c3d4e5f60718-all', subscriptionFilters: ['f'], logEvents: [{ id: '1', timestamp: 1731000002000, message: line }] };
    const control = { messageType: 'CONTROL_MESSAGE', owner: 'CloudwatchLogs', logGroup: '', logStream: '', subscriptionFilters: [], logEvents: [{ id: '', timestamp: 1, message: 'CWL CONTROL MESSAGE: Checking health of destination Firehose.' }] };
    const wrapped = { awslogs: { data: gzipSync(JSON.stringify(payload)).toString('base64') } };
    const input = JSON.stringify(payload, null, 2) + '\n' + JSON.stringify(control, null, 2) + '\n' + JSON.stringify(wrapped, null, 2);
    const { records, rejects } = decodeBytes(input);
    expect(rejects).toEqual([]);
    expect(records).toHaveLength(2);
    for (const r of records) expect(r).toEqual({ ...plain[0], log_stream: 'eni-0a1b2c3d4e5f60718-all', log_timestamp: 1731000002000 });
  });

  it('reports a broken JSON document once, with the events read before it kept', () => {
    const text = readFileSync(fixture('filter-log-events.json'), 'utf8');
    // The second event is cut off in the middle by garbage.
    const cut = text.slice(0, text.indexOf('"eventId"', text.indexOf('"eventId"') + 1)) + '"eventId": oops';
    const { records, rejects } = decodeBytes(cut, { source: 'events.json', chunkSize: 4096 });
    expect(records).toEqual([{ ...plain[0], log_stream: 'eni-0a1b2c3d4e5f60718-all', log_timestamp: 1731000002000 }]);
    expect(rejects).toHaveLength(1);
    expect(rejects[0]).toMatchObject({ source: 'events.json', reason: 'bad_envelope', line: 2 });
    expect(rejects[0].text).toHaveLength(0);
  });
});

describe('deciding the shape', () => {
  it('decides from the first line whatever the chunking, after any number of blank lines', () => {
    for (const name of ['firehose.jsonl', 'filter-log-events.json', 'tail-detailed.txt']) {
      const bytes = Buffer.concat([Buffer.from('\n \r\n'.repeat(1000)), readFileSync(fixture(name))]);
      const whole = decodeBytes(bytes);
      expect(whole.rejects, name).toEqual([]);
      expect(whole.records.length, name).toBeGreaterThan(7);
      expect(decodeBytes(bytes, { chunkSize: 1 }).records, name).toEqual(whole.records);
    }
  });
});

describe('forcing a shape', () => {
  it('treats every line as a bare record with --input raw', () => {
    const { records, rejects } = decodeBytes(readFileSync(fixture('tail-short.txt')), { shape: 'raw' });
    expect(records).toEqual([]);
    expect(rejects).toHaveLength(12);
    expect(rejects[0].reason).toBe('field_count');
  });
});
