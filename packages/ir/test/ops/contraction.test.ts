import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { OpTypeError } from '../../src/index.ts';
import { RUNS, arg, argArb, broadcastShapesArb, expectClose, expectExact, extentArb, f32SpecialArb, magnitude, runOp } from './harness.ts';
import { naiveMatmul } from './naive.ts';

describe('matmul against a naive batched matmul', () => {
  it('random M, K, N and broadcast batch axes', () => {
    const cases = fc
      .tuple(broadcastShapesArb(2, 3), extentArb(), extentArb(5), extentArb(), fc.boolean())
      .chain(([[ba, bb], m, k, n, special]) =>
        fc.tuple(argArb('f32', [...ba!, m, k], special ? f32SpecialArb : undefined), argArb('f32', [...bb!, k, n], special ? f32SpecialArb : undefined)),
      );
    fc.assert(
      fc.property(cases, ([a, b]) => {
        const y = runOp('matmul', [a, b]);
        const want = naiveMatmul(a, b);
        expect(y.dtype).toBe('f32');
        expect(y.shape).toEqual(want.shape);
        const k = a.shape[a.shape.length - 1]!;
        expectClose(y.data, want.data, 'matmul', 1e-12, magnitude(a.data) * magnitude(b.data) * k);
      }),
      { numRuns: RUNS.cheap },
    );
  });

  it('hand-computed: 2x2 by 2x2', () => {
    const y = runOp('matmul', [arg('f32', [2, 2], [1, 2, 3, 4]), arg('f32', [2, 2], [5, 6, 7, 8])]);
    expect(y.shape).toEqual([2, 2]);
    expectExact(y.data, [19, 22, 43, 50]);
  });

  it('hand-computed: 2x3 by 3x1 and a 1x1 product', () => {
    expectExact(runOp('matmul', [arg('f32', [2, 3], [1, -1, 2, 0, 3, -2]), arg('f32', [3, 1], [4, 5, 6])]).data, [11, 3]);
    expectExact(runOp('matmul', [arg('f32', [1, 1], [-3]), arg('f32', [1, 1], [0.5])]).data, [-1.5]);
  });

  it('hand-computed: broadcast batch axes', () => {
    // a: two 1x2 matrices [1,2] and [3,4]; b: one 2x1 matrix [10;100], shared by both.
    const y = runOp('matmul', [arg('f32', [2, 1, 2], [1, 2, 3, 4]), arg('f32', [2, 1], [10, 100])]);
    expect(y.shape).toEqual([2, 1, 1]);
    expectExact(y.data, [210, 430]);
    // a [1,2,1,1] against b [3,1,1,1]: batch [3,2], out[i][j] = a[j] * b[i].
    const z = runOp('matmul', [arg('f32', [1, 2, 1, 1], [2, 3]), arg('f32', [3, 1, 1, 1], [1, 10, 100])]);
    expect(z.shape).toEqual([3, 2, 1, 1]);
    expectExact(z.data, [2, 3, 20, 30, 200, 300]);
  });

  it('propagates NaN and infinities like the sum of products', () => {
    expectExact(runOp('matmul', [arg('f32', [1, 2], [NaN, 1]), arg('f32', [2, 1], [0, 1])]).data, [NaN]);
    expectExact(runOp('matmul', [arg('f32', [1, 2], [Infinity, 1]), arg('f32', [2, 1], [0, 1])]).data, [NaN]);
    expectExact(runOp('matmul', [arg('f32', [1, 2], [Infinity, 1]), arg('f32', [2, 1], [2, 1])]).data, [Infinity]);
  });

  it('errors: mismatched K names both shapes; rank < 2, i32 and unbroadcastable batches are rejected', () => {
    const a = arg('f32', [2, 3], new Array(6).fill(1));
    const b = arg('f32', [4, 5], new Array(20).fill(1));
    expect(() => runOp('matmul', [a, b])).toThrow(OpTypeError);
    expect(() => runOp('matmul', [a, b])).toThrow(/f32\[2,3\].*f32\[4,5\].*K=3.*K=4/);
    expect(() => runOp('matmul', [arg('f32', [3], [1, 2, 3]), arg('f32', [3, 1], [1, 2, 3])])).toThrow(/rank >= 2/);
    expect(() => runOp('matmul', [arg('i32', [1, 1], [1]), arg('i32', [1, 1], [1])])).toThrow(/expected f32/);
    expect(() => runOp('matmul', [arg('f32', [2, 1, 1], [1, 1]), arg('f32', [3, 1, 1], [1, 1, 1])])).toThrow(/do not broadcast/);
  });
});
