/**
 * Where VPC Flow Logs put their objects in S3, and what an object key says about its content: pure functions, no I/O.
 *
 * Layouts (AWS VPC User Guide, "Flow log files"; `bucket[/prefix]/` comes first in every case):
 * - default      `AWSLogs/{account}/vpcflowlogs/{region}/{yyyy}/{mm}/{dd}/[{hh}/]{file}`
 * - hive         `AWSLogs/aws-account-id={account}/aws-service=vpcflowlogs/aws-region={region}/year={yyyy}/month={mm}/day={dd}/[hour={hh}/]{file}`
 * - organization `AWSLogs/{o-xxxxxxxxxx}/{account}/vpcflowlogs/…` (either of the above below the organization id)
 * File name: `{account}_vpcflowlogs_{region}_{flow-log-id}_{YYYYMMDDTHHmmZ}_{hash}.log.gz` (`.log.parquet` for Parquet);
 * the time is the start of the 5-minute window the file covers.
 */

export interface S3Location {
  bucket: string;
  prefix: string;
}

/** `s3://bucket/some/prefix` (the prefix may be empty, and is taken as written: no percent-decoding). */
export function parseS3Url(url: string): S3Location {
  const m = /^([a-z][a-z0-9+.-]*):\/\/([^/]*)(?:\/(.*))?$/i.exec(url);
  if (!m) throw new Error(`not an S3 URL: "${url}" (expected s3://bucket/prefix)`);
  if (m[1].toLowerCase() !== 's3') throw new Error(`not an S3 URL: "${url}" has the scheme ${m[1]}:// (expected s3://bucket/prefix)`);
  const bucket = m[2];
  if (bucket === '') throw new Error(`no bucket name in "${url}" (expected s3://bucket/prefix)`);
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(bucket)) throw new Error(`invalid bucket name "${bucket}" in "${url}"`);
  return { bucket, prefix: m[3] ?? '' };
}

/** Which objects to keep. Empty or absent lists keep everything; `since` is inclusive, `until` exclusive. */
export interface KeyFilter {
  accounts?: string[];
  regions?: string[];
  since?: Date;
  until?: Date;
}

/**
 * Facts read from a flow-log object key in any of AWS's layouts: default
 * `…/AWSLogs/{account}/vpcflowlogs/{region}/{yyyy}/{mm}/{dd}/[{hh}/]{file}`, hive
 * `…/AWSLogs/aws-account-id={a}/aws-service=vpcflowlogs/aws-region={r}/year={y}/month={m}/day={d}/[hour={h}/]{file}`,
 * organization `…/AWSLogs/{o-xxxx}/{account}/vpcflowlogs/…`. File name
 * `{account}_vpcflowlogs_{region}_{flow-log-id}_{YYYYMMDDTHHmmZ}_{hash}.log.gz` (or `.log.parquet`/`.parquet`).
 * null fields when absent.
 *
 * `account` and `region` come from the path when the layout is known, else from the file name; `date` and `hour`
 * come from the path only (the partition the object sits in); `fileTime` from the file name only.
 */
export interface FlowLogKey {
  account: string | null;
  region: string | null;
  /** yyyy-mm-dd */
  date: string | null;
  /** hh, with per-hour partitions */
  hour: string | null;
  /** From the file name: the start of the 5-minute window the file covers. */
  fileTime: Date | null;
  layout: 'default' | 'hive' | 'unknown';
  format: 'text' | 'parquet';
}

/** How long one flow-log file covers: AWS publishes a file every 5 minutes. */
export const FILE_WINDOW_MS = 5 * 60 * 1000;
const HOUR_MS = 3600 * 1000;
const DAY_MS = 24 * HOUR_MS;

const ACCOUNT = /^\d{12}$/;
const ORG = /^o-[a-z0-9]{10,32}$/;
const FILE_TIME = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})Z$/;

/**
 * Whether a key can be a flow-log object at all: not a `/` folder marker, and ending in `.gz`, `.log` or `.parquet`
 * (`.log.gz` and `.log.parquet` as AWS writes them; `.log` for an export decompressed by someone).
 */
export function isFlowLogObjectKey(key: string): boolean {
  return !key.endsWith('/') && /\.(gz|log|parquet)$/i.test(key);
}

export function parseFlowLogKey(key: string): FlowLogKey {
  const segments = key.split('/');
  const name = segments[segments.length - 1];
  const file = parseFileName(name);
  let path: PathFacts | null = null;
  for (let i = 0; i < segments.length - 1 && !path; i++) {
    if (segments[i] === 'AWSLogs') path = parseTree(segments, i + 1);
  }
  return {
    account: path?.account ?? file?.account ?? null,
    region: path?.region ?? file?.region ?? null,
    date: path?.date ?? null,
    hour: path?.hour ?? null,
    fileTime: file?.time ?? null,
    layout: path?.layout ?? 'unknown',
    format: /\.parquet$/i.test(name) ? 'parquet' : 'text',
  };
}

