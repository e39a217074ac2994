import { closeSync, mkdtempSync, openSync, readFileSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { nativeKernel } from '../src/native/addon.js';
import { OutputBuffers } from '../src/sinks/output-buffers.js';
import { SpillFile } from '../src/sinks/spill-file.js';

const dir = mkdtempSync(path.join(tmpdir(), 'vpcflow-spill-test-'));
let n = 0;
const opened: number[] = [];
/** A file holding `before`, opened as `> file` (w) or `>> file` (a) opens stdout. */
const target = (flags: 'w' | 'a', before = '') => {
  const file = path.join(dir, `out-${n++}`);
  writeFileSync(file, before);
  const fd = openSync(file, flags === 'w' ? 'r+' : 'a');
  if (flags === 'w') writeSync(fd, before);
  opened.push(fd);
  return { file, fd };
};
afterEach(() => opened.splice(0).forEach((fd) => closeSync(fd)));

/** Bytes that do not repeat for long, so a misplaced or repeated piece shows. */
function bytes(length: number, seed: number): Buffer {
  const buf = Buffer.allocUnsafe(length);
  for (let i = 0; i < length; i++) buf[i] = (i * 31 + seed * 7 + (i >> 9)) & 0xff;
  return buf;
}

describe('SpillFile', () => {
  it('copies what it holds to where the file position is, and the position moves past it', () => {
    const spill = new SpillFile(dir);
    const a = bytes(300_000, 1);
    const b = bytes(70_000, 2);
    expect(spill.append(a)).toBe(a.length);
    expect(spill.append(b)).toBe(b.length);
    const { file, fd } = target('w', 'head\n');
    spill.copyTo(fd, new OutputBuffers(4096));
    writeSync(fd, 'tail\n');
    expect(readFileSync(file)).toEqual(Buffer.concat([Buffer.from('head\n'), a, b, Buffer.from('tail\n')]));
    spill.close();
  });

  it('copies to a file opened for appending, which sendfile refuses, through a buffer', () => {
    const spill = new SpillFile(dir);
    const a = bytes(200_000, 3);
    spill.append(a);
    const { file, fd } = target('a', 'before\n');
    spill.copyTo(fd, new OutputBuffers(4096));
    spill.copyTo(fd, new OutputBuffers(4096));
    expect(readFileSync(file)).toEqual(Buffer.concat([Buffer.from('before\n'), a, a]));
    spill.close();
  });

  it('once cleared, takes new output over the old and copies only that', () => {
    const spill = new SpillFile(dir);
    spill.append(bytes(500_000, 4));
    spill.copyTo(target('w').fd, new OutputBuffers(4096));
    expect(spill.clear()).toBe(true);
    const small = bytes(1000, 5);
    spill.append(small);
    const { file, fd } = target('w');
    spill.copyTo(fd, new OutputBuffers(4096));
    expect(readFileSync(file)).toEqual(small);
    spill.close();
  });

  it.runIf(process.platform === 'linux' && nativeKernel !== null)('copies in the kernel in a Linux build with native code', () => {
    expect(typeof nativeKernel!.sendFile).toBe('function');
  });
});
