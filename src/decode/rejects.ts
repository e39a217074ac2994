/** Why a line did not become a record. Every input line is a record, a header, a blank line or one of these. */
export const REJECT_REASONS = [
  /** The number of fields fits no format (wrong format, truncated or merged lines). */
  'field_count',
  /** A numeric field holds something other than a non-negative integer in range. */
  'bad_number',
  /** An address field holds something other than an IPv4 or IPv6 address. */
  'bad_address',
  /** The line is longer than the longest line allowed (`--max-line-bytes`). */
  'line_too_long',
  /** The line is not in the input shape of its stream (`aws logs tail` prefix, JSON with a `message`). */
  'bad_envelope',
] as const;

export type RejectReason = (typeof REJECT_REASONS)[number];

export interface Reject {
  readonly reason: RejectReason;
  /** What went wrong, for a person: names the field and the value. */
  readonly message: string;
  /** The input the line came from (file path, `-` for stdin, `s3://…`). */
  readonly source: string;
  /** 1-based line number within the source (event number for JSON documents). */
  readonly line: number;
  /** The line as it was read, without its line terminator (cut at the limit for over-long lines). */
  readonly text: Uint8Array;
}

export type RejectCounts = Record<RejectReason, number>;

export function emptyRejectCounts(): RejectCounts {
  return Object.fromEntries(REJECT_REASONS.map((r) => [r, 0])) as RejectCounts;
}
