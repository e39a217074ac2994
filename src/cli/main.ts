#!/usr/bin/env node
import { closeSync, fstatSync, openSync, readFileSync, readSync, statSync, writeSync } from 'node:fs';
import { isatty } from 'node:tty';
import { fileURLToPath } from 'node:url';
import type { Writable } from 'node:stream';
import { setFlagsFromString } from 'node:v8';
import { FIELD_CATALOG } from '../decode/field-catalog.js';
import { SourceDecoder } from '../decode/source-decoder.js';
import type { Enricher } from '../enrich/enricher.js';
import type { EnrichmentSources } from '../enrich/load.js';
import { describeReadError, expandInputs, InputError, isGzipMagic, isParquetMagic } from '../sources/inputs.js';
import { NdjsonWriter } from '../sinks/ndjson.js';
import { OutputBuffers } from '../sinks/output-buffers.js';
import type { RecordWriter } from '../sinks/record-writer.js';
import { createLogger, logSummary, RejectReporter, type Logger } from './diagnostics.js';
import type { S3ClientOptions } from '../sources/s3.js';
import type { WorkerPool } from './worker-pool.js';
import { EXIT, HELP, parseCli, UsageError, type CliOptions } from './options.js';


/** How long the table waits for more input before it shows the rows it holds (`aws logs tail --follow`). */
const TABLE_IDLE_MS = 200;
const TABLE_LONGEST_HOLD_MS = 1000;

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

function fieldsTable(): string {
  const rows = FIELD_CATALOG.map((f) => [f.name, f.key, f.type, String(f.version), f.description]);
  const widths = [0, 1, 2, 3].map((i) => Math.max(...rows.map((r) => r[i].length), 8));
  const line = (r: string[]) => r.slice(0, 4).map((c, i) => c.padEnd(widths[i])).join('  ') + '  ' + r[4];
  return [line(['field', 'key', 'type', 'version', 'meaning']), ...rows.map(line)].join('\n') + '\n' +
    '\nversion 6 fields are Transit Gateway flow log fields. Fields not listed here are decoded as strings.\n';
}

