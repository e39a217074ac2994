import { promises as fs, readFileSync } from 'node:fs';
import path from 'node:path';

/** One finished input object: its outputs are in place under their final names. */
export interface ManifestEntry {
  /** `s3://bucket/key` or the local path. */
  id: string;
  etag: string;
  outputs: string[];
  records: number;
  rejected: number;
  finished: string;
}

export const MANIFEST_NAME = '_vpcflow-manifest.jsonl';

/** What a resumed run asks of a manifest, wherever it is kept. */
export abstract class FinishedObjects {
  protected readonly done = new Map<string, string>();

  /** Finished, and not changed since (same ETag). */
  isFinished(id: string, etag: string): boolean {
    return this.done.get(id) === etag;
  }

  abstract add(entry: Omit<ManifestEntry, 'finished'>): Promise<void>;
  abstract close(): Promise<void>;
}

/**
 * The record of finished objects that lets an interrupted run (Ctrl-C, crash, kill -9) resume: an object is listed
 * only after all its outputs were renamed into place, one JSON line per object, appended and fsynced. An object
 * whose ETag changed since is not finished. A torn last line (killed mid-append) is ignored.
 */
export class Manifest extends FinishedObjects {
  private constructor(
    readonly file: string,
    private readonly handle: fs.FileHandle,
  ) {
    super();
  }

  static async open(outDir: string): Promise<Manifest> {
    await fs.mkdir(outDir, { recursive: true });
    const file = path.join(outDir, MANIFEST_NAME);
    let text = '';
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      // No manifest yet: nothing finished.
    }
    const manifest = new Manifest(file, await fs.open(file, 'a'));
    // A crash mid-append leaves a line without its newline; the next entry must not be glued onto it.
    if (text.length > 0 && !text.endsWith('\n')) await manifest.handle.appendFile('\n');
    for (const line of text.split('\n')) {
      if (!line.trim()) continue;
      try {
        const entry = JSON.parse(line) as ManifestEntry;
        if (typeof entry.id === 'string' && typeof entry.etag === 'string') manifest.done.set(entry.id, entry.etag);
      } catch {
        // A line cut short by a crash: that object is simply done again.
      }
    }
    return manifest;
  }

  async add(entry: Omit<ManifestEntry, 'finished'>): Promise<void> {
    const line = JSON.stringify({ ...entry, finished: new Date().toISOString() }) + '\n';
    await this.handle.appendFile(line);
    await this.handle.sync();
    this.done.set(entry.id, entry.etag);
  }

  async close(): Promise<void> {
    await this.handle.close();
  }
}
