import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type DType, OpTypeError, ProgramBuilder, TesseraError, getOp, tensorType } from '../../src/index.ts';
import { RUNS, arg, argArb, expectExact, extentArb, f32SpecialArb, i32Arb, runOp, shapeArb, valueArb } from './harness.ts';
import { broadcastShape, naiveConcat, naiveGather, naivePad, naiveSlice, naiveTranspose } from './naive.ts';

const dtypeArb = fc.constantFrom<DType>('f32', 'i32', 'bool');
/** An operand of any dtype and the given shape (f32 with NaN and infinities). */
const anyArg = (shape: readonly number[]) => dtypeArb.chain((dt) => argArb(dt, shape, dt === 'f32' ? f32SpecialArb : valueArb(dt)));
const iota = (n: number) => Array.from({ length: n }, (_, i) => i);

describe('reshape', () => {
  /** A target shape for the same element count: extents shuffled, some merged, 1s inserted, maybe one -1. */
  const reshapeCase = shapeArb(0, 4).chain((shape) =>
    fc
      .tuple(
        fc.shuffledSubarray(shape, { minLength: shape.length, maxLength: shape.length }),
        fc.array(fc.boolean(), { minLength: shape.length, maxLength: shape.length }),
        fc.array(fc.nat(4), { maxLength: 2 }),
        fc.option(fc.nat(8)),
        anyArg(shape),
      )
      .map(([shuffled, merge, ones, hole, x]) => {
        const target: number[] = [];
        shuffled.forEach((d, i) => (merge[i] && target.length ? (target[target.length - 1]! *= d) : target.push(d)));
        for (const at of ones) target.splice(Math.min(at, target.length), 0, 1);
        const written = hole !== null && target.length ? target.map((d, i) => (i === hole % target.length ? -1 : d)) : target;
        return { x, target, written };
      }),
  );

  it('keeps the row-major elements and takes the target shape (one -1 inferred)', () => {
    fc.assert(
      fc.property(reshapeCase, ({ x, target, written }) => {
        const y = runOp('reshape', [x], { shape: written });
        expect(y.shape).toEqual(target);
        expect(y.dtype).toBe(x.dtype);
        expectExact(y.data, x.data, 'reshape');
      }),
      { numRuns: RUNS.cheap },
    );
  });

  it('hand-computed and errors', () => {
    const x = arg('f32', [2, 3], [1, 2, 3, 4, 5, 6]);
    const y = runOp('reshape', [x], { shape: [3, -1] });
    expect(y.shape).toEqual([3, 2]);
    expectExact(y.data, [1, 2, 3, 4, 5, 6]);
    expect(runOp('reshape', [x], { shape: [1, 6, 1] }).shape).toEqual([1, 6, 1]);
    expect(runOp('reshape', [arg('i32', [1, 1], [7])], { shape: [] }).shape).toEqual([]);
    expect(() => runOp('reshape', [x], { shape: [-1, -1] })).toThrow(/more than one -1/);
    expect(() => runOp('reshape', [x], { shape: [4, 2] })).toThrow(/cannot reshape 6 elements to \[4,2\]/);
    expect(() => runOp('reshape', [x], { shape: [4, -1] })).toThrow(/cannot infer/);
  });
});

describe('transpose', () => {
  it('matches a naive transpose for random permutations', () => {
    const cases = shapeArb(0, 4).chain((shape) =>
      fc.tuple(anyArg(shape), fc.shuffledSubarray(iota(shape.length), { minLength: shape.length, maxLength: shape.length })),
    );
    fc.assert(
      fc.property(cases, ([x, perm]) => {
        const y = runOp('transpose', [x], { perm });
        const want = naiveTranspose(x, perm);
        expect(y.shape).toEqual(want.shape);
        expectExact(y.data, want.data, `transpose [${perm}]`);
      }),
      { numRuns: RUNS.cheap },
    );
  });

  it('hand-computed and errors', () => {
    const y = runOp('transpose', [arg('f32', [2, 3], [1, 2, 3, 4, 5, 6])], { perm: [1, 0] });
    expect(y.shape).toEqual([3, 2]);
    expectExact(y.data, [1, 4, 2, 5, 3, 6]);
    // x[0][i][j] = 3i + j; out[j][0][i] = x[0][i][j].
    const z = runOp('transpose', [arg('i32', [1, 2, 3], [0, 1, 2, 3, 4, 5])], { perm: [2, 0, 1] });
    expect(z.shape).toEqual([3, 1, 2]);
    expectExact(z.data, [0, 3, 1, 4, 2, 5]);
    expect(() => runOp('transpose', [arg('f32', [2, 2], [1, 2, 3, 4])], { perm: [0, 0] })).toThrow(/not a permutation/);
    expect(() => runOp('transpose', [arg('f32', [2, 2], [1, 2, 3, 4])], { perm: [0] })).toThrow(/not a permutation/);
  });
});

