import { parseArgs } from 'node:util';
import { endpointObject } from '../enrich/endpoint.js';
import { InventoryError } from '../enrich/inventory.js';
import { IpRangesError } from '../enrich/ip-ranges.js';
import { loadAwsRanges, loadEnrichment } from '../enrich/load.js';
import { cachedRangesPath, IP_RANGES_URL, locateRanges, updateRanges } from '../enrich/ranges-store.js';
import { ENRICHMENT_OPTIONS, EXIT } from './options.js';

const RANGES_HELP = `vpcflow ranges - AWS's ip-ranges.json, which names the AWS service and region of an address

Usage:
  vpcflow ranges update [--url URL] [--force]
      download ${IP_RANGES_URL} into the cache (${cachedRangesPath()}):
      the file is checked (structure, and a syncToken newer than the cached one) and written atomically;
      if anything fails the cached file is kept. --force takes a file that is not newer.
      VPCFLOW_IP_RANGES_URL overrides the URL, VPCFLOW_CACHE_DIR the cache directory.
  vpcflow ranges info [--ip-ranges FILE] [--json]
      which file is used, its createDate, syncToken, age and counts
  vpcflow ranges lookup [--ip-ranges FILE] [--vpc ID=CIDR,...] [--inventory FILE] IP...
      who owns each address: scope, AWS service/region/prefix, your VPC/subnet/interface
      (one JSON object per address when the output is not a terminal)

The file used is --ip-ranges FILE, else $VPCFLOW_IP_RANGES, else the cached copy.
`;

function fail(message: string, code: number = EXIT.USAGE): number {
  process.stderr.write(`vpcflow ranges: ${message}\n`);
  return code;
}

export async function rangesCommand(argv: readonly string[]): Promise<number> {
  const [verb, ...rest] = argv;
  if (verb === undefined || verb === '-h' || verb === '--help' || verb === 'help') {
    process.stdout.write(RANGES_HELP);
    return verb === undefined ? EXIT.USAGE : EXIT.OK;
  }
  let parsed;
  try {
    parsed = parseArgs({
      args: [...rest],
      allowPositionals: verb === 'lookup',
      strict: true,
      options: {
        url: { type: 'string' },
        force: { type: 'boolean' },
        json: { type: 'boolean' },
        ...ENRICHMENT_OPTIONS,
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (err) {
    return fail(`${(err as Error).message}\nTry 'vpcflow ranges --help'.`);
  }
  const v = parsed.values;
  if (v.help) {
    process.stdout.write(RANGES_HELP);
    return EXIT.OK;
  }
  try {
    switch (verb) {
      case 'update':
        return await update(v.url, v.force ?? false);
      case 'info':
        return info(v['ip-ranges'], v.json ?? false);
      case 'lookup':
        return lookup(parsed.positionals, v['ip-ranges'], v.vpc ?? [], v.inventory ?? []);
      default:
        return fail(`unknown command '${verb}' (update, info or lookup)\nTry 'vpcflow ranges --help'.`);
    }
  } catch (err) {
    if (err instanceof IpRangesError || err instanceof InventoryError) return fail(err.message, EXIT.DATA);
    throw err;
  }
}

async function update(url: string | undefined, force: boolean): Promise<number> {
  const result = await updateRanges({ url, force });
  const what =
    result.status === 'unchanged'
      ? `already up to date (syncToken ${result.syncToken}, createDate ${result.createDate})`
      : `updated ${result.path}: syncToken ${result.previousSyncToken ?? '(none)'} -> ${result.syncToken}, createDate ${result.createDate}`;
  process.stderr.write(`vpcflow ranges: ${what}\n`);
  return EXIT.OK;
}

function info(explicit: string | undefined, json: boolean): number {
  const located = locateRanges(explicit);
  if (!located) return fail(`no ip-ranges.json: run 'vpcflow ranges update' (cache: ${cachedRangesPath()}) or pass --ip-ranges FILE`, EXIT.DATA);
  const ranges = loadAwsRanges(located);
  const i = ranges.info;
  const ageDays = Math.floor((Date.now() - i.created.getTime()) / 86_400_000);
  if (json) {
    process.stdout.write(
      JSON.stringify({
        path: located.path,
        origin: located.origin,
        createDate: i.createDate,
        syncToken: i.syncToken,
        age_days: ageDays,
        ipv4_entries: i.ipv4Entries,
        ipv4_prefixes: i.ipv4Prefixes,
        ipv6_entries: i.ipv6Entries,
        ipv6_prefixes: i.ipv6Prefixes,
        services: i.services,
      }) + '\n',
    );
    return EXIT.OK;
  }
  const n = (x: number) => x.toLocaleString('en-US');
  process.stdout.write(
    [
      `file        ${located.path} (${located.origin})`,
      `createDate  ${i.createDate} UTC (${ageDays} day${ageDays === 1 ? '' : 's'} old)`,
      `syncToken   ${i.syncToken}`,
      `IPv4        ${n(i.ipv4Entries)} entries, ${n(i.ipv4Prefixes)} distinct prefixes`,
      `IPv6        ${n(i.ipv6Entries)} entries, ${n(i.ipv6Prefixes)} distinct prefixes`,
      `services    ${i.services.length}: ${i.services.join(', ')}`,
      '',
    ].join('\n'),
  );
  return EXIT.OK;
}

function lookup(addresses: string[], explicit: string | undefined, vpcs: string[], inventories: string[]): number {
  if (addresses.length === 0) return fail('lookup needs at least one IP address');
  const { enricher, awsRanges } = loadEnrichment({ ipRanges: explicit, vpcs, inventories });
  if (!awsRanges) process.stderr.write(`vpcflow ranges: no ip-ranges.json, so AWS addresses are not recognised; run 'vpcflow ranges update'\n`);
  let bad = 0;
  for (const address of addresses) {
    const e = enricher.lookup(address);
    if (!e) {
      bad++;
      process.stderr.write(`vpcflow ranges: '${address}' is not an IP address\n`);
      continue;
    }
    if (process.stdout.isTTY) {
      const aws = e.aws ? `${e.aws.service} in ${e.aws.region} (${e.aws.border_group}), ${e.aws.prefix}; services ${e.aws.services.join(', ')}` : '';
      const vpc = e.vpc
        ? [e.vpc.vpc_id, e.vpc.subnet_id, e.vpc.eni, e.vpc.instance_id, e.vpc.resource?.type, e.vpc.resource?.description].filter(Boolean).join(' ')
        : '';
      process.stdout.write(`${address}  ${e.scope}${aws ? '  ' + aws : ''}${vpc ? '  ' + vpc : ''}\n`);
    } else {
      process.stdout.write(JSON.stringify({ address, ...endpointObject(e) }) + '\n');
    }
  }
  return bad > 0 ? EXIT.DATA : EXIT.OK;
}
