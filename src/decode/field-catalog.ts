/**
 * Every field AWS documents for VPC (and Transit Gateway) flow log records, with the type its value decodes to.
 *
 * Names are the dashed names AWS uses in `--log-format` and in S3 header lines; records carry the snake_case
 * names of AWS's Parquet/Athena schema. A name missing here is still decoded (as a string), so a field AWS adds
 * tomorrow never breaks parsing.
 */

/** How a field's text is decoded. */
export type FieldType =
  /** 32-bit integer (version, ports, protocol, tcp-flags, traffic-path). */
  | 'int'
  /** 64-bit counter (packets, bytes): bytes can exceed 2^32; exact up to 2^53. */
  | 'count'
  /** Unix seconds. */
  | 'unix_seconds'
  /** IPv4 (parsed to a 32-bit integer on the hot path) or IPv6 (validated, kept as text). */
  | 'ip'
  /** A string from a known, small set of values; values outside the set are kept as they are. */
  | 'enum'
  | 'string';

export interface FieldInfo {
  /** The name AWS uses in formats and header lines, e.g. `log-status`. */
  readonly name: string;
  /** The output key, AWS's Parquet/Athena column name, e.g. `log_status`. */
  readonly key: string;
  readonly type: FieldType;
  /** The flow log version that introduced the field; 6 marks Transit Gateway fields. */
  readonly version: number;
  readonly description: string;
  /** Known values of an `enum` field (others are still accepted). */
  readonly values?: readonly string[];
}

type Row = [name: string, type: FieldType, version: number, description: string, values?: string[]];

