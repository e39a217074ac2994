import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  InventoryError,
  mergeInventories,
  parseInventoryDocument,
  parseVpcOption,
  readInventoryFile,
  type Inventory,
  type KnownInterface,
} from '../src/enrich/inventory.js';
import { fixture } from './helpers.js';

const VPCS = fixture('inventory/describe-vpcs.json');
const SUBNETS = fixture('inventory/describe-subnets.json');
const ENIS = fixture('inventory/describe-network-interfaces.json');
const ADDRESSES = fixture('inventory/describe-addresses.json');

const INSTANCE_ENI = 'eni-0a1b2c3d4e5f60718';
const NAT_ENI = 'eni-0f9e8d7c6b5a40312';
const ALB_ENI = 'eni-07c6b5a4d3e2f1a09';

const loadJson = (file: string): any => JSON.parse(readFileSync(file, 'utf8'));
const tmp = () => mkdtempSync(path.join(tmpdir(), 'vpcflow-inventory-'));

function eni(inventory: Inventory, id: string): KnownInterface {
  const found = inventory.interfaces.find((i) => i.eni === id);
  if (!found) throw new Error(`${id} not in inventory: ${inventory.interfaces.map((i) => i.eni).join(', ')}`);
  return found;
}

/** Runs `fn`, expecting an InventoryError, and returns its message. */
function inventoryError(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(InventoryError);
    return (err as Error).message;
  }
  throw new Error('expected an InventoryError, nothing was thrown');
}

describe('fixtures are in the AWS CLI v2 --output json layout', () => {
  it.each([VPCS, SUBNETS, ENIS, ADDRESSES])('%s is indented by 4 spaces and ends with a newline', (file) => {
    const text = readFileSync(file, 'utf8');
    expect(text).toBe(JSON.stringify(JSON.parse(text), null, 4) + '\n');
  });
});

describe('describe-vpcs', () => {
  const inv = readInventoryFile(VPCS);

  it('reads every VPC with its associated IPv4 and IPv6 CIDRs', () => {
    expect(inv.subnets).toEqual([]);
    expect(inv.interfaces).toEqual([]);
    expect(inv.vpcs).toEqual([
      { vpcId: 'vpc-0c5e2d4b1a3f69870', cidrs: ['10.0.0.0/16', '10.1.0.0/16', '2600:1f18:4a3:6c00::/56'], source: VPCS },
      { vpcId: 'vpc-0f1e2d3c4b5a69788', cidrs: ['172.31.0.0/16'], source: VPCS },
    ]);
  });

  it('ignores disassociated and failed CIDRs, keeps ones in transition', () => {
    // The fixture really does hold a disassociated block, so the first test proves it was dropped.
    expect(JSON.stringify(loadJson(VPCS))).toContain('"10.2.0.0/16"');
    const doc = {
      Vpcs: [
        {
          VpcId: 'vpc-0aaaaaaaaaaaaaaaa',
          CidrBlock: '10.10.0.0/16',
          CidrBlockAssociationSet: [
            { CidrBlock: '10.10.0.0/16', CidrBlockState: { State: 'associated' } },
            { CidrBlock: '10.11.0.0/16', CidrBlockState: { State: 'failed', StatusMessage: 'overlaps' } },
            { CidrBlock: '10.12.0.0/16', CidrBlockState: { State: 'associating' } },
            { CidrBlock: '10.13.0.0/16', CidrBlockState: { State: 'disassociated' } },
          ],
          Ipv6CidrBlockAssociationSet: [
            { Ipv6CidrBlock: '2600:1f18:1:100::/56', Ipv6CidrBlockState: { State: 'disassociated' } },
            { Ipv6CidrBlock: '2600:1F18:0001:0200:0000::/56', Ipv6CidrBlockState: { State: 'associated' } },
          ],
        },
      ],
    };
    expect(parseInventoryDocument(doc, 'x.json').vpcs[0].cidrs).toEqual([
      '10.10.0.0/16',
      '10.12.0.0/16',
      '2600:1f18:1:200::/56',
    ]);
  });
});

