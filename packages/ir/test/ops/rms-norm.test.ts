import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { OpTypeError, decomposeProgram, getOp, verify } from '../../src/index.ts';
import { RUNS, arg, argArb, expectClose, extentArb, inputsOf, runOp, runProgram, shapeArb, singleOpProgram } from './harness.ts';
import { alongAxis } from './naive.ts';

/** rms_norm of one row by its definition, with the weight (all ones without one). */
const rmsRow = (row: readonly number[], w: readonly number[] | undefined, eps: number): number[] => {
  const ms = row.reduce((s, v) => s + v * v, 0) / row.length;
  return row.map((v, j) => (v / Math.sqrt(ms + eps)) * (w ? w[j]! : 1));
};

const cases = fc
  .tuple(shapeArb(0, 2), extentArb(6), fc.boolean(), fc.constantFrom(undefined, 1e-5, 0.1, 0))
  .chain(([lead, d, weighted, eps]) => fc.tuple(argArb('f32', [...lead, d]), weighted ? argArb('f32', [d]) : fc.constant(undefined), fc.constant(eps)));

describe('rms_norm', () => {
  it('against its definition row by row: random shapes, with and without a weight, default and given eps', () => {
    fc.assert(
      fc.property(cases, ([x, w, eps]) => {
        const y = runOp('rms_norm', w ? [x, w] : [x], eps === undefined ? {} : { eps });
        const want = alongAxis(x, x.shape.length - 1, (row) => rmsRow(row, w?.data, Math.fround(eps ?? 2 ** -23)));
        expect(y.shape).toEqual([...x.shape]);
        expectClose(y.data, want.data, 'rms_norm', 1e-12, 8);
      }),
      { numRuns: RUNS.medium },
    );
  });

  it('composite == decomposition', () => {
    fc.assert(
      fc.property(cases, ([x, w, eps]) => {
        const args = w ? [x, w] : [x];
        const p = singleOpProgram('rms_norm', args, eps === undefined ? {} : { eps });
        const d = decomposeProgram(p);
        expect(verify(d)).toEqual([]);
        expect(d.nodes.map((n) => n.op)).not.toContain('rms_norm');
        expectClose(runProgram(d, inputsOf(args)).data, runProgram(p, inputsOf(args)).data, 'decomposition', 1e-12, 8);
      }),
      { numRuns: RUNS.medium },
    );
  });

  it("hand-computed; eps defaults to float32's epsilon, as PyTorch's eps=None", () => {
    // Row [3, 4]: mean square 12.5.
    const y = runOp('rms_norm', [arg('f32', [2], [3, 4]), arg('f32', [2], [1, 2])], { eps: 0 });
    expectClose(y.data, [3 / Math.sqrt(12.5), 8 / Math.sqrt(12.5)]);
    expect(getOp('rms_norm').attrs.eps!.default).toBe(2 ** -23);
    // A zero row stays zero; a row whose mean square is eps is divided by sqrt(2 eps).
    expectClose(runOp('rms_norm', [arg('f32', [1, 3], [0, 0, 0])]).data, [0, 0, 0]);
    const e = 2 ** -23;
    expectClose(runOp('rms_norm', [arg('f32', [1], [Math.sqrt(e)])]).data, [Math.sqrt(e) / Math.sqrt(2 * e)], '', 1e-6);
  });

  it('errors: weight not of the last extent, a scalar, an i32 input, a negative eps', () => {
    expect(() => runOp('rms_norm', [arg('f32', [2, 3], [1, 2, 3, 4, 5, 6]), arg('f32', [2], [1, 1])])).toThrow(OpTypeError);
    expect(() => runOp('rms_norm', [arg('f32', [2, 3], [1, 2, 3, 4, 5, 6]), arg('f32', [2], [1, 1])])).toThrow(/weight has shape \[2\], expected \[3\]/);
    expect(() => runOp('rms_norm', [arg('f32', [], [1])])).toThrow(/scalar, expected rank >= 1/);
    expect(() => runOp('rms_norm', [arg('i32', [2], [1, 2])])).toThrow(/dtype i32, expected f32/);
    expect(() => runOp('rms_norm', [arg('f32', [2], [1, 2])], { eps: -1 })).toThrow(/eps -1 must be >= 0/);
  });
});
