import { type DType, type InputKind, type Program, numel } from '@tessera/ir';
import { makeRng } from './gen/choices.ts';

/** Values for a program's inputs, keyed by input name, in the typed array of each input's dtype. */
export type HostInputs = Record<string, Float32Array | Int32Array | Uint8Array>;

/** Ranges of generated input values. */
export interface InputValueOptions {
  /** f32 values lie in [-floatMax, floatMax] (default 3). */
  readonly floatMax?: number;
  /** f32 parameters (weights) lie in [-paramMax, paramMax] (default floatMax): trained weights are small. */
  readonly paramMax?: number;
  /** i32 values are integers in [-intMax, intMax] (default 4). */
  readonly intMax?: number;
  /** Chance that an element is exactly 0 (default 0.1): zeros find division, log and mask bugs. */
  readonly zeroChance?: number;
  /**
   * Whether f32 values may be subnormal (default true). A backend that may
   * flush subnormals to zero (WGSL allows it, and NVIDIA's Vulkan driver
   * does) is tested with false: such values become 0.
   */
  readonly subnormals?: boolean;
}

/** The smallest normal f32 (2^-126). */
const MIN_NORMAL_F32 = 2 ** -126;

/** `v`, or 0 where subnormals are excluded and `v` is one. */
export const normalOrZero = (v: number, subnormals: boolean): number => (subnormals || v === 0 || Math.abs(v) >= MIN_NORMAL_F32 ? v : 0);

/** `values` in the typed array of `dtype`. */
export function hostArray(dtype: DType, values: readonly number[]): Float32Array | Int32Array | Uint8Array {
  return dtype === 'f32' ? Float32Array.from(values) : dtype === 'i32' ? Int32Array.from(values) : Uint8Array.from(values);
}

/**
 * Deterministic values for every input of a program from a seed (or a
 * generator of numbers in [0, 1)): f32 in [-3, 3] with occasional exact
 * zeros, small i32, bool 0/1. The same seed gives the same values, so a
 * failure is reproducible from the seed alone.
 */
export function inputsFor(program: Program, seedOrRng: number | (() => number), options: InputValueOptions = {}): HostInputs {
  const rng = typeof seedOrRng === 'number' ? makeRng(seedOrRng) : seedOrRng;
  const intMax = options.intMax ?? 4;
  const zero = options.zeroChance ?? 0.1;
  const out: HostInputs = {};
  for (const inp of program.inputs) {
    const values = Array.from({ length: numel(inp.type.shape) }, () => {
      const r = rng();
      if (inp.type.dtype === 'bool') return r < 0.5 ? 0 : 1;
      if (r < zero) return 0;
      if (inp.type.dtype === 'i32') return Math.floor(rng() * (2 * intMax + 1)) - intMax;
      return normalOrZero(Math.fround((rng() * 2 - 1) * floatRange(inp.kind, options)), options.subnormals ?? true);
    });
    out[inp.name] = hostArray(inp.type.dtype, values);
  }
  return out;
}

/** The largest |value| of an f32 input of this kind. */
export function floatRange(kind: InputKind, options: InputValueOptions): number {
  const floatMax = options.floatMax ?? 3;
  return kind === 'parameter' ? (options.paramMax ?? floatMax) : floatMax;
}