// The version 2 rows are in the default format's order: DEFAULT_FIELD_NAMES relies on it.
const ROWS: Row[] = [
  ['version', 'int', 2, 'Flow log version: the highest version among the fields of the format.'],
  ['account-id', 'string', 2, 'AWS account that owns the source interface (`unknown` for some AWS-managed interfaces).'],
  ['interface-id', 'string', 2, 'Network interface the traffic is recorded for.'],
  ['srcaddr', 'ip', 2, 'Source address (for outgoing traffic, the interface\'s primary private IPv4 or its IPv6).'],
  ['dstaddr', 'ip', 2, 'Destination address (for incoming traffic, the interface\'s primary private IPv4 or its IPv6).'],
  ['srcport', 'int', 2, 'Source port.'],
  ['dstport', 'int', 2, 'Destination port.'],
  ['protocol', 'int', 2, 'IANA protocol number.'],
  ['packets', 'count', 2, 'Packets transferred during the flow in the interval.'],
  ['bytes', 'count', 2, 'Bytes transferred during the flow in the interval.'],
  ['start', 'unix_seconds', 2, 'Time of the first packet of the flow in the interval.'],
  ['end', 'unix_seconds', 2, 'Time of the last packet of the flow in the interval.'],
  ['action', 'enum', 2, 'Whether security groups and network ACLs allowed the traffic.', ['ACCEPT', 'REJECT']],
  ['log-status', 'enum', 2, 'OK, NODATA (no traffic in the interval) or SKIPDATA (records skipped).', ['OK', 'NODATA', 'SKIPDATA']],

  ['vpc-id', 'string', 3, 'VPC of the interface.'],
  ['subnet-id', 'string', 3, 'Subnet of the interface.'],
  ['instance-id', 'string', 3, 'Instance the interface is attached to, if you own it.'],
  ['tcp-flags', 'int', 3, 'TCP flags OR-ed over the interval (FIN 1, SYN 2, RST 4, SYN-ACK 18).'],
  ['type', 'enum', 3, 'Type of traffic.', ['IPv4', 'IPv6', 'EFA']],
  ['pkt-srcaddr', 'ip', 3, 'Packet-level (original) source address.'],
  ['pkt-dstaddr', 'ip', 3, 'Packet-level (original) destination address.'],

  ['region', 'string', 4, 'Region of the interface.'],
  ['az-id', 'string', 4, 'Availability Zone ID of the interface.'],
  ['sublocation-type', 'enum', 4, 'Kind of sublocation.', ['wavelength', 'outpost', 'localzone']],
  ['sublocation-id', 'string', 4, 'ID of the sublocation.'],

  ['pkt-src-aws-service', 'enum', 5, 'ip-ranges.json service of pkt-srcaddr.', ['AMAZON', 'EC2', 'S3', 'ROUTE53', 'CLOUDFRONT', 'DYNAMODB']],
  ['pkt-dst-aws-service', 'enum', 5, 'ip-ranges.json service of pkt-dstaddr.', ['AMAZON', 'EC2', 'S3', 'ROUTE53', 'CLOUDFRONT', 'DYNAMODB']],
  ['flow-direction', 'enum', 5, 'Direction of the flow relative to the interface.', ['ingress', 'egress']],
  ['traffic-path', 'int', 5, 'Path egress traffic takes (1 same VPC, 2 internet or gateway endpoint, 3 VGW, 4 intra-region peering, 5 inter-region peering, 6 local gateway, 7 gateway endpoint, 8 internet gateway).'],

  ['tgw-id', 'string', 6, 'Transit gateway.'],
  ['tgw-attachment-id', 'string', 6, 'Transit gateway attachment.'],
  ['tgw-src-vpc-account-id', 'string', 6, 'Account of the source VPC.'],
  ['tgw-dst-vpc-account-id', 'string', 6, 'Account of the destination VPC.'],
  ['tgw-src-vpc-id', 'string', 6, 'Source VPC.'],
  ['tgw-dst-vpc-id', 'string', 6, 'Destination VPC.'],
  ['tgw-src-subnet-id', 'string', 6, 'Source subnet.'],
  ['tgw-dst-subnet-id', 'string', 6, 'Destination subnet.'],
  ['tgw-src-eni', 'string', 6, 'Source attachment interface.'],
  ['tgw-dst-eni', 'string', 6, 'Destination attachment interface.'],
  ['tgw-src-az-id', 'string', 6, 'Availability Zone of the source.'],
  ['tgw-dst-az-id', 'string', 6, 'Availability Zone of the destination.'],
  ['tgw-pair-attachment-id', 'string', 6, 'Attachment of the other direction of the flow.'],
  ['packets-lost-no-route', 'count', 6, 'Packets dropped for lack of a route.'],
  ['packets-lost-blackhole', 'count', 6, 'Packets dropped by a blackhole route.'],
  ['packets-lost-mtu-exceeded', 'count', 6, 'Packets dropped for exceeding the MTU.'],
  ['packets-lost-ttl-expired', 'count', 6, 'Packets dropped for an expired TTL.'],

  ['ecs-cluster-arn', 'string', 7, 'ECS cluster ARN.'],
  ['ecs-cluster-name', 'string', 7, 'ECS cluster name.'],
  ['ecs-container-instance-arn', 'string', 7, 'ECS container instance ARN (`-` on Fargate).'],
  ['ecs-container-instance-id', 'string', 7, 'ECS container instance ID (`-` on Fargate).'],
  ['ecs-container-id', 'string', 7, 'Docker ID of the first container of the task.'],
  ['ecs-second-container-id', 'string', 7, 'Docker ID of the second container of the task.'],
  ['ecs-service-name', 'string', 7, 'ECS service that started the task.'],
  ['ecs-task-definition-arn', 'string', 7, 'ECS task definition ARN.'],
  ['ecs-task-arn', 'string', 7, 'ECS task ARN.'],
  ['ecs-task-id', 'string', 7, 'ECS task ID.'],

  ['reject-reason', 'enum', 8, 'Why traffic was rejected when the reason is not a security group or ACL (BPA: Block Public Access; EC: encryption controls).', ['BPA', 'EC']],
  ['resource-id', 'string', 9, 'Resource the traffic is recorded for when it is not an interface (e.g. a regional NAT gateway).'],
  ['encryption-status', 'int', 10, 'Encryption in transit: 0 none, 1 Nitro, 2 application, 3 both.'],

  ['instance-tag', 'string', 11, 'Value of the chosen instance tag (percent-encoded).'],
  ['instance-tag-2', 'string', 11, 'Value of the second chosen instance tag (percent-encoded).'],
  ['interface-tag', 'string', 11, 'Value of the chosen interface tag (percent-encoded).'],
  ['interface-tag-2', 'string', 11, 'Value of the second chosen interface tag (percent-encoded).'],
  ['asg-tag', 'string', 11, 'Value of the chosen Auto Scaling group tag (percent-encoded).'],
  ['asg-tag-2', 'string', 11, 'Value of the second chosen Auto Scaling group tag (percent-encoded).'],
  ['interface-type', 'string', 11, 'Type of the interface (e.g. nat_gateway, vpc_endpoint, efa).'],
  ['next-hop-interface-id', 'string', 11, 'Interface of the next hop.'],
  ['next-hop-subnet-id', 'string', 11, 'Subnet of the next hop.'],
  ['next-hop-az-id', 'string', 11, 'Availability Zone of the next hop.'],
  ['next-hop-vpc-id', 'string', 11, 'VPC of the next hop.'],
  ['next-hop-interface-type', 'string', 11, 'Interface type of the next hop.'],
];

export function fieldKey(name: string): string {
  return name.replaceAll('-', '_');
}

export const FIELD_CATALOG: readonly FieldInfo[] = ROWS.map(([name, type, version, description, values]) =>
  Object.freeze({ name, key: fieldKey(name), type, version, description, ...(values ? { values } : {}) }),
);

/** The fields of the default format, in order. */
export const DEFAULT_FIELD_NAMES: readonly string[] = FIELD_CATALOG.filter((f) => f.version === 2).map((f) => f.name);

const BY_NAME = new Map<string, FieldInfo>();
for (const f of FIELD_CATALOG) {
  BY_NAME.set(f.name, f);
  BY_NAME.set(f.key, f);
}

/** Looks a field up by its dashed or snake_case name. */
export function knownField(name: string): FieldInfo | undefined {
  return BY_NAME.get(name);
}

/** The catalog entry for a name, or a string field for a name the catalog does not know. */
export function fieldInfo(name: string): FieldInfo {
  const known = knownField(name);
  if (known) return known;
  const dashed = name.replaceAll('_', '-');
  return { name: dashed, key: fieldKey(dashed), type: 'string', version: 0, description: 'Not in the catalog: kept as a string.' };
}
