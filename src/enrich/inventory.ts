/**
 * The user's own network inventory, read from what the AWS CLI v2 prints (`--output json`) for
 * `aws ec2 describe-vpcs`, `describe-subnets`, `describe-network-interfaces` and `describe-addresses`,
 * so that an address in a flow log can be named: "vpc-X / subnet-Y, ENI eni-Z of instance i-W".
 *
 * This is read once at start-up, off the hot path: it favours plain code and precise error messages
 * (a mistyped file should say which file and which element) over speed.
 */
import { readFileSync } from 'node:fs';
import ipaddr from 'ipaddr.js';

export interface KnownVpc {
  vpcId: string;
  /** IPv4 and IPv6, associated (not disassociated/failed). */
  cidrs: string[];
  source: string;
}

export interface KnownSubnet {
  subnetId: string;
  vpcId: string;
  cidrs: string[];
  availabilityZone: string | null;
  source: string;
}

export interface KnownInterface {
  eni: string;
  vpcId: string | null;
  subnetId: string | null;
  instanceId: string | null;
  interfaceType: string | null;
  description: string | null;
  requesterManaged: boolean;
  /** Every address that is this interface's own: primary and secondary private IPv4, IPv6 addresses, and public IPv4 (association / Elastic IP). */
  addresses: string[];
  /** Delegated prefixes (Ipv4Prefixes / Ipv6Prefixes) as CIDRs. */
  prefixes: string[];
  source: string;
}

export interface Inventory {
  vpcs: KnownVpc[];
  subnets: KnownSubnet[];
  interfaces: KnownInterface[];
}

export class InventoryError extends Error {
  override name = 'InventoryError';
}

/** The top-level keys we understand, each the output of one `aws ec2 describe-*` command. */
const DOCUMENT_KEYS = {
  Vpcs: 'aws ec2 describe-vpcs',
  Subnets: 'aws ec2 describe-subnets',
  NetworkInterfaces: 'aws ec2 describe-network-interfaces',
  Addresses: 'aws ec2 describe-addresses',
} as const;
type DocumentKey = keyof typeof DOCUMENT_KEYS;

/**
 * Printed by the CLI next to the listing when `--max-items` cuts it short. The listing itself is still
 * good, so we accept it rather than make the user strip it.
 */
const TOLERATED_KEYS = new Set(['NextToken']);

/**
 * CIDR association states that mean the block is not (or no longer) the VPC's. `associating` and
 * `disassociating` are kept: the block is routed in the VPC while in those states, so flows can use it.
 */
const DEAD_CIDR_STATES = new Set(['disassociated', 'failed', 'failing']);

function expectedKeysText(): string {
  return Object.entries(DOCUMENT_KEYS)
    .map(([key, command]) => `${key} (${command})`)
    .join(', ');
}

// ---------------------------------------------------------------------------------------------
// Address and CIDR normalisation

type IP = ipaddr.IPv4 | ipaddr.IPv6;

/**
 * ipaddr.js also accepts legacy IPv4 spellings ("10.1", "0x0a.0.0.1", "010.0.0.1") that the AWS CLI
 * never prints and that people never mean; in an inventory they are a typo, so they are refused.
 * Zone ids ("fe80::1%eth0") have no meaning in a VPC and are refused too.
 */
function parseStrictAddress(text: string): IP | null {
  if (text.includes(':')) {
    if (!ipaddr.IPv6.isValid(text) || text.includes('%')) return null;
    return ipaddr.IPv6.parse(text);
  }
  if (!ipaddr.IPv4.isValidFourPartDecimal(text)) return null;
  return ipaddr.IPv4.parse(text);
}

/** Dotted quad for IPv4; lowercase RFC 5952 text for IPv6 (what ipaddr.js `toString()` gives). */
function normaliseAddress(text: string): string | null {
  return parseStrictAddress(text.trim())?.toString() ?? null;
}

/**
 * `network/len`, with any host bits cleared: "10.0.1.5/16" names the same block as "10.0.0.0/16", and
 * lookups compare text, so both must come out the same.
 */
function normaliseCidr(text: string): string | null {
  const trimmed = text.trim();
  const slash = trimmed.indexOf('/');
  if (slash < 0) return null;
  const address = parseStrictAddress(trimmed.slice(0, slash));
  if (!address) return null;
  let parsed: [IP, number];
  try {
    parsed = ipaddr.parseCIDR(trimmed);
  } catch {
    return null;
  }
  const [, length] = parsed;
  // parseCIDR accepts "/016"; a leading zero is not something anyone writes on purpose.
  if (!/^(0|[1-9][0-9]*)$/.test(trimmed.slice(slash + 1))) return null;
  const bytes = address.toByteArray();
  for (let bit = length; bit < bytes.length * 8; bit++) {
    bytes[bit >> 3] &= ~(0x80 >> (bit & 7));
  }
  return `${ipaddr.fromByteArray(bytes).toString()}/${length}`;
}