describe('describe-subnets', () => {
  it('reads subnets with their VPC, CIDRs and Availability Zone', () => {
    const inv = readInventoryFile(SUBNETS);
    expect(inv.vpcs).toEqual([]);
    expect(inv.subnets).toEqual([
      {
        subnetId: 'subnet-0a7b6c5d4e3f21098',
        vpcId: 'vpc-0c5e2d4b1a3f69870',
        cidrs: ['10.0.1.0/24', '2600:1f18:4a3:6c00::/64'],
        availabilityZone: 'us-east-1a',
        source: SUBNETS,
      },
      {
        subnetId: 'subnet-0e9d8c7b6a5f43210',
        vpcId: 'vpc-0c5e2d4b1a3f69870',
        cidrs: ['10.0.2.0/24'],
        availabilityZone: 'us-east-1b',
        source: SUBNETS,
      },
      {
        subnetId: 'subnet-04c3b2a1f0e9d8c76',
        vpcId: 'vpc-0f1e2d3c4b5a69788',
        cidrs: ['172.31.32.0/20'],
        availabilityZone: 'us-east-1a',
        source: SUBNETS,
      },
    ]);
  });

  it('reads an IPv6-only subnet (no CidrBlock) and drops a disassociated IPv6 block', () => {
    const doc = {
      Subnets: [
        {
          SubnetId: 'subnet-0bbbbbbbbbbbbbbbb',
          VpcId: 'vpc-0aaaaaaaaaaaaaaaa',
          Ipv6Native: true,
          Ipv6CidrBlockAssociationSet: [
            { Ipv6CidrBlock: '2600:1f18:4a3:6c01::/64', Ipv6CidrBlockState: { State: 'associated' } },
            { Ipv6CidrBlock: '2600:1f18:4a3:6c02::/64', Ipv6CidrBlockState: { State: 'disassociated' } },
          ],
        },
      ],
    };
    expect(parseInventoryDocument(doc, 's.json').subnets).toEqual([
      { subnetId: 'subnet-0bbbbbbbbbbbbbbbb', vpcId: 'vpc-0aaaaaaaaaaaaaaaa', cidrs: ['2600:1f18:4a3:6c01::/64'], availabilityZone: null, source: 's.json' },
    ]);
  });
});