describe('broadcast_to', () => {
  it('matches naive broadcasting of a random suffix-with-ones shape', () => {
    const cases = shapeArb(0, 4).chain((out) =>
      fc
        .tuple(fc.integer({ min: 0, max: out.length }), fc.array(fc.boolean(), { minLength: out.length, maxLength: out.length }))
        .chain(([drop, ones]) => fc.tuple(fc.constant(out), anyArg(out.map((d, a) => (ones[a] ? 1 : d)).slice(drop)))),
    );
    fc.assert(
      fc.property(cases, ([out, x]) => {
        const y = runOp('broadcast_to', [x], { shape: out });
        expect(y.shape).toEqual(out);
        expect(broadcastShape(x.shape, out)).toEqual(out);
        const lead = out.length - x.shape.length;
        // Element at out index i reads x at (i without leading axes, 1-sized axes at 0), via strides of x.
        const strides = x.shape.map((_, a) => x.shape.slice(a + 1).reduce((p, d) => p * d, 1));
        const want: number[] = [];
        const walk = (prefix: number[]) => {
          if (prefix.length === out.length) {
            let off = 0;
            for (let a = 0; a < x.shape.length; a++) off += (x.shape[a] === 1 ? 0 : prefix[lead + a]!) * strides[a]!;
            want.push(x.data[off]!);
            return;
          }
          for (let i = 0; i < out[prefix.length]!; i++) walk([...prefix, i]);
        };
        walk([]);
        expectExact(y.data, want, 'broadcast_to');
      }),
      { numRuns: RUNS.cheap },
    );
  });

  it('hand-computed and errors', () => {
    expectExact(runOp('broadcast_to', [arg('f32', [3], [1, 2, 3])], { shape: [2, 3] }).data, [1, 2, 3, 1, 2, 3]);
    expectExact(runOp('broadcast_to', [arg('f32', [2, 1], [1, 2])], { shape: [2, 3] }).data, [1, 1, 1, 2, 2, 2]);
    expectExact(runOp('broadcast_to', [arg('bool', [], [1])], { shape: [2] }).data, [1, 1]);
    expect(() => runOp('broadcast_to', [arg('f32', [3], [1, 2, 3])], { shape: [4] })).toThrow(/broadcast_to\(f32\[3\]\): shapes \[3\] and \[4\] do not broadcast/);
    expect(() => runOp('broadcast_to', [arg('f32', [1, 3], [1, 2, 3])], { shape: [3] })).toThrow(/cannot broadcast/);
  });
});

describe('slice', () => {
  /** Per axis: a non-empty range with a step, written with negative or clamped bounds at times. */
  const axisSlice = (d: number) =>
    fc
      .tuple(fc.integer({ min: 0, max: d - 1 }), fc.integer({ min: 1, max: 3 }), fc.nat(), fc.boolean(), fc.boolean(), fc.nat(3))
      .map(([s, step, stopPick, negStart, negStop, extra]) => {
        const e = s + 1 + (stopPick % (d - s));
        return {
          start: s,
          stop: e,
          step,
          startW: negStart && s > 0 ? s - d : s,
          stopW: e === d ? d + extra : negStop ? e - d : e,
        };
      });
  const cases = shapeArb(1, 4).chain((shape) => fc.tuple(anyArg(shape), fc.tuple(...shape.map(axisSlice))));

  it('matches a naive slice with explicit index lists (steps, negative and clamped bounds)', () => {
    fc.assert(
      fc.property(cases, ([x, axes]) => {
        const y = runOp('slice', [x], { start: axes.map((a) => a.startW), stop: axes.map((a) => a.stopW), step: axes.map((a) => a.step) });
        const want = naiveSlice(
          x,
          axes.map((a) => a.start),
          axes.map((a) => a.stop),
          axes.map((a) => a.step),
        );
        expect(y.shape).toEqual(want.shape);
        expectExact(y.data, want.data, 'slice');
      }),
      { numRuns: RUNS.cheap },
    );
  });

  it('hand-computed: step 2, 2-D, negative start', () => {
    const x = arg('i32', [10], iota(10));
    expectExact(runOp('slice', [x], { start: [1], stop: [8], step: [2] }).data, [1, 3, 5, 7]);
    expectExact(runOp('slice', [x], { start: [0], stop: [10], step: [3] }).data, [0, 3, 6, 9]);
    expectExact(runOp('slice', [x], { start: [-3], stop: [100], step: [1] }).data, [7, 8, 9]);
    expectExact(runOp('slice', [x], { start: [2], stop: [-5], step: [2] }).data, [2, 4]);
    const m = arg('f32', [3, 4], iota(12));
    const y = runOp('slice', [m], { start: [0, 1], stop: [3, 4], step: [2, 2] });
    expect(y.shape).toEqual([2, 2]);
    expectExact(y.data, [1, 3, 9, 11]);
  });

  it('errors: empty slice, step < 1, wrong list length', () => {
    const x = arg('f32', [4], [1, 2, 3, 4]);
    expect(() => runOp('slice', [x], { start: [2], stop: [2], step: [1] })).toThrow(/is empty/);
    expect(() => runOp('slice', [x], { start: [3], stop: [1], step: [1] })).toThrow(/is empty/);
    expect(() => runOp('slice', [x], { start: [5], stop: [9], step: [1] })).toThrow(OpTypeError);
    expect(() => runOp('slice', [x], { start: [0], stop: [4], step: [0] })).toThrow(/step 0 on axis 0 must be >= 1/);
    expect(() => runOp('slice', [x], { start: [0, 0], stop: [4, 4], step: [1, 1] })).toThrow(/one per axis/);
    // The message names the op, the operand type, the range and the axis (moved here from the CPU backend's edge cases).
    const b = new ProgramBuilder();
    const m = b.input('m', tensorType('f32', [4, 5]));
    expect(() => b.emit('slice', [m], { start: [0, 3], stop: [4, 3], step: [1, 1] })).toThrow(/slice\(f32\[4,5\]\): slice 3:3:1 on axis 1 \(extent 5\) is empty/);
  });
});

