import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ProgramBuilder, tensorType } from '../../src/index.ts';
import { RUNS, arg, argArb, expectExact, f32SpecialArb, runOp, shapeArb } from './harness.ts';
import { alongAxis, argExtremeRow, naiveSlice } from './naive.ts';

/** argmax/argmin by the naive row rule: the picked index spread along the row, then the first element of each row kept. */
function naiveArg(x: { shape: readonly number[]; data: readonly number[] }, axis: number, keepdims: boolean, kind: 'max' | 'min') {
  const a = axis < 0 ? axis + x.shape.length : axis;
  const spread = alongAxis(x, a, (row) => row.map(() => argExtremeRow(row, kind)));
  const first = naiveSlice(spread, x.shape.map(() => 0), x.shape.map((d, i) => (i === a ? 1 : d)), x.shape.map(() => 1));
  return { shape: keepdims ? first.shape : first.shape.filter((_, i) => i !== a), data: first.data };
}

/** Values with many ties (small integers) and NaN/inf now and then. */
const tiedArb = fc.oneof({ arbitrary: fc.integer({ min: -2, max: 2 }), weight: 4 }, { arbitrary: f32SpecialArb, weight: 2 });

describe('argmax / argmin against a naive sort', () => {
  for (const op of ['argmax', 'argmin'] as const) {
    it(`${op}: random shapes and axes, ties, NaN and infinities (f32), i32 extremes`, () => {
      const cases = fc
        .tuple(shapeArb(1, 4), fc.constantFrom('f32', 'i32' as const), fc.boolean())
        .chain(([shape, dtype, keepdims]) =>
          fc.tuple(
            fc.integer({ min: -shape.length, max: shape.length - 1 }),
            fc.constant(keepdims),
            argArb(dtype, shape, dtype === 'f32' ? tiedArb : fc.oneof(fc.integer({ min: -2, max: 2 }), fc.constantFrom(-2147483648, 2147483647))),
          ),
        );
      fc.assert(
        fc.property(cases, ([axis, keepdims, x]) => {
          const y = runOp(op, [x], { axis, keepdims });
          const want = naiveArg(x, axis, keepdims, op === 'argmax' ? 'max' : 'min');
          expect(y.dtype).toBe('i32');
          expect(y.shape).toEqual(want.shape);
          expectExact(y.data, want.data, op);
        }),
        { numRuns: RUNS.cheap },
      );
    });
  }

  it('hand-computed: first index on ties, NaN wins (its first occurrence), infinities, axis 0, keepdims', () => {
    const x = arg('f32', [2, 4], [1, 3, 3, -1, -5, -5, 2, 2]);
    expectExact(runOp('argmax', [x], { axis: 1 }).data, [1, 2]);
    expectExact(runOp('argmin', [x], { axis: -1 }).data, [3, 0]);
    expectExact(runOp('argmax', [x], { axis: 0 }).data, [0, 0, 0, 1]);
    const k = runOp('argmin', [x], { axis: 0, keepdims: true });
    expect(k.shape).toEqual([1, 4]);
    expectExact(k.data, [1, 1, 1, 0]);
    expectExact(runOp('argmax', [arg('f32', [5], [1, NaN, Infinity, NaN, 7])], { axis: 0 }).data, [1]);
    expectExact(runOp('argmin', [arg('f32', [4], [-Infinity, 2, NaN, -Infinity])], { axis: 0 }).data, [2]);
    expectExact(runOp('argmax', [arg('f32', [3], [-Infinity, -Infinity, -Infinity])], { axis: 0 }).data, [0]);
    expectExact(runOp('argmin', [arg('f32', [3], [0, -0, -1e-30])], { axis: 0 }).data, [2]);
    expectExact(runOp('argmax', [arg('f32', [2], [-0, 0])], { axis: 0 }).data, [0]);
    expectExact(runOp('argmax', [arg('i32', [3], [-2147483648, 2147483647, 2147483647])], { axis: 0 }).data, [1]);
    expectExact(runOp('argmin', [arg('i32', [3], [5, -2147483648, -2147483648])], { axis: 0 }).data, [1]);
  });

  it('rejects bool and scalar operands and a bad axis, naming them', () => {
    const b = new ProgramBuilder();
    const c = b.input('c', tensorType('bool', [3]));
    const s = b.input('s', tensorType('f32', []));
    const x = b.input('x', tensorType('f32', [2, 3]));
    expect(() => b.emit('argmax', [c], { axis: 0 })).toThrow(/argmax\(bool\[3\]\): operand x has dtype bool, expected f32 or i32/);
    expect(() => b.emit('argmin', [s], { axis: 0 })).toThrow(/operand x is a scalar, expected rank >= 1/);
    expect(() => b.emit('argmax', [x], { axis: 2 })).toThrow(/axis 2 is out of range for rank 2/);
    expect(() => b.emit('argmax', [x], {})).toThrow(/missing attribute 'axis'/);
    const y = b.emit('argmax', [x], { axis: -1 });
    b.output('y', y);
    expect(b.build().nodes[0]!.attrs).toEqual({ axis: 1, keepdims: false });
  });
});