describe('describe-network-interfaces', () => {
  const inv = readInventoryFile(ENIS);

  it('reads the instance ENI with all of its own addresses', () => {
    expect(eni(inv, INSTANCE_ENI)).toEqual({
      eni: INSTANCE_ENI,
      vpcId: 'vpc-0c5e2d4b1a3f69870',
      subnetId: 'subnet-0a7b6c5d4e3f21098',
      instanceId: 'i-0123456789abcdef0',
      interfaceType: 'interface',
      // An empty Description is no description.
      description: null,
      requesterManaged: false,
      addresses: ['10.0.1.25', '3.120.10.20', '10.0.1.26', '52.28.0.9', '2600:1f18:4a3:6c00::10'],
      prefixes: [],
      source: ENIS,
    });
  });

  it('reads the NAT gateway ENI: type, description, public IP, no instance', () => {
    expect(eni(inv, NAT_ENI)).toEqual({
      eni: NAT_ENI,
      vpcId: 'vpc-0c5e2d4b1a3f69870',
      subnetId: 'subnet-0e9d8c7b6a5f43210',
      instanceId: null,
      interfaceType: 'nat_gateway',
      description: 'Interface for NAT Gateway nat-0e1f2a3b4c5d6e7f8',
      requesterManaged: true,
      addresses: ['10.0.2.40', '18.194.1.2'],
      prefixes: [],
      source: ENIS,
    });
  });

  it('reads the ALB ENI by its description', () => {
    const alb = eni(inv, ALB_ENI);
    expect(alb.interfaceType).toBe('interface');
    expect(alb.description).toBe('ELB app/my-alb/50dc6c495c0c9188');
    expect(alb.requesterManaged).toBe(true);
    expect(alb.instanceId).toBeNull();
    expect(alb.addresses).toEqual(['10.0.2.77']);
  });

  it('has exactly the three interfaces of the fixture', () => {
    expect(inv.interfaces.map((i) => i.eni)).toEqual([INSTANCE_ENI, NAT_ENI, ALB_ENI]);
    expect(inv.vpcs).toEqual([]);
  });

  it('reads delegated prefixes and the top-level Ipv6Address, normalising IPv6 text', () => {
    const doc = {
      NetworkInterfaces: [
        {
          NetworkInterfaceId: 'eni-0ccccccccccccccc1',
          InterfaceType: 'interface',
          PrivateIpAddress: '10.0.1.30',
          PrivateIpAddresses: [{ PrivateIpAddress: '10.0.1.30', Primary: true }],
          Ipv6Address: '2600:1F18:04A3:6C00:0:0:0:20',
          Ipv6Addresses: [
            { Ipv6Address: '2600:1f18:4a3:6c00::20', IsPrimaryIpv6: true },
            { Ipv6Address: '2001:DB8:0:0:1:0:0:1' },
          ],
          Ipv4Prefixes: [{ Ipv4Prefix: '10.0.1.160/28' }],
          Ipv6Prefixes: [{ Ipv6Prefix: '2600:1f18:4a3:6c00:f1a2::/80' }],
          RequesterManaged: false,
          VpcId: 'vpc-0c5e2d4b1a3f69870',
          SubnetId: 'subnet-0a7b6c5d4e3f21098',
        },
      ],
    };
    const ni = parseInventoryDocument(doc, 'p.json').interfaces[0];
    expect(ni.addresses).toEqual(['10.0.1.30', '2600:1f18:4a3:6c00::20', '2001:db8::1:0:0:1']);
    expect(ni.prefixes).toEqual(['10.0.1.160/28', '2600:1f18:4a3:6c00:f1a2::/80']);
    expect(ni.instanceId).toBeNull();
  });

  it('names the element that holds a malformed address', () => {
    const doc = loadJson(ENIS);
    doc.NetworkInterfaces[1].PrivateIpAddresses[0].PrivateIpAddress = '10.0.2';
    const message = inventoryError(() => parseInventoryDocument(doc, 'enis.json'));
    expect(message).toContain('enis.json');
    expect(message).toContain('NetworkInterfaces[1].PrivateIpAddresses[0].PrivateIpAddress');
    expect(message).toContain("'10.0.2'");
  });

  it('names an interface without NetworkInterfaceId', () => {
    const message = inventoryError(() => parseInventoryDocument({ NetworkInterfaces: [{ PrivateIpAddress: '10.0.0.1' }] }, 'e.json'));
    expect(message).toMatch(/^e\.json: NetworkInterfaces\[0\]: NetworkInterfaceId is missing/);
  });
});

describe('describe-addresses', () => {
  it('turns an associated Elastic IP into a minimal entry for its ENI and skips unassociated ones', () => {
    const inv = readInventoryFile(ADDRESSES);
    expect(inv.vpcs).toEqual([]);
    expect(inv.subnets).toEqual([]);
    expect(inv.interfaces).toEqual([
      {
        eni: INSTANCE_ENI,
        vpcId: null,
        subnetId: null,
        instanceId: 'i-0123456789abcdef0',
        interfaceType: null,
        description: null,
        requesterManaged: false,
        addresses: ['10.0.1.26', '52.28.0.9'],
        prefixes: [],
        source: ADDRESSES,
      },
    ]);
    expect(JSON.stringify(inv)).not.toContain('52.28.0.10');
  });
});

