/**
 * @tessera/viz/wat: a WebAssembly module as WAT text, printed by WABT
 * (`wabt`, the WebAssembly Binary Toolkit compiled to wasm) with SIMD,
 * relaxed SIMD and threads enabled, and the kernels' names on their
 * functions. WABT's loader reads files through `require("fs")` in Node
 * only; a browser bundle needs `fs` left out (Vite does that by itself;
 * esbuild: `--external:fs`).
 */
import wabt from 'wabt';
import { withFunctionNames } from './wasm-names.ts';

/** The WebAssembly features the CPU backend's modules use. */
const FEATURES = { simd: true, threads: true, relaxed_simd: true, bulk_memory: true, mutable_globals: true, sat_float_to_int: true, sign_extension: true, multi_value: true } as const;

let loaded: ReturnType<typeof wabt> | undefined;

/** Options of wasmToWat. */
export interface WatOptions {
  /** Names for exported functions (export name -> function name), e.g. `k3` -> `k3_matmul`. */
  readonly functionNames?: ReadonlyMap<string, string>;
  /** Fold instructions into S-expressions (default false: one instruction a line, as they run). */
  readonly fold?: boolean;
}

/** The module's text (WABT checks it while reading, with the features above), every function named: as given, or from its export or import. */
export async function wasmToWat(bytes: Uint8Array, options: WatOptions = {}): Promise<string> {
  loaded ??= wabt();
  const named = options.functionNames?.size ? withFunctionNames(bytes, options.functionNames) : bytes;
  const m = (await loaded).readWasm(named, { readDebugNames: true, check: true, ...FEATURES });
  try {
    m.generateNames();
    m.applyNames();
    return m.toText({ foldExprs: options.fold ?? false, inlineExport: true });
  } finally {
    m.destroy();
  }
}

/** Assembles WAT text back to a module's bytes (to check that printed text round-trips). */
export async function watToWasm(text: string): Promise<Uint8Array<ArrayBuffer>> {
  loaded ??= wabt();
  const m = (await loaded).parseWat('module.wat', text, FEATURES);
  try {
    m.resolveNames();
    // A copy WABT's memory does not own.
    return new Uint8Array(m.toBinary({ write_debug_names: false }).buffer);
  } finally {
    m.destroy();
  }
}
