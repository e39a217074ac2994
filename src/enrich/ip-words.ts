/**
 * IP address text to and from the numbers the prefix tries take: IPv4 as one unsigned 32-bit value, IPv6 as four
 * 32-bit words, w0 the most significant. The byte parser runs on the hot path (once per IPv6 address field), so it
 * writes into a caller-owned Uint32Array and never allocates.
 */
import { formatIPv4, parseIPv4 } from '../decode/bytes.js';

export { formatIPv4, parseIPv4 };

const COLON = 0x3a;
const DOT = 0x2e;

/** Longest valid IPv6 text: six 4-digit groups and a dotted quad. */
const MAX_V6_TEXT = 45;

// Parse scratch, reused: `::` moves the groups after it to the end, which is simplest with the groups in hand.
const groups = new Uint16Array(8);
// parseIPv6String copies the text here so that one parser serves both bytes and strings.
const textBytes = new Uint8Array(64);

function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  const l = c | 0x20; // ASCII lower case
  return l >= 0x61 && l <= 0x66 ? l - 0x57 : -1;
}

/**
 * IPv6 text in any RFC 4291 form (`::`, hex in either case, 1–4 digits a group, a trailing dotted quad) into
 * out[0..3]. Accepts exactly what isIPv6 in decode/bytes.ts accepts (so the dotted quad takes what parseIPv4 takes);
 * no zone ids (`%eth0`), no brackets. Returns false, leaving out in an unspecified state, for anything else.
 */
export function parseIPv6Words(buf: Uint8Array, start: number, end: number, out: Uint32Array): boolean {
  const len = end - start;
  if (len < 2 || len > MAX_V6_TEXT) return false;
  let i = start;
  let n = 0; // groups read
  let gap = -1; // group index where `::` stands
  if (buf[i] === COLON) {
    if (buf[i + 1] !== COLON) return false;
    gap = 0;
    i += 2;
  }
  while (i < end) {
    const groupStart = i;
    let v = 0;
    for (let h = 0; i < end && (h = hexValue(buf[i])) >= 0; i++) v = (v << 4) | h;
    if (i < end && buf[i] === DOT) {
      const v4 = parseIPv4(buf, groupStart, end);
      if (v4 < 0 || n > 6) return false;
      groups[n++] = v4 >>> 16;
      groups[n++] = v4 & 0xffff;
      break;
    }
    const digits = i - groupStart;
    if (digits === 0 || digits > 4 || n === 8) return false;
    groups[n++] = v;
    if (i === end) break;
    if (buf[i] !== COLON || ++i === end) return false;
    if (buf[i] === COLON) {
      if (gap >= 0) return false;
      gap = n;
      i++;
    }
  }
  if (gap < 0 ? n !== 8 : n > 7) return false;
  if (gap >= 0) {
    // Slide the groups after `::` to the end and zero the hole.
    const moved = n - gap;
    for (let k = 1; k <= moved; k++) groups[8 - k] = groups[n - k];
    for (let k = gap; k < 8 - moved; k++) groups[k] = 0;
  }
  out[0] = ((groups[0] << 16) | groups[1]) >>> 0;
  out[1] = ((groups[2] << 16) | groups[3]) >>> 0;
  out[2] = ((groups[4] << 16) | groups[5]) >>> 0;
  out[3] = ((groups[6] << 16) | groups[7]) >>> 0;
  return true;
}

/** parseIPv6Words for a JS string. */
export function parseIPv6String(text: string, out: Uint32Array): boolean {
  const len = text.length;
  if (len > MAX_V6_TEXT) return false;
  for (let i = 0; i < len; i++) {
    const c = text.charCodeAt(i);
    if (c > 0x7f) return false;
    textBytes[i] = c;
  }
  return parseIPv6Words(textBytes, 0, len, out);
}

/** parseIPv4 for a JS string: the unsigned 32-bit value, or -1. */
export function parseIPv4String(text: string): number {
  const len = text.length;
  if (len > 15) return -1;
  for (let i = 0; i < len; i++) {
    const c = text.charCodeAt(i);
    if (c > 0x7f) return -1;
    textBytes[i] = c;
  }
  return parseIPv4(textBytes, 0, len);
}

/**
 * RFC 5952 canonical text: lower-case hex without leading zeros, the longest run of two or more zero groups (the
 * first, on a tie) as `::`, and IPv4-mapped addresses as `::ffff:a.b.c.d` (RFC 5952 §5).
 */
