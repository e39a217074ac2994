import { DEFAULT_FORMAT } from '../src/decode/format.js';

/**
 * Flow log lines of every kind the C paths must agree with JavaScript on: valid ones, near misses, what the C
 * decoder declines, and text the C writer leaves to JavaScript (escapes, non-ASCII).
 */

/** A small deterministic generator (mulberry32), so a failure reproduces. */
export function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export const CUSTOM_HEADER = 'version vpc-id srcaddr dstaddr srcport dstport protocol tcp-flags flow-direction pkt-srcaddr action';

/** Lines of every kind the decoders must agree on: valid ones, near misses, and what the C decoder declines. */
export function fuzzLines(seed: number, count: number): string {
  const r = random(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)];
  // Mostly good values, now and then one that is odd but valid, or one that is wrong.
  const some = (good: readonly string[], odd: readonly string[]) => (r() < 0.98 ? pick(good) : pick(odd));
  const num = () =>
    some(['0', '7', '443', '65535', String(Math.floor(r() * 1e10)), '-'], ['123456789012345', '1234567890123456', '2147483648', '00012', '12a', '4294967296', '99999999999999999', '000000000000000012', '0', '300']);
  const ip = () =>
    some(['10.0.1.5', '172.31.255.255', '3.5.140.2', '2001:db8::1', '-'], ['0.0.0.0', '::', 'fe80::1:2:3:4', '::ffff:10.0.0.1', '256.1.1.1', '1.2.3', '1.2.3.4.5', '01.002.3.4', 'x', '10.0.0.1\r', '1:2:3:4:5:6:7::8', '1:2:3:4:5:6:7:8', '1::2::3', '1:2:3:4:5:6:1.2.3.4', '1:2:3:4:5:6:7:1.2.3.4', '12345::1', ':1::', 'fe80::1%eth0', 'ABCD::EF']);
  const text = () => some(['123456789012', 'eni-0a1b2c3d4e5f67890', 'vpc-1', '-'], ['a\rb', 'ü', '-x', 'a"b', 'a\\b', '\x01', '\x7f', '\xff']);
  const action = () => some(['ACCEPT', 'REJECT', '-'], ['accept', 'MAYBE', 'ACCEPTED']);
  const status = () => some(['OK', 'NODATA', 'SKIPDATA', '-'], ['ok', 'OK\r']);
  const sep = () => (r() < 0.9 ? ' ' : pick(['  ', '\t', ' \t ']));
  const lines: string[] = [];
  let custom = false;
  for (let i = 0; i < count; i++) {
    const roll = r();
    let line: string;
    if (roll < 0.01) {
      // A header switching the layout, either way: the C decoder must pick up the new one.
      custom = !custom;
      line = custom ? CUSTOM_HEADER : DEFAULT_FORMAT.fields.map((f) => f.name).join(' ');
    } else if (roll < 0.02) {
      line = pick(['', '   ', '\t', '\r', 'garbage', '2 3 4']);
    } else if (custom) {
      const fields = ['5', text(), ip(), ip(), num(), num(), num(), num(), pick(['ingress', 'egress', '-', 'sideways']), ip(), action()];
      line = fields.join(sep());
    } else {
      const fields = [some(['2'], ['3', '-', 'x', '2147483648']), text(), text(), ip(), ip(), num(), num(), num(), num(), num(), num(), num(), action(), status()];
      if (r() < 0.02) fields.pop();
      if (r() < 0.02) fields.push('extra');
      line = fields.join(sep());
    }
    if (r() < 0.05) line = ' ' + line;
    if (r() < 0.05) line += pick([' ', '\t', '\r', ' \r']);
    lines.push(line);
  }
  return lines.join(r() < 0.5 ? '\n' : '\r\n') + (r() < 0.5 ? '\n' : '');
}

