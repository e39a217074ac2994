import { describe, expect, it } from 'vitest';
import { DEFAULT_FIELD_NAMES, FIELD_CATALOG, fieldInfo } from '../src/decode/field-catalog.js';
import { DEFAULT_FORMAT, FormatError, FormatSet, formatFromHeader, parseFormat } from '../src/decode/format.js';

describe('field catalog', () => {
  it('has the default format in order and every documented version', () => {
    expect(DEFAULT_FIELD_NAMES.join(' ')).toBe(
      'version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status',
    );
    const versions = new Set(FIELD_CATALOG.map((f) => f.version));
    for (const v of [2, 3, 4, 5, 6, 7, 8, 9, 10, 11]) expect(versions.has(v), `version ${v}`).toBe(true);
    for (const name of ['resource-id', 'encryption-status', 'instance-tag', 'next-hop-interface-id', 'reject-reason', 'ecs-task-id']) {
      expect(fieldInfo(name).version).toBeGreaterThan(0);
    }
  });
  it('gives each field its type and the Athena key', () => {
    expect(fieldInfo('bytes')).toMatchObject({ key: 'bytes', type: 'count' });
    expect(fieldInfo('pkt-srcaddr')).toMatchObject({ key: 'pkt_srcaddr', type: 'ip' });
    expect(fieldInfo('start')).toMatchObject({ type: 'unix_seconds' });
    expect(fieldInfo('account-id')).toMatchObject({ type: 'string' });
    expect(fieldInfo('action')).toMatchObject({ type: 'enum' });
  });
  it('keeps a field it does not know as a string', () => {
    expect(fieldInfo('some-future-field')).toMatchObject({ key: 'some_future_field', type: 'string', version: 0 });
  });
});

describe('format parsing', () => {
  const names = ['version', 'vpc-id', 'srcaddr', 'pkt-dst-aws-service'];
  it.each([
    ['as AWS writes it', '${version} ${vpc-id} ${srcaddr} ${pkt-dst-aws-service}'],
    ['as a header line', 'version vpc-id srcaddr pkt-dst-aws-service'],
    ['with underscores', 'version vpc_id srcaddr pkt_dst_aws_service'],
    ['with commas and extra spaces', ' version,  vpc-id , srcaddr,pkt-dst-aws-service '],
  ])('reads a format %s', (_, spec) => {
    expect(parseFormat(spec).fields.map((f) => f.name)).toEqual(names);
  });
  it('refuses an empty format, a duplicated field and junk', () => {
    expect(() => parseFormat('')).toThrow(FormatError);
    expect(() => parseFormat('version srcaddr version')).toThrow(/appears twice/);
    expect(() => parseFormat('version $src')).toThrow(/not a field name/);
  });
  it('refuses two formats with the same number of fields', () => {
    const a = parseFormat('version srcaddr dstaddr');
    const b = parseFormat('version pkt-srcaddr pkt-dstaddr');
    expect(() => new FormatSet([a, b])).toThrow(/two formats have 3 fields/);
    expect(new FormatSet([a, DEFAULT_FORMAT]).forCount(14)).toBe(DEFAULT_FORMAT);
  });
  it('recognises header lines and nothing else', () => {
    expect(formatFromHeader(['version', 'account-id', 'future-field'])?.text).toBe('version account-id future-field');
    expect(formatFromHeader(['eni-123', 'version'])).toBeNull();
    expect(formatFromHeader(['version', '2'])).toBeNull();
    expect(formatFromHeader(['unknown', 'ACCEPT'])).toBeNull();
  });
});
