/**
 * Hot-path parsers that read ASCII straight from a Buffer, so a line is never turned into a string just to be
 * split or parsed. Each returns -1 for text that is not what it should be.
 */

const SPACE = 0x20;
const TAB = 0x09;
const DOT = 0x2e;
const COLON = 0x3a;
const ZERO = 0x30;
const NINE = 0x39;

/** Largest integer a JSON reader gets back exactly (2^53 - 1). */
const MAX_EXACT = Number.MAX_SAFE_INTEGER;

/** A non-negative decimal integer of at most 2^53 - 1; -1 if the text is empty, not all digits or larger. */
export function parseUnsigned(buf: Uint8Array, start: number, end: number): number {
  const len = end - start;
  if (len === 0) return -1;
  if (len > 15) return parseLongUnsigned(buf, start, end);
  let n = 0;
  for (let i = start; i < end; i++) {
    const d = buf[i] - ZERO;
    if (d < 0 || d > 9) return -1;
    n = n * 10 + d;
  }
  return n;
}

// Off the hot path: counts never get near 2^53, but a long run of digits must not silently lose precision.
function parseLongUnsigned(buf: Uint8Array, start: number, end: number): number {
  let i = start;
  while (i < end - 1 && buf[i] === ZERO) i++;
  if (end - i > 16) return -1;
  let n = 0;
  for (; i < end; i++) {
    const d = buf[i] - ZERO;
    if (d < 0 || d > 9) return -1;
    n = n * 10 + d;
  }
  return n > MAX_EXACT ? -1 : n;
}

/** Dotted-quad IPv4 as an unsigned 32-bit value (kept in a double so it stays positive); -1 if not one. */
export function parseIPv4(buf: Uint8Array, start: number, end: number): number {
  let acc = 0;
  let part = 0;
  let digits = 0;
  let dots = 0;
  for (let i = start; i < end; i++) {
    const c = buf[i];
    if (c >= ZERO && c <= NINE) {
      part = part * 10 + (c - ZERO);
      if (++digits > 3 || part > 255) return -1;
    } else if (c === DOT) {
      if (digits === 0 || ++dots > 3) return -1;
      acc = acc * 256 + part;
      part = 0;
      digits = 0;
    } else {
      return -1;
    }
  }
  if (dots !== 3 || digits === 0) return -1;
  return acc * 256 + part;
}

function isHexDigit(c: number): boolean {
  return (c >= ZERO && c <= NINE) || (c >= 0x61 && c <= 0x66) || (c >= 0x41 && c <= 0x46);
}

/** Whether the text is an IPv6 address in any RFC 4291 text form (`::`, embedded IPv4 included). */
export function isIPv6(buf: Uint8Array, start: number, end: number): boolean {
  const len = end - start;
  if (len < 2 || len > 45) return false;
  let i = start;
  let groups = 0;
  let compressed = false;
  if (buf[i] === COLON) {
    if (buf[i + 1] !== COLON) return false;
    compressed = true;
    i += 2;
    if (i === end) return true;
  }
  for (;;) {
    const groupStart = i;
    while (i < end && isHexDigit(buf[i])) i++;
    if (i < end && buf[i] === DOT) {
      if (parseIPv4(buf, groupStart, end) < 0) return false;
      groups += 2;
      break;
    }
    const groupLen = i - groupStart;
    if (groupLen === 0 || groupLen > 4) return false;
    groups++;
    if (i === end) break;
    if (buf[i] !== COLON) return false;
    i++;
    if (i === end) return false;
    if (buf[i] === COLON) {
      if (compressed) return false;
      compressed = true;
      i++;
      if (i === end) break;
    }
  }
  return compressed ? groups <= 7 : groups === 8;
}

/** The text of an IPv4 address held as an unsigned 32-bit value. */
export function formatIPv4(n: number): string {
  return `${(n >>> 24) & 255}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
}

/**
 * Finds the tokens of a line: runs of spaces or tabs separate them. Writes their bounds into `starts`/`ends` and
 * returns how many there are; returns `starts.length + 1` as soon as there are more than fit.
 */
export function tokenize(buf: Uint8Array, start: number, end: number, starts: Int32Array, ends: Int32Array): number {
  const cap = starts.length;
  let n = 0;
  let i = start;
  while (i < end) {
    let c = buf[i];
    if (c === SPACE || c === TAB) {
      i++;
      continue;
    }
    if (n === cap) return cap + 1;
    starts[n] = i;
    while (++i < end) {
      c = buf[i];
      if (c === SPACE || c === TAB) break;
    }
    ends[n++] = i;
  }
  return n;
}

/** Whether the bytes equal an ASCII string. */
export function bytesEqual(buf: Uint8Array, start: number, end: number, text: string): boolean {
  if (end - start !== text.length) return false;
  for (let i = 0; i < text.length; i++) if (buf[start + i] !== text.charCodeAt(i)) return false;
  return true;
}

/**
 * A DataView of the chunk last asked for, for reading or writing four bytes at a time. Chunks change far less often
 * than lines or records, so the view is made once per chunk.
 */
export class ChunkView {
  private of: Uint8Array | null = null;
  private view: DataView<ArrayBufferLike> = new DataView(new ArrayBuffer(0));

  get(buf: Uint8Array): DataView<ArrayBufferLike> {
    if (buf !== this.of) {
      this.of = buf;
      this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    }
    return this.view;
  }
}
