import { describe, expect, it } from 'vitest';
import { formatIPv4, isIPv6, parseIPv4, parseUnsigned, tokenize } from '../src/decode/bytes.js';

const b = (s: string) => Buffer.from(s);
const ip4 = (s: string) => parseIPv4(b(s), 0, s.length);
const ip6 = (s: string) => isIPv6(b(s), 0, s.length);
const uint = (s: string) => parseUnsigned(b(s), 0, s.length);

describe('IPv4 from bytes', () => {
  it('parses to an unsigned 32-bit value', () => {
    expect(ip4('0.0.0.0')).toBe(0);
    expect(ip4('10.0.1.25')).toBe(0x0a000119);
    expect(ip4('255.255.255.255')).toBe(4294967295);
    expect(formatIPv4(ip4('172.31.16.139'))).toBe('172.31.16.139');
  });
  it.each(['256.1.1.1', '1.2.3', '1.2.3.4.5', '1..2.3', '.1.2.3', '1.2.3.', 'a.b.c.d', '1.2.3.4/32', '', '1234.1.1.1'])(
    'refuses %j',
    (s) => expect(ip4(s)).toBe(-1),
  );
});

describe('IPv6 validation', () => {
  it.each(['::', '::1', '2001:db8::1', '2600:1f18:4a3:6c00:1234:5678:9abc:def0', 'fe80::', '::ffff:10.0.0.1', '2001:DB8:0:0:0:0:0:1', '1::'])(
    'accepts %j',
    (s) => expect(ip6(s)).toBe(true),
  );
  it.each([':', ':1', '1:2:3:4:5:6:7:8:9', '2001:db8:::1', '1::2::3', '12345::', 'g::1', '2001:db8::1:', '1:2:3:4:5:6:7', '::ffff:10.0.0.256'])(
    'refuses %j',
    (s) => expect(ip6(s)).toBe(false),
  );
});

describe('integers from bytes', () => {
  it('parses counts beyond 2^32 exactly', () => {
    expect(uint('5368709120')).toBe(5368709120);
    expect(uint('9007199254740991')).toBe(Number.MAX_SAFE_INTEGER);
    expect(uint('0000000000000000042')).toBe(42);
  });
  it('refuses what a JSON reader could not get back exactly, and non-digits', () => {
    expect(uint('9007199254740993')).toBe(-1);
    expect(uint('12a')).toBe(-1);
    expect(uint('-1')).toBe(-1);
    expect(uint('')).toBe(-1);
  });
});

describe('tokens', () => {
  it('splits on runs of spaces and tabs', () => {
    const line = b('  2 \t123  eni-1\t\t- ');
    const starts = new Int32Array(8);
    const ends = new Int32Array(8);
    const n = tokenize(line, 0, line.length, starts, ends);
    expect(n).toBe(4);
    const tokens = Array.from({ length: n }, (_, i) => line.toString('latin1', starts[i], ends[i]));
    expect(tokens).toEqual(['2', '123', 'eni-1', '-']);
  });
  it('says when there are more tokens than room', () => {
    const line = b('a b c d e');
    expect(tokenize(line, 0, line.length, new Int32Array(3), new Int32Array(3))).toBe(4);
  });
});
