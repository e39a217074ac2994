import { parseArgs } from 'node:util';
import { once } from 'node:events';
import { parseFormat, FormatError } from '../decode/format.js';
import { batches, generateFlowLogs } from '../sources/generate.js';
import { EXIT } from './options.js';

const GEN_HELP = `vpcflow gen - realistic generated flow logs, the same for the same seed

Usage:
  vpcflow gen [--lines N] [--seed S] [--format FORMAT] [--shape raw|tail] [--header]

  --lines N        records to write (default 1000000)
  --seed S         another seed gives other (equally realistic) traffic (default 1)
  --format FORMAT  a custom format, as for vpcflow --format (default: the default v2 format)
  --shape SHAPE    raw (S3 export lines, the default) or tail (\`aws logs tail\` detailed output)
  --header         start with the S3 header line (raw shape)

The traffic: a few busy interfaces, public peers that come back again and again (many in AWS ranges),
rejected scanners, mostly small flows with a rare one beyond 2^32 bytes, about 3% IPv6, NODATA and SKIPDATA lines.
`;

export async function genCommand(argv: readonly string[]): Promise<number> {
  let v;
  try {
    v = parseArgs({
      args: [...argv],
      strict: true,
      options: {
        lines: { type: 'string' },
        seed: { type: 'string' },
        format: { type: 'string' },
        shape: { type: 'string' },
        header: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    }).values;
  } catch (err) {
    process.stderr.write(`vpcflow gen: ${(err as Error).message}\nTry 'vpcflow gen --help'.\n`);
    return EXIT.USAGE;
  }
  if (v.help) {
    process.stdout.write(GEN_HELP);
    return EXIT.OK;
  }
  const lines = Number(v.lines ?? 1_000_000);
  const seed = Number(v.seed ?? 1);
  const shape = v.shape ?? 'raw';
  if (!Number.isSafeInteger(lines) || lines < 0) return usage(`--lines must be a whole number, not '${v.lines}'`);
  if (!Number.isSafeInteger(seed)) return usage(`--seed must be a whole number, not '${v.seed}'`);
  if (shape !== 'raw' && shape !== 'tail') return usage(`--shape must be raw or tail, not '${shape}'`);
  let format;
  try {
    format = v.format ? parseFormat(v.format) : undefined;
  } catch (err) {
    if (err instanceof FormatError) return usage(`--format: ${err.message}`);
    throw err;
  }
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(EXIT.OK);
  });
  for (const batch of batches(generateFlowLogs(lines, seed, { format, shape, header: v.header }))) {
    if (!process.stdout.write(batch)) await once(process.stdout, 'drain');
  }
  return EXIT.OK;
}

function usage(message: string): number {
  process.stderr.write(`vpcflow gen: ${message}\nTry 'vpcflow gen --help'.\n`);
  return EXIT.USAGE;
}
