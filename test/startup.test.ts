import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { fixture, runCli } from './helpers.js';

/**
 * Start-up: a plain run loads only vpcflow's own decoding modules; dependencies (stream-json, ipaddr.js, the S3 SDK,
 * hyparquet) and enrichment are loaded on demand. Timings are never asserted; which modules are loaded is.
 */
const dir = mkdtempSync(path.join(tmpdir(), 'vpcflow-load-trace-'));
// Every module the ESM loader resolves (a loader hook), and what require() left in require.cache at exit.
writeFileSync(
  path.join(dir, 'hooks.mjs'),
  `import { appendFileSync } from 'node:fs';
let out;
export function initialize(data) { out = data.out; }
export async function resolve(specifier, context, next) {
  const resolved = await next(specifier, context);
  appendFileSync(out, resolved.url + '\\n');
  return resolved;
}
`,
);
writeFileSync(
  path.join(dir, 'trace.mjs'),
  `import { appendFileSync } from 'node:fs';
import { createRequire, register } from 'node:module';
register('./hooks.mjs', import.meta.url, { data: { out: process.env.LOAD_TRACE } });
const cache = createRequire(import.meta.url).cache;
process.on('exit', () => appendFileSync(process.env.LOAD_TRACE, Object.keys(cache).join('\\n') + '\\n'));
`,
);

let runs = 0;
async function loadedModules(args: string[]): Promise<string[]> {
  const out = path.join(dir, `loaded-${++runs}.txt`);
  const result = await runCli(args, { nodeArgs: ['--import', path.join(dir, 'trace.mjs')], env: { LOAD_TRACE: out } });
  expect(result.code).toBe(0);
  return readFileSync(out, 'utf8').split('\n').filter((m) => m.length > 0 && !m.startsWith('node:'));
}

const fromDependencies = (modules: string[]) => modules.filter((m) => m.includes('/node_modules/'));

describe('start-up', () => {
  it('a plain run loads no dependency and no enrichment', async () => {
    const loaded = await loadedModules(['--no-enrich', fixture('sample-default.log')]);
    expect(loaded.some((m) => m.endsWith('/dist/src/decode/flow-decoder.js'))).toBe(true);
    expect(fromDependencies(loaded)).toEqual([]);
    expect(loaded.filter((m) => /\/enrich\/(?!endpoint\.js)/.test(m))).toEqual([]);
  });

  it('the trace sees what JSON input and enrichment load', async () => {
    const loaded = fromDependencies(await loadedModules(['--ip-ranges', fixture('ip-ranges-small.json'), fixture('filter-log-events.json')]));
    expect(loaded.some((m) => m.includes('/node_modules/stream-json/'))).toBe(true);
    expect(loaded.some((m) => m.includes('/node_modules/ipaddr.js/'))).toBe(true);
  });
});