describe('concat', () => {
  const cases = fc
    .tuple(shapeArb(1, 4), fc.nat(3), fc.array(extentArb(3), { minLength: 1, maxLength: 4 }), dtypeArb, fc.boolean())
    .chain(([base, axisPick, extents, dt, negative]) => {
      const axis = axisPick % base.length;
      const shapes = extents.map((e) => base.map((d, a) => (a === axis ? e : d)));
      return fc.tuple(fc.constant(negative ? axis - base.length : axis), fc.constant(axis), fc.tuple(...shapes.map((s) => argArb(dt, s))));
    });

  it('matches a naive recursive concat of 1 to 4 operands on any axis', () => {
    fc.assert(
      fc.property(cases, ([written, axis, xs]) => {
        const y = runOp('concat', xs, { axis: written });
        const want = naiveConcat(xs, axis);
        expect(y.shape).toEqual(want.shape);
        expectExact(y.data, want.data, 'concat');
      }),
      { numRuns: RUNS.cheap },
    );
  });

  it('hand-computed and errors', () => {
    const a = arg('f32', [1, 2], [1, 2]);
    const b = arg('f32', [2, 2], [3, 4, 5, 6]);
    const y = runOp('concat', [a, b], { axis: 0 });
    expect(y.shape).toEqual([3, 2]);
    expectExact(y.data, [1, 2, 3, 4, 5, 6]);
    const z = runOp('concat', [arg('i32', [2, 1], [1, 2]), arg('i32', [2, 2], [3, 4, 5, 6]), arg('i32', [2, 1], [7, 8])], { axis: -1 });
    expect(z.shape).toEqual([2, 4]);
    expectExact(z.data, [1, 3, 4, 7, 2, 5, 6, 8]);
    expect(() => runOp('concat', [a, b], { axis: 1 })).toThrow(/operand 1 has shape \[2,2\], expected \[1,2\] except on axis 1/);
    expect(() => runOp('concat', [a, arg('i32', [1, 2], [1, 2])], { axis: 0 })).toThrow(/dtype i32, expected f32/);
  });

  it('costs O(elements), not O(elements x operands): 400,000 operands of 2 elements', () => {
    // Searching each element's operand afresh took about 8e10 steps here (minutes); block copies take 8e5.
    // The op's evaluate itself: a program of 400,000 inputs would spend its time elsewhere.
    const n = 400_000;
    const xs = Array.from({ length: n }, (_, i) => ({ type: tensorType('i32', [2, 1]), data: Float64Array.of(i, -i) }));
    const y = getOp('concat').evaluate(xs, { axis: 1 }, tensorType('i32', [2, n]));
    expectExact(Array.from(y.data), [...iota(n), ...iota(n).map((i) => -i)]);
  });
});

