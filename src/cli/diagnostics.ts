import { writeSync } from 'node:fs';
import type { DecodeCounts } from '../decode/flow-decoder.js';
import { REJECT_REASONS, type Reject } from '../decode/rejects.js';

/** pino's calling convention: `(fields, message)` or `(message)`. */
type LogFn = (fieldsOrMessage: Record<string, unknown> | string, message?: string) => void;

export interface Logger {
  info: LogFn;
  warn: LogFn;
  error: LogFn;
}

const LEVEL_PREFIX: Record<number, string> = { 40: 'warning: ', 50: 'error: ' };

/**
 * The tool's own diagnostics, always on stderr (stdout carries data): pino NDJSON for machines
 * (`{"level":30,"time":"…","name":"vpcflow",…fields,"msg":"…"}`), or one plain line per message on a terminal.
 * Written here rather than with pino, which cost ~17 ms of every run's start-up for a handful of lines.
 * Writes are synchronous so nothing is lost when the process exits.
 */
export function createLogger(format: 'text' | 'json'): Logger {
  const log =
    (level: number): LogFn =>
    (fieldsOrMessage, message) => {
      const fields = typeof fieldsOrMessage === 'string' ? undefined : fieldsOrMessage;
      const msg = typeof fieldsOrMessage === 'string' ? fieldsOrMessage : message;
      writeStderr(
        format === 'json'
          ? JSON.stringify({ level, time: new Date().toISOString(), name: 'vpcflow', ...fields, msg }) + '\n'
          : `vpcflow: ${LEVEL_PREFIX[level] ?? ''}${msg ?? ''}\n`,
      );
    };
  return { info: log(30), warn: log(40), error: log(50) };
}

const pause = new Int32Array(new SharedArrayBuffer(4));

function writeStderr(text: string): void {
  const bytes = Buffer.from(text);
  for (let off = 0; off < bytes.length; ) {
    try {
      off += writeSync(2, bytes, off);
    } catch (err) {
      // A full non-blocking pipe: wait for its reader (as pino's synchronous destination did).
      if ((err as NodeJS.ErrnoException).code === 'EAGAIN') Atomics.wait(pause, 0, 0, 10);
      // stderr closed: nothing left to tell.
      else return;
    }
  }
}

/** Rejects shown one by one before they are only counted. */
const SHOWN_REJECTS = 10;
/** How often a run of hidden rejects is mentioned. */
const REJECT_NOTICE_MS = 5000;
/** Reject file output is written in blocks of this size (synchronously, so Ctrl-C and crashes keep it). */
const REJECT_BLOCK = 64 * 1024;

/**
 * Reports rejected lines: the first few on stderr with source, line and reason, then a periodic count, so a
 * wrong --format on a huge file never floods the terminal. With a rejects file, every line is kept there
 * verbatim: `source<TAB>line<TAB>reason<TAB>text`.
 */
export class RejectReporter {
  private shown = 0;
  private hidden = 0;
  private lastNotice = 0;
  private pending: Buffer[] = [];
  private pendingBytes = 0;

  constructor(
    private readonly logger: Logger,
    private readonly quiet: boolean,
    private readonly rejectsFd: number | undefined,
    private readonly rejectsPath: string | undefined,
  ) {}

  report(reject: Reject): void {
    if (this.rejectsFd !== undefined) this.keep(reject);
    if (this.quiet) return;
    if (this.shown < SHOWN_REJECTS) {
      this.shown++;
      this.logger.warn(
        { source: reject.source, line: reject.line, reason: reject.reason },
        `${reject.source}:${reject.line}: ${reject.reason}: ${reject.message}`,
      );
      if (this.shown === SHOWN_REJECTS) {
        this.logger.warn(
          this.rejectsPath
            ? `further rejected lines are counted, not shown; all of them are in ${this.rejectsPath}`
            : 'further rejected lines are counted, not shown; use --rejects FILE to keep them',
        );
        this.lastNotice = Date.now();
      }
      return;
    }
    this.hidden++;
    const now = Date.now();
    if (now - this.lastNotice >= REJECT_NOTICE_MS) this.notice(now);
  }

