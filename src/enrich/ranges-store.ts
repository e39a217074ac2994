import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { AwsRanges, IpRangesError, validateIpRanges } from './ip-ranges.js';

/** Where AWS publishes the file. */
export const IP_RANGES_URL = 'https://ip-ranges.amazonaws.com/ip-ranges.json';

/** The per-user cache directory, as each platform expects it; `VPCFLOW_CACHE_DIR` overrides it. */
export function cacheDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.VPCFLOW_CACHE_DIR) return env.VPCFLOW_CACHE_DIR;
  const home = os.homedir();
  if (process.platform === 'darwin') return path.join(home, 'Library', 'Caches', 'vpcflow');
  if (process.platform === 'win32') return path.join(env.LOCALAPPDATA ?? path.join(home, 'AppData', 'Local'), 'vpcflow', 'Cache');
  return path.join(env.XDG_CACHE_HOME || path.join(home, '.cache'), 'vpcflow');
}

export function cachedRangesPath(env: NodeJS.ProcessEnv = process.env): string {
  return path.join(cacheDir(env), 'ip-ranges.json');
}

/** The compiled copy of the cached file (see compiled-ranges.ts), beside it. */
export function compiledRangesPath(jsonPath: string): string {
  return path.join(path.dirname(jsonPath), 'ip-ranges.compiled');
}

/**
 * Where the compiled copy of a located ip-ranges.json goes: beside the cached file, and for a file named by
 * --ip-ranges or VPCFLOW_IP_RANGES in the cache directory, under a hash of its absolute path (never beside the user's
 * own file). The copy is keyed to the file's size, mtime and syncToken, so a path reused for another file is rebuilt.
 */
export function compiledCopyPath(located: { path: string; origin: RangesOrigin }, env: NodeJS.ProcessEnv = process.env): string {
  if (located.origin === 'cache') return compiledRangesPath(located.path);
  const id = createHash('sha256').update(path.resolve(located.path)).digest('hex').slice(0, 16);
  return path.join(cacheDir(env), 'compiled', `${id}.ip-ranges.compiled`);
}

export type RangesOrigin = '--ip-ranges' | 'VPCFLOW_IP_RANGES' | 'cache';

/**
 * Which ip-ranges.json to use: `--ip-ranges FILE`, then `VPCFLOW_IP_RANGES`, then the cache.
 * Null when there is none (the caller says once how to get it).
 */
export function locateRanges(explicit: string | undefined, env: NodeJS.ProcessEnv = process.env): { path: string; origin: RangesOrigin } | null {
  if (explicit) return { path: explicit, origin: '--ip-ranges' };
  if (env.VPCFLOW_IP_RANGES) return { path: env.VPCFLOW_IP_RANGES, origin: 'VPCFLOW_IP_RANGES' };
  const cached = cachedRangesPath(env);
  return existsSync(cached) ? { path: cached, origin: 'cache' } : null;
}

export const HOW_TO_GET_RANGES =
  'no AWS ip-ranges.json: AWS addresses are not recognised (aws: null). Run `vpcflow ranges update` to download it ' +
  'into the cache, or pass --ip-ranges FILE (or set VPCFLOW_IP_RANGES)';

export interface UpdateResult {
  status: 'updated' | 'unchanged';
  path: string;
  previousSyncToken: string | null;
  syncToken: string;
  createDate: string;
}

/**
 * Downloads ip-ranges.json, checks it (structure; syncToken newer than the cached one unless `force`), and writes it
 * to the cache atomically (temp file + rename). On any failure the cached file is left as it was.
 */
export async function updateRanges(options: { url?: string; env?: NodeJS.ProcessEnv; force?: boolean; timeoutMs?: number } = {}): Promise<UpdateResult> {
  const env = options.env ?? process.env;
  const url = options.url ?? env.VPCFLOW_IP_RANGES_URL ?? IP_RANGES_URL;
  const target = cachedRangesPath(env);
  let response: Response;
  try {
    response = await fetch(url, { signal: AbortSignal.timeout(options.timeoutMs ?? 60_000) });
  } catch (err) {
    const cause = (err as { cause?: { message?: string } }).cause?.message;
    throw new IpRangesError(`cannot download ${url}: ${cause ?? (err as Error).message}`);
  }
  if (!response.ok) throw new IpRangesError(`cannot download ${url}: HTTP ${response.status} ${response.statusText}`);
  const text = await response.text();
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new IpRangesError(`${url}: the download is not valid JSON (${(err as Error).message}); the cached file is unchanged`);
  }
  // Validated by building the lookup structures, so a file that parses but cannot be used never replaces a good one.
  const fresh = AwsRanges.fromDocument(doc, url).info;

  let previousSyncToken: string | null = null;
  if (existsSync(target)) {
    try {
      previousSyncToken = validateIpRanges(JSON.parse(readFileSync(target, 'utf8')), target).syncToken;
    } catch {
      previousSyncToken = null; // A damaged cache is simply replaced.
    }
  }
  if (previousSyncToken !== null && !options.force) {
    if (BigInt(fresh.syncToken) === BigInt(previousSyncToken)) {
      return { status: 'unchanged', path: target, previousSyncToken, syncToken: fresh.syncToken, createDate: fresh.createDate };
    }
    if (BigInt(fresh.syncToken) < BigInt(previousSyncToken)) {
      throw new IpRangesError(
        `${url} has syncToken ${fresh.syncToken}, older than the cached ${previousSyncToken}; keeping the cached file (use --force to take it anyway)`,
      );
    }
  }
  mkdirSync(path.dirname(target), { recursive: true });
  const tmp = `${target}.${process.pid}.tmp`;
  try {
    writeFileSync(tmp, text);
    renameSync(tmp, target);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw new IpRangesError(`cannot write ${target}: ${(err as Error).message}; the cached file is unchanged`);
  }
  return { status: 'updated', path: target, previousSyncToken, syncToken: fresh.syncToken, createDate: fresh.createDate };
}
