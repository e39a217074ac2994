import { availableParallelism } from 'node:os';
import { parseArgs } from 'node:util';
import { INPUT_SHAPES } from '../decode/envelope.js';
import { fieldKey, knownField } from '../decode/field-catalog.js';
import { parseFormat, FormatSet, FormatError, type Format } from '../decode/format.js';
import { DERIVED_KEYS } from '../decode/record.js';
import { OUTPUT_FORMATS, type OutputFormat } from '../sinks/record-writer.js';
import type { SourceDecoderOptions } from '../decode/source-decoder.js';
import { DEFAULT_MAX_LINE_BYTES } from '../decode/line-framer.js';

/** Exit codes, documented in `--help` and README. */
export const EXIT = {
  OK: 0,
  /** Some input could not be read, or (with --strict) some line was rejected. */
  DATA: 1,
  /** The command line is wrong. */
  USAGE: 2,
  /** Stopped by Ctrl-C (128 + SIGINT). */
  INTERRUPTED: 130,
} as const;

/** The options that say where enrichment data comes from, shared by the main command, `ranges` and `bench`. */
export const ENRICHMENT_OPTIONS = {
  'ip-ranges': { type: 'string' },
  vpc: { type: 'string', multiple: true },
  inventory: { type: 'string', multiple: true },
} as const;

export class UsageError extends Error {
  override name = 'UsageError';
}

export interface CliOptions {
  inputs: string[];
  formats: Format[];
  shape: NonNullable<SourceDecoderOptions['shape']>;
  output: OutputFormat | 'parquet' | undefined;
  fields: string[] | undefined;
  /** --fields names that are neither in the catalog nor derived: allowed (a header may bring them), likely typos. */
  unknownFields: string[];
  isoTimes: boolean;
  rejectsFile: string | undefined;
  strict: boolean;
  maxLineBytes: number;
  quiet: boolean;
  logFormat: 'text' | 'json' | undefined;
  /** Enrichment: on unless --no-enrich. */
  enrich: boolean;
  ipRanges: string | undefined;
  vpcs: string[];
  inventories: string[];
  /** Batch processing (S3 or downloaded exports). */
  out: string | undefined;
  accounts: string[];
  regions: string[];
  since: Date | undefined;
  until: Date | undefined;
  profile: string | undefined;
  endpointUrl: string | undefined;
  pathStyle: boolean;
  concurrency: number;
  workers: number;
  /** `--workers auto`: one per core, unless the input is one file they would not speed up (see main.ts). */
  workersAuto: boolean;
  help: boolean;
  version: boolean;
}

