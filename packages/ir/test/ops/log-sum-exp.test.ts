import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ProgramBuilder, tensorType } from '../../src/index.ts';
import { RUNS, arg, argArb, expectClose, expectExact, f32SpecialArb, runOp, shapeArb, uniformArb } from './harness.ts';
import { alongAxis, logAddExp, naiveTranspose, softmaxRow } from './naive.ts';

/** logsumexp over `axes` by a pairwise log-add-exp fold, reduced axes moved last. */
function naiveLogsumexp(x: { shape: readonly number[]; data: readonly number[] }, axes: readonly number[], keepdims: boolean) {
  const rank = x.shape.length;
  const red = axes.map((a) => (a < 0 ? a + rank : a));
  const kept = [...x.shape.keys()].filter((a) => !red.includes(a));
  const t = naiveTranspose(x, [...kept, ...red]);
  const n = red.reduce((p, a) => p * x.shape[a]!, 1);
  const data: number[] = [];
  for (let r = 0; r < t.data.length; r += n) data.push(t.data.slice(r, r + n).reduce(logAddExp, -Infinity));
  return { shape: keepdims ? x.shape.map((d, a) => (red.includes(a) ? 1 : d)) : kept.map((a) => x.shape[a]!), data };
}

/** Logits of moderate size, -inf now and then (masked positions). */
const logitArb = fc.oneof({ arbitrary: uniformArb(-8, 8).map(Math.fround), weight: 6 }, { arbitrary: fc.constant(-Infinity), weight: 1 });

describe('logsumexp against a pairwise log-add-exp', () => {
  it('random shapes, axis lists and keepdims; NaN, infinities and -3e30', () => {
    const cases = shapeArb(1, 4).chain((shape) =>
      fc.tuple(fc.shuffledSubarray([...shape.keys()], { minLength: 1 }), fc.boolean(), argArb('f32', shape, fc.oneof(f32SpecialArb, logitArb))),
    );
    fc.assert(
      fc.property(cases, ([axes, keepdims, x]) => {
        const y = runOp('logsumexp', [x], { axes, keepdims });
        const want = naiveLogsumexp(x, axes, keepdims);
        expect(y.shape).toEqual(want.shape);
        expectClose(y.data, want.data, 'logsumexp', 1e-12, 8);
      }),
      { numRuns: RUNS.cheap },
    );
  });

  it('hand-computed: log 2 + 1, infinite maxima (PyTorch shifts by 0 there), NaN', () => {
    expectClose(runOp('logsumexp', [arg('f32', [2, 2], [1, 1, 0, 0])], { axes: [1] }).data, [1 + Math.LN2, Math.LN2], 'lse', 1e-15);
    expectClose(runOp('logsumexp', [arg('f32', [2, 2], [1, 1, 0, 0])], { axes: [0, 1] }).data, [Math.log(2 * Math.E + 2)], 'lse', 1e-15);
    // Large values do not overflow: 1000 + log 2.
    expectClose(runOp('logsumexp', [arg('f32', [2], [1000, 1000])], { axes: [0] }).data, [1000 + Math.LN2], 'lse', 1e-15);
    expectExact(runOp('logsumexp', [arg('f32', [2, 2], [-Infinity, -Infinity, Infinity, 3])], { axes: [1] }).data, [-Infinity, Infinity]);
    expectExact(runOp('logsumexp', [arg('f32', [2, 2], [Infinity, Infinity, NaN, -Infinity])], { axes: [1] }).data, [Infinity, NaN]);
    const k = runOp('logsumexp', [arg('f32', [2, 3], [0, 0, 0, 0, 0, 0])], { axes: [-1], keepdims: true });
    expect(k.shape).toEqual([2, 1]);
    expectClose(k.data, [Math.log(3), Math.log(3)], 'lse', 1e-15);
  });
});

describe('log_softmax against log(softmax)', () => {
  it('random shapes and axes, -inf entries', () => {
    const cases = shapeArb(1, 4).chain((shape) => fc.tuple(fc.integer({ min: -shape.length, max: shape.length - 1 }), argArb('f32', shape, logitArb)));
    fc.assert(
      fc.property(cases, ([axis, x]) => {
        const y = runOp('log_softmax', [x], { axis });
        const want = alongAxis(x, axis < 0 ? axis + x.shape.length : axis, (row) => softmaxRow(row).map(Math.log));
        expect(y.shape).toEqual(x.shape);
        expectClose(y.data, want.data, 'log_softmax', 1e-12, 16);
      }),
      { numRuns: RUNS.cheap },
    );
  });

  it('hand-computed: [0, ln 2] gives [-ln 3, ln 2 - ln 3]; large logits stay finite; rows of -inf or with +inf are NaN (as PyTorch)', () => {
    const b = new ProgramBuilder();
    const x = b.input('x', tensorType('f32', [2]));
    b.output('y', b.emit('log_softmax', [b.emit('log', [x])]));
    expectClose(runOp('log_softmax', [arg('f32', [2], [0, 0])]).data, [-Math.LN2, -Math.LN2], 'ls', 1e-15);
    expectClose(runOp('log_softmax', [arg('f32', [2], [1000, 0])]).data, [0, -1000], 'ls', 1e-15);
    expectExact(runOp('log_softmax', [arg('f32', [2, 2], [-Infinity, -Infinity, -Infinity, 5])]).data, [NaN, NaN, -Infinity, 0]);
    expectExact(runOp('log_softmax', [arg('f32', [2], [Infinity, 1])]).data, [NaN, NaN]);
    expectExact(runOp('log_softmax', [arg('f32', [2, 2], [1, 2, 3, 4])], { axis: 0 }).data.map((v) => Math.round(v * 1e6) / 1e6), [-2.126928, -2.126928, -0.126928, -0.126928]);
  });

  it('rejects i32 operands for both', () => {
    const b = new ProgramBuilder();
    const i = b.input('i', tensorType('i32', [3]));
    expect(() => b.emit('log_softmax', [i])).toThrow(/log_softmax\(i32\[3\]\): operand x has dtype i32, expected f32/);
    expect(() => b.emit('logsumexp', [i], { axes: [0] })).toThrow(/operand x has dtype i32, expected f32/);
  });
});
