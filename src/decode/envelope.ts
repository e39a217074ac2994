/**
 * The shapes a flow log line arrives in, around the record itself.
 *
 * - `raw`: the record alone (S3 exports, `cat`), possibly with header lines.
 * - `tail`: `aws logs tail` output. `--format detailed` (the default) and `--format json` print
 *   `<ISO time with zone> <log stream> <record>`; `--format short` prints `<ISO time without zone> <record>`.
 * - `jsonl`: one JSON object per line with a `message` field (Firehose direct delivery, `jq -c '.events[]'`).
 *
 * JSON documents (`aws logs filter-log-events` output) are not line-shaped; the sources layer turns them into events.
 */
export type InputShape = 'raw' | 'tail' | 'jsonl';
export const INPUT_SHAPES: readonly string[] = ['auto', 'raw', 'tail', 'jsonl', 'json'];

const ZERO = 0x30;

function isDigit(c: number): boolean {
  return c >= ZERO && c <= ZERO + 9;
}

/** Whether the bytes start with `YYYY-MM-DDTHH:MM:SS`, the way every `aws logs tail` line does. */
export function startsWithIsoTime(buf: Uint8Array, start: number, end: number): boolean {
  if (end - start < 19) return false;
  const b = (i: number) => buf[start + i];
  return (
    isDigit(b(0)) && isDigit(b(1)) && isDigit(b(2)) && isDigit(b(3)) && b(4) === 0x2d &&
    isDigit(b(5)) && isDigit(b(6)) && b(7) === 0x2d && isDigit(b(8)) && isDigit(b(9)) &&
    (b(10) === 0x54 || b(10) === 0x20) &&
    isDigit(b(11)) && isDigit(b(12)) && b(13) === 0x3a && isDigit(b(14)) && isDigit(b(15)) && b(16) === 0x3a &&
    isDigit(b(17)) && isDigit(b(18))
  );
}

/**
 * Parses an ISO-8601 time token (`2024-05-01T12:34:56`, optional fraction, optional `Z` or `±HH:MM`) to epoch
 * milliseconds. `hasZone` reports whether a zone was present. A time without a zone is UTC, as `aws logs tail`
 * prints it. Returns NaN for anything else.
 */
export function parseIsoTime(buf: Uint8Array, start: number, end: number, zone?: { hasZone: boolean }): number {
  if (!startsWithIsoTime(buf, start, end)) return NaN;
  const num = (i: number, n: number) => {
    let v = 0;
    for (let k = 0; k < n; k++) v = v * 10 + (buf[start + i + k] - ZERO);
    return v;
  };
  let ms = Date.UTC(num(0, 4), num(5, 2) - 1, num(8, 2), num(11, 2), num(14, 2), num(17, 2));
  let i = start + 19;
  if (i < end && buf[i] === 0x2e) {
    let scale = 100;
    let frac = 0;
    for (i++; i < end && isDigit(buf[i]); i++) {
      frac += (buf[i] - ZERO) * scale;
      scale /= 10;
    }
    ms += Math.floor(frac);
  }
  let hasZone = false;
  if (i < end && (buf[i] === 0x5a || buf[i] === 0x7a)) {
    hasZone = true;
    i++;
  } else if (i < end && (buf[i] === 0x2b || buf[i] === 0x2d)) {
    if (end - i < 6 || buf[i + 3] !== 0x3a) return NaN;
    const sign = buf[i] === 0x2b ? 1 : -1;
    const h = (buf[i + 1] - ZERO) * 10 + (buf[i + 2] - ZERO);
    const m = (buf[i + 4] - ZERO) * 10 + (buf[i + 5] - ZERO);
    if (!(h >= 0 && h < 24 && m >= 0 && m < 60)) return NaN;
    ms -= sign * (h * 60 + m) * 60_000;
    hasZone = true;
    i += 6;
  }
  if (i !== end) return NaN;
  if (zone) zone.hasZone = hasZone;
  return ms;
}

/** Whether a JSON value is an object carrying a flow log line in `message`. */
export function isMessageEvent(value: unknown): value is { message: string } {
  return typeof value === 'object' && value !== null && typeof (value as { message?: unknown }).message === 'string';
}

/** The CloudWatch stream and time of a JSON event, whichever way the producer named them. */
export function eventStream(event: Record<string, unknown>): string | null {
  const s = event.logStreamName ?? event.logStream;
  return typeof s === 'string' && s.length > 0 ? s : null;
}

export function eventTimestamp(event: Record<string, unknown>): number {
  const t = event.timestamp;
  if (typeof t === 'number' && Number.isFinite(t)) return t;
  if (typeof t === 'string' && /^\d+$/.test(t)) return Number(t);
  return NaN;
}

/** Removes ANSI colour sequences (`aws logs tail --color on`); returns the new end. */
export function stripAnsi(buf: Uint8Array, start: number, end: number): number {
  let w = start;
  for (let r = start; r < end; r++) {
    if (buf[r] === 0x1b && r + 1 < end && buf[r + 1] === 0x5b) {
      r += 2;
      while (r < end && !(buf[r] >= 0x40 && buf[r] <= 0x7e)) r++;
      continue;
    }
    buf[w++] = buf[r];
  }
  return w;
}
