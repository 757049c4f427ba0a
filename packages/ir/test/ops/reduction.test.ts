import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { OpTypeError, ProgramBuilder, tensorType } from '../../src/index.ts';
import { RUNS, arg, argArb, expectClose, expectExact, f32SpecialArb, magnitude, runOp, shapeArb } from './harness.ts';
import { naiveReduce } from './naive.ts';

const KIND = { reduce_sum: 'sum', reduce_max: 'max', reduce_mean: 'mean' } as const;

/** A shape and a non-empty list of its axes, in random order, each written positive or negative. */
const shapeAndAxes = shapeArb(1, 4).chain((shape) =>
  fc
    .subarray(
      shape.map((_, a) => a),
      { minLength: 1 },
    )
    .chain((axes) =>
      fc.tuple(
        fc.constant(shape),
        fc.shuffledSubarray(axes, { minLength: axes.length, maxLength: axes.length }),
        fc.array(fc.boolean(), { minLength: axes.length, maxLength: axes.length }),
      ),
    )
    .map(([s, axes, neg]) => ({ shape: s, axes: axes.map((a, i) => (neg[i] ? a - s.length : a)) })),
);

describe('reductions against naive semantics', () => {
  it('f32 sum/max/mean over random axis lists, keepdims both ways, NaN and infinities', () => {
    fc.assert(
      fc.property(
        fc.constantFrom('reduce_sum', 'reduce_max', 'reduce_mean' as const),
        fc.boolean(),
        shapeAndAxes.chain(({ shape, axes }) => fc.tuple(fc.constant(axes), argArb('f32', shape, f32SpecialArb))),
        (op, keepdims, [axes, x]) => {
          const y = runOp(op, [x], { axes, keepdims });
          const want = naiveReduce(x, axes, keepdims, KIND[op]);
          expect(y.dtype).toBe('f32');
          expect(y.shape).toEqual(want.shape);
          expectClose(y.data, want.data, op, 1e-12, magnitude(x.data) * x.data.length);
        },
      ),
      { numRuns: RUNS.cheap },
    );
  });

  it('i32 sum (wrapping) and max, exact', () => {
    fc.assert(
      fc.property(
        fc.constantFrom('reduce_sum', 'reduce_max' as const),
        fc.boolean(),
        shapeAndAxes.chain(({ shape, axes }) => fc.tuple(fc.constant(axes), argArb('i32', shape))),
        (op, keepdims, [axes, x]) => {
          const y = runOp(op, [x], { axes, keepdims });
          const want = naiveReduce(x, axes, keepdims, KIND[op], true);
          expect(y.dtype).toBe('i32');
          expect(y.shape).toEqual(want.shape);
          expectExact(y.data, want.data, op);
        },
      ),
      { numRuns: RUNS.cheap },
    );
  });

  it('hand-computed values', () => {
    const x = arg('f32', [2, 3], [1, 2, 3, 4, 5, 6]);
    const sum1 = runOp('reduce_sum', [x], { axes: [1] });
    expect(sum1.shape).toEqual([2]);
    expectExact(sum1.data, [6, 15]);
    const sum0 = runOp('reduce_sum', [x], { axes: [0], keepdims: true });
    expect(sum0.shape).toEqual([1, 3]);
    expectExact(sum0.data, [5, 7, 9]);
    const all = runOp('reduce_sum', [x], { axes: [-1, 0] });
    expect(all.shape).toEqual([]);
    expectExact(all.data, [21]);
    const allKeep = runOp('reduce_max', [x], { axes: [0, 1], keepdims: true });
    expect(allKeep.shape).toEqual([1, 1]);
    expectExact(allKeep.data, [6]);
    expectExact(runOp('reduce_mean', [arg('f32', [2, 2], [1, 2, 3, 5])], { axes: [-1] }).data, [1.5, 4]);
    expectExact(runOp('reduce_mean', [arg('f32', [2, 2], [1, 2, 3, 5])], { axes: [0] }).data, [2, 3.5]);
    // Middle axis of [2,2,2]: pairs (0,2), (1,3), (4,6), (5,7).
    expectExact(runOp('reduce_sum', [arg('f32', [2, 2, 2], [0, 1, 2, 3, 4, 5, 6, 7])], { axes: [1] }).data, [2, 4, 10, 12]);
    expectExact(runOp('reduce_max', [arg('f32', [2, 3], [-1, -5, -3, 0, -0.5, -7])], { axes: [1] }).data, [-1, 0]);
  });

  it('NaN propagates through reduce_max; a row of -inf has max -inf', () => {
    const x = arg('f32', [3, 3], [1, NaN, 3, -Infinity, -Infinity, -Infinity, NaN, 1, Infinity]);
    expectExact(runOp('reduce_max', [x], { axes: [1] }).data, [NaN, -Infinity, NaN]);
    expectExact(runOp('reduce_sum', [x], { axes: [1] }).data, [NaN, -Infinity, NaN]);
    expectExact(runOp('reduce_sum', [arg('f32', [2], [Infinity, -Infinity])], { axes: [0] }).data, [NaN]);
  });

  it('hand-computed: i32 sums wrap', () => {
    expectExact(runOp('reduce_sum', [arg('i32', [2], [2147483647, 1])], { axes: [0] }).data, [-2147483648]);
    expectExact(runOp('reduce_sum', [arg('i32', [3], [2147483647, 1, -1])], { axes: [0] }).data, [2147483647]);
    expectExact(runOp('reduce_max', [arg('i32', [3], [-2147483648, -3, -2147483647])], { axes: [0] }).data, [-3]);
  });

  it('rejects empty, duplicate and out-of-range axes at build time', () => {
    const b = new ProgramBuilder();
    const x = b.input('x', tensorType('f32', [2, 3]));
    for (const op of ['reduce_sum', 'reduce_max', 'reduce_mean'] as const) {
      expect(() => b.emit(op, [x], { axes: [] })).toThrow(OpTypeError);
      expect(() => b.emit(op, [x], { axes: [] })).toThrow(/empty reduction/);
      expect(() => b.emit(op, [x], { axes: [1, 1] })).toThrow(/axis 1 is listed twice/);
      expect(() => b.emit(op, [x], { axes: [1, -1] })).toThrow(/axis 1 is listed twice/);
      expect(() => b.emit(op, [x], { axes: [2] })).toThrow(/out of range for rank 2/);
      expect(() => b.emit(op, [x], { axes: [-3] })).toThrow(/out of range/);
    }
    const i = b.input('i', tensorType('i32', [2]));
    expect(() => b.emit('reduce_mean', [i], { axes: [0] })).toThrow(/expected f32/);
    const c = b.input('c', tensorType('bool', [2]));
    expect(() => b.emit('reduce_sum', [c], { axes: [0] })).toThrow(/expected f32 or i32/);
  });

  it('canonicalises axes: negative resolved, sorted', () => {
    const b = new ProgramBuilder();
    const x = b.input('x', tensorType('f32', [2, 3, 4]));
    const y = b.emit('reduce_sum', [x], { axes: [-1, 0] });
    b.output('y', y);
    const node = b.build().nodes[0]!;
    expect(node.attrs).toEqual({ axes: [0, 2], keepdims: false });
    expect(y.type.shape).toEqual([3]);
  });
});
