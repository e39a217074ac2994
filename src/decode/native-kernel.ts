import { createRequire } from 'node:module';

/**
 * The C decoder (src/decode/native/flow_kernel.c), built by `npm install` with node-gyp. It decodes the lines the
 * JavaScript one-pass path would accept, three times as fast; everything else stays with the JavaScript decoder.
 * Without a C compiler the build is skipped and vpcflow decodes in JavaScript alone, with the same output.
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
}

/** Where the build puts it, from dist/src/decode/ (the compiled module) or src/decode/ (tests run on the source). */
const CANDIDATES = ['../../../src/decode/native/build/Release/flow_kernel.node', './native/build/Release/flow_kernel.node'];

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

/** The C decoder, or null when it is not built or turned off (VPCFLOW_NATIVE=0). */
export const nativeKernel: NativeKernel | null = loaded.kernel;

/** Which decoder decodes, for `vpcflow bench` and bench/RESULTS.md. */
export function decoderDescription(): string {
  return nativeKernel ? 'C one-pass decoder (native)' : `JavaScript decoder (C decoder ${loaded.why})`;
}