// ---------------------------------------------------------------------------------------------
// Reading one document

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Walks one document, knowing where it is, so every complaint can point at the offending element. */
class Reader {
  constructor(readonly source: string) {}

  fail(where: string, what: string): never {
    throw new InventoryError(`${this.source}: ${where}: ${what}`);
  }

  array(parent: Json, key: string, where: string): unknown[] {
    const value = parent[key];
    if (value === undefined || value === null) return [];
    if (!Array.isArray(value)) this.fail(`${where}.${key}`, `expected a list, found ${describe(value)}`);
    return value;
  }

  object(value: unknown, where: string): Json {
    if (!isObject(value)) this.fail(where, `expected an object, found ${describe(value)}`);
    return value;
  }

  /** An optional string field; absent and JSON null both read as null. */
  string(parent: Json, key: string, where: string): string | null {
    const value = parent[key];
    if (value === undefined || value === null) return null;
    if (typeof value !== 'string') this.fail(`${where}.${key}`, `expected a string, found ${describe(value)}`);
    return value;
  }

  requiredString(parent: Json, key: string, where: string): string {
    const value = this.string(parent, key, where);
    if (value === null || value.trim() === '') this.fail(where, `${key} is missing`);
    return value.trim();
  }

  address(parent: Json, key: string, where: string): string | null {
    const text = this.string(parent, key, where);
    // The CLI prints "" for some unset fields rather than leaving them out.
    if (text === null || text === '') return null;
    const normal = normaliseAddress(text);
    if (normal === null) this.fail(`${where}.${key}`, `'${text}' is not an IPv4 or IPv6 address`);
    return normal;
  }

  cidr(parent: Json, key: string, where: string): string | null {
    const text = this.string(parent, key, where);
    if (text === null || text === '') return null;
    const normal = normaliseCidr(text);
    if (normal === null) this.fail(`${where}.${key}`, `'${text}' is not an IPv4 or IPv6 CIDR`);
    return normal;
  }

  /** The `State` inside a `CidrBlockState` / `Ipv6CidrBlockState` object; a missing one counts as live. */
  isLiveAssociation(association: Json, stateKey: string, where: string): boolean {
    const holder = association[stateKey];
    if (holder === undefined || holder === null) return true;
    const state = this.string(this.object(holder, `${where}.${stateKey}`), 'State', `${where}.${stateKey}`);
    return state === null || !DEAD_CIDR_STATES.has(state);
  }

  boolean(parent: Json, key: string, where: string): boolean {
    const value = parent[key];
    if (value === undefined || value === null) return false;
    if (typeof value !== 'boolean') this.fail(`${where}.${key}`, `expected true or false, found ${describe(value)}`);
    return value;
  }
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'an object';
  if (typeof value === 'string') return `the string '${value.length > 40 ? `${value.slice(0, 40)}…` : value}'`;
  return `${typeof value} ${String(value)}`;
}

function pushUnique(list: string[], value: string | null): void {
  if (value !== null && !list.includes(value)) list.push(value);
}

/** The IPv6 CIDR associations of a VPC or subnet: same shape in both. */
function ipv6Cidrs(r: Reader, parent: Json, where: string, into: string[]): void {
  r.array(parent, 'Ipv6CidrBlockAssociationSet', where).forEach((item, i) => {
    const at = `${where}.Ipv6CidrBlockAssociationSet[${i}]`;
    const association = r.object(item, at);
    if (r.isLiveAssociation(association, 'Ipv6CidrBlockState', at)) pushUnique(into, r.cidr(association, 'Ipv6CidrBlock', at));
  });
}

function readVpc(r: Reader, item: unknown, where: string): KnownVpc {
  const vpc = r.object(item, where);
  const vpcId = r.requiredString(vpc, 'VpcId', where);
  const cidrs: string[] = [];
  // The top-level CidrBlock is the primary block, which cannot be disassociated; it is also repeated
  // in CidrBlockAssociationSet, and pushUnique folds the two.
  pushUnique(cidrs, r.cidr(vpc, 'CidrBlock', where));
  r.array(vpc, 'CidrBlockAssociationSet', where).forEach((entry, i) => {
    const at = `${where}.CidrBlockAssociationSet[${i}]`;
    const association = r.object(entry, at);
    if (r.isLiveAssociation(association, 'CidrBlockState', at)) pushUnique(cidrs, r.cidr(association, 'CidrBlock', at));
  });
  ipv6Cidrs(r, vpc, where, cidrs);
  return { vpcId, cidrs, source: r.source };
}

