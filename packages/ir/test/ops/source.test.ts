import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type Attrs, type OpName, OpTypeError, ProgramBuilder, interpret } from '../../src/index.ts';
import { RUNS, expectExact, f32Arb, i32Arb, shapeArb } from './harness.ts';
import { flatten, tabulate } from './naive.ts';

/** Runs a program whose single node is a source op. */
function runSource(op: OpName, attrs: Attrs) {
  const b = new ProgramBuilder();
  b.output('y', b.emit(op, [], attrs));
  const y = interpret(b.build(), {}).y!;
  return { dtype: y.type.dtype, shape: [...y.type.shape], data: [...y.data] };
}

describe('iota', () => {
  it('each element is its index along axis, for random shapes, axes and dtypes', () => {
    const cases = shapeArb(1, 4).chain((shape) => fc.tuple(fc.constant(shape), fc.integer({ min: -shape.length, max: shape.length - 1 }), fc.constantFrom('i32', 'f32')));
    fc.assert(
      fc.property(cases, ([shape, axis, dtype]) => {
        const y = runSource('iota', { shape, axis, dtype });
        const a = axis < 0 ? axis + shape.length : axis;
        expect(y.shape).toEqual(shape);
        expect(y.dtype).toBe(dtype);
        expectExact(y.data, flatten(tabulate(shape, (idx) => idx[a]!)), 'iota');
      }),
      { numRuns: RUNS.cheap },
    );
  });

  it('hand-computed and errors', () => {
    expectExact(runSource('iota', { shape: [2, 3], axis: 1 }).data, [0, 1, 2, 0, 1, 2]);
    expectExact(runSource('iota', { shape: [2, 3], axis: 0 }).data, [0, 0, 0, 1, 1, 1]);
    expectExact(runSource('iota', { shape: [4], axis: -1, dtype: 'f32' }).data, [0, 1, 2, 3]);
    expect(runSource('iota', { shape: [2], axis: 0 }).dtype).toBe('i32');
    expect(() => runSource('iota', { shape: [2], axis: 1 })).toThrow(/out of range/);
    expect(() => runSource('iota', { shape: [], axis: 0 })).toThrow(OpTypeError);
    expect(() => runSource('iota', { shape: [2], axis: 0, dtype: 'bool' })).toThrow(/bool is not allowed/);
  });
});

describe('constant', () => {
  it('holds its values in row-major order, or one value repeated', () => {
    const cases = fc.tuple(shapeArb(0, 4), fc.constantFrom('f32', 'i32', 'bool'), fc.boolean()).chain(([shape, dtype, splat]) => {
      const n = shape.reduce((p, d) => p * d, 1);
      const v = dtype === 'f32' ? fc.oneof(f32Arb, fc.constantFrom(NaN, Infinity, -Infinity)) : dtype === 'i32' ? i32Arb : fc.constantFrom(0, 1);
      return fc.tuple(fc.constant(shape), fc.constant(dtype), fc.array(v, { minLength: splat ? 1 : n, maxLength: splat ? 1 : n }));
    });
    fc.assert(
      fc.property(cases, ([shape, dtype, value]) => {
        const y = runSource('constant', { shape, dtype, value });
        const n = shape.reduce((p, d) => p * d, 1);
        expect(y.shape).toEqual(shape);
        expect(y.dtype).toBe(dtype);
        expectExact(y.data, Array.from({ length: n }, (_, i) => (value.length === 1 ? value[0]! : value[i]!)), 'constant');
      }),
      { numRuns: RUNS.cheap },
    );
  });

  it('hand-computed: f32 values are rounded to f32, the default dtype is f32', () => {
    const y = runSource('constant', { shape: [2, 2], value: [1, -2.5, 0.1, 3] });
    expect(y.dtype).toBe('f32');
    expectExact(y.data, [1, -2.5, Math.fround(0.1), 3]);
    expectExact(runSource('constant', { shape: [3], dtype: 'i32', value: [-7] }).data, [-7, -7, -7]);
    expectExact(runSource('constant', { shape: [], dtype: 'bool', value: [1] }).data, [1]);
  });

  it('errors: wrong element count', () => {
    expect(() => runSource('constant', { shape: [2, 2], value: [1, 2, 3] })).toThrow(/value has 3 elements, expected 4/);
  });

  // Only f32 values are rounded (for convenience); an inexact i32 or bool value is an error, not truncated.
  it('rejects i32 and bool values the dtype cannot hold exactly', () => {
    expect(() => runSource('constant', { shape: [], dtype: 'i32', value: [2.5] })).toThrow(/cannot hold exactly/);
    expect(() => runSource('constant', { shape: [], dtype: 'i32', value: [3e9] })).toThrow(/cannot hold exactly/);
    expect(() => runSource('constant', { shape: [], dtype: 'bool', value: [5] })).toThrow(/cannot hold exactly/);
  });
});
