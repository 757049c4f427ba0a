import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ProgramBuilder, tensorType } from '../../src/index.ts';
import { RUNS, arg, argArb, expectClose, expectExact, f32SpecialArb, magnitude, runOp, shapeArb } from './harness.ts';
import { alongAxis, cumsumRow } from './naive.ts';

describe('cumsum against naive prefix sums', () => {
  it('f32: random shapes and axes, NaN and infinities', () => {
    const cases = shapeArb(1, 4).chain((shape) => fc.tuple(fc.integer({ min: -shape.length, max: shape.length - 1 }), argArb('f32', shape, f32SpecialArb)));
    fc.assert(
      fc.property(cases, ([axis, x]) => {
        const y = runOp('cumsum', [x], { axis });
        const want = alongAxis(x, axis < 0 ? axis + x.shape.length : axis, (row) => cumsumRow(row));
        expect(y.dtype).toBe('f32');
        expect(y.shape).toEqual(x.shape);
        expectClose(y.data, want.data, 'cumsum', 1e-12, magnitude(x.data) * 4);
      }),
      { numRuns: RUNS.cheap },
    );
  });

  it('i32: wraps like the BigInt reference', () => {
    const cases = shapeArb(1, 3).chain((shape) => fc.tuple(fc.integer({ min: 0, max: shape.length - 1 }), argArb('i32', shape)));
    fc.assert(
      fc.property(cases, ([axis, x]) => {
        const y = runOp('cumsum', [x], { axis });
        expect(y.dtype).toBe('i32');
        expectExact(y.data, alongAxis(x, axis, (row) => cumsumRow(row, true)).data, 'cumsum i32');
      }),
      { numRuns: RUNS.cheap },
    );
  });

  it('hand-computed: along the last axis and axis 0; i32 overflow wraps', () => {
    const x = arg('f32', [2, 3], [1, 2, 3, 4, 5, 6]);
    expectExact(runOp('cumsum', [x], { axis: 1 }).data, [1, 3, 6, 4, 9, 15]);
    expectExact(runOp('cumsum', [x], { axis: -2 }).data, [1, 2, 3, 5, 7, 9]);
    expectExact(runOp('cumsum', [arg('f32', [4], [1, Infinity, -Infinity, 2])], { axis: 0 }).data, [1, Infinity, NaN, NaN]);
    expectExact(runOp('cumsum', [arg('i32', [3], [2147483647, 1, 1])], { axis: 0 }).data, [2147483647, -2147483648, -2147483647]);
  });

  it('rejects bool and scalar operands', () => {
    const b = new ProgramBuilder();
    expect(() => b.emit('cumsum', [b.input('c', tensorType('bool', [3]))], { axis: 0 })).toThrow(/cumsum\(bool\[3\]\): operand x has dtype bool, expected f32 or i32/);
    expect(() => b.emit('cumsum', [b.input('s', tensorType('f32', []))], { axis: 0 })).toThrow(/scalar, expected rank >= 1/);
  });
});