export function formatIPv6Words(w0: number, w1: number, w2: number, w3: number): string {
  if (w0 === 0 && w1 === 0 && w2 >>> 0 === 0xffff) return `::ffff:${formatIPv4(w3 >>> 0)}`;
  const g = [w0 >>> 16, w0 & 0xffff, w1 >>> 16, w1 & 0xffff, w2 >>> 16, w2 & 0xffff, w3 >>> 16, w3 & 0xffff];
  let bestAt = -1;
  let bestLen = 1; // a lone zero group is not compressed
  for (let k = 0; k < 8; ) {
    if (g[k] !== 0) {
      k++;
      continue;
    }
    const at = k;
    while (k < 8 && g[k] === 0) k++;
    if (k - at > bestLen) {
      bestAt = at;
      bestLen = k - at;
    }
  }
  const hex = (from: number, to: number) => g.slice(from, to).map((x) => x.toString(16)).join(':');
  if (bestAt < 0) return hex(0, 8);
  return `${hex(0, bestAt)}::${hex(bestAt + bestLen, 8)}`;
}

export type Cidr = { family: 4; addr: number; len: number } | { family: 6; words: Uint32Array; len: number };

/** The unsigned 32-bit mask of the first `len` bits of a 32-bit word (len is clamped to 0..32). */
export function wordMask(len: number): number {
  if (len <= 0) return 0;
  if (len >= 32) return 0xffffffff;
  return (0xffffffff << (32 - len)) >>> 0;
}

/**
 * `a.b.c.d/len` or `<IPv6>/len`, surrounding white space ignored. Host bits may be set (`10.1.2.3/8` is read as
 * `10.0.0.0/8`): lists written by people often hold an interface address with its subnet length, and the prefix it
 * names is unambiguous. The length is required. Dotted-quad octets with leading zeros are refused because other
 * tools read them as octal. Throws an Error naming the problem for anything else.
 */
export function parseCidr(text: string): Cidr {
  const c = parseCidrInto(text, { family: 4, words: new Uint32Array(4), len: 0 });
  return c.family === 4 ? { family: 4, addr: c.words[0], len: c.len } : { family: 6, words: c.words, len: c.len };
}

/** Where parseCidrInto writes: the address in words[0] (IPv4) or words[0..3] (IPv6), host bits cleared. */
export interface CidrScratch {
  family: 4 | 6;
  readonly words: Uint32Array;
  len: number;
}

/**
 * parseCidr into a caller-owned scratch, so that reading the thousands of prefixes of ip-ranges.json leaves no
 * object per prefix behind. Returns `into`.
 */
export function parseCidrInto(text: string, into: CidrScratch): CidrScratch {
  const s = String(text).trim();
  const slash = s.indexOf('/');
  if (slash < 0) throw new Error(`invalid CIDR '${text}': missing '/<prefix length>'`);
  const addrText = s.slice(0, slash);
  const lenText = s.slice(slash + 1);
  const family = addrText.includes(':') ? 6 : 4;
  const max = family === 4 ? 32 : 128;
  let len = -1;
  if (lenText.length >= 1 && lenText.length <= 3 && !(lenText.length > 1 && lenText.charCodeAt(0) === 0x30)) {
    len = 0;
    for (let i = 0; i < lenText.length && len >= 0; i++) {
      const d = lenText.charCodeAt(i) - 0x30;
      len = d >= 0 && d <= 9 ? len * 10 + d : -1;
    }
  }
  if (len < 0 || len > max) {
    throw new Error(`invalid CIDR '${text}': prefix length '${lenText}' is not an integer from 0 to ${max}`);
  }
  const words = into.words;
  if (family === 4) {
    const addr = parseIPv4String(addrText);
    if (addr < 0) throw new Error(`invalid CIDR '${text}': '${addrText}' is not a dotted-quad IPv4 address`);
    if (/(^|\.)0\d/.test(addrText)) throw new Error(`invalid CIDR '${text}': octets with leading zeros are ambiguous`);
    words[0] = addr & wordMask(len);
    words[1] = words[2] = words[3] = 0;
  } else {
    if (!parseIPv6String(addrText, words)) throw new Error(`invalid CIDR '${text}': '${addrText}' is not an IPv6 address`);
    for (let k = 0; k < 4; k++) words[k] = words[k] & wordMask(len - 32 * k);
  }
  into.family = family;
  into.len = len;
  return into;
}
