import { createReadStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { Writable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { describe, expect, it } from 'vitest';
// The package's public entry, as a user imports it (resolved through package.json "exports" to the build).
import * as vpcflow from 'vpcflow';
import { fixture } from './helpers.js';

describe("import … from 'vpcflow'", () => {
  it('exposes the decoder as a function and as a stream, the field catalog and the format parser', () => {
    for (const name of ['decodeLine', 'createDecodeStream', 'parseFormat', 'FIELD_CATALOG', 'SourceDecoder', 'REJECT_REASONS', 'fieldInfo']) {
      expect(vpcflow, name).toHaveProperty(name);
    }
    const format = vpcflow.parseFormat('${version} ${vpc-id} ${srcaddr}');
    expect(format.fields.map((f) => f.key)).toEqual(['version', 'vpc_id', 'srcaddr']);
    expect(vpcflow.decodeLine('3 vpc-1 10.0.0.1', { formats: [format] })).toEqual({ version: 3, vpc_id: 'vpc-1', srcaddr: '10.0.0.1' });
    expect(vpcflow.FIELD_CATALOG.find((f) => f.name === 'bytes')?.type).toBe('count');
  });

  it('enriches records in the stream when given an enricher', async () => {
    const { enricher } = vpcflow.loadEnrichment({ ipRanges: fixture('ip-ranges-small.json'), vpcs: ['vpc-1=10.0.0.0/16'] });
    const records: vpcflow.FlowRecord[] = [];
    await pipeline(
      createReadStream(fixture('sample-default.log')),
      vpcflow.createDecodeStream({ enricher }),
      new Writable({ objectMode: true, write: (r, _e, done) => (records.push(r), done()) }),
    );
    expect(records[0]).toMatchObject({ src: { scope: 'vpc', vpc: { vpc_id: 'vpc-1' } }, dst: { scope: 'aws', aws: { service: 'EC2' } } });
  });

  it('streams a gzip export through createDecodeStream with backpressure', async () => {
    const records: vpcflow.FlowRecord[] = [];
    await pipeline(
      createReadStream(fixture('sample-default.log.gz')),
      createGunzip(),
      vpcflow.createDecodeStream({ source: 'sample-default.log.gz', isoTimes: true }),
      new Writable({
        objectMode: true,
        highWaterMark: 1,
        write(record, _enc, done) {
          records.push(record);
          setImmediate(done);
        },
      }),
    );
    expect(records).toHaveLength(40);
    expect(records[0]).toMatchObject({ srcaddr: '10.0.1.25', start_iso: '2024-11-07T17:20:02Z' });
  });
});