describe('pad', () => {
  const cases = shapeArb(0, 4).chain((shape) =>
    dtypeArb.chain((dt) =>
      fc.tuple(
        argArb(dt, shape, dt === 'f32' ? f32SpecialArb : valueArb(dt)),
        fc.array(fc.nat(2), { minLength: shape.length, maxLength: shape.length }),
        fc.array(fc.nat(2), { minLength: shape.length, maxLength: shape.length }),
        dt === 'f32' ? f32SpecialArb : dt === 'i32' ? i32Arb : fc.constantFrom(0, 1),
      ),
    ),
  );

  it('matches a naive recursive pad', () => {
    fc.assert(
      fc.property(cases, ([x, low, high, value]) => {
        const y = runOp('pad', [x], { low, high, value });
        const want = naivePad(x, low, high, value);
        expect(y.shape).toEqual(want.shape);
        expectExact(y.data, want.data, 'pad');
      }),
      { numRuns: RUNS.cheap },
    );
  });

  it('hand-computed and errors', () => {
    expectExact(runOp('pad', [arg('f32', [2], [1, 2])], { low: [1], high: [2], value: 9 }).data, [9, 1, 2, 9, 9]);
    expectExact(runOp('pad', [arg('f32', [2], [1, 2])], { low: [0], high: [1] }).data, [1, 2, 0]);
    const y = runOp('pad', [arg('i32', [1, 1], [1])], { low: [1, 0], high: [0, 1], value: -1 });
    expect(y.shape).toEqual([2, 2]);
    expectExact(y.data, [-1, -1, 1, -1]);
    expect(() => runOp('pad', [arg('f32', [2], [1, 2])], { low: [-1], high: [0] })).toThrow(/padding must be >= 0/);
    expect(() => runOp('pad', [arg('i32', [2], [1, 2])], { low: [1], high: [0], value: 0.5 })).toThrow(/not an integer/);
    expect(() => runOp('pad', [arg('bool', [2], [1, 0])], { low: [1], high: [0], value: 2 })).toThrow(/not 0 or 1/);
  });
});

describe('gather', () => {
  const cases = shapeArb(1, 3).chain((tShape) =>
    fc
      .tuple(fc.nat(2), shapeArb(0, 2, 3), dtypeArb, fc.boolean())
      .chain(([axisPick, iShape, dt, negative]) => {
        const axis = axisPick % tShape.length;
        const n = iShape.reduce((p, d) => p * d, 1);
        return fc.tuple(
          fc.constant(negative ? axis - tShape.length : axis),
          fc.constant(axis),
          argArb(dt, tShape),
          fc.array(fc.integer({ min: 0, max: tShape[axis]! - 1 }), { minLength: n, maxLength: n }).map((d) => arg('i32', iShape, d)),
        );
      }),
  );

  it('matches a naive gather along any axis with indices of rank 0 to 2', () => {
    fc.assert(
      fc.property(cases, ([written, axis, table, indices]) => {
        const y = runOp('gather', [table, indices], { axis: written });
        const want = naiveGather(table, indices, axis);
        expect(y.shape).toEqual(want.shape);
        expect(y.dtype).toBe(table.dtype);
        expectExact(y.data, want.data, 'gather');
      }),
      { numRuns: RUNS.cheap },
    );
  });

  it('hand-computed: rows, columns, a scalar index', () => {
    const table = arg('f32', [3, 2], [1, 2, 3, 4, 5, 6]);
    const rows = runOp('gather', [table, arg('i32', [3], [2, 0, 2])]);
    expect(rows.shape).toEqual([3, 2]);
    expectExact(rows.data, [5, 6, 1, 2, 5, 6]);
    const cols = runOp('gather', [table, arg('i32', [2, 1], [1, 0])], { axis: 1 });
    expect(cols.shape).toEqual([3, 2, 1]);
    expectExact(cols.data, [2, 1, 4, 3, 6, 5]);
    const one = runOp('gather', [table, arg('i32', [], [1])], { axis: 0 });
    expect(one.shape).toEqual([2]);
    expectExact(one.data, [3, 4]);
  });

  it('an index out of range is an error naming the index', () => {
    const table = arg('f32', [3, 2], [1, 2, 3, 4, 5, 6]);
    expect(() => runOp('gather', [table, arg('i32', [2], [0, 3])])).toThrow(TesseraError);
    expect(() => runOp('gather', [table, arg('i32', [2], [0, 3])])).toThrow(/index 3 .*out of range \[0, 3\)/);
    expect(() => runOp('gather', [table, arg('i32', [1], [-1])])).toThrow(/index -1 .*out of range/);
    expect(() => runOp('gather', [table, arg('i32', [1], [2])], { axis: 1 })).toThrow(/index 2 .*out of range \[0, 2\)/);
    expect(() => runOp('gather', [table, arg('f32', [1], [0])])).toThrow(/indices has dtype f32, expected i32/);
  });
});
