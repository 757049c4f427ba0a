import { describe, expect, it } from 'vitest';
import { vectorMathTestModule } from '../src/wasm/vmath.ts';

/** Applies a module function (vexp, vtanh) to float32 inputs, four lanes at a time. */
function apply(name: 'vexp' | 'vtanh', xs: Float32Array): Float32Array {
  const n = Math.ceil(xs.length / 4) * 4;
  const memory = new WebAssembly.Memory({ initial: Math.ceil((n * 4) / 65536) + 1 });
  const instance = new WebAssembly.Instance(new WebAssembly.Module(vectorMathTestModule()), { env: { memory } });
  const view = new Float32Array(memory.buffer, 0, n);
  view.set(xs);
  (instance.exports[name] as (ptr: number, n: number) => void)(0, n);
  return view.slice(0, xs.length);
}

/** A dense grid of float32 values over [lo, hi]. */
function grid(lo: number, hi: number, n = 1 << 18): Float32Array {
  return Float32Array.from({ length: n }, (_, i) => lo + ((hi - lo) * i) / (n - 1));
}

/** Largest absolute and relative error of `got` against float64 `ref` of the same (float32) inputs. */
function errors(xs: Float32Array, got: Float32Array, ref: (x: number) => number): { abs: number; rel: number } {
  let abs = 0;
  let rel = 0;
  xs.forEach((x, i) => {
    const e = ref(x);
    const d = Math.abs(got[i]! - e);
    abs = Math.max(abs, d);
    if (e !== 0) rel = Math.max(rel, d / Math.abs(e));
  });
  return { abs, rel };
}

const SPECIAL = Float32Array.from([NaN, Infinity, -Infinity, 0, -0]);

describe('f32x4 approximations meet the bounds vmath.ts documents', () => {
  it('exp: relative error < 2e-7 on [-87, 88.7]; overflow, underflow and specials as float32', () => {
    const xs = grid(-87, 88.7);
    expect(errors(xs, apply('vexp', xs), Math.exp).rel).toBeLessThan(2e-7);
    const small = grid(-4, 4, 1 << 16);
    expect(errors(small, apply('vexp', small), Math.exp).rel).toBeLessThan(2e-7);
    expect(Array.from(apply('vexp', Float32Array.from([NaN, Infinity, -Infinity, 0, 88.8, 100, 3e38, -200])))).toEqual([NaN, Infinity, 0, 1, Infinity, Infinity, Infinity, 0]);
    // Just above the float32 overflow threshold ln(FLT_MAX) = 88.7228.
    expect(apply('vexp', Float32Array.from([88.72]))[0]).toBeLessThan(3.4028235e38);
  });

  it('tanh: relative error < 2e-7 on [-12, 12] and near 0; +-1 at +-inf, NaN and signed zero kept', () => {
    for (const xs of [grid(-12, 12), grid(-1e-3, 1e-3, 1 << 14)]) expect(errors(xs, apply('vtanh', xs), Math.tanh).rel).toBeLessThan(2e-7);
    const s = apply('vtanh', SPECIAL);
    expect(Array.from(s)).toEqual([NaN, 1, -1, 0, -0]);
    expect(Object.is(s[4], -0)).toBe(true);
  });

});
