import { readFileSync } from 'node:fs';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { FIELD_CATALOG } from '../src/decode/field-catalog.js';
import { decodeBytes, hasSharedData, ndjson, runCli, SHARED_DATA } from './helpers.js';

// Real flow logs collected beside the project (see ../shared/data/flowlogs/SOURCES.md); never copied into it.
const FLOWLOGS = path.join(SHARED_DATA, 'flowlogs');
const read = (name: string) => readFileSync(path.join(FLOWLOGS, name));

if (!hasSharedData) {
  console.warn(`real-data tests skipped: ${FLOWLOGS} is absent (it holds the real flow log captures)`);
}

describe.skipIf(!hasSharedData)('real flow logs from ../shared/data/flowlogs', () => {
  it('decodes the S3 export with its header line: 806 records, 0 rejects', async () => {
    const r = await runCli([path.join(FLOWLOGS, 'splunk-gdi-toolkit_sample-vpcflow.log.gz')]);
    expect(r.code).toBe(0);
    expect(r.summary).toMatchObject({ lines: 807, headers: 1, records: 806, rejected: 0 });
    const records = ndjson(r.stdout);
    expect(records).toHaveLength(806);
    expect(records.filter((x) => x.action === 'ACCEPT')).toHaveLength(767);
    expect(records.filter((x) => x.action === 'REJECT')).toHaveLength(39);
    expect(new Set(records.map((x) => x.interface_id))).toEqual(new Set(['eni-0b480000000000aaa']));
    expect(records[0]).toMatchObject({ account_id: '841154226728', srcaddr: '52.94.213.165', dstaddr: '172.21.12.101', srcport: 443, protocol_name: 'tcp' });
  });

  it('decodes the custom v5 captures with NODATA and SKIPDATA records and AWS service codes', () => {
    const test = decodeBytes(read('grafana_aws-test_flow_logs.log'));
    expect(test.rejects).toEqual([]);
    expect(test.records).toHaveLength(6);
    expect(test.records.map((r) => r.log_status)).toEqual(['OK', 'NODATA', 'OK', 'SKIPDATA', 'OK', 'OK']);
    expect(test.records[1]).toMatchObject({ srcaddr: null, packets: null, action: null, pkt_srcaddr: null, pkt_dst_aws_service: null });
    expect(test.records.map((r) => r.pkt_dst_aws_service)).toEqual(['EC2', null, null, null, 'S3', null]);
    expect(test.records[2].pkt_src_aws_service).toBe('AMAZON');

    const nat = decodeBytes(read('grafana_aws-flow-logs-10.3.11.57-142.250.185.91.log'));
    expect(nat.rejects).toEqual([]);
    expect(nat.records).toHaveLength(31);
    expect(nat.records.every((r) => r.pkt_srcaddr === '142.250.185.91' || r.pkt_dstaddr === '142.250.185.91')).toBe(true);
  });

  it('decodes a real CloudWatch Logs subscription event (Lambda shape)', () => {
    const { records, rejects } = decodeBytes(read('cwl-subscription_lambda-event.json'));
    expect(rejects).toEqual([]);
    expect(records).toEqual([
      expect.objectContaining({ account_id: '647604195155', srcaddr: '10.5.81.140', dstport: 443, log_stream: 'eni-0c19436730cc350ae-all', log_timestamp: 1702918083 * 1000 }),
    ]);
    expect(decodeBytes(read('cwl-subscription_lambda-event.decoded.json')).records).toEqual(records);
  });

  it('skips the subscription control message and decodes a Firehose direct-delivery record', () => {
    const control = JSON.parse(read('cwl-to-firehose_control-message.json').toString());
    const fromControl = decodeBytes(gunzipSync(Buffer.from(control.record_data_base64_gzip, 'base64')));
    expect(fromControl.records).toEqual([]);
    expect(fromControl.rejects).toEqual([]);

    const firehose = JSON.parse(read('firehose-direct_record-data.json').toString());
    const { records, rejects } = decodeBytes(Buffer.from(firehose.record_data_base64, 'base64'));
    expect(rejects).toEqual([]);
    expect(records).toEqual([expect.objectContaining({ account_id: '058694856476', srcaddr: '10.3.166.71', bytes: 42926, action: 'ACCEPT' })]);
  });

  it('decodes every record of the AWS documentation examples with their formats', () => {
    const doc = JSON.parse(read('synthetic/aws-doc_flow-log-record-examples.json').toString()) as {
      examples: { section: string; format: string; records: string[] }[];
    };
    for (const example of doc.examples) {
      const { records, rejects } = decodeBytes(example.records.join('\n'), { formats: [example.format] });
      expect(rejects, example.section).toEqual([]);
      expect(records, example.section).toHaveLength(example.records.length);
    }
  });

  it('decodes the ECS (v7) and Transit Gateway (v6) samples from their headers', () => {
    const ecs = decodeBytes(read('synthetic/otel_valid_vpc_flow_log_ecs.log'));
    expect(ecs.rejects).toEqual([]);
    expect(ecs.records[0]).toMatchObject({ ecs_cluster_name: 'my-cluster', ecs_service_name: 'my-service', ecs_task_id: 'abcdef1234567890' });
    const tgw = decodeBytes(read('synthetic/otel_valid_tgw_flow_log.log'));
    expect(tgw.rejects).toEqual([]);
    expect(tgw.records[0]).toMatchObject({ version: 6, tgw_id: 'tgw-0abc12345def67890', packets_lost_blackhole: 2, flow_direction: 'ingress' });
  });

  it('decodes the 40-field v8 sample (v2-v5, ECS and reject-reason fields in catalog order)', () => {
    const format = FIELD_CATALOG.filter((f) => [2, 3, 4, 5, 7, 8].includes(f.version)).map((f) => f.name).join(' ');
    const { records, rejects } = decodeBytes(read('synthetic/elastic_test-v8-samples.log'), { formats: [format] });
    expect(rejects).toEqual([]);
    expect(records[0]).toMatchObject({ account_id: '000000000000', interface_id: null, srcaddr: '2a02:cf40::', flow_direction: 'ingress', ecs_service_name: 'payments-service', reject_reason: 'BPA' });
  });
});
