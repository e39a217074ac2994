import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CLI, cliEnv, fixture, ROOT } from './helpers.js';

/** ~1 MiB of default-format records, written over and over to make inputs of any size without holding them. */
const BLOCK = (() => {
  const lines = readFileSync(fixture('sample-default.log'), 'utf8').split('\n').filter((l) => l.startsWith('2 '));
  let text = '';
  while (text.length < 1 << 20) text += lines.join('\n') + '\n';
  return Buffer.from(text);
})();

interface Run {
  summary: Record<string, any>;
  /** Input bytes vpcflow had accepted while nobody read its output. */
  acceptedWhileStalled: number;
  outputBytes: number;
}

/**
 * Feeds `megabytes` of records to `vpcflow -` and reads its output, but not during the first second: a process
 * that ignored backpressure would keep reading input and buffering output meanwhile.
 */
function feed(megabytes: number): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, '-'], { cwd: ROOT, env: cliEnv(), stdio: ['pipe', 'pipe', 'pipe'] });
    let written = 0;
    let outputBytes = 0;
    let stderr = '';
    let acceptedWhileStalled = -1;
    child.stdout.pause();
    setTimeout(() => {
      acceptedWhileStalled = written;
      child.stdout.on('data', (d: Buffer) => (outputBytes += d.length));
      child.stdout.resume();
    }, 1000);
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) return reject(new Error(`vpcflow exited ${code}: ${stderr}`));
      const summary = JSON.parse(stderr.trim().split('\n').pop()!);
      resolve({ summary, acceptedWhileStalled, outputBytes });
    });
    const total = megabytes * BLOCK.length;
    const pump = () => {
      while (written < total) {
        written += BLOCK.length;
        if (!child.stdin.write(BLOCK)) return void child.stdin.once('drain', pump);
      }
      child.stdin.end();
    };
    pump();
  });
}

describe('bounded memory', () => {
  it('runs a 10x larger input in the same memory, and stops reading while its output is not read', async () => {
    const small = await feed(16);
    const large = await feed(160);
    expect(small.summary.rejected).toBe(0);
    expect(large.summary.records).toBe(large.summary.lines);
    expect(large.outputBytes).toBeGreaterThan(160 * BLOCK.length);
    // Backpressure end to end: with output unread, only pipe and stream buffers fill (a few MiB), not 160 MiB.
    expect(large.acceptedWhileStalled).toBeLessThan(32 * BLOCK.length);
    expect(large.summary.max_rss_mb).toBeLessThan(150);
    expect(large.summary.max_rss_mb - small.summary.max_rss_mb).toBeLessThan(40);
  }, 120_000);
});