describe('mergeInventories', () => {
  const all = mergeInventories([VPCS, SUBNETS, ENIS, ADDRESSES].map(readInventoryFile));

  it('keeps each VPC, subnet and ENI once', () => {
    expect(all.vpcs.map((v) => v.vpcId)).toEqual(['vpc-0c5e2d4b1a3f69870', 'vpc-0f1e2d3c4b5a69788']);
    expect(all.subnets).toHaveLength(3);
    expect(all.interfaces.map((i) => i.eni)).toEqual([INSTANCE_ENI, NAT_ENI, ALB_ENI]);
  });

  it('puts the Elastic IP on the instance ENI and records both sources', () => {
    const instance = eni(all, INSTANCE_ENI);
    expect(instance.addresses).toContain('52.28.0.9');
    expect(instance.addresses.filter((a) => a === '52.28.0.9')).toHaveLength(1);
    expect(instance.instanceId).toBe('i-0123456789abcdef0');
    expect(instance.vpcId).toBe('vpc-0c5e2d4b1a3f69870');
    expect(instance.source).toBe(`${ENIS}, ${ADDRESSES}`);
  });

  it('keeps the NAT gateway ENI type and description', () => {
    const nat = eni(all, NAT_ENI);
    expect(nat.interfaceType).toBe('nat_gateway');
    expect(nat.description).toBe('Interface for NAT Gateway nat-0e1f2a3b4c5d6e7f8');
    expect(nat.requesterManaged).toBe(true);
    expect(nat.addresses).toEqual(['10.0.2.40', '18.194.1.2']);
  });

  it('adds an EIP the ENI listing does not show, whichever comes first, without losing fields', () => {
    // As if describe-network-interfaces had run before the EIP was associated.
    const doc = loadJson(ENIS);
    delete doc.NetworkInterfaces[0].PrivateIpAddresses[1].Association;
    const enis = parseInventoryDocument(doc, 'enis.json');
    expect(eni(enis, INSTANCE_ENI).addresses).not.toContain('52.28.0.9');
    const addresses = readInventoryFile(ADDRESSES);

    for (const merged of [mergeInventories([enis, addresses]), mergeInventories([addresses, enis])]) {
      const instance = eni(merged, INSTANCE_ENI);
      expect(instance.addresses).toContain('52.28.0.9');
      expect(instance.vpcId).toBe('vpc-0c5e2d4b1a3f69870');
      expect(instance.subnetId).toBe('subnet-0a7b6c5d4e3f21098');
      expect(instance.interfaceType).toBe('interface');
      expect(merged.interfaces).toHaveLength(3);
    }
  });

  it('creates a minimal entry for an EIP whose ENI was not described', () => {
    const merged = mergeInventories([readInventoryFile(VPCS), readInventoryFile(ADDRESSES)]);
    expect(merged.interfaces).toHaveLength(1);
    expect(merged.interfaces[0]).toMatchObject({ eni: INSTANCE_ENI, addresses: ['10.0.1.26', '52.28.0.9'], interfaceType: null });
  });

  it('unions CIDRs of the same VPC from a file and --vpc, and does not alias its inputs', () => {
    const fromFile = readInventoryFile(VPCS);
    const fromOption = parseVpcOption('vpc-0c5e2d4b1a3f69870=10.0.0.0/16,100.64.0.0/16');
    const merged = mergeInventories([fromFile, { vpcs: [fromOption], subnets: [], interfaces: [] }]);
    expect(merged.vpcs[0].cidrs).toEqual(['10.0.0.0/16', '10.1.0.0/16', '2600:1f18:4a3:6c00::/56', '100.64.0.0/16']);
    expect(merged.vpcs[0].source).toBe(`${VPCS}, --vpc`);
    expect(fromFile.vpcs[0].cidrs).toHaveLength(3);
  });

  it('fills nulls from later parts but keeps the first non-null value', () => {
    const base = { vpcId: null, subnetId: null, instanceId: null, interfaceType: null, description: null, requesterManaged: false, prefixes: [] };
    const a: KnownInterface = { ...base, eni: 'eni-1', description: 'first', addresses: ['10.0.0.1'], source: 'a' };
    const b: KnownInterface = { ...base, eni: 'eni-1', description: 'second', instanceId: 'i-1', requesterManaged: true, addresses: ['10.0.0.2', '10.0.0.1'], source: 'b' };
    const [merged] = mergeInventories([
      { vpcs: [], subnets: [], interfaces: [a] },
      { vpcs: [], subnets: [], interfaces: [b] },
    ]).interfaces;
    expect(merged).toEqual({ ...base, eni: 'eni-1', description: 'first', instanceId: 'i-1', requesterManaged: true, addresses: ['10.0.0.1', '10.0.0.2'], source: 'a, b' });
  });
});