export const HELP = `vpcflow - decode AWS VPC Flow Logs into NDJSON, CSV or a table

Usage:
  vpcflow [options] [FILE|DIR|-]...     decode and enrich flow log records
  vpcflow fields                        list every field vpcflow knows, with its type and version
  vpcflow ranges update|info|lookup     manage AWS's ip-ranges.json (see vpcflow ranges --help)
  vpcflow gen [--lines N] [--seed S]    write realistic generated flow logs (see vpcflow gen --help)
  vpcflow bench [FILE...]               measure each stage on your files (see vpcflow bench --help)

Inputs are files, directories (read recursively, in name order) or - for stdin (the default). gzip is
detected from the content, so S3 exports (.log.gz) can be given as they are. Each input's shape is detected
from its first line:
  raw        one record per line, as in S3 exports; header lines set the format of the lines after them
  tail       \`aws logs tail\` output (--format detailed, short or json); keeps log_stream and log_timestamp
  jsonl      JSON lines with a "message" field (Firehose delivery, jq -c '.events[]')
  json       JSON documents of log events: \`aws logs filter-log-events\` / \`get-log-events\` output,
             CloudWatch Logs subscription payloads (also still wrapped in {"awslogs":{"data":...}})

Options:
  -f, --format FORMAT    the flow log's format when the input has no header line, as AWS writes it
                         ('\${version} \${vpc-id} ...'), as field names ('version vpc-id ...') or with
                         underscores. Repeat for input that mixes layouts: each line gets the format
                         with its number of fields (two formats with the same count are refused).
                         Default: the default format (14 version 2 fields). A header line in the input wins.
  -i, --input SHAPE      auto (default), raw, tail, jsonl or json
  -o, --output FORMAT    ndjson (default when stdout is not a terminal), table (default on a terminal), csv
      --fields LIST      output only these keys, in this order: comma-separated, e.g.
                         srcaddr,dstaddr,dstport,action (dashed names work too)
      --iso-times        add start_iso and end_iso (and log_timestamp_iso): ISO-8601 UTC times
      --rejects FILE     write every rejected line to FILE: source, line number, reason and the line
                         itself, tab-separated, so nothing is lost
      --strict           exit with status 1 if any line is rejected
      --max-line-bytes N reject lines longer than N bytes (default ${DEFAULT_MAX_LINE_BYTES})
Enrichment (who owns each address):
      --ip-ranges FILE   AWS's ip-ranges.json (default: $VPCFLOW_IP_RANGES, then the copy that
                         \`vpcflow ranges update\` keeps in the cache); without one, aws is null
      --vpc ID=CIDR[,CIDR...]
                         one of your VPCs, e.g. --vpc vpc-0abc=10.0.0.0/16,2600:1f18::/56 (repeatable)
      --inventory FILE   JSON printed by aws ec2 describe-vpcs, describe-subnets,
                         describe-network-interfaces or describe-addresses (repeatable)
      --no-enrich        decode only: no src/dst objects
Batch processing of flow-log exports (s3://bucket/prefix inputs, or local copies with the same layout;
not stdin, which --workers decodes in the main thread):
      --out DIR          write one gzip NDJSON/CSV file per input object under DIR (mirroring its key), or
                         with -o parquet typed Parquet files in hive partitions region=.../date=.../
                         (an object with over 1M rows in a partition continues in NAME.2.parquet, ...);
                         a manifest there (_vpcflow-manifest.jsonl) lets an interrupted run resume
      --account ID       only this account's objects (repeatable)
      --region REGION    only this flow-log region (repeatable); the first is also the S3 client's region
      --since TIME       only objects from TIME on: 2024-11-07, 2024-11-07T17:20Z, or 30m / 12h / 7d ago
      --until TIME       only objects before TIME
      --profile NAME     AWS profile (else the standard credential chain, AWS_PROFILE, ...)
      --endpoint-url URL S3-compatible endpoint (else $AWS_ENDPOINT_URL_S3); path-style is used for IPs and
      --path-style       localhost, or when asked
      --concurrency N    objects in flight at once (default 8)
      --workers N|auto   decode in N worker threads (auto: one per core, or none for a single .gz or Parquet
                         file or one under 128 MiB, which one thread decodes faster; default: none, or one
                         with -o parquet); a big plain file is shared between them in parts, its output in order
  -q, --quiet            no summary and no per-line reject messages on stderr (errors still show)
      --log-format F     diagnostics on stderr as text (default on a terminal) or json (pino NDJSON)
  -h, --help             this help
      --version          the version

Records: one per line, keys are AWS's snake_case names (account_id, log_status, pkt_srcaddr, ...). Every
field of the format is present; '-' becomes null; numbers are JSON numbers; account_id stays a string.
Added: protocol_name (IANA keyword) when the format has protocol, tcp_flags_names when it has tcp-flags,
and for each address field an object src / dst / pkt_src / pkt_dst:
  {"scope": "vpc|aws|private|special|internet",
   "aws": {"service", "services", "region", "border_group", "prefix"} or null,
   "vpc": {"vpc_id", "subnet_id", "eni", "instance_id", "resource": {"type", "description"}} or null}
plus direction (ingress/egress, from your interfaces' addresses) when the format has no flow-direction.
CSV and the table flatten these with dots: dst.aws.service, src.vpc.eni, ...

Bad lines never stop a run: each is counted by reason (field_count, bad_number, bad_address,
line_too_long, bad_envelope) and reported on stderr with its source and line number. A one-line summary
follows on stderr at the end (and on Ctrl-C).

Plain lines of one layout are decoded, and NDJSON and CSV written, by small C code built at install
(node-gyp); without it, or with VPCFLOW_NATIVE=0, the same output comes from JavaScript alone, slower
('vpcflow bench' says which ran).

Exit status:
  0    done (rejected lines are counted, not fatal, unless --strict)
  1    an input could not be read (missing, corrupt gzip), or --strict and a line was rejected
  2    usage error (unknown option, bad --format)
  130  interrupted (Ctrl-C); the summary tells how far it got

Examples:
  vpcflow fixtures/sample-default.log
  aws logs tail my-flow-logs --follow | vpcflow -o table
  vpcflow -f '\${version} \${vpc-id} \${srcaddr} \${dstaddr} \${action}' exported/ --rejects bad.tsv
  vpcflow --vpc vpc-0abc=10.0.0.0/16 --inventory enis.json --fields srcaddr,dst.aws.service flows.log.gz
  aws logs filter-log-events --log-group-name my-flow-logs | vpcflow --fields srcaddr,dstaddr,bytes -o csv
  vpcflow s3://my-logs/AWSLogs/ --region eu-west-1 --since 2d --out flows/ -o parquet --workers auto
`;