function readSubnet(r: Reader, item: unknown, where: string): KnownSubnet {
  const subnet = r.object(item, where);
  const subnetId = r.requiredString(subnet, 'SubnetId', where);
  const vpcId = r.requiredString(subnet, 'VpcId', where);
  const cidrs: string[] = [];
  // IPv6-only subnets (Ipv6Native) have no CidrBlock at all.
  pushUnique(cidrs, r.cidr(subnet, 'CidrBlock', where));
  ipv6Cidrs(r, subnet, where, cidrs);
  return { subnetId, vpcId, cidrs, availabilityZone: r.string(subnet, 'AvailabilityZone', where), source: r.source };
}

/**
 * The public side of an association: PublicIp for Elastic and auto-assigned public IPv4, CarrierIp in
 * Wavelength Zones, CustomerOwnedIp on Outposts. Each is an address this interface answers on.
 */
function associationAddresses(r: Reader, holder: Json, where: string, into: string[]): void {
  const association = holder.Association;
  if (association === undefined || association === null) return;
  const at = `${where}.Association`;
  const a = r.object(association, at);
  for (const key of ['PublicIp', 'CarrierIp', 'CustomerOwnedIp']) pushUnique(into, r.address(a, key, at));
}

function readInterface(r: Reader, item: unknown, where: string): KnownInterface {
  const ni = r.object(item, where);
  const eni = r.requiredString(ni, 'NetworkInterfaceId', where);
  const addresses: string[] = [];
  const prefixes: string[] = [];

  pushUnique(addresses, r.address(ni, 'PrivateIpAddress', where));
  r.array(ni, 'PrivateIpAddresses', where).forEach((entry, i) => {
    const at = `${where}.PrivateIpAddresses[${i}]`;
    const privateIp = r.object(entry, at);
    pushUnique(addresses, r.address(privateIp, 'PrivateIpAddress', at));
    // Secondary private IPs carry their own Elastic IP associations here and nowhere else.
    associationAddresses(r, privateIp, at, addresses);
  });
  associationAddresses(r, ni, where, addresses);
  pushUnique(addresses, r.address(ni, 'Ipv6Address', where));
  r.array(ni, 'Ipv6Addresses', where).forEach((entry, i) => {
    const at = `${where}.Ipv6Addresses[${i}]`;
    pushUnique(addresses, r.address(r.object(entry, at), 'Ipv6Address', at));
  });
  r.array(ni, 'Ipv4Prefixes', where).forEach((entry, i) => {
    const at = `${where}.Ipv4Prefixes[${i}]`;
    pushUnique(prefixes, r.cidr(r.object(entry, at), 'Ipv4Prefix', at));
  });
  r.array(ni, 'Ipv6Prefixes', where).forEach((entry, i) => {
    const at = `${where}.Ipv6Prefixes[${i}]`;
    pushUnique(prefixes, r.cidr(r.object(entry, at), 'Ipv6Prefix', at));
  });

  let instanceId: string | null = null;
  if (ni.Attachment !== undefined && ni.Attachment !== null) {
    // Service-managed interfaces (NAT gateway, load balancers) have an Attachment without an InstanceId.
    instanceId = emptyToNull(r.string(r.object(ni.Attachment, `${where}.Attachment`), 'InstanceId', `${where}.Attachment`));
  }

  return {
    eni,
    vpcId: emptyToNull(r.string(ni, 'VpcId', where)),
    subnetId: emptyToNull(r.string(ni, 'SubnetId', where)),
    instanceId,
    interfaceType: emptyToNull(r.string(ni, 'InterfaceType', where)),
    description: emptyToNull(r.string(ni, 'Description', where)),
    requesterManaged: r.boolean(ni, 'RequesterManaged', where),
    addresses,
    prefixes,
    source: r.source,
  };
}

/**
 * An Elastic IP only tells us something about an interface when it is associated with one; it then
 * becomes a minimal interface entry that merging folds into the described ENI (if any). Unassociated
 * addresses carry no traffic, so they give null.
 */
