/**
 * What enrichment costs next to decoding: decode-only, decode + enrich (both endpoints, real ip-ranges.json and a
 * few VPC CIDRs), and decode + enrich + NDJSON on the same generated file, with the usual Node script (split2 and
 * a linear scan of the prefixes with ipaddr.js) as the baseline. Run with `npm run bench:enrich`.
 *
 * Needs ../shared/data/ip-ranges.json (or VPCFLOW_IP_RANGES). The naive baseline scans ~11,000 prefixes per
 * address, so it runs on the first VPCFLOW_BENCH_NAIVE_LINES lines (default 2,000) and is reported per line.
 */
import { createReadStream, existsSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import ipaddr from 'ipaddr.js';
import split2 from 'split2';
import { KIND_NUMBER, type DecodedRecord } from '../src/decode/record.js';
import { SourceDecoder } from '../src/decode/source-decoder.js';
import { Enricher } from '../src/enrich/enricher.js';
import { AwsRanges } from '../src/enrich/ip-ranges.js';
import { parseVpcOption } from '../src/enrich/inventory.js';
import { NdjsonWriter } from '../src/sinks/ndjson.js';
import { benchInput, LINES, median, RUNS } from './common.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const RANGES = process.env.VPCFLOW_IP_RANGES ?? path.join(ROOT, '..', 'shared', 'data', 'ip-ranges.json');
const NAIVE_LINES = Number(process.env.VPCFLOW_BENCH_NAIVE_LINES ?? 2000);
const CHUNK = 256 * 1024;
const VPCS = ['vpc-a=10.0.0.0/16', 'vpc-b=10.1.0.0/16', 'vpc-c=172.16.0.0/12', 'vpc-d=192.168.0.0/16'];

async function decodeRun(file: string, enricher: Enricher | null, writer: NdjsonWriter | null): Promise<number> {
  let records = 0;
  let checksum = 0;
  const decoder = new SourceDecoder({
    record(rec: DecodedRecord) {
      records++;
      if (enricher) {
        enricher.enrich(rec);
        // Reads the answer so the work cannot be skipped.
        if (rec.endpoints[4]?.aws) checksum++;
      } else if (rec.kinds[9] === KIND_NUMBER) checksum += rec.numbers[9];
      if (writer) writer.write(rec);
    },
    reject() {
      throw new Error('unexpected reject');
    },
  });
  decoder.begin('bench');
  let out = 0;
  for await (const chunk of createReadStream(file, { highWaterMark: CHUNK }) as AsyncIterable<Buffer>) {
    decoder.push(chunk);
    if (writer) out += writer.take().length;
  }
  decoder.end();
  if (checksum === 0 && out === 0) throw new Error('nothing computed');
  return records;
}

interface NaiveRange {
  range: [ipaddr.IPv4 | ipaddr.IPv6, number];
  service: string;
}

/**
 * The usual script: parse every prefix once (ipaddr.js), then for each address scan them all and keep the longest
 * match. ip-cidr's `contains()` was tried first: about 17 lines/s here, 300x slower again, so the faster of the two
 * user-chosen libraries is the baseline.
 */
function naiveRanges(): NaiveRange[] {
  const doc = JSON.parse(readFileSync(RANGES, 'utf8')) as { prefixes: { ip_prefix: string; service: string }[]; ipv6_prefixes: { ipv6_prefix: string; service: string }[] };
  return [
    ...doc.prefixes.map((p) => ({ range: ipaddr.parseCIDR(p.ip_prefix), service: p.service })),
    ...doc.ipv6_prefixes.map((p) => ({ range: ipaddr.parseCIDR(p.ipv6_prefix), service: p.service })),
  ];
}

async function naive(file: string, table: NaiveRange[]): Promise<number> {
  const vpcs = VPCS.map((v) => ipaddr.parseCIDR(v.split('=')[1]));
  let lines = 0;
  let found = 0;
  const owner = (text: string) => {
    if (text === '-') return null;
    const addr = ipaddr.parse(text);
    for (const v of vpcs) if (addr.kind() === v[0].kind() && addr.match(v)) return 'vpc';
    let best: NaiveRange | null = null;
    for (const r of table) {
      if (addr.kind() === r.range[0].kind() && (!best || r.range[1] > best.range[1]) && addr.match(r.range)) best = r;
    }
    return best?.service ?? null;
  };
  for await (const line of createReadStream(file).pipe(split2()) as AsyncIterable<string>) {
    if (lines++ >= NAIVE_LINES) break;
    const f = line.split(' ');
    const rec = { src: owner(f[3]), dst: owner(f[4]), bytes: Number(f[9]) };
    if (rec.dst) found++;
  }
  if (found === 0) throw new Error('naive: no AWS address found');
  return Math.min(lines, NAIVE_LINES);
}

async function main(): Promise<void> {
  if (!existsSync(RANGES)) {
    process.stderr.write(`bench/enrich: ${RANGES} is absent; set VPCFLOW_IP_RANGES to a real ip-ranges.json\n`);
    process.exit(2);
  }
  const { file, size } = await benchInput();
  let t = performance.now();
  const awsRanges = AwsRanges.fromFile(RANGES);
  const buildMs = performance.now() - t;
  const enricherFor = () => new Enricher({ awsRanges, inventory: { vpcs: VPCS.map(parseVpcOption), subnets: [], interfaces: [] } });

  const contenders: [string, () => Promise<number>][] = [
    ['decode only', () => decodeRun(file, null, null)],
    ['decode + enrich', () => decodeRun(file, enricherFor(), null)],
    ['decode + enrich + NDJSON', () => decodeRun(file, enricherFor(), new NdjsonWriter())],
  ];
  const times = contenders.map(() => [] as number[]);
  for (let round = 0; round <= RUNS; round++) {
    for (let c = 0; c < contenders.length; c++) {
      t = performance.now();
      const n = await contenders[c][1]();
      if (n !== LINES) throw new Error(`${contenders[c][0]}: ${n} records`);
      if (round > 0) times[c].push((performance.now() - t) / 1000);
    }
  }
  const table = naiveRanges();
  t = performance.now();
  const naiveLines = await naive(file, table);
  const naivePerLine = (performance.now() - t) / 1000 / naiveLines;

  const rows = contenders.map(([name], c) => {
    const s = median(times[c]);
    return [name, s.toFixed(3), `${(LINES / s / 1e6).toFixed(2)} M`, (size / 1e6 / s).toFixed(0), `${(s / median(times[0])).toFixed(2)}×`, `${(naivePerLine * LINES / s).toFixed(0)}×`];
  });
  rows.push(['naive (split2 + linear scan, ipaddr.js)', `${(naivePerLine * LINES).toFixed(0)} (est.)`, `${(1 / naivePerLine).toFixed(0)}`, '', '', '1×']);
  const head = ['contender', 'seconds', 'lines/s', 'MB/s', '× decode-only', 'vs naive'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (r: string[]) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  const report =
    `${LINES.toLocaleString('en-US')} lines (${(size / 1e6).toFixed(1)} MB); ip-ranges.json ${awsRanges.info.createDate}: ` +
      `${awsRanges.info.ipv4Prefixes + awsRanges.info.ipv6Prefixes} prefixes, loaded and built in ${buildMs.toFixed(0)} ms; ` +
      `median of ${RUNS}; naive on ${naiveLines} lines\n\n${[head, ...rows].map(line).join('\n')}\n`;
  process.stdout.write(report);
  const cpus = os.cpus();
  writeFileSync(
    path.join(ROOT, 'bench', 'RESULTS-enrich.md'),
    `# vpcflow enrichment benchmark\n\nGenerated by \`npm run bench:enrich\` (bench/enrich.ts) on ${new Date().toISOString()}, ` +
      `${cpus[0]?.model.trim()} (${cpus.length} cores), Node ${process.version}.\n\n\`\`\`\n${report}\`\`\`\n\n` +
      'Enrichment looks up both endpoints of every record (srcaddr, dstaddr) in the ip-ranges.json prefix trie, four VPC ' +
      'CIDRs and the special ranges, with answers remembered per IPv4 address. The naive script parses every prefix ' +
      'once and scans them all for each address, keeping the longest match; it runs on a sample and its time is ' +
      'scaled to the full file.\n',
  );
}

await main();
