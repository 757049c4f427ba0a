import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { OpTypeError, decomposeProgram, verify } from '../../src/index.ts';
import { RUNS, arg, argArb, expectExact, inputsOf, runOp, runProgram, shapeArb, singleOpProgram } from './harness.ts';
import { nest, tabulate, flatten, at } from './naive.ts';

/** tril / triu on nested arrays: an element of matrix row r, column c is kept when c - r <= d (tril) or >= d (triu). */
function naiveTriangle(x: { shape: readonly number[]; data: readonly number[] }, lower: boolean, d: number): number[] {
  const nx = nest(x.shape, x.data);
  return flatten(
    tabulate(x.shape, (idx) => {
      const [r, c] = idx.slice(-2) as [number, number];
      return (lower ? c - r <= d : c - r >= d) ? at(nx, idx) : 0;
    }),
  );
}

const triangleCase = fc
  .tuple(shapeArb(2, 4), fc.constantFrom('f32', 'i32', 'bool') as fc.Arbitrary<'f32' | 'i32' | 'bool'>, fc.integer({ min: -5, max: 5 }), fc.constantFrom('tril', 'triu'))
  .chain(([shape, dtype, d, op]) => fc.tuple(argArb(dtype, shape), fc.constant(d), fc.constant(op)));

describe('tril and triu', () => {
  it('against the definition on nested arrays: every dtype, diagonals below, on and above', () => {
    fc.assert(
      fc.property(triangleCase, ([x, d, op]) => {
        const y = runOp(op, [x], { diagonal: d });
        expect(y.dtype).toBe(x.dtype);
        expectExact(y.data, naiveTriangle(x, op === 'tril', d), op);
      }),
      { numRuns: RUNS.cheap },
    );
  });

  it('composite == decomposition (iotas, a comparison, a select)', () => {
    fc.assert(
      fc.property(triangleCase, ([x, d, op]) => {
        const p = singleOpProgram(op, [x], { diagonal: d });
        const dp = decomposeProgram(p);
        expect(verify(dp)).toEqual([]);
        expect(dp.nodes.map((n) => n.op)).not.toContain(op);
        expectExact(runProgram(dp, inputsOf([x])).data, runProgram(p, inputsOf([x])).data);
      }),
      { numRuns: RUNS.medium },
    );
  });

  it('hand-computed 3x3, and the default diagonal 0', () => {
    const x = arg('f32', [3, 3], [1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expectExact(runOp('tril', [x]).data, [1, 0, 0, 4, 5, 0, 7, 8, 9]);
    expectExact(runOp('triu', [x]).data, [1, 2, 3, 0, 5, 6, 0, 0, 9]);
    expectExact(runOp('tril', [x], { diagonal: -1 }).data, [0, 0, 0, 4, 0, 0, 7, 8, 0]);
    expectExact(runOp('triu', [x], { diagonal: 1 }).data, [0, 2, 3, 0, 0, 6, 0, 0, 0]);
    expect(() => runOp('tril', [arg('f32', [3], [1, 2, 3])])).toThrow(OpTypeError);
    expect(() => runOp('triu', [arg('f32', [3], [1, 2, 3])])).toThrow(/rank 1, expected rank >= 2/);
  });
});

describe('broadcast_to with -1 (torch expand)', () => {
  it('-1 keeps the operand extent on that axis; the attribute is stored resolved', () => {
    const x = arg('f32', [3, 1], [1, 2, 3]);
    const p = singleOpProgram('broadcast_to', [x], { shape: [2, -1, 4] });
    expect(p.nodes[0]!.attrs.shape).toEqual([2, 3, 4]);
    const y = runOp('broadcast_to', [x], { shape: [2, -1, 4] });
    expect(y.shape).toEqual([2, 3, 4]);
    expectExact(y.data, [...[1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3], ...[1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3]]);
    // -1 on a 1-sized axis keeps 1.
    expect(runOp('broadcast_to', [x], { shape: [-1, -1] }).shape).toEqual([3, 1]);
  });

  it('a -1 on a new leading axis, or another negative extent, is an error', () => {
    const x = arg('f32', [3], [1, 2, 3]);
    expect(() => runOp('broadcast_to', [x], { shape: [-1, 3] })).toThrow(/-1 at axis 0 of \[-1,3\] is a new leading axis/);
    expect(() => runOp('broadcast_to', [x], { shape: [2, -2] })).toThrow(OpTypeError);
  });
});
