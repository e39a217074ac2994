import { closeSync, mkdtempSync, openSync, readSync, rmdirSync, unlinkSync, writeSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/**
 * Output held on disk while it waits for its turn on stdout, so that the thread making it goes on instead of waiting
 * with a full window in memory. The file is unlinked as soon as it is open: the disk space comes back when it is
 * closed, and nothing is left behind if the process is killed.
 */
export class SpillFile {
  private readonly fd: number;
  /** Bytes written to it. */
  bytes = 0;

  constructor(dir: string = os.tmpdir()) {
    const holder = mkdtempSync(path.join(dir, 'vpcflow-spill-'));
    const file = path.join(holder, 'output');
    this.fd = openSync(file, 'w+', 0o600);
    unlinkSync(file);
    rmdirSync(holder);
  }

  /** Appends `chunk` and returns how many of its bytes were written: fewer when a write failed (a full disk). */
  append(chunk: Uint8Array): number {
    let off = 0;
    try {
      while (off < chunk.length) {
        const n = writeSync(this.fd, chunk, off, chunk.length - off, this.bytes);
        off += n;
        this.bytes += n;
      }
    } catch {
      // The caller keeps the rest, after what the file holds.
    }
    return off;
  }

  /** Hands everything written to `write`, in order, through `buffer`. */
  drainInto(buffer: Uint8Array, write: (bytes: Uint8Array) => void): void {
    for (let pos = 0; pos < this.bytes; ) {
      const n = readSync(this.fd, buffer, 0, Math.min(buffer.length, this.bytes - pos), pos);
      if (n === 0) throw new Error(`spill file ended at ${pos} of ${this.bytes} bytes`);
      write(buffer.subarray(0, n));
      pos += n;
    }
  }

  close(): void {
    closeSync(this.fd);
  }
}
