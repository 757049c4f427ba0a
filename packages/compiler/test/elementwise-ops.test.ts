/**
 * The elementwise ops of issue 13 on every backend configuration, against
 * values worked out by hand from PyTorch's documented rules (negatives,
 * halves, zero divisors, the i32 limits, NaN and infinities). Thirteen
 * elements: the wasm f32x4 path takes three vector steps and a scalar tail.
 */
import { describe, expect, it } from 'vitest';
import { createCpuBackend } from '@tessera/backend-cpu';
import { type Attrs, type DType, type OpName, ProgramBuilder, erf, tensorType } from '@tessera/ir';
import type { TensorData } from '@tessera/kernel';
import { type Backend, type BackendName, compile } from '../src/index.ts';

const CONFIGS: readonly { readonly name: string; readonly backend: BackendName | Backend }[] = [
  { name: 'interp', backend: 'interp' },
  { name: 'eval', backend: 'eval' },
  { name: 'cpu js', backend: createCpuBackend({ target: 'js' }) },
  { name: 'cpu wasm', backend: createCpuBackend({ target: 'wasm', threads: 1 }) },
  { name: 'webgpu', backend: 'webgpu' },
];

interface Operand {
  readonly dtype: DType;
  readonly data: readonly number[];
}
const f32 = (...data: number[]): Operand => ({ dtype: 'f32', data });
const i32 = (...data: number[]): Operand => ({ dtype: 'i32', data });

const array = ({ dtype, data }: Operand): TensorData => (dtype === 'f32' ? Float32Array.from(data) : dtype === 'i32' ? Int32Array.from(data) : Uint8Array.from(data));

/** Runs `op(operands)` on a backend; each operand is an input of its own length (1 broadcasts). */
async function run(backend: BackendName | Backend, op: OpName, operands: readonly Operand[], attrs: Attrs = {}): Promise<number[]> {
  const b = new ProgramBuilder(op);
  const xs = operands.map((o, i) => b.input(`x${i}`, tensorType(o.dtype, o.data.length === 1 ? [] : [o.data.length])));
  b.output('y', b.emit(op, xs, attrs));
  const exe = await compile(b.build(), { backend, verify: true });
  try {
    const out = await exe.run(Object.fromEntries(operands.map((o, i) => [`x${i}`, array(o)])));
    return Array.from(out.y!.data);
  } finally {
    exe.dispose();
  }
}

/** Every backend gives exactly `want` (NaN where NaN; -0 and 0 are not told apart). */
async function expectEverywhere(op: OpName, operands: readonly Operand[], want: readonly number[], attrs: Attrs = {}): Promise<void> {
  for (const { name, backend } of CONFIGS) {
    const got = await run(backend, op, operands, attrs);
    expect({ backend: name, values: got.map((v) => (Number.isNaN(v) ? 'NaN' : v + 0)) }).toEqual({ backend: name, values: want.map((v) => (Number.isNaN(v) ? 'NaN' : v + 0)) });
  }
}

const HALVES = f32(-2.5, -1.5, -0.5, -0.25, -0, 0.25, 0.5, 1.5, 2.5, 2.75, Infinity, -Infinity, NaN);
const INTS = i32(-7, -1, 0, 3, 2147483647, -2147483648, 5, -5, 1, 2, 8, -8, 9);