describe('a file holding several documents', () => {
  it('reads every recognised top-level key (as `jq -s add` produces)', () => {
    const combined = { ...loadJson(VPCS), ...loadJson(SUBNETS), ...loadJson(ENIS), ...loadJson(ADDRESSES) };
    const file = path.join(tmp(), 'inventory.json');
    writeFileSync(file, JSON.stringify(combined, null, 4));
    const inv = readInventoryFile(file);
    expect(inv.vpcs).toHaveLength(2);
    expect(inv.subnets).toHaveLength(3);
    expect(inv.interfaces.map((i) => i.eni)).toEqual([INSTANCE_ENI, NAT_ENI, ALB_ENI]);
    expect(eni(inv, INSTANCE_ENI).addresses).toContain('52.28.0.9');
    expect(inv.vpcs.every((v) => v.source === file)).toBe(true);
  });

  it('folds the same ENI listed twice (pages concatenated) into one entry', () => {
    const doc = loadJson(ENIS);
    doc.NetworkInterfaces.push({ NetworkInterfaceId: NAT_ENI, PrivateIpAddress: '10.0.2.41' });
    const inv = parseInventoryDocument(doc, 'pages.json');
    expect(inv.interfaces).toHaveLength(3);
    expect(eni(inv, NAT_ENI).addresses).toEqual(['10.0.2.40', '18.194.1.2', '10.0.2.41']);
  });

  it('accepts the NextToken the CLI prints with --max-items', () => {
    const inv = parseInventoryDocument({ ...loadJson(VPCS), NextToken: 'eyJOZXh0VG9rZW4iOiBudWxsfQ==' }, 'v.json');
    expect(inv.vpcs).toHaveLength(2);
  });

  it('reads a UTF-16LE file with a byte order mark (Windows PowerShell redirection)', () => {
    const file = path.join(tmp(), 'vpcs-ps.json');
    writeFileSync(file, Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(readFileSync(VPCS, 'utf8'), 'utf16le')]));
    expect(readInventoryFile(file).vpcs.map((v) => v.vpcId)).toEqual(['vpc-0c5e2d4b1a3f69870', 'vpc-0f1e2d3c4b5a69788']);
  });
});

