import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { nativeKernel } from '../src/native/addon.js';
import { generateFlowLogs, mulberry32 } from '../src/sources/generate.js';
import { runCli } from './helpers.js';

const withGunzip = nativeKernel?.gunzip ? describe : describe.skip;
if (!nativeKernel?.gunzip) console.warn('native gunzip checks skipped: the native code is not built (npm run install)');

/** Everything `gzip` decompresses to, fed `step` input bytes at a time into an output buffer of `room` bytes. */
function gunzipAll(gz: Uint8Array, step: number, room: number): { bytes: Buffer; ended: boolean } {
  const kernel = nativeKernel!;
  const state = kernel.gunzip!();
  const output = Buffer.alloc(room);
  const io = new Int32Array(2);
  const out: Buffer[] = [];
  let ended = false;
  for (let at = 0; at < gz.length; at += step) {
    const input = gz.subarray(at, Math.min(gz.length, at + step));
    io[0] = 0;
    while (io[0] < input.length) {
      io[1] = 0;
      ended = kernel.gunzipChunk(state, input, output, io);
      out.push(Buffer.from(output.subarray(0, io[1])));
    }
  }
  return { bytes: Buffer.concat(out), ended };
}

withGunzip('native gunzip (worker threads)', () => {
  const rand = mulberry32(3);
  const text = Buffer.from([...generateFlowLogs(3000, 2, { header: true })].join('\n') + '\n');
  const noise = Buffer.from(Array.from({ length: 50_000 }, () => Math.floor(rand() * 256)));

  it.each([
    { step: 1 << 20, room: 1 << 18 },
    { step: 7, room: 100_003 },
    { step: 65_536, room: 13 },
  ])('gives back what gzip compressed, whatever the chunk sizes ($step in, $room out)', ({ step, room }) => {
    for (const original of [text, noise, Buffer.alloc(0)]) {
      const { bytes, ended } = gunzipAll(gzipSync(original), step, room);
      expect(ended).toBe(true);
      expect(bytes.equals(original)).toBe(true);
    }
  });

  it('reads members one after another as one stream, and skips zero padding after the end', () => {
    const two = Buffer.concat([gzipSync(text.subarray(0, 1000)), gzipSync(text.subarray(1000)), Buffer.alloc(512)]);
    const { bytes, ended } = gunzipAll(two, 4096, 65_536);
    expect(ended).toBe(true);
    expect(bytes.equals(text)).toBe(true);
  });

  it('says a cut-short stream has not ended, and throws on corrupt data as zlib does', () => {
    const gz = gzipSync(text);
    const cut = gunzipAll(gz.subarray(0, gz.length - 20), 4096, 65_536);
    expect(cut.ended).toBe(false);
    expect(text.subarray(0, cut.bytes.length).equals(cut.bytes)).toBe(true);
    const corrupt = Buffer.from(gz);
    corrupt.fill(0x55, 200, 260);
    expect(() => gunzipAll(corrupt, 4096, 65_536)).toThrow(expect.objectContaining({ code: 'Z_DATA_ERROR' }));
  });

  // Through the CLI: a worker thread reads .gz files with it, the main thread with Node's zlib stream.
  const dir = mkdtempSync(path.join(tmpdir(), 'vpcflow-gunzip-'));
  it('gives a worker every record it counts, and the error the main thread gives', async () => {
    const gz = gzipSync(text);
    const files = {
      whole: gz,
      members: Buffer.concat([gzipSync(text.subarray(0, 50_000)), gzipSync(text.subarray(50_000))]),
      truncated: gz.subarray(0, gz.length - 20),
    };
    for (const [name, bytes] of Object.entries(files)) writeFileSync(path.join(dir, `${name}.log.gz`), bytes);
    const whole = await runCli(['--no-enrich', path.join(dir, 'whole.log.gz')]);
    for (const name of Object.keys(files)) {
      const file = path.join(dir, `${name}.log.gz`);
      const worker = await runCli(['--no-enrich', '--workers', '1', file]);
      const records = worker.stdout.split('\n').filter(Boolean).length;
      // Every record counted is written.
      expect(records).toBe(worker.summary?.records);
      if (name === 'truncated') {
        expect(worker.logs.find((l) => l.level === 50)?.msg).toMatch(/truncated\.log\.gz: corrupt or truncated gzip \(unexpected end of file\)/);
        // The records before the damage, in order, and the line it cut short rejected. (Node's zlib stream in the main
        // thread gives up its last chunk of output at the error, so a one-thread run keeps fewer.)
        expect(records).toBeGreaterThan(2900);
        expect(whole.stdout.startsWith(worker.stdout)).toBe(true);
        expect(worker.summary).toMatchObject({ rejected: 1 });
        const one = await runCli(['--no-enrich', file]);
        expect(one.logs.find((l) => l.level === 50)?.msg).toMatch(/truncated\.log\.gz: corrupt or truncated gzip \(unexpected end of file\)/);
        expect(whole.stdout.startsWith(one.stdout)).toBe(true);
      } else {
        expect(worker.stdout === whole.stdout).toBe(true);
        expect(records).toBe(3000);
      }
    }
  });
});
