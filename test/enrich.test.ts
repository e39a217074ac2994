import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { Enricher } from '../src/enrich/enricher.js';
import { AwsRanges, compareServiceSpecificity, IpRangesError } from '../src/enrich/ip-ranges.js';
import { mergeInventories, parseVpcOption, readInventoryFile } from '../src/enrich/inventory.js';
import type { DecodedRecord, FlowRecord } from '../src/decode/record.js';
import { SourceDecoder } from '../src/decode/source-decoder.js';
import { fixture, hasSharedData, ndjson, runCli, SHARED_DATA } from './helpers.js';

const small = AwsRanges.fromFile(fixture('ip-ranges-small.json'));
const inventory = mergeInventories(
  ['describe-vpcs.json', 'describe-subnets.json', 'describe-network-interfaces.json', 'describe-addresses.json'].map((f) =>
    readInventoryFile(fixture(`inventory/${f}`)),
  ),
);

/** Decodes and enriches text the way the CLI does, returning record objects. */
function enrichText(text: string | Buffer, enricher: Enricher, formats?: string[]): FlowRecord[] {
  const out: FlowRecord[] = [];
  const decoder = new SourceDecoder(
    {
      record: (rec: DecodedRecord) => {
        enricher.enrich(rec);
        out.push(rec.toObject());
      },
      reject: (r) => {
        throw new Error(r.message);
      },
    },
    { formats },
  );
  decoder.begin('test');
  decoder.push(typeof text === 'string' ? Buffer.from(text) : text);
  decoder.end();
  return out;
}

describe('ip-ranges.json semantics', () => {
  const enricher = new Enricher({ awsRanges: small });
  const aws = (ip: string) => enricher.lookup(ip)?.aws;

  it('names the most specific code of the longest matching prefix, and every code that contains the address', () => {
    expect(aws('3.5.246.198')).toEqual({ service: 'S3', services: ['S3', 'EC2', 'AMAZON'], region: 'eu-west-2', border_group: 'eu-west-2', prefix: '3.5.244.0/22' });
    // The longest prefix is listed only as AMAZON: that is what AWS writes, though a shorter EC2 range contains it.
    expect(aws('3.5.250.7')).toMatchObject({ service: 'AMAZON', services: ['EC2', 'AMAZON'], prefix: '3.5.250.0/24' });
    expect(aws('3.5.1.1')).toMatchObject({ service: 'EC2', services: ['EC2', 'AMAZON'], prefix: '3.5.0.0/16' });
    expect(aws('52.94.213.165')).toMatchObject({ service: 'DYNAMODB', services: ['DYNAMODB', 'AMAZON'], region: 'us-west-2' });
    expect(aws('52.94.212.1')).toMatchObject({ service: 'AMAZON', services: ['AMAZON'] });
  });

  it('orders two other codes of one prefix by a fixed rule: a code extending another is more specific', () => {
    expect(aws('13.33.0.1')).toMatchObject({ service: 'CLOUDFRONT_ORIGIN_FACING', services: ['CLOUDFRONT_ORIGIN_FACING', 'CLOUDFRONT', 'AMAZON'], region: 'GLOBAL' });
    expect(['AMAZON', 'EC2', 'S3', 'ROUTE53', 'ROUTE53_HEALTHCHECKS'].sort(compareServiceSpecificity)).toEqual(['ROUTE53_HEALTHCHECKS', 'ROUTE53', 'S3', 'EC2', 'AMAZON']);
  });

  it('reports the network border group, IPv6 ranges, and IPv4-mapped IPv6 as the IPv4 address', () => {
    expect(aws('15.220.121.5')).toMatchObject({ service: 'EC2', region: 'us-west-2', border_group: 'us-west-2-lax-1' });
    expect(aws('2600:1f18:4abc::1')).toMatchObject({ service: 'S3', services: ['S3', 'EC2', 'AMAZON'], prefix: '2600:1f18:4000::/36' });
    expect(aws('2600:1f18:1::1')).toMatchObject({ service: 'EC2', prefix: '2600:1f18::/33' });
    expect(aws('::ffff:15.152.63.145')).toEqual(aws('15.152.63.145'));
    expect(aws('8.8.8.8')).toBeNull();
  });

  it('describes the file it was built from', () => {
    expect(small.info).toMatchObject({ syncToken: '1731000000', createDate: '2024-11-07-12-00-00', ipv4Entries: 18, ipv4Prefixes: 9, ipv6Entries: 6, ipv6Prefixes: 3 });
    expect(small.info.services).toContain('CLOUDFRONT_ORIGIN_FACING');
  });

  it('refuses what is not an ip-ranges.json, saying why', () => {
    expect(() => AwsRanges.fromText('{"prefixes": []}', 'x.json')).toThrow(IpRangesError);
    expect(() => AwsRanges.fromText('{"syncToken":"1","createDate":"2024-11-07-12-00-00","prefixes":[{"ip_prefix":"1.2.3.0/33","region":"r","service":"S","network_border_group":"r"}],"ipv6_prefixes":[]}', 'x.json')).toThrow(
      /prefixes\[0\]: '1.2.3.0\/33' is not a CIDR/,
    );
    expect(() => AwsRanges.fromText('not json', 'x.json')).toThrow(/x.json: not valid JSON/);
  });
});

