/**
 * matmul_int8's reference semantics (ops/quantized.ts): hand-computed
 * cases of the quantization (scales, round half to even, saturation, the
 * bounds), the special values, the i32 bound of the type rule, and against
 * matmul: the error is within what the quantization steps allow.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { OpTypeError, quantValue, quantizeVector } from '../../src/index.ts';
import { RUNS, arg, argArb, expectClose, expectExact, extentArb, runOp } from './harness.ts';
import { naiveMatmul } from './naive.ts';

describe('matmul_int8 reference semantics', () => {
  it('hand-computed: scales from the largest |value|, halves to even, integers summed exactly', () => {
    // a row [1, -0.5, 0.25] with bound 4: scale 0.25, integers [4, -2, 1].
    // b columns [2, 1, -1] and [0, 0.3, 0] with bound 2: scales 1 and 0.15 (as f32), integers [2, 1, -1] and [0, 2, 0].
    const a = arg('f32', [1, 3], [1, -0.5, 0.25]);
    const b = arg('f32', [3, 2], [2, 0, 1, 0.3, -1, 0]);
    const y = runOp('matmul_int8', [a, b], { activation_max: 4, weight_max: 2 });
    const sb1 = Math.fround(Math.fround(0.3) / 2);
    // acc0 = 4*2 - 2*1 + 1*(-1) = 5; acc1 = -2*2 = -4.
    expectExact(y.data, [5 * 0.25 * 1, -4 * 0.25 * sb1]);
  });

  it('rounds halves to even and saturates at the bound', () => {
    // scale = 3 / 2 = 1.5: 0.75 / 1.5 = 0.5 -> 0; 2.25 / 1.5 = 1.5 -> 2; -3 / 1.5 = -2.
    const q = new Float64Array(3);
    expect(quantizeVector([0.75, 2.25, -3], 0, 1, 3, 2, q)).toBe(1.5);
    expect(Array.from(q)).toEqual([0, 2, -2]);
    expect(quantValue(10, 1, 7)).toBe(7);
    expect(quantValue(-10, 1, 7)).toBe(-7);
    expect(quantValue(NaN, 1, 7)).toBe(0);
  });

  it('values are rounded to f32 before they are quantized', () => {
    // 1 + 2^-30 is 1 in f32: with 1 + 2^-29... both round to 1, the row quantizes as [1, 1] -> scale 1/127.
    const q = new Float64Array(2);
    expect(quantizeVector([1 + 2 ** -30, 1], 0, 1, 2, 127, q)).toBe(Math.fround(1 / 127));
    expect(Array.from(q)).toEqual([127, 127]);
  });

  it('a zero row gives 0, a row with NaN or an infinity gives NaN (per row, per column)', () => {
    const a = arg('f32', [3, 2], [0, 0, NaN, 1, Infinity, 1]);
    const b = arg('f32', [2, 2], [1, 0, 2, 0]);
    const y = runOp('matmul_int8', [a, b]);
    // Row 0 zero: 0 where b's column is finite; column 1 of b is zero: 0 times a finite row scale.
    expect(y.data[0]).toBe(0);
    expect(y.data[1]).toBe(0);
    expect(y.data.slice(2).every(Number.isNaN)).toBe(true);
  });

  it('the type rule bounds K so the integer sum fits an i32, and checks the bounds', () => {
    const big = 133_145; // 133145 * 127 * 127 > 2^31 - 1
    expect(() => runOp('matmul_int8', [arg('f32', [1, big], new Array(big).fill(0)), arg('f32', [big, 1], new Array(big).fill(0))])).toThrow(OpTypeError);
    expect(() => runOp('matmul_int8', [arg('f32', [1, 1], [1]), arg('f32', [1, 1], [1])], { activation_max: 128 })).toThrow(/activation_max/);
    expect(() => runOp('matmul_int8', [arg('f32', [1, 1], [1]), arg('f32', [1, 1], [1])], { weight_max: 0 })).toThrow(/weight_max/);
  });

  it('differs from matmul by at most the quantization steps: |e| <= K * (sa/2 * max|b| + sb/2 * max|a| + sa*sb/4)', () => {
    const cases = fc.tuple(extentArb(), extentArb(5), extentArb(), fc.constantFrom(63, 127), fc.constantFrom(63, 127)).chain(([m, k, n, qa, qb]) => fc.tuple(argArb('f32', [m, k]), argArb('f32', [k, n]), fc.constant(qa), fc.constant(qb)));
    fc.assert(
      fc.property(cases, ([a, b, qa, qb]) => {
        const y = runOp('matmul_int8', [a, b], { activation_max: qa, weight_max: qb });
        const exact = naiveMatmul(a, b);
        const [m, k] = a.shape as [number, number];
        const n = b.shape[1]!;
        for (let i = 0; i < m; i++) {
          const amax = Math.max(...a.data.slice(i * k, (i + 1) * k).map((v) => Math.abs(Math.fround(v))));
          for (let j = 0; j < n; j++) {
            const col = Array.from({ length: k }, (_, p) => Math.abs(Math.fround(b.data[p * n + j]!)));
            const bmax = Math.max(...col);
            const [sa, sb] = [amax / qa, bmax / qb];
            const bound = k * ((sa / 2) * bmax + (sb / 2) * amax + (sa * sb) / 4) * (1 + 1e-6) + 1e-30;
            expect(Math.abs(y.data[i * n + j]! - exact.data[i * n + j]!)).toBeLessThanOrEqual(bound);
          }
        }
      }),
      { numRuns: RUNS.cheap },
    );
  });

  it('with integer operands whose rows and columns reach the bound it is the exact matmul (scales 1)', () => {
    const a = arg('f32', [2, 3], [127, -5, 3, 0, 1, -127]);
    const b = arg('f32', [3, 2], [127, -127, -127, 2, 0, 3]);
    expectClose(runOp('matmul_int8', [a, b]).data, naiveMatmul(a, b).data, 'matmul_int8', 1e-6);
  });
});
