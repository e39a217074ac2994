import { createRequire } from 'node:module';

/**
 * vpcflow's native code (src/native/*.c), built by `npm install` with node-gyp: the C decoder, which decodes the
 * lines the JavaScript one-pass path would accept three times as fast, and the C row writer, which writes the
 * NDJSON and CSV records the JavaScript writers would write as plain copies. Everything else stays with JavaScript. Without a C
 * compiler the build is skipped and vpcflow runs in JavaScript alone, with the same output.
 */
export interface NativeKernel {
  /**
   * Decodes whole lines of `chunk` from `from` into rows of `types.length` slots, until a line it does not take or
   * the slots are full. Returns the rows; `next[0]` is where the first line not decoded starts.
   */
  decodeLines(
    chunk: Uint8Array,
    from: number,
    maxLineBytes: number,
    types: Uint8Array,
    enumAt: Int32Array,
    enumBytes: Uint8Array,
    kinds: Uint8Array,
    starts: Int32Array,
    ends: Int32Array,
    numbers: Float64Array,
    next: Int32Array,
  ): number;
  /** A C row writer (write_rows.c) for NDJSON and CSV, reading its inputs from `io` (an Int32Array(16)). */
  rowWriter(io: Int32Array): NativeRowWriter;
  /** A gzip decompressor for gunzipChunk (gunzip.c); absent from a build older than it. */
  gunzip?(): GunzipState;
  /**
   * Inflates input[io[0]..] into output[io[1]..] until the input is used up or the output is full, moving io[0] and
   * io[1] on; true when the gzip data is at its end so far. Corrupt data throws (code Z_DATA_ERROR, as Node's zlib).
   */
  gunzipChunk(state: GunzipState, input: Uint8Array, output: Uint8Array, io: Int32Array): boolean;
  /**
   * Writes inFd's bytes [offset, offset + length) to outFd at outFd's own position, in the kernel (sendfile(2)), and
   * returns how many were written (fewer only when inFd ends early), or -errno when it wrote nothing (-EINVAL when
   * outFd cannot take it: a file opened for appending). Linux builds only (send_file.c).
   */
  sendFile?(outFd: number, inFd: number, offset: number, length: number): number;
}

/** A native gzip decompressor's state, freed with it. */
export type GunzipState = { readonly __gunzip: unique symbol };

/**
 * The common case of NdjsonWriter and CsvWriter in C. The buffers it reads and writes are bound once and again when
 * they change; `record()` writes the record at row offset io[0] from output position io[1] and returns the position
 * after it, -1 when the JavaScript writer must write this record, -2 when it needs more room, -3 when it needs the
 * piece of kind io[3] and index io[4] (`piece()`), then is called again. See src/sinks/native-writer.ts.
 */
export interface NativeRowWriter {
  input(chunk: Uint8Array): void;
  rows(kinds: Uint8Array, starts: Int32Array, ends: Int32Array, numbers: Float64Array): void;
  output(buf: Uint8Array): void;
  layout(prefixBytes: Uint8Array, prefixStart: Int32Array, ops: Int32Array, fields: number, style: number): void;
  piece(kind: number, index: number, bytes: Uint8Array): void;
  record(): number;
}

/**
 * Where the build puts it, from dist/src/native/ (the compiled module), dist/worker/ (the worker threads' bundle: see
 * worker-pool.ts) or src/native/ (tests run on the source).
 */
const CANDIDATES = [
  '../../../src/native/build/Release/vpcflow_native.node',
  '../../src/native/build/Release/vpcflow_native.node',
  './build/Release/vpcflow_native.node',
];

function load(): { kernel: NativeKernel | null; why: string } {
  const setting = process.env.VPCFLOW_NATIVE;
  if (setting === '0' || setting === 'false') return { kernel: null, why: 'turned off by VPCFLOW_NATIVE=0' };
  const require = createRequire(import.meta.url);
  let failure: Error | null = null;
  for (const candidate of CANDIDATES) {
    try {
      return { kernel: require(candidate) as NativeKernel, why: 'loaded' };
    } catch (err) {
      // Not there is expected for one of the two places; anything else (a broken build) is worth showing.
      if ((err as NodeJS.ErrnoException).code !== 'MODULE_NOT_FOUND') failure = err as Error;
    }
  }
  if (failure) return { kernel: null, why: `could not be loaded: ${failure.message.split('\n')[0]}` };
  return { kernel: null, why: 'not built; `npm rebuild vpcflow` (in a clone: `npm run install`) builds it with python3, make and a C compiler' };
}

const loaded = load();

/** The native code, or null when it is not built or turned off (VPCFLOW_NATIVE=0). */
export const nativeKernel: NativeKernel | null = loaded.kernel;

/** Which code decodes and writes NDJSON, for `vpcflow bench` and bench/RESULTS.md. */
export function decoderDescription(): string {
  return nativeKernel ? 'C decoder and NDJSON/CSV writer (native)' : `JavaScript decoder and writers (native code ${loaded.why})`;
}