describe('the per-address memo', () => {
  it('gives the same answers before and after it fills up and starts over', () => {
    const enricher = new Enricher({ awsRanges: small });
    const fresh = new Enricher({ awsRanges: small });
    // 3.5.0.0/16 and 15.152.0.0/16 are AWS, the rest of 3.x is not: 300,000 distinct addresses, asked twice.
    for (let round = 0; round < 2; round++) {
      for (let i = 0; i < 300_000; i++) {
        const addr = ((3 << 24) | ((i % 8) << 16) | (i >>> 3)) >>> 0;
        const e = enricher.ipv4(addr);
        if (i % 997 === 0) {
          const expected = fresh.lookup(`3.${i % 8}.${(i >>> 11) & 255}.${(i >>> 3) & 255}`)!;
          expect({ scope: e.scope, aws: e.aws, vpc: e.vpc }, `${addr}`).toEqual({ scope: expected.scope, aws: expected.aws, vpc: expected.vpc });
        }
      }
    }
    expect(enricher.ipv4(((3 << 24) | (5 << 16)) >>> 0).aws?.service).toBe('EC2');
  });
});

describe('scopes', () => {
  const enricher = new Enricher({ awsRanges: small, inventory: { vpcs: [parseVpcOption('vpc-1=10.0.0.0/16,2600:1f18:4a3:6c00::/56')], subnets: [], interfaces: [] } });
  it.each([
    ['10.0.4.135', 'vpc'],
    ['2600:1f18:4a3:6c00::99', 'vpc'],
    ['15.152.63.145', 'aws'],
    ['10.1.0.1', 'private'],
    ['172.16.0.1', 'private'],
    ['192.168.1.1', 'private'],
    ['100.64.0.1', 'private'],
    ['fd00::1', 'private'],
    ['169.254.169.254', 'special'],
    ['127.0.0.1', 'special'],
    ['224.0.0.251', 'special'],
    ['203.0.113.9', 'special'],
    ['fe80::1', 'special'],
    ['ff02::1', 'special'],
    ['::1', 'special'],
    ['2001:db8::1', 'special'],
    ['8.8.8.8', 'internet'],
    ['2a00:1450::1', 'internet'],
  ])('%s is %s', (ip, scope) => expect(enricher.lookup(ip)?.scope).toBe(scope));
});

