/**
 * A compiled copy of the cached ip-ranges.json: the built trie and range table exactly as they sit in memory, so
 * that a run reads them in a few milliseconds instead of parsing the JSON and building them (~100 ms in a cold
 * process, and a heap that stays grown afterwards).
 *
 * It is only ever a copy, never a source of answers of its own: it names the size, mtime and syncToken of the
 * ip-ranges.json it was built from and is used only while all three still match; a SHA-256 of its contents
 * catches damage; anything unexpected means it is ignored, and the JSON is built and the copy written again
 * (atomically, best effort: a read-only cache only costs the build).
 *
 * Layout: MAGIC, the format (u32), the length of a JSON header (u32), the header, then the arrays in ARRAYS order,
 * each starting at a multiple of 8, then the SHA-256 of everything before it. The arrays are stored as typed arrays
 * hold them, little-endian on the platforms Node is run on; a big-endian machine neither reads nor writes a copy.
 */
import { createHash } from 'node:crypto';
import { closeSync, fstatSync, mkdirSync, openSync, readSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { threadId } from 'node:worker_threads';
import { AwsRanges, parseCreateDate, type IpRangesInfo, type RangeTable } from './ip-ranges.js';
import { PrefixTrie } from './prefix-trie.js';

/**
 * Changes whenever the layout, the trie's or table's arrays, or what the builder derives from the JSON change, so
 * that copies written by another version are rebuilt rather than misread. test/compiled-ranges.test.ts fails when
 * the built arrays change and this does not.
 */
export const COMPILED_FORMAT = 1;

const MAGIC = Buffer.from('VPCFLOWR');
const HASH_BYTES = 32;
const LITTLE_ENDIAN = new Uint8Array(Uint16Array.of(1).buffer)[0] === 1;

/** What a copy is valid for: the ip-ranges.json it was built from. */
export interface SourceKey {
  size: number;
  /** Nanoseconds, as text: a file rewritten within the same millisecond still differs. */
  mtimeNs: string;
  syncToken: string;
}

interface Header {
  key: SourceKey;
  info: Omit<IpRangesInfo, 'source' | 'created'>;
  v4Count: number;
  strings: readonly string[];
  lists: readonly (readonly number[])[];
  /** Element counts of the arrays, in ARRAYS order. */
  lengths: number[];
}

type ArrayType = Int32ArrayConstructor | Uint32ArrayConstructor | Uint8ArrayConstructor;

/** The arrays of a built AwsRanges, in file order. */
const ARRAYS: readonly [ArrayType, (r: { trie: PrefixTrie; table: RangeTable }) => Int32Array | Uint32Array | Uint8Array][] = [
  [Int32Array, (r) => r.trie.tables.v4.nodes],
  [Int32Array, (r) => r.trie.tables.v4.results],
  [Int32Array, (r) => r.trie.tables.v6.nodes],
  [Int32Array, (r) => r.trie.tables.v6.results],
  [Uint32Array, (r) => r.table.words],
  [Uint8Array, (r) => r.table.lens],
  [Int32Array, (r) => r.table.service],
  [Int32Array, (r) => r.table.services],
  [Int32Array, (r) => r.table.region],
  [Int32Array, (r) => r.table.borderGroup],
];

const align8 = (n: number) => (n + 7) & ~7;

/**
 * The key of the ip-ranges.json at `path` as it is now: its size and mtime, and the syncToken its first bytes
 * give (AWS writes it first). Null when there is no such file or the token is not where expected: then no copy is
 * used or written.
 */
export function sourceKey(path: string): SourceKey | null {
  try {
    const stat = statSync(path, { bigint: true });
    const head = Buffer.alloc(256);
    const fd = openSync(path, 'r');
    let n: number;
    try {
      n = readSync(fd, head, 0, head.length, 0);
    } finally {
      closeSync(fd);
    }
    const m = /^\s*\{\s*"syncToken"\s*:\s*"(\d+)"/.exec(head.toString('latin1', 0, n));
    return m ? { size: Number(stat.size), mtimeNs: String(stat.mtimeNs), syncToken: m[1] } : null;
  } catch {
    return null;
  }
}

/** `alloc` makes the zero-filled buffer it is written into (shared memory, for shareable ranges). */
export function serializeRanges(ranges: AwsRanges, key: SourceKey, alloc: (size: number) => Buffer = Buffer.alloc): Buffer {
  const { source: _source, created: _created, ...info } = ranges.info;
  const arrays = ARRAYS.map(([, get]) => get(ranges));
  const header: Header = { key, info, v4Count: ranges.table.v4Count, strings: ranges.table.strings, lists: ranges.table.lists, lengths: arrays.map((a) => a.length) };
  const json = Buffer.from(JSON.stringify(header));
  const start = align8(MAGIC.length + 8 + json.length);
  let size = start;
  for (const a of arrays) size = align8(size + a.byteLength);
  const out = alloc(size + HASH_BYTES);
  MAGIC.copy(out, 0);
  out.writeUInt32LE(COMPILED_FORMAT, MAGIC.length);
  out.writeUInt32LE(json.length, MAGIC.length + 4);
  json.copy(out, MAGIC.length + 8);
  let at = start;
  for (const a of arrays) {
    out.set(new Uint8Array(a.buffer, a.byteOffset, a.byteLength), at);
    at = align8(at + a.byteLength);
  }
  createHash('sha256').update(out.subarray(0, size)).digest().copy(out, size);
  return out;
}

/** The AwsRanges a copy holds, or null if it is not a sound copy for `key`. */
export function deserializeRanges(bytes: Uint8Array, key: SourceKey, source: string): AwsRanges | null {
  try {
    return readCopy(bytes, key, source, true);
  } catch {
    return null; // A header that parses but does not fit (only a bug could write one: the hash was right).
  }
}

/**
 * Ranges in shared memory, laid out as a compiled copy: worker threads (--workers) use the main thread's ranges
 * instead of each reading and holding its own (3.7 MB for the real ip-ranges.json).
 */
export interface SharedRanges {
  bytes: Uint8Array;
  source: string;
}

const sharedBuffer = (size: number) => Buffer.from(new SharedArrayBuffer(size));

/** The ranges over shared memory, without a copy. They were checked when shared, by the thread that shared them. */
export function rangesFromShared(shared: SharedRanges): AwsRanges {
  const ranges = readCopy(shared.bytes, null, shared.source, false);
  if (!ranges) throw new Error('shared ip-ranges are not in the layout this version writes');
  return ranges;
}

/** `key` null and `verify` false: bytes this process made (shared ranges), taken as they are. */
function readCopy(bytes: Uint8Array, key: SourceKey | null, source: string, verify: boolean): AwsRanges | null {
  if (!LITTLE_ENDIAN || bytes.length < MAGIC.length + 8 + HASH_BYTES) return null;
  // Typed arrays need aligned offsets; a small Buffer may sit anywhere in Node's pool.
  const data = bytes.byteOffset % 8 === 0 ? bytes : new Uint8Array(bytes);
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  if (!MAGIC.equals(data.subarray(0, MAGIC.length)) || view.getUint32(MAGIC.length, true) !== COMPILED_FORMAT) return null;
  const jsonLength = view.getUint32(MAGIC.length + 4, true);
  const body = data.length - HASH_BYTES;
  if (MAGIC.length + 8 + jsonLength > body) return null;
  if (verify && !createHash('sha256').update(data.subarray(0, body)).digest().equals(data.subarray(body))) return null;
  const header = JSON.parse(Buffer.from(data.buffer, data.byteOffset + MAGIC.length + 8, jsonLength).toString('utf8')) as Header;
  const k = header.key;
  if (key && (k.size !== key.size || k.mtimeNs !== key.mtimeNs || k.syncToken !== key.syncToken)) return null;
  if (header.lengths.length !== ARRAYS.length) return null;
  let at = align8(MAGIC.length + 8 + jsonLength);
  const arrays = ARRAYS.map(([Type], i) => {
    const length = header.lengths[i];
    if (!Number.isInteger(length) || length < 0 || at + length * Type.BYTES_PER_ELEMENT > body) throw new RangeError('array outside the copy');
    const array = new Type(data.buffer as ArrayBuffer, data.byteOffset + at, length);
    at = align8(at + array.byteLength);
    return array;
  });
  const [v4Nodes, v4Results, v6Nodes, v6Results, words, lens, service, services, region, borderGroup] = arrays as [
    Int32Array, Int32Array, Int32Array, Int32Array, Uint32Array, Uint8Array, Int32Array, Int32Array, Int32Array, Int32Array,
  ];
  const n = lens.length;
  const { v4Count } = header;
  const fits = [service, services, region, borderGroup].every((a) => a.length === n) && v4Count <= n && words.length === v4Count + 4 * (n - v4Count);
  const created = parseCreateDate(header.info.createDate);
  if (!fits || !created) return null;
  const table: RangeTable = { v4Count, words, lens, service, services, region, borderGroup, strings: header.strings, lists: header.lists };
  const trie = new PrefixTrie({ nodes: v4Nodes, results: v4Results }, { nodes: v6Nodes, results: v6Results });
  const { syncToken, createDate, ...counts } = header.info;
  return new AwsRanges(table, trie, { source, syncToken, createDate, created, ...counts });
}

/**
 * The ranges of the cached ip-ranges.json at `jsonPath`: from the copy at `compiledPath` when it is current, else
 * built from the JSON (throwing IpRangesError as AwsRanges.fromFile does) and the copy written for the next run.
 * With `share`, the ranges live in shared memory, and `shared` hands them to worker threads.
 */
export function loadCompiledRanges(
  jsonPath: string,
  compiledPath: string,
  share = false,
): { ranges: AwsRanges; fromCopy: boolean; shared: SharedRanges | null } {
  const done = (ranges: AwsRanges, fromCopy: boolean, bytes: Uint8Array | null) => ({ ranges, fromCopy, shared: bytes && { bytes, source: jsonPath } });
  // Taken before the JSON is read: if the file is replaced meanwhile, the copy is keyed to the older file and is
  // simply rebuilt next time, never used for a file it was not built from.
  const key = sourceKey(jsonPath);
  if (key) {
    const bytes = readWhole(compiledPath, share ? sharedBuffer : Buffer.allocUnsafeSlow);
    const ranges = bytes && deserializeRanges(bytes, key, jsonPath);
    if (ranges) return done(ranges, true, share ? bytes : null);
  }
  const built = AwsRanges.fromFile(jsonPath);
  const after = key && sourceKey(jsonPath);
  const unchanged = after && after.size === key.size && after.mtimeNs === key.mtimeNs && after.syncToken === key.syncToken;
  if (unchanged && key.syncToken === built.info.syncToken) writeCopy(compiledPath, serializeRanges(built, key));
  if (!share) return done(built, false, null);
  const bytes = serializeRanges(built, key ?? { size: 0, mtimeNs: '0', syncToken: '' }, sharedBuffer);
  return done(readCopy(bytes, null, jsonPath, false)!, false, bytes);
}

/** A whole file in a buffer from `alloc`, or null when it cannot be read. */
function readWhole(file: string, alloc: (size: number) => Buffer): Buffer | null {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch {
    return null; // No copy yet.
  }
  try {
    const bytes = alloc(fstatSync(fd).size);
    let at = 0;
    while (at < bytes.length) {
      const n = readSync(fd, bytes, at, bytes.length - at, at);
      if (n === 0) return null; // Shorter than it was a moment ago: being replaced.
      at += n;
    }
    return bytes;
  } catch {
    return null;
  } finally {
    closeSync(fd);
  }
}

function writeCopy(compiledPath: string, bytes: Buffer): void {
  if (!LITTLE_ENDIAN) return;
  // Worker threads (--workers) share the pid and may all be writing the copy at once.
  const tmp = `${compiledPath}.${process.pid}-${threadId}.tmp`;
  try {
    mkdirSync(path.dirname(compiledPath), { recursive: true });
    writeFileSync(tmp, bytes);
    renameSync(tmp, compiledPath);
  } catch {
    // The cache directory is not writable: runs still work, they build the ranges each time.
    rmSync(tmp, { force: true });
  }
}
