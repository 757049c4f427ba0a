import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ProgramBuilder, decomposeProgram, erf, interpret, tensorType } from '../../src/index.ts';
import { RUNS, arg, runOp, uniformArb } from './harness.ts';
import { preciseErf } from './naive.ts';

/** Published values (Abramowitz & Stegun table 7.1, extended to 16 digits), used to check preciseErf itself. */
const PUBLISHED: readonly [number, number][] = [
  [0.1, 0.1124629160182849],
  [0.5, 0.5204998778130465],
  [1, 0.8427007929497149],
  [1.5, 0.9661051464753108],
  [2, 0.9953222650189527],
  [2.5, 0.999593047982555],
  [3, 0.9999779095030014],
  [4, 0.9999999845827421],
  [5, 0.9999999999984626],
];

const TABLE = [0, 0.1, 0.5, 1, 1.5, 2, 2.5, 2.99, 3, 3.01, 4, 5, 6, -1, -3.5];

describe('erf accuracy', () => {
  it('the BigInt fixed-point erf used as reference reproduces published values', () => {
    for (const [x, v] of PUBLISHED) {
      expect(Math.abs(preciseErf(x) - v), `erf(${x})`).toBeLessThanOrEqual(1.2e-16);
      expect(preciseErf(-x)).toBe(-preciseErf(x));
    }
    expect(preciseErf(0)).toBe(0);
  });

  it('the interpreter\'s erf op is within 1e-14 of the precise value on the table', () => {
    // The table points are made in float64 inside the program (x100 integers / 100),
    // so 2.99 is the double nearest 2.99, not its f32 rounding.
    const b = new ProgramBuilder();
    const n = b.input('n', tensorType('f32', [TABLE.length]));
    const hundred = b.emit('constant', [], { shape: [], value: [100] });
    b.output('y', b.emit('erf', [b.emit('div', [n, hundred])]));
    const y = interpret(b.build(), { n: TABLE.map((x) => Math.round(x * 100)) }).y!.data;
    const bad = TABLE.map((x, i) => ({ x, got: y[i]!, want: preciseErf(x) }))
      .filter((e) => !(Math.abs(e.got - e.want) <= 1e-14))
      .map((e) => `erf(${e.x}) = ${e.got}, expected ${e.want} (error ${Math.abs(e.got - e.want).toExponential(2)})`);
    expect(bad, 'erf points off by more than 1e-14').toEqual([]);
  });

  it('the interpreter\'s erf op is within 1e-14 on the table rounded to f32 inputs', () => {
    const xs = TABLE.map(Math.fround);
    const y = runOp('erf', [arg('f32', [xs.length], xs)]).data;
    const bad = xs.filter((x, i) => !(Math.abs(y[i]! - preciseErf(x)) <= 1e-14));
    expect(bad, 'f32 table points where erf is off by more than 1e-14').toEqual([]);
  });

  it('is within 1e-14 everywhere on [-8, 8], odd, and bounded by 1', () => {
    fc.assert(
      fc.property(fc.oneof(uniformArb(-8, 8), fc.double({ min: -8, max: 8, noNaN: true })), (x) => {
        const e = erf(x);
        expect(Math.abs(e - preciseErf(x)), `erf(${x})`).toBeLessThanOrEqual(1e-14);
        expect(erf(-x) === -e).toBe(true); // === so that erf(-0) = +0 passes
        expect(Math.abs(e)).toBeLessThanOrEqual(1);
      }),
      { numRuns: RUNS.costly * 20 },
    );
  });
});

describe("erf's decomposition (the one erf every target without its own computes)", () => {
  /** erf through its decomposition, interpreted in float64. */
  function decomposedErf(xs: readonly number[]): number[] {
    const b = new ProgramBuilder();
    b.output('y', b.emit('erf', [b.input('x', tensorType('f32', [xs.length]))]));
    const d = decomposeProgram(b.build(), (def) => def.name === 'erf');
    expect(d.nodes.map((n) => n.op)).not.toContain('erf');
    return [...interpret(d, { x: [...xs] }).y!.data];
  }

  it('is within 1.5e-7 of erf on a dense grid of [-6, 6] (a rational x P(x^2) / Q(x^2))', () => {
    const xs = Array.from({ length: 24001 }, (_, i) => Math.fround(-6 + i / 2000));
    const got = decomposedErf(xs);
    const worst = Math.max(...xs.map((x, i) => Math.abs(got[i]! - preciseErf(x))));
    expect(worst).toBeLessThan(1.5e-7);
    expect(worst).toBeGreaterThan(1e-9); // an approximation, not erf itself
  });

  it('keeps the sign of x and gives +-1 at +-inf and NaN for NaN', () => {
    const got = decomposedErf([Infinity, -Infinity, NaN, 0.5, -0.5]);
    expect(got.slice(0, 3)).toEqual([1, -1, NaN]);
    expect(got[3]).toBe(-got[4]!);
  });
});
