import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { OpTypeError, ProgramBuilder, tensorType } from '../../src/index.ts';
import { RUNS, arg, argArb, expectClose, expectExact, f32SpecialArb, magnitude, runOp, shapeArb } from './harness.ts';
import { naiveReduce } from './naive.ts';

const KIND = { reduce_sum: 'sum', reduce_max: 'max', reduce_mean: 'mean', reduce_min: 'min', reduce_prod: 'prod', reduce_any: 'any', reduce_all: 'all' } as const;

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
  it('f32 sum/max/mean/min/prod over random axis lists, keepdims both ways, NaN and infinities', () => {
    fc.assert(
      fc.property(
        fc.constantFrom('reduce_sum', 'reduce_max', 'reduce_mean', 'reduce_min', 'reduce_prod' as const),
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

  it('i32 sum and prod (wrapping), max and min, exact', () => {
    fc.assert(
      fc.property(
        fc.constantFrom('reduce_sum', 'reduce_max', 'reduce_min', 'reduce_prod' as const),
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

  it('any/all on every dtype, max/min on bool: bool results, exact (NaN is true)', () => {
    const cases = fc
      .tuple(fc.constantFrom('reduce_any', 'reduce_all', 'reduce_max', 'reduce_min' as const), fc.constantFrom('f32', 'i32', 'bool' as const), shapeAndAxes)
      .chain(([op, dtype, { shape, axes }]) => {
        const d = op === 'reduce_any' || op === 'reduce_all' ? dtype : 'bool';
        // Zeros often, so that any and all go either way.
        const values = fc.oneof(fc.constant(0), d === 'f32' ? f32SpecialArb : d === 'i32' ? fc.integer({ min: -3, max: 3 }) : fc.constant(1));
        return fc.tuple(fc.constant(op), fc.constant(axes), argArb(d, shape, values));
      });
    fc.assert(
      fc.property(cases, fc.boolean(), ([op, axes, x], keepdims) => {
        const y = runOp(op, [x], { axes, keepdims });
        const want = naiveReduce(x, axes, keepdims, KIND[op]);
        expect(y.dtype).toBe('bool');
        expect(y.shape).toEqual(want.shape);
        expectExact(y.data, want.data, op);
      }),
      { numRuns: RUNS.cheap },
    );
  });

  it('hand-computed: min, prod (i32 wraps), any, all, max/min on bool', () => {
    const x = arg('f32', [2, 3], [1, -2, 3, 4, 0.5, -6]);
    expectExact(runOp('reduce_min', [x], { axes: [1] }).data, [-2, -6]);
    expectExact(runOp('reduce_min', [x], { axes: [0] }).data, [1, -2, -6]);
    expectExact(runOp('reduce_prod', [x], { axes: [1] }).data, [-6, -12]);
    expectExact(runOp('reduce_prod', [x], { axes: [0, 1] }).data, [72]);
    expectExact(runOp('reduce_min', [arg('f32', [3], [1, NaN, -Infinity])], { axes: [0] }).data, [NaN]);
    expectExact(runOp('reduce_min', [arg('i32', [3], [-2147483648, 5, 2147483647])], { axes: [0] }).data, [-2147483648]);
    // 65536 * 65536 = 2^32 wraps to 0; 46341^2 = 2147488281 wraps to -2147479015.
    expectExact(runOp('reduce_prod', [arg('i32', [2, 2], [65536, 65536, 46341, 46341])], { axes: [1] }).data, [0, -2147479015]);
    const f = arg('f32', [2, 3], [0, 0, NaN, 0, -0, 0]);
    expectExact(runOp('reduce_any', [f], { axes: [1] }).data, [1, 0]);
    expectExact(runOp('reduce_all', [arg('f32', [2, 2], [NaN, -1, 2, 0])], { axes: [1] }).data, [1, 0]);
    expectExact(runOp('reduce_any', [arg('i32', [2, 2], [0, 0, 0, -7])], { axes: [0], keepdims: true }).data, [0, 1]);
    const c = arg('bool', [2, 3], [1, 0, 1, 1, 1, 1]);
    expectExact(runOp('reduce_all', [c], { axes: [1] }).data, [0, 1]);
    expectExact(runOp('reduce_any', [c], { axes: [0] }).data, [1, 1, 1]);
    expectExact(runOp('reduce_max', [c], { axes: [1] }).data, [1, 1]);
    expectExact(runOp('reduce_min', [c], { axes: [1] }).data, [0, 1]);
    expectExact(runOp('reduce_min', [c], { axes: [0, 1] }).data, [0]);
    const y = runOp('reduce_any', [arg('f32', [2, 2], [0, 1, 0, 0])], { axes: [-1] });
    expect(y.dtype).toBe('bool');
  });

  it('rejects empty, duplicate and out-of-range axes at build time', () => {
    const b = new ProgramBuilder();
    const x = b.input('x', tensorType('f32', [2, 3]));
    for (const op of ['reduce_sum', 'reduce_max', 'reduce_mean', 'reduce_min', 'reduce_prod', 'reduce_any', 'reduce_all'] as const) {
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
    expect(() => b.emit('reduce_prod', [c], { axes: [0] })).toThrow(/reduce_prod\(bool\[2\]\): operand x has dtype bool, expected f32 or i32/);
    expect(() => b.emit('reduce_mean', [c], { axes: [0] })).toThrow(/expected f32/);
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