describe('rounding, sign and predicates on every backend', () => {
  it('floor and ceil (an i32 is unchanged)', async () => {
    await expectEverywhere('floor', [HALVES], [-3, -2, -1, -1, 0, 0, 0, 1, 2, 2, Infinity, -Infinity, NaN]);
    await expectEverywhere('ceil', [HALVES], [-2, -1, 0, 0, 0, 1, 1, 2, 3, 3, Infinity, -Infinity, NaN]);
    await expectEverywhere('floor', [INTS], INTS.data);
    await expectEverywhere('ceil', [INTS], INTS.data);
  });

  it('round takes halves to even (torch.round), an i32 is unchanged', async () => {
    await expectEverywhere('round', [HALVES], [-2, -2, 0, 0, 0, 0, 0, 2, 2, 3, Infinity, -Infinity, NaN]);
    await expectEverywhere('round', [f32(3.5, 4.5, -3.5, -4.5, 0.49999997, 8388607.5, 5, 6, 7, 8, 9, 10, 11)], [4, 4, -4, -4, 0, 8388608, 5, 6, 7, 8, 9, 10, 11]);
    await expectEverywhere('round', [INTS], INTS.data);
  });

  it('sign: NaN and -0 give 0 (torch.sign)', async () => {
    await expectEverywhere('sign', [HALVES], [-1, -1, -1, -1, 0, 1, 1, 1, 1, 1, 1, -1, 0]);
    await expectEverywhere('sign', [INTS], [-1, -1, 0, 1, 1, -1, 1, -1, 1, 1, 1, -1, 1]);
  });

  it('isnan and isinf (bool; never for i32)', async () => {
    await expectEverywhere('isnan', [HALVES], [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
    await expectEverywhere('isinf', [HALVES], [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 0]);
    await expectEverywhere('isnan', [INTS], INTS.data.map(() => 0));
    await expectEverywhere('isinf', [INTS], INTS.data.map(() => 0));
  });
});

describe('integer floor_div and mod on every backend (Python // and %; x // 0 = x % 0 = 0)', () => {
  const a = i32(7, -7, 7, -7, 6, -6, 0, 1, 5, -5, -2147483648, -2147483648, 2147483647);
  const b = i32(2, 2, -2, -2, 3, 3, 5, -3, 0, 0, -1, 1, -1);

  it('floor_div rounds toward -inf; -2^31 // -1 wraps', async () => {
    await expectEverywhere('floor_div', [a, b], [3, -4, -4, 3, 2, -2, 0, -1, 0, 0, -2147483648, -2147483648, -2147483647]);
  });

  it('mod has the sign of the divisor', async () => {
    await expectEverywhere('mod', [a, b], [1, 1, -1, -1, 0, 0, 0, -2, 0, 0, 0, 0, 0]);
    await expectEverywhere('mod', [i32(-2147483648, 2147483647, -1, 13, -13, 13, -13, 1, 2, 3, 4, 5, 6), i32(2147483647, -2147483648, 2147483647, 5, 5, -5, -5, 1, 1, 1, 1, 1, 1)], [2147483646, -1, 2147483646, 3, 2, -2, -3, 0, 0, 0, 0, 0, 0]);
  });
});

describe('composites on every backend (expanded into their decompositions)', () => {
  it('relu: max(x, 0), NaN stays NaN; i32', async () => {
    await expectEverywhere('relu', [HALVES], [0, 0, 0, 0, 0, 0.25, 0.5, 1.5, 2.5, 2.75, Infinity, 0, NaN]);
    await expectEverywhere('relu', [INTS], [0, 0, 0, 3, 2147483647, 0, 5, 0, 1, 2, 8, 0, 9]);
  });

  it('clamp: min(max(x, lo), hi); lo > hi gives hi; a NaN bound gives NaN', async () => {
    await expectEverywhere('clamp', [HALVES, f32(-1), f32(1)], [-1, -1, -0.5, -0.25, 0, 0.25, 0.5, 1, 1, 1, 1, -1, NaN]);
    await expectEverywhere('clamp', [HALVES, f32(2), f32(1)], HALVES.data.map((v) => (Number.isNaN(v) ? NaN : 1)));
    await expectEverywhere('clamp', [INTS, i32(-5), i32(5)], [-5, -1, 0, 3, 5, -5, 5, -5, 1, 2, 5, -5, 5]);
  });

  it('logical_xor: exactly one nonzero (NaN is nonzero), any dtypes', async () => {
    await expectEverywhere('logical_xor', [HALVES, i32(0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0)], [1, 0, 1, 0, 0, 0, 1, 0, 1, 0, 1, 0, 1]);
  });

  it('sigmoid and silu within 1e-6 of the formula; their limits exactly', async () => {
    const x = f32(0, 2, -2, 20, -20, 0.5, -0.5, 88, -88, 1e-3, Infinity, -Infinity, NaN);
    const sig = x.data.map((v) => 1 / (1 + Math.exp(-v)));
    for (const { name, backend } of CONFIGS) {
      const s = await run(backend, 'sigmoid', [x]);
      s.slice(0, 10).forEach((v, i) => expect(Math.abs(v - sig[i]!), `${name} sigmoid(${x.data[i]})`).toBeLessThan(1e-6));
      expect(s.slice(10), name).toEqual([1, 0, NaN]);
      const si = await run(backend, 'silu', [x]);
      si.slice(0, 10).forEach((v, i) => expect(Math.abs(v - x.data[i]! * sig[i]!), `${name} silu(${x.data[i]})`).toBeLessThan(1e-5 * Math.max(1, Math.abs(x.data[i]!))));
      expect(si.slice(10), name).toEqual([Infinity, NaN, NaN]);
    }
  });
});

describe('erf on every backend: its decomposition where a target has no erf', () => {
  // The decomposition's 7e-8, plus float32 rounding where a target computes in f32 (wasm f32x4, WGSL): 4.2e-7 at worst, 2.8e-7 on this grid.
  it('within 4e-7 of erf (absolute) on [-4, 4], +-1 at +-inf, NaN for NaN', async () => {
    const xs = Array.from({ length: 801 }, (_, i) => Math.fround(-4 + i / 100));
    for (const { name, backend } of CONFIGS) {
      const got = await run(backend, 'erf', [f32(...xs, Infinity, -Infinity, NaN)]);
      const worst = Math.max(...xs.map((v, i) => Math.abs(got[i]! - erf(v))));
      expect(worst, name).toBeLessThan(4e-7);
      expect(got.slice(-3), name).toEqual([1, -1, NaN]);
    }
  });
});