function readAddress(r: Reader, item: unknown, where: string): KnownInterface | null {
  const address = r.object(item, where);
  const eni = emptyToNull(r.string(address, 'NetworkInterfaceId', where));
  const publicIp = r.address(address, 'PublicIp', where);
  const carrierIp = r.address(address, 'CarrierIp', where);
  const customerOwnedIp = r.address(address, 'CustomerOwnedIp', where);
  if (publicIp === null && carrierIp === null && customerOwnedIp === null) {
    r.fail(where, 'PublicIp is missing');
  }
  if (eni === null) return null;
  const addresses: string[] = [];
  // The private address the EIP maps to is the ENI's own too, which lets an addresses-only inventory
  // still name the private side of a NAT'd flow.
  pushUnique(addresses, r.address(address, 'PrivateIpAddress', where));
  pushUnique(addresses, publicIp);
  pushUnique(addresses, carrierIp);
  pushUnique(addresses, customerOwnedIp);
  return {
    eni,
    vpcId: null,
    subnetId: null,
    instanceId: emptyToNull(r.string(address, 'InstanceId', where)),
    interfaceType: null,
    description: null,
    requesterManaged: false,
    addresses,
    prefixes: [],
    source: r.source,
  };
}

function emptyToNull(text: string | null): string | null {
  return text === null || text.trim() === '' ? null : text.trim();
}

/** Parses one CLI output document, recognised by its top-level key (Vpcs, Subnets, NetworkInterfaces, Addresses; a file may hold several of them, e.g. merged by jq). Throws InventoryError naming `source` for anything else (unknown top-level keys → list the expected ones). */
export function parseInventoryDocument(json: unknown, source: string): Inventory {
  if (!isObject(json)) {
    throw new InventoryError(
      `${source}: expected a JSON object as printed by the AWS CLI (--output json), found ${describe(json)}; ` +
        `expected one or more of the top-level keys ${expectedKeysText()}`,
    );
  }
  const keys = Object.keys(json);
  const unknown = keys.filter((key) => !(key in DOCUMENT_KEYS) && !TOLERATED_KEYS.has(key));
  const known = keys.filter((key): key is DocumentKey => key in DOCUMENT_KEYS);
  if (unknown.length > 0 || known.length === 0) {
    const found = keys.length === 0 ? 'an empty object' : `top-level key${unknown.length === 1 ? '' : 's'} ${(unknown.length ? unknown : keys).map((k) => `'${k}'`).join(', ')}`;
    const hint = keys.includes('Reservations')
      ? ' (Reservations is describe-instances output; the addresses of instances are in describe-network-interfaces)'
      : '';
    throw new InventoryError(
      `${source}: not a network inventory document: found ${found}${hint}; expected one or more of ${expectedKeysText()}`,
    );
  }

  const r = new Reader(source);
  const inventory: Inventory = { vpcs: [], subnets: [], interfaces: [] };
  for (const key of known) {
    const items = r.array(json, key, '$');
    items.forEach((item, i) => {
      const where = `${key}[${i}]`;
      switch (key) {
        case 'Vpcs':
          inventory.vpcs.push(readVpc(r, item, where));
          break;
        case 'Subnets':
          inventory.subnets.push(readSubnet(r, item, where));
          break;
        case 'NetworkInterfaces':
          inventory.interfaces.push(readInterface(r, item, where));
          break;
        case 'Addresses': {
          const entry = readAddress(r, item, where);
          if (entry) inventory.interfaces.push(entry);
          break;
        }
      }
    });
  }
  // Pages concatenated by jq, or an EIP next to its ENI in one file, fold into single entries here too.
  return mergeInventories([inventory]);
}

/**
 * Text of a file as the CLI may have left it: Windows PowerShell 5 redirection (`aws … > file.json`)
 * writes UTF-16LE with a byte order mark, and some editors add a UTF-8 one.
 */
function decodeText(bytes: Buffer): string {
  if (bytes.length >= 2 && bytes[0] === 0xff && bytes[1] === 0xfe) return bytes.subarray(2).toString('utf16le');
  if (bytes.length >= 2 && bytes[0] === 0xfe && bytes[1] === 0xff) {
    const swapped = Buffer.from(bytes.subarray(2));
    swapped.swap16();
    return swapped.toString('utf16le');
  }
  const text = bytes.toString('utf8');
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

/** Reads and parses a file (JSON); InventoryError on unreadable / invalid JSON, with the path. */
export function readInventoryFile(path: string): Inventory {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    const why =
      e.code === 'ENOENT' ? 'no such file' : e.code === 'EISDIR' ? 'it is a directory' : e.code === 'EACCES' ? 'permission denied' : e.message;
    throw new InventoryError(`${path}: cannot read inventory file: ${why}`);
  }
  const text = decodeText(bytes);
  if (text.trim() === '') throw new InventoryError(`${path}: the file is empty; expected the JSON the AWS CLI prints with --output json`);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new InventoryError(`${path}: not valid JSON (${(err as Error).message}); expected the JSON the AWS CLI prints with --output json`);
  }
  return parseInventoryDocument(json, path);
}