export async function main(argv: readonly string[]): Promise<number> {
  // The AWS SDK warns on stderr that future releases need Node 22; stderr is for vpcflow's own diagnostics.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  // Commands win over files of the same name (give those as ./bench).
  // Loaded on demand: start-up only pays for what the command uses (the S3 SDK alone costs ~150 ms).
  if (argv[0] === 'ranges') return (await import('./ranges-command.js')).rangesCommand(argv.slice(1));
  if (argv[0] === 'gen') return (await import('./gen-command.js')).genCommand(argv.slice(1));
  if (argv[0] === 'bench') return (await import('./bench-command.js')).benchCommand(argv.slice(1));
  let options: CliOptions;
  try {
    options = parseCli(argv);
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`vpcflow: ${err.message}\nTry 'vpcflow --help'.\n`);
      return EXIT.USAGE;
    }
    throw err;
  }
  if (options.help) {
    process.stdout.write(HELP);
    return EXIT.OK;
  }
  if (options.version) {
    process.stdout.write(version() + '\n');
    return EXIT.OK;
  }
  if (options.inputs.length === 1 && options.inputs[0] === 'fields') {
    process.stdout.write(fieldsTable());
    return EXIT.OK;
  }

  const logger = createLogger(options.logFormat ?? (process.stderr.isTTY ? 'text' : 'json'));
  if (options.inputs.length === 0 && process.stdin.isTTY) {
    logger.info('reading flow log lines from the terminal; give files, pipe something in, or see vpcflow --help (Ctrl-D ends)');
  }
  if (options.unknownFields.length > 0) {
    logger.warn(`--fields: ${options.unknownFields.join(', ')} not a known field; null unless the input has it`);
  }
  const batchOption =
    options.out !== undefined ? '--out'
    : options.accounts.length > 0 ? '--account'
    : options.regions.length > 0 ? '--region'
    : options.since ? '--since'
    : options.until ? '--until'
    : options.inputs.some((i) => i.startsWith('s3://')) ? 's3:// inputs'
    : null;
  // Stdin (the default input, or `-`) is one stream: it has no key to filter by or to name an output file after, and
  // can't be shared between workers. Batch runs used to list the current directory in its place, silently.
  const readsStdin = options.inputs.length === 0 || options.inputs.includes('-');
  if (readsStdin && batchOption) {
    const what = options.inputs.length === 0 ? 'stdin, the default input when no file is given' : 'stdin (-)';
    process.stderr.write(`vpcflow: ${batchOption} works on files, directories and s3:// prefixes, not on ${what}\nTry 'vpcflow --help'.\n`);
    return EXIT.USAGE;
  }
  if (readsStdin && options.workers > 0 && !options.quiet) logger.info('--workers: stdin is one stream; it is decoded in this thread');
  const batchRun = !readsStdin && (batchOption !== null || options.workers > 0);
  const alone = batchRun && options.workersAuto && options.output !== 'parquet' ? oneFileForOneThread(options.inputs) : null;
  if (alone && !options.quiet) logger.info(`--workers auto: ${options.inputs[0]}: ${alone}; decoding it in this thread`);
  // Worker threads load their modules while this thread loads the enrichment data.
  const pool = batchRun && options.workers > 0 && !alone && options.output !== 'table' ? (await import('./worker-pool.js')).startWorkers(options.workers, { s3: s3ClientOptions(options), stdoutFd: stdoutFdForWorkers(options) }) : null;
  let enricher: Enricher | null = null;
  let enrichment: EnrichmentSources | null = null;
  if (options.enrich) {
    // Loaded on demand: --no-enrich runs do not pay for the enrichment modules (ipaddr.js, the tries) at start-up.
    const [{ loadEnrichment }, { InventoryError }, { IpRangesError }, { HOW_TO_GET_RANGES }] = await Promise.all([
      import('../enrich/load.js'),
      import('../enrich/inventory.js'),
      import('../enrich/ip-ranges.js'),
      import('../enrich/ranges-store.js'),
    ]);
    try {
      enrichment = { ipRanges: options.ipRanges, vpcs: options.vpcs, inventories: options.inventories };
      const loaded = loadEnrichment(
        { ...enrichment, onBrokenCache: (err) => logger.warn(`ignoring the cached ip-ranges.json: ${err.message}; run \`vpcflow ranges update\``) },
        // Worker threads use these ranges rather than each loading its own.
        { share: options.workers > 0 },
      );
      enricher = loaded.enricher;
      enrichment.shared = loaded.shared;
      if (!loaded.awsRanges && !options.quiet) logger.warn(HOW_TO_GET_RANGES);
    } catch (err) {
      if (err instanceof IpRangesError || err instanceof InventoryError) {
        process.stderr.write(`vpcflow: ${err.message}\n`);
        return EXIT.USAGE;
      }
      throw err;
    }
  }
  let rejectsFd: number | undefined;
  if (options.rejectsFile !== undefined) {
    try {
      rejectsFd = openSync(options.rejectsFile, 'w');
    } catch (err) {
      process.stderr.write(`vpcflow: --rejects: cannot write ${options.rejectsFile}: ${(err as Error).message}\n`);
      return EXIT.USAGE;
    }
  }
  try {
    if (batchRun) return await batch(options, logger, rejectsFd, enricher, enrichment, pool);
    return await run(options, logger, rejectsFd, enricher);
  } finally {
    if (rejectsFd !== undefined) closeSync(rejectsFd);
  }
}