describe('parseVpcOption', () => {
  it('parses an id and its CIDRs, normalising them', () => {
    expect(parseVpcOption('vpc-0abc=10.0.0.0/16')).toEqual({ vpcId: 'vpc-0abc', cidrs: ['10.0.0.0/16'], source: '--vpc' });
    expect(parseVpcOption(' vpc-0abc = 10.0.0.0/16 , 2600:1F18:0000::/56 ')).toEqual({
      vpcId: 'vpc-0abc',
      cidrs: ['10.0.0.0/16', '2600:1f18::/56'],
      source: '--vpc',
    });
    // Host bits name the same block; lookups compare text, so they are cleared.
    expect(parseVpcOption('vpc-1=10.0.1.5/16,2600:1f18:4a3:6c12::1/56').cidrs).toEqual(['10.0.0.0/16', '2600:1f18:4a3:6c00::/56']);
  });

  it.each([
    ['vpc-0abc', /no '='/],
    ['=10.0.0.0/16', /VPC id before '=' is empty/],
    ['  =10.0.0.0/16', /VPC id before '=' is empty/],
    ['vpc-0abc=', /no CIDR after '='/],
    ['vpc-0abc=10.0.0.0/16,', /an empty CIDR/],
    ['vpc-0abc=10.0.0.0', /'10\.0\.0\.0' is not an IPv4 or IPv6 CIDR \(a CIDR needs a \/length/],
    ['vpc-0abc=10.0.0.0/33', /'10\.0\.0\.0\/33' is not an IPv4 or IPv6 CIDR/],
    ['vpc-0abc=10.0.0/16', /'10\.0\.0\/16' is not/],
    ['vpc-0abc=10.0.0.0/16,2600:1f18::/129', /'2600:1f18::\/129' is not/],
    ['vpc-0abc=my-network', /'my-network' is not/],
    ['vpc-0abc=10.0.0.0/016', /'10\.0\.0\.0\/016' is not/],
  ])('rejects %j', (spec, pattern) => {
    const message = inventoryError(() => parseVpcOption(spec));
    expect(message).toMatch(pattern);
    expect(message).toContain('--vpc');
  });
});

describe('errors', () => {
  it('names the file and the expected keys for describe-instances output', () => {
    const file = path.join(tmp(), 'instances.json');
    writeFileSync(file, JSON.stringify({ Reservations: [] }, null, 4));
    const message = inventoryError(() => readInventoryFile(file));
    expect(message).toContain(file);
    expect(message).toContain("'Reservations'");
    for (const key of ['Vpcs', 'Subnets', 'NetworkInterfaces', 'Addresses']) expect(message).toContain(key);
    expect(message).toContain('describe-network-interfaces');
  });

  it('refuses a recognised document mixed with an unknown key, naming the unknown one', () => {
    const message = inventoryError(() => parseInventoryDocument({ ...loadJson(VPCS), SecurityGroups: [] }, 'mixed.json'));
    expect(message).toMatch(/^mixed\.json: .*'SecurityGroups'/);
    expect(message).not.toContain("'Vpcs'");
  });

  it.each([
    [[], /found a list/],
    ['Vpcs', /found the string 'Vpcs'/],
    [null, /found null/],
    [{}, /found an empty object/],
  ])('refuses a document that is %j', (json, pattern) => {
    const message = inventoryError(() => parseInventoryDocument(json, 'odd.json'));
    expect(message).toMatch(/^odd\.json: /);
    expect(message).toMatch(pattern);
    expect(message).toContain('NetworkInterfaces (aws ec2 describe-network-interfaces)');
  });

  it('refuses a top-level key whose value is not a list', () => {
    expect(inventoryError(() => parseInventoryDocument({ Vpcs: { VpcId: 'vpc-1' } }, 'v.json'))).toBe(
      'v.json: $.Vpcs: expected a list, found an object',
    );
  });

  it('reports invalid JSON with the path', () => {
    const file = path.join(tmp(), 'broken.json');
    writeFileSync(file, '{\n    "Vpcs": [\n');
    const message = inventoryError(() => readInventoryFile(file));
    expect(message).toContain(file);
    expect(message).toMatch(/not valid JSON/);
  });

  it('reports text output (--output text) as not JSON', () => {
    const file = path.join(tmp(), 'vpcs.txt');
    writeFileSync(file, 'VPCS\t10.0.0.0/16\tdopt-0b7e4f2a9c1d35e68\tdefault\tFalse\t123456789012\tavailable\tvpc-0c5e2d4b1a3f69870\n');
    expect(inventoryError(() => readInventoryFile(file))).toMatch(/not valid JSON.*--output json/);
  });

  it('reports an empty file', () => {
    const file = path.join(tmp(), 'empty.json');
    writeFileSync(file, '\n');
    expect(inventoryError(() => readInventoryFile(file))).toBe(`${file}: the file is empty; expected the JSON the AWS CLI prints with --output json`);
  });

  it('reports a missing file with its path', () => {
    const file = path.join(tmp(), 'no-such-inventory.json');
    expect(inventoryError(() => readInventoryFile(file))).toBe(`${file}: cannot read inventory file: no such file`);
  });

  it('reports a directory given as a file', () => {
    const dir = tmp();
    expect(inventoryError(() => readInventoryFile(dir))).toBe(`${dir}: cannot read inventory file: it is a directory`);
  });
});