/** `--vpc vpc-0abc=10.0.0.0/16[,2600:1f18::/56]` → KnownVpc (source '--vpc'); InventoryError for a bad spec (no '=', empty id, a CIDR that does not parse). */
export function parseVpcOption(spec: string): KnownVpc {
  const usage = `expected --vpc <vpc-id>=<cidr>[,<cidr>...], e.g. --vpc vpc-0abc=10.0.0.0/16,2600:1f18::/56`;
  const eq = spec.indexOf('=');
  if (eq < 0) throw new InventoryError(`--vpc '${spec}': no '=' between the VPC id and its CIDRs; ${usage}`);
  const vpcId = spec.slice(0, eq).trim();
  if (vpcId === '') throw new InventoryError(`--vpc '${spec}': the VPC id before '=' is empty; ${usage}`);
  if (/\s/.test(vpcId)) throw new InventoryError(`--vpc '${spec}': the VPC id '${vpcId}' contains white space; ${usage}`);
  const list = spec.slice(eq + 1);
  if (list.trim() === '') throw new InventoryError(`--vpc '${spec}': no CIDR after '='; ${usage}`);
  const cidrs: string[] = [];
  for (const part of list.split(',')) {
    const text = part.trim();
    if (text === '') throw new InventoryError(`--vpc '${spec}': an empty CIDR in the list; ${usage}`);
    const normal = normaliseCidr(text);
    if (normal === null) {
      const hint = text.includes('/') ? '' : ' (a CIDR needs a /length, e.g. 10.0.0.0/16)';
      throw new InventoryError(`--vpc '${spec}': '${text}' is not an IPv4 or IPv6 CIDR${hint}`);
    }
    pushUnique(cidrs, normal);
  }
  return { vpcId, cidrs, source: '--vpc' };
}

// ---------------------------------------------------------------------------------------------
// Merging

function union(into: string[], more: string[]): void {
  for (const value of more) pushUnique(into, value);
}

/** Where an entry came from, every distinct source kept, so a merged entry can still be traced. */
function joinSource(a: string, b: string): string {
  return a.split(', ').includes(b) ? a : `${a}, ${b}`;
}

/** Merges inventories: the same VPC/subnet/ENI seen twice is merged (union of CIDRs/addresses; non-null fields win). Addresses from describe-addresses (Elastic IPs) are attached to the interface they are associated with (NetworkInterfaceId), creating a minimal interface entry if that ENI was not described. */
export function mergeInventories(parts: Inventory[]): Inventory {
  // Maps keep first-seen order, which keeps the output stable for the same inputs.
  const vpcs = new Map<string, KnownVpc>();
  const subnets = new Map<string, KnownSubnet>();
  const interfaces = new Map<string, KnownInterface>();

  for (const part of parts) {
    for (const vpc of part.vpcs) {
      const seen = vpcs.get(vpc.vpcId);
      if (!seen) {
        vpcs.set(vpc.vpcId, { ...vpc, cidrs: [...vpc.cidrs] });
        continue;
      }
      union(seen.cidrs, vpc.cidrs);
      seen.source = joinSource(seen.source, vpc.source);
    }
    for (const subnet of part.subnets) {
      const seen = subnets.get(subnet.subnetId);
      if (!seen) {
        subnets.set(subnet.subnetId, { ...subnet, cidrs: [...subnet.cidrs] });
        continue;
      }
      union(seen.cidrs, subnet.cidrs);
      seen.availabilityZone ??= subnet.availabilityZone;
      seen.source = joinSource(seen.source, subnet.source);
    }
    for (const ni of part.interfaces) {
      const seen = interfaces.get(ni.eni);
      if (!seen) {
        interfaces.set(ni.eni, { ...ni, addresses: [...ni.addresses], prefixes: [...ni.prefixes] });
        continue;
      }
      // A minimal entry built from describe-addresses has nulls where describe-network-interfaces
      // knows better, whichever file came first; between two non-null values the first one stays.
      seen.vpcId ??= ni.vpcId;
      seen.subnetId ??= ni.subnetId;
      seen.instanceId ??= ni.instanceId;
      seen.interfaceType ??= ni.interfaceType;
      seen.description ??= ni.description;
      seen.requesterManaged ||= ni.requesterManaged;
      union(seen.addresses, ni.addresses);
      union(seen.prefixes, ni.prefixes);
      seen.source = joinSource(seen.source, ni.source);
    }
  }

  return { vpcs: [...vpcs.values()], subnets: [...subnets.values()], interfaces: [...interfaces.values()] };
}