async function run(options: CliOptions, logger: Logger, rejectsFd: number | undefined, enricher: Enricher | null): Promise<number> {
  const started = performance.now();
  const stdout = process.stdout;
  const output = options.output ?? (stdout.isTTY ? 'table' : 'ndjson');
  const onDropped = (keys: string[]) =>
    logger.warn(`the format changed mid-stream; ${output} columns follow the first one, so ${keys.join(', ')} ${keys.length === 1 ? 'is' : 'are'} left out (use --fields or NDJSON)`);
  // Output chunks go out without a copy and their buffers come back once written (see OutputBuffers).
  const buffers = new OutputBuffers();
  const writerOptions = { fields: options.fields, isoTimes: options.isoTimes, buffers };
  const writer: RecordWriter =
    // CSV and table writers are loaded only when asked for: fewer modules to compile at start-up.
    output === 'csv' ? new (await import('../sinks/csv.js')).CsvWriter(writerOptions, onDropped)
    : output === 'table' ? new (await import('../sinks/table.js')).TableWriter(writerOptions, onDropped)
    : new NdjsonWriter(writerOptions);
  const rejects = new RejectReporter(logger, options.quiet, rejectsFd, options.rejectsFile);
  const decoder = new SourceDecoder(
    {
      record: enricher
        ? (rec) => {
            enricher.enrich(rec);
            writer.write(rec);
          }
        : (rec) => writer.write(rec),
      reject: (r) => rejects.report(r),
    },
    { formats: options.formats, shape: options.shape, maxLineBytes: options.maxLineBytes },
  );

  let inputs = 0;
  let failedInputs = 0;
  let bytes = 0;
  const summarize = (interrupted: boolean) => {
    rejects.finish();
    if (!options.quiet) {
      logSummary(logger, { counts: decoder.counts, inputs, failedInputs, bytes, elapsedMs: performance.now() - started, interrupted });
    }
  };

  // The reader of our output went away (`| head`): stop quietly, as a Unix filter does.
  stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') {
      rejects.flush();
      process.exit(EXIT.OK);
    }
    logger.error(`cannot write output: ${err.message}`);
    process.exit(EXIT.DATA);
  });

  process.once('SIGINT', () => {
    try {
      const held = writer.take(true);
      if (held.length > 0) writeSync(1, typeof held === 'string' ? Buffer.from(held) : held);
    } catch {
      // Output is gone too; the summary still tells what was done.
    }
    summarize(true);
    process.exit(EXIT.INTERRUPTED);
  });

  let idleTimer: NodeJS.Timeout | undefined;
  const flushOutput = async () => {
    rejects.flush();
    const text = writer.take();
    const written = () => {
      if (typeof text !== 'string') buffers.put(text);
    };
    if (text.length > 0 && !stdout.write(text, written)) await drained(stdout);
    // Held table rows are shown once input pauses for TABLE_IDLE_MS, or once the oldest has waited
    // TABLE_LONGEST_HOLD_MS (a stream that trickles without pausing). The timer restarts with every chunk: started
    // once, it cut pages wherever 200 ms ran out, and a 200k-line table's column widths differed from run to run.
    clearTimeout(idleTimer);
    idleTimer = undefined;
    if (!writer.holding) return;
    const wait = Math.min(TABLE_IDLE_MS, (writer.heldSince ?? 0) + TABLE_LONGEST_HOLD_MS - performance.now());
    idleTimer = setTimeout(() => {
      idleTimer = undefined;
      const held = writer.take(true);
      if (held.length > 0) stdout.write(held);
    }, Math.max(0, wait));
  };

  for await (const input of expandInputs(options.inputs)) {
    inputs++;
    if (input instanceof InputError) {
      failedInputs++;
      logger.error({ source: input.source }, input.message);
      continue;
    }
    decoder.begin(input.name);
    const linesBefore = decoder.counts.lines;
    try {
      const stream = await input.open();
      for await (const chunk of stream) {
        bytes += chunk.length;
        decoder.push(chunk);
        await flushOutput();
      }
    } catch (err) {
      failedInputs++;
      const message = err instanceof InputError ? err.message : `${input.name}: ${describeReadError(err)}`;
      logger.error({ source: input.name }, `${message}${decoder.counts.lines > linesBefore ? ' (the lines read before the error are kept)' : ''}`);
    }
    decoder.end();
    await flushOutput();
  }
  clearTimeout(idleTimer);
  const rest = writer.take(true);
  if (rest.length > 0 && !stdout.write(rest)) await drained(stdout);

  summarize(false);
  if (failedInputs > 0) return EXIT.DATA;
  if (options.strict && decoder.counts.rejected > 0) return EXIT.DATA;
  return EXIT.OK;
}

/**
 * Parquet output makes its garbage in bursts (a row group's values, encodings and pages, 10,000 rows at a time)
 * over a small live set, and V8 let old space grow to ~4x that live set between full collections. A growing factor
 * of 1.5 keeps it near 1.5x: on the 1M-line bench file, peak 151 -> 127 MB for 8.9 -> 9.4 s (medians of 3, A/B with
 * the flag set by a preload). V8 reads the flag whenever it sets the next limit. Node warns that changing V8 flags
 * after start may do nothing or worse; this one only tunes when the collector runs, and where it is refused the
 * default growth stays.
 */
function collectGarbageSoonerForParquet(): void {
  try {
    setFlagsFromString('--heap-growing-percent=50');
  } catch {
    // the default growth
  }
}