  /** Writes out what is pending (end of a chunk, end of the run). */
  flush(): void {
    if (this.pendingBytes > 0 && this.rejectsFd !== undefined) {
      const block = Buffer.concat(this.pending);
      this.pending = [];
      this.pendingBytes = 0;
      let off = 0;
      while (off < block.length) off += writeSync(this.rejectsFd, block, off);
    }
  }

  finish(): void {
    this.flush();
    if (this.hidden > 0 && !this.quiet) this.notice(Date.now());
  }

  private notice(now: number): void {
    this.logger.warn({ rejected_not_shown: this.hidden }, `${this.hidden} more rejected line${this.hidden === 1 ? '' : 's'} not shown`);
    this.hidden = 0;
    this.lastNotice = now;
  }

  private keep(reject: Reject): void {
    const head = Buffer.from(`${reject.source}\t${reject.line}\t${reject.reason}\t`);
    this.pending.push(head, Buffer.from(reject.text.buffer, reject.text.byteOffset, reject.text.byteLength), NEWLINE);
    this.pendingBytes += head.length + reject.text.byteLength + 1;
    if (this.pendingBytes >= REJECT_BLOCK) this.flush();
  }
}

const NEWLINE = Buffer.from('\n');

export interface RunSummary {
  counts: DecodeCounts;
  inputs: number;
  failedInputs: number;
  bytes: number;
  elapsedMs: number;
  interrupted: boolean;
  /** Objects a resumed batch found already finished. */
  skipped?: number;
}

/** The one-line summary at the end of a run (or on Ctrl-C). */
export function logSummary(logger: Logger, s: RunSummary): void {
  const { counts } = s;
  const seconds = s.elapsedMs / 1000;
  const linesPerSecond = seconds > 0 ? Math.round(counts.lines / seconds) : counts.lines;
  const rejectParts = REJECT_REASONS.filter((r) => counts.rejects[r] > 0).map((r) => `${r} ${fmt(counts.rejects[r])}`);
  const maxRssMb = Math.round(process.resourceUsage().maxRSS / 1024);
  const text =
    `${s.interrupted ? 'interrupted: ' : ''}${fmt(counts.lines)} lines from ${fmt(s.inputs)} input${s.inputs === 1 ? '' : 's'}` +
    (s.failedInputs > 0 ? ` (${fmt(s.failedInputs)} failed)` : '') +
    (s.skipped ? ` (${fmt(s.skipped)} already done, skipped)` : '') +
    `: ${fmt(counts.records)} records, ${fmt(counts.rejected)} rejected` +
    (rejectParts.length > 0 ? ` (${rejectParts.join(', ')})` : '') +
    (counts.headers > 0 ? `, ${fmt(counts.headers)} header${counts.headers === 1 ? '' : 's'}` : '') +
    (counts.blank > 0 ? `, ${fmt(counts.blank)} blank` : '') +
    ` in ${seconds.toFixed(2)} s (${fmt(linesPerSecond)} lines/s, ${(s.bytes / 1e6 / Math.max(seconds, 1e-9)).toFixed(1)} MB/s)`;
  logger.info(
    {
      summary: true,
      lines: counts.lines,
      records: counts.records,
      rejected: counts.rejected,
      rejects: counts.rejects,
      headers: counts.headers,
      blank: counts.blank,
      inputs: s.inputs,
      failed_inputs: s.failedInputs,
      skipped_inputs: s.skipped ?? 0,
      bytes: s.bytes,
      elapsed_s: Number(seconds.toFixed(3)),
      lines_per_s: linesPerSecond,
      max_rss_mb: maxRssMb,
      interrupted: s.interrupted,
    },
    text,
  );
}

/** 1234567 -> "1,234,567" (counts only: non-negative integers). Not toLocaleString: starting ICU costs ~10 ms of start-up. */
export function fmt(n: number): string {
  return String(n).replace(/\B(?=(\d{3})+$)/g, ',');
}