describe('known-VPC ownership from the AWS CLI inventory', () => {
  const enricher = new Enricher({ awsRanges: small, inventory });
  const vpcOf = (ip: string) => enricher.lookup(ip)?.vpc;

  it('names the VPC and subnet of an address inside them', () => {
    expect(vpcOf('10.0.1.200')).toEqual({ vpc_id: 'vpc-0c5e2d4b1a3f69870', subnet_id: inventory.subnets.find((s) => s.cidrs.includes('10.0.1.0/24'))!.subnetId, eni: null, instance_id: null, resource: null });
    expect(vpcOf('10.1.0.1')).toMatchObject({ vpc_id: 'vpc-0c5e2d4b1a3f69870', subnet_id: null });
  });

  it('names the interface, instance and kind of resource of an interface address, public ones included', () => {
    for (const ip of ['10.0.1.25', '10.0.1.26', '2600:1f18:4a3:6c00::10', '3.120.10.20', '52.28.0.9']) {
      expect(vpcOf(ip), ip).toMatchObject({ eni: 'eni-0a1b2c3d4e5f60718', instance_id: 'i-0123456789abcdef0', resource: { type: 'interface' } });
    }
    expect(vpcOf('10.0.2.40')).toMatchObject({ eni: 'eni-0f9e8d7c6b5a40312', instance_id: null, resource: { type: 'nat_gateway', description: 'Interface for NAT Gateway nat-0e1f2a3b4c5d6e7f8' } });
    expect(vpcOf('10.0.2.77')?.resource?.description).toBe('ELB app/my-alb/50dc6c495c0c9188');
    // A public address of your own is yours first (scope vpc), and still AWS's (EC2 range) second.
    const eip = enricher.lookup('3.120.10.20')!;
    expect(eip.scope).toBe('vpc');
  });

  it('adds src/dst objects and derives direction from the interface addresses', () => {
    const records = enrichText(readFileSync(fixture('sample-default.log')), enricher);
    expect(records).toHaveLength(40);
    const out = records[0]; // 10.0.1.25 (eni-0a1b…) -> 3.208.215.234
    expect(out.src).toMatchObject({ scope: 'vpc', vpc: { eni: 'eni-0a1b2c3d4e5f60718' } });
    expect(out.dst).toMatchObject({ scope: 'aws', aws: { service: 'EC2', region: 'us-east-1' } });
    expect(out.direction).toBe('egress');
    const incoming = records.find((r) => r.srcaddr === '52.94.213.165')!;
    expect(incoming.direction).toBe('ingress');
    expect(incoming.src).toMatchObject({ scope: 'aws', aws: { service: 'DYNAMODB' } });
    const nodata = records.find((r) => r.log_status === 'NODATA')!;
    expect(nodata).toMatchObject({ src: null, dst: null, direction: null });
  });

  it('adds pkt_src/pkt_dst for the packet-level addresses and keeps AWS flow-direction when the format has it', () => {
    const records = enrichText(readFileSync(fixture('custom-v5.log')), enricher);
    expect(records[0]).toHaveProperty('pkt_dst.aws.service', 'DYNAMODB');
    expect(records[0]).not.toHaveProperty('direction');
    expect(records[0].flow_direction).toBe('egress');
  });
});