function positive(text: string | undefined, name: string, fallback: number, zeroOk = false, orElse = ''): number {
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!Number.isInteger(n) || n < (zeroOk ? 0 : 1)) throw new UsageError(`${name} must be a whole number${zeroOk ? '' : ' of at least 1'}${orElse}, not '${text}'`);
  return n;
}

const RELATIVE = /^(\d+)([smhdw])$/;
const UNIT_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/** `2024-11-07`, `2024-11-07T17:20Z` (UTC when no zone is given) or, as in `aws logs tail --since`, `30m`, `12h`, `7d`. */
function parseTime(text: string, name: string, now = Date.now()): Date {
  const rel = RELATIVE.exec(text);
  if (rel) return new Date(now - Number(rel[1]) * UNIT_MS[rel[2]]);
  const iso = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?(Z|[+-]\d{2}:\d{2})?$/.exec(text);
  const d = iso ? new Date(iso[1] && !iso[4] ? `${text}Z` : !iso[1] ? `${text}T00:00:00Z` : text) : null;
  if (!d || Number.isNaN(d.getTime())) throw new UsageError(`${name} must be a date (2024-11-07), a time (2024-11-07T17:20Z) or a duration ago (30m, 12h, 7d), not '${text}'`);
  return d;
}

export function parseCli(argv: readonly string[]): CliOptions {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      allowPositionals: true,
      strict: true,
      options: {
        format: { type: 'string', short: 'f', multiple: true },
        input: { type: 'string', short: 'i' },
        output: { type: 'string', short: 'o' },
        fields: { type: 'string' },
        'iso-times': { type: 'boolean' },
        rejects: { type: 'string' },
        strict: { type: 'boolean' },
        'max-line-bytes': { type: 'string' },
        quiet: { type: 'boolean', short: 'q' },
        'log-format': { type: 'string' },
        ...ENRICHMENT_OPTIONS,
        'no-enrich': { type: 'boolean' },
        out: { type: 'string' },
        account: { type: 'string', multiple: true },
        region: { type: 'string', multiple: true },
        since: { type: 'string' },
        until: { type: 'string' },
        profile: { type: 'string' },
        'endpoint-url': { type: 'string' },
        'path-style': { type: 'boolean' },
        concurrency: { type: 'string' },
        workers: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
        version: { type: 'boolean' },
      },
    });
  } catch (err) {
    throw new UsageError((err as Error).message.replace(/\. To specify a positional argument.*$/s, ''));
  }
  const v = parsed.values;

  let formats: Format[] = [];
  try {
    formats = (v.format ?? []).map((f) => parseFormat(f));
    new FormatSet(formats);
  } catch (err) {
    if (err instanceof FormatError) throw new UsageError(`--format: ${err.message}`);
    throw err;
  }

  const shape = v.input ?? 'auto';
  if (!INPUT_SHAPES.includes(shape)) throw new UsageError(`--input must be one of ${INPUT_SHAPES.join(', ')}, not '${shape}'`);

  const output = v.output;
  const outputs: readonly string[] = v.out !== undefined ? ['ndjson', 'csv', 'parquet'] : OUTPUT_FORMATS;
  if (output !== undefined && !outputs.includes(output)) {
    throw new UsageError(
      output === 'parquet' ? '--output parquet needs --out DIR (Parquet files are written with hive partitions)' : `--output must be one of ${outputs.join(', ')}, not '${output}'`,
    );
  }
  if (v.out !== undefined && output === 'table') throw new UsageError('--out writes ndjson, csv or parquet files, not a table');
  const since = v.since !== undefined ? parseTime(v.since, '--since') : undefined;
  const until = v.until !== undefined ? parseTime(v.until, '--until') : undefined;
  if (since && until && since >= until) throw new UsageError('--since must be before --until');
  for (const a of v.account ?? []) if (!/^\d{12}$/.test(a)) throw new UsageError(`--account must be a 12-digit AWS account id, not '${a}'`);
  const concurrency = positive(v.concurrency, '--concurrency', 8);
  // -o parquet runs in one worker thread unless told otherwise: a worker's young generation is 4 MB, where the main
  // thread's grows to 32 MB under Parquet's garbage, and the 10M-line bench file peaked at 134 MB in a worker against
  // 142-156 MB in the main thread (8 runs), in the same time (93.5 against 92.8 s, one run each in a row).
  const workers = v.workers === 'auto' ? availableParallelism() : positive(v.workers, '--workers', output === 'parquet' ? 1 : 0, true, " or 'auto'");

  let fields: string[] | undefined;
  let unknownFields: string[] = [];
  if (v.fields !== undefined) {
    fields = v.fields
      .split(',')
      .map((f) => f.trim())
      .filter((f) => f.length > 0)
      .map((f) => knownField(f)?.key ?? fieldKey(f));
    if (fields.length === 0) throw new UsageError('--fields needs at least one field name');
    unknownFields = fields.filter((f) => !knownField(f) && !DERIVED_KEYS.includes(f) && !formats.some((fm) => fm.indexOf.has(f)));
  }

  let maxLineBytes = DEFAULT_MAX_LINE_BYTES;
  if (v['max-line-bytes'] !== undefined) {
    maxLineBytes = Number(v['max-line-bytes']);
    if (!Number.isInteger(maxLineBytes) || maxLineBytes < 64) throw new UsageError('--max-line-bytes must be an integer of at least 64');
  }

  const logFormat = v['log-format'];
  if (logFormat !== undefined && logFormat !== 'text' && logFormat !== 'json') {
    throw new UsageError(`--log-format must be text or json, not '${logFormat}'`);
  }

  return {
    inputs: parsed.positionals,
    formats,
    shape: shape as CliOptions['shape'],
    output: output as CliOptions['output'],
    fields,
    unknownFields,
    isoTimes: v['iso-times'] ?? false,
    rejectsFile: v.rejects,
    strict: v.strict ?? false,
    maxLineBytes,
    quiet: v.quiet ?? false,
    logFormat,
    enrich: !(v['no-enrich'] ?? false),
    ipRanges: v['ip-ranges'],
    vpcs: v.vpc ?? [],
    inventories: v.inventory ?? [],
    out: v.out,
    accounts: v.account ?? [],
    regions: v.region ?? [],
    since,
    until,
    profile: v.profile,
    endpointUrl: v['endpoint-url'],
    pathStyle: v['path-style'] ?? false,
    concurrency,
    workers,
    workersAuto: v.workers === 'auto',
    help: v.help ?? false,
    version: v.version ?? false,
  };
}