/**
 * Whether an object with these facts can hold records the filter asks for: its account and region in the lists
 * (an unknown one is not), and its time span overlapping [since, until): the 5-minute window of the file time, else
 * the hour or day of its partition. An object with no time at all never matches a time filter.
 */
export function keyMatches(key: FlowLogKey, filter: KeyFilter): boolean {
  if (filter.accounts && filter.accounts.length > 0 && (key.account === null || !filter.accounts.includes(key.account))) return false;
  if (filter.regions && filter.regions.length > 0 && (key.region === null || !filter.regions.includes(key.region))) return false;
  if (!filter.since && !filter.until) return true;
  const span = keyTimeSpan(key);
  if (!span) return false;
  const since = filter.since ? filter.since.getTime() : -Infinity;
  const until = filter.until ? filter.until.getTime() : Infinity;
  return since < until && span.start < until && span.end > since;
}

/** The time an object covers, as epoch milliseconds [start, end): file window, else partition hour, else day. */
export function keyTimeSpan(key: FlowLogKey): { start: number; end: number } | null {
  if (key.fileTime) {
    const start = key.fileTime.getTime();
    return { start, end: start + FILE_WINDOW_MS };
  }
  if (!key.date) return null;
  const [y, m, d] = key.date.split('-').map(Number);
  if (key.hour !== null) {
    const start = Date.UTC(y, m - 1, d, Number(key.hour));
    return { start, end: start + HOUR_MS };
  }
  const start = Date.UTC(y, m - 1, d);
  return { start, end: start + DAY_MS };
}

interface PathFacts {
  layout: 'default' | 'hive';
  account: string;
  region: string | null;
  date: string | null;
  hour: string | null;
}

/**
 * The facts of the segments after `AWSLogs/`, up to (not including) the file name; null when they are not a flow-log
 * layout (e.g. `AWSLogs/{account}/CloudTrail/…`).
 */
function parseTree(segments: string[], at: number): PathFacts | null {
  const last = segments.length - 1; // the file name
  let i = at;
  if (i < last && ORG.test(segments[i])) i++;
  if (i + 1 >= last) return null;
  const first = segments[i];
  let layout: 'default' | 'hive';
  let account: string;
  if (ACCOUNT.test(first) && segments[i + 1] === 'vpcflowlogs') {
    layout = 'default';
    account = first;
  } else if (first.startsWith('aws-account-id=') && ACCOUNT.test(first.slice(15)) && segments[i + 1] === 'aws-service=vpcflowlogs') {
    layout = 'hive';
    account = first.slice(15);
  } else {
    return null;
  }
  i += 2;
  const part = (name: string): string | null => {
    if (i >= last) return null;
    const seg = segments[i];
    if (layout === 'default') return seg;
    return seg.startsWith(`${name}=`) ? seg.slice(name.length + 1) : null;
  };
  const region = part('aws-region');
  if (region === null || region === '') return { layout, account, region: null, date: null, hour: null };
  i++;
  const year = part('year');
  const month = year !== null && /^\d{4}$/.test(year) ? (i++, part('month')) : null;
  const day = month !== null && /^\d{1,2}$/.test(month) ? (i++, part('day')) : null;
  let date: string | null = null;
  let hour: string | null = null;
  if (year && month && day && /^\d{1,2}$/.test(day)) {
    date = validDate(Number(year), Number(month), Number(day));
    i++;
    const h = date ? part('hour') : null;
    if (h !== null && /^\d{1,2}$/.test(h) && Number(h) < 24) hour = h.padStart(2, '0');
  }
  return { layout, account, region, date, hour };
}

function validDate(y: number, m: number, d: number): string | null {
  const t = new Date(Date.UTC(y, m - 1, d));
  if (t.getUTCFullYear() !== y || t.getUTCMonth() !== m - 1 || t.getUTCDate() !== d) return null;
  return `${String(y).padStart(4, '0')}-${String(m).padStart(2, '0')}-${String(d).padStart(2, '0')}`;
}

/** `{account}_vpcflowlogs_{region}_{flow-log-id}_{YYYYMMDDTHHmmZ}_{hash}.{ext}`, or null. */
function parseFileName(name: string): { account: string; region: string; time: Date | null } | null {
  const dot = name.indexOf('.');
  const parts = (dot < 0 ? name : name.slice(0, dot)).split('_');
  if (parts.length !== 6 || parts[1] !== 'vpcflowlogs' || !ACCOUNT.test(parts[0]) || !/^[a-z0-9-]+$/.test(parts[2])) return null;
  const m = FILE_TIME.exec(parts[4]);
  let time: Date | null = null;
  if (m) {
    const [y, mo, d, h, mi] = m.slice(1).map(Number);
    if (validDate(y, mo, d) && h < 24 && mi < 60) time = new Date(Date.UTC(y, mo - 1, d, h, mi));
  }
  return { account: parts[0], region: parts[2], time };
}