describe('vpcflow with enrichment', () => {
  const LINE = '2 654654279488 eni-01f35fc1a2377de36 10.0.4.135 15.152.63.145 35098 123 17 1 76 1744521785 1744521793 ACCEPT OK\n';

  it('says once, on stderr, how to get ip-ranges.json when there is none, and still runs', async () => {
    const r = await runCli(['--vpc', 'vpc-1=10.0.0.0/16'], { input: LINE.repeat(3) });
    expect(r.code).toBe(0);
    const records = ndjson(r.stdout);
    expect(records).toHaveLength(3);
    expect(records[0].dst).toEqual({ scope: 'internet', aws: null, vpc: null });
    const hints = r.logs.filter((l) => /vpcflow ranges update/.test(l.msg));
    expect(hints).toHaveLength(1);
  });

  it('flattens endpoints with dots in CSV, and picks single values with --fields', async () => {
    const env = { VPCFLOW_IP_RANGES: fixture('ip-ranges-small.json') };
    const csv = await runCli(['-o', 'csv', '--vpc', 'vpc-1=10.0.0.0/16'], { input: LINE, env });
    const [header, row] = csv.stdout.trim().split('\r\n');
    const cells = Object.fromEntries(header.split(',').map((k, i) => [k, row.split(',')[i]]));
    expect(cells).toMatchObject({ 'src.scope': 'vpc', 'src.vpc.vpc_id': 'vpc-1', 'dst.scope': 'aws', 'dst.aws.service': 'EC2', 'dst.aws.services': 'EC2|AMAZON', 'dst.aws.region': 'ap-northeast-3' });
    const picked = await runCli(['--fields', 'dstaddr,dst.aws.service,dst.aws.region,src.vpc.vpc_id', '--vpc', 'vpc-1=10.0.0.0/16'], { input: LINE, env });
    expect(ndjson(picked.stdout)).toEqual([{ dstaddr: '15.152.63.145', 'dst.aws.service': 'EC2', 'dst.aws.region': 'ap-northeast-3', 'src.vpc.vpc_id': 'vpc-1' }]);
  });

  it('refuses a bad --vpc, --inventory or --ip-ranges with a usage error', async () => {
    expect((await runCli(['--vpc', 'vpc-1'], { input: LINE })).code).toBe(2);
    expect((await runCli(['--inventory', 'fixtures/sample-default.log'], { input: LINE })).stderr).toMatch(/sample-default.log/);
    const missing = await runCli(['--ip-ranges', 'no/such.json'], { input: LINE });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/no\/such.json/);
  });

  it('decodes only with --no-enrich', async () => {
    const r = await runCli(['--no-enrich'], { input: LINE });
    expect(Object.keys(ndjson(r.stdout)[0])).not.toContain('src');
  });
});

describe.skipIf(!hasSharedData)('with the real ip-ranges.json snapshot', () => {
  const real = path.join(SHARED_DATA, 'ip-ranges.json');

  it('names 15.152.63.145 as EC2 in ap-northeast-3 and 10.0.4.135 as vpc-1 (the example line)', async () => {
    const line = '2 654654279488 eni-01f35fc1a2377de36 10.0.4.135 15.152.63.145 35098 123 17 1 76 1744521785 1744521793 ACCEPT OK\n';
    const r = await runCli(['--ip-ranges', real, '--vpc', 'vpc-1=10.0.0.0/16'], { input: line });
    const [record] = ndjson(r.stdout);
    expect(record.dst).toEqual({ scope: 'aws', aws: { service: 'EC2', services: ['EC2', 'AMAZON'], region: 'ap-northeast-3', border_group: 'ap-northeast-3', prefix: '15.152.0.0/16' }, vpc: null });
    expect(record.src).toEqual({ scope: 'vpc', aws: null, vpc: { vpc_id: 'vpc-1', subnet_id: null, eni: null, instance_id: null, resource: null } });
  });

  it("agrees with AWS's own pkt-src/dst-aws-service wherever AWS set it in the real captures", () => {
    const enricher = new Enricher({ awsRanges: AwsRanges.fromFile(real) });
    let compared = 0;
    for (const file of ['grafana_aws-test_flow_logs.log', 'grafana_aws-flow-logs-10.3.11.57-142.250.185.91.log']) {
      for (const r of enrichText(readFileSync(path.join(SHARED_DATA, 'flowlogs', file)), enricher)) {
        for (const [mine, theirs] of [['pkt_src', 'pkt_src_aws_service'], ['pkt_dst', 'pkt_dst_aws_service']] as const) {
          if (r[theirs] === null) continue;
          compared++;
          expect((r[mine] as { aws: { service: string } }).aws.service, `${r[mine === 'pkt_src' ? 'pkt_srcaddr' : 'pkt_dstaddr']}`).toBe(r[theirs]);
        }
      }
    }
    expect(compared).toBe(3);
  });
});
