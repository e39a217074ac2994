#!/usr/bin/env node
/**
 * The `vpcflow` command. This entry only starts the worker threads asked for with `--workers`, then loads the CLI
 * (cli.ts): a worker takes ~220 ms to boot and load its modules, and started here it does so while this thread loads
 * the CLI's ~25 modules and the enrichment data, instead of after the modules (~100 ms later). cli.ts checks the
 * full options and stops these workers if the run is not to use them.
 */
import { earlyWorkerCount, startWorkers } from './worker-pool.js';

const argv = process.argv.slice(2);
const early = earlyWorkerCount(argv);
const pool = early > 0 ? startWorkers(early) : null;
const { main } = await import('./cli.js');
main(argv, pool).then(
  (code) => {
    process.exitCode = code;
  },
  (err) => {
    process.stderr.write(`vpcflow: internal error: ${(err as Error)?.stack ?? err}\n`);
    process.exitCode = 70;
  },
);
