import { Enricher } from './enricher.js';
import { mergeInventories, parseVpcOption, readInventoryFile, type Inventory } from './inventory.js';
import { AwsRanges } from './ip-ranges.js';
import { loadCompiledRanges, rangesFromShared, type SharedRanges } from './compiled-ranges.js';
import { compiledCopyPath, locateRanges, type RangesOrigin } from './ranges-store.js';

export interface EnrichmentSources {
  /** `--ip-ranges FILE`; else VPCFLOW_IP_RANGES, else the cache. */
  ipRanges?: string;
  /** `--vpc vpc-0abc=10.0.0.0/16,...` specs. */
  vpcs?: readonly string[];
  /** AWS CLI describe-* JSON files. */
  inventories?: readonly string[];
  env?: NodeJS.ProcessEnv;
  /** Called instead of throwing when only the cached copy is unusable (it is then ignored). */
  onBrokenCache?: (err: Error) => void;
  /** Ranges another thread loaded with `share` (its LoadedEnrichment.shared), used instead of loading them again. */
  shared?: { ranges: SharedRanges; origin: RangesOrigin } | null;
}

export interface LoadedEnrichment {
  enricher: Enricher;
  awsRanges: AwsRanges | null;
  /** Where ip-ranges.json came from, or null when there was none. */
  rangesOrigin: RangesOrigin | null;
  inventory: Inventory;
  /** With `share`: the ranges in shared memory, for worker threads (EnrichmentSources.shared). */
  shared: { ranges: SharedRanges; origin: RangesOrigin } | null;
}

/**
 * Builds an Enricher from what the user pointed at. Throws (IpRangesError, InventoryError) for anything named that
 * cannot be used: a mistyped --ip-ranges must not silently give `aws: null` everywhere.
 */
export function loadEnrichment(sources: EnrichmentSources = {}, { share = false } = {}): LoadedEnrichment {
  let origin: RangesOrigin | null = null;
  let awsRanges: AwsRanges | null = null;
  let shared = sources.shared ?? null;
  if (shared) {
    awsRanges = rangesFromShared(shared.ranges);
    origin = shared.origin;
  } else {
    const located = locateRanges(sources.ipRanges, sources.env);
    try {
      if (located) {
        const loaded = loadCompiledRanges(located.path, compiledCopyPath(located, sources.env), share);
        awsRanges = loaded.ranges;
        origin = located.origin;
        shared = loaded.shared && { ranges: loaded.shared, origin };
      }
    } catch (err) {
      if (located?.origin !== 'cache' || !sources.onBrokenCache) throw err;
      sources.onBrokenCache(err as Error);
    }
  }
  const inventory = mergeInventories([
    { vpcs: (sources.vpcs ?? []).map(parseVpcOption), subnets: [], interfaces: [] },
    ...(sources.inventories ?? []).map(readInventoryFile),
  ]);
  return { enricher: new Enricher({ awsRanges, inventory }), awsRanges, rangesOrigin: origin, inventory, shared };
}

/**
 * The ranges of a located ip-ranges.json, through its compiled copy in the cache directory (9 ms to load against
 * ~80 ms to build; with --workers the main thread loads them and shares them with the workers).
 */
export function loadAwsRanges(located: { path: string; origin: RangesOrigin }, env: NodeJS.ProcessEnv = process.env): AwsRanges {
  return loadCompiledRanges(located.path, compiledCopyPath(located, env)).ranges;
}