/** S3 prefixes and directories of exports: many objects, in parallel, resumable with --out. */
async function batch(
  options: CliOptions,
  logger: Logger,
  rejectsFd: number | undefined,
  enricher: Enricher | null,
  enrichment: EnrichmentSources | null,
  pool: WorkerPool | null,
): Promise<number> {
  const started = performance.now();
  const rejects = new RejectReporter(logger, options.quiet, rejectsFd, options.rejectsFile);
  const output = options.output ?? 'ndjson';
  if (output === 'table') {
    process.stderr.write('vpcflow: batch input is written as ndjson, csv or parquet (use -o)\n');
    return EXIT.USAGE;
  }
  if (output === 'parquet') collectGarbageSoonerForParquet();
  let interrupted = false;
  process.once('SIGINT', () => {
    interrupted = true;
    // A second Ctrl-C stops at once; unfinished outputs are only temporary files, removed by the next run.
    process.once('SIGINT', () => process.exit(EXIT.INTERRUPTED));
  });
  const outputFailed = (message: string) => {
    logger.error(`cannot write output: ${message}`);
    process.exit(EXIT.DATA);
  };
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(EXIT.OK);
    outputFailed(err.message);
  });
  const { runBatch } = await import('./batch.js');
  const summary = await runBatch(
    {
      inputs: options.inputs.length > 0 ? options.inputs : ['.'],
      filter: { accounts: options.accounts.length ? options.accounts : undefined, regions: options.regions.length ? options.regions : undefined, since: options.since, until: options.until },
      s3: s3ClientOptions(options),
      settings: {
        decoder: { formats: options.formats, shape: options.shape, maxLineBytes: options.maxLineBytes },
        fields: options.fields,
        isoTimes: options.isoTimes,
        output,
        outDir: options.out ?? null,
      },
      concurrency: options.concurrency,
      enricher,
      enrichment,
      logger,
      reportReject: (r) => rejects.report(r),
      progressBar: process.stderr.isTTY === true,
      quiet: options.quiet,
      stdout: process.stdout,
      outputFailed,
      pool,
    },
    () => interrupted,
  );
  rejects.finish();
  if (!options.quiet) {
    logSummary(logger, {
      counts: summary.counts,
      inputs: summary.objects + summary.failed,
      failedInputs: summary.failed,
      bytes: summary.bytes,
      elapsedMs: performance.now() - started,
      interrupted: summary.interrupted,
      skipped: summary.skipped,
    });
  }
  if (summary.interrupted) return EXIT.INTERRUPTED;
  if (summary.failed > 0 || (options.strict && summary.counts.rejected > 0)) return EXIT.DATA;
  return EXIT.OK;
}

function s3ClientOptions(options: CliOptions): S3ClientOptions {
  return { profile: options.profile, region: options.regions[0], endpointUrl: options.endpointUrl, pathStyle: options.pathStyle };
}

/**
 * Workers cost ~0.3 s to start and warm up, each on its own, and only a big plain file is shared between them: one
 * .gz or Parquet file goes to a single worker, which then does alone what this thread does with libuv's threads
 * gunzipping beside it (a 1M-line .gz: 1.17 s with `--workers 2`, 1.01 s without), and on 2 cores a plain file
 * gains from two workers only from ~2M lines, ~230 MB (1M lines: 0.99 against 0.89 s; 2M: 1.39 against 1.43 s).
 * With more cores that point comes sooner, so files under 128 MiB go without. What a single local input is, when it
 * is such a file (why, for the log), else null.
 */
function oneFileForOneThread(inputs: readonly string[]): string | null {
  if (inputs.length !== 1 || inputs[0].startsWith('s3://')) return null;
  const file = inputs[0];
  let size: number;
  const head = Buffer.alloc(4);
  try {
    const stat = statSync(file);
    if (!stat.isFile()) return null;
    size = stat.size;
    const fd = openSync(file, 'r');
    try {
      readSync(fd, head, 0, head.length, 0);
    } finally {
      closeSync(fd);
    }
  } catch {
    return null; // The run reports it.
  }
  if (isGzipMagic(head)) return 'one gzip file cannot be shared between workers, and one thread decodes it faster';
  if (isParquetMagic(head)) return 'one Parquet file cannot be shared between workers, and one thread decodes it faster';
  if (size < SMALL_FOR_WORKERS) return `${(size / 1e6).toFixed(1)} MB is under the ${SMALL_FOR_WORKERS >> 20} MiB from which workers pay for their start-up`;
  return null;
}

const SMALL_FOR_WORKERS = 128 * 1024 * 1024;

/** Stdout's descriptor when worker threads may write it themselves: records go to stdout, and it is a file. */
function stdoutFdForWorkers(options: CliOptions): number | undefined {
  return options.out === undefined && stdoutIsFile() ? 1 : undefined;
}

/** Whether stdout is a regular file or a device like /dev/null: a write there never waits for a reader. */
function stdoutIsFile(): boolean {
  try {
    const stat = fstatSync(1);
    return stat.isFile() || (stat.isCharacterDevice() && !isatty(1));
  } catch {
    return false;
  }
}

function drained(stream: Writable): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      stream.off('drain', done);
      stream.off('close', done);
      stream.off('error', done);
      resolve();
    };
    stream.on('drain', done);
    stream.on('close', done);
    stream.on('error', done);
  });
}

if (process.argv[1] && fileURLToPath(import.meta.url) === (await import('node:fs')).realpathSync(process.argv[1])) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (err) => {
      process.stderr.write(`vpcflow: internal error: ${(err as Error)?.stack ?? err}\n`);
      process.exitCode = 70;
    },
  );
}
