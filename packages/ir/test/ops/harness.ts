/**
 * Test plumbing for the op-semantics tests: run one op through the real
 * builder and interpreter, compare results under the tolerance policy, and
 * fast-check generators for shapes and values.
 *
 * Tolerance policy: integer, bool and movement results must be exactly equal
 * (NaN equals NaN, -0 equals 0). Float math is compared with a relative
 * tolerance of 1e-12 plus an absolute floor of 1e-12 times `scale`, where
 * `scale` is the magnitude of the data that fed the element (default 1):
 * relative error alone is meaningless where a result cancels to near zero.
 */
import fc from 'fast-check';
import { expect } from 'vitest';
import { type Attrs, type DType, type OpName, type Program, ProgramBuilder, interpret, tensorType } from '../../src/index.ts';
import type { Flat } from './naive.ts';

/** One operand: dtype, shape and row-major values. */
export interface Arg extends Flat {
  readonly dtype: DType;
}

/** Makes an operand. */
export const arg = (dtype: DType, shape: readonly number[], data: readonly number[]): Arg => ({ dtype, shape, data });

/** A program with one node `op(x0, x1, ...)` and output `y`. */
export function singleOpProgram(op: OpName, args: readonly Arg[], attrs: Attrs = {}): Program {
  const b = new ProgramBuilder(op);
  const vals = args.map((a, i) => b.input(`x${i}`, tensorType(a.dtype, a.shape)));
  b.output('y', b.emit(op, vals, attrs));
  return b.build();
}

/** Inputs for a program made by singleOpProgram. */
export const inputsOf = (args: readonly Arg[]): Record<string, number[]> => Object.fromEntries(args.map((a, i) => [`x${i}`, [...a.data]]));

/** Result of running one op in the reference interpreter. */
export interface OpResult {
  readonly dtype: DType;
  readonly shape: number[];
  readonly data: number[];
}

/** Builds `op(args) {attrs}` and interprets it. */
export function runOp(op: OpName, args: readonly Arg[], attrs: Attrs = {}): OpResult {
  const y = interpret(singleOpProgram(op, args, attrs), inputsOf(args)).y!;
  return { dtype: y.type.dtype, shape: [...y.type.shape], data: [...y.data] };
}

/** Runs a whole program and returns output `name` as a plain array. */
export function runProgram(p: Program, inputs: Record<string, number[]>, name = 'y'): OpResult {
  const y = interpret(p, inputs)[name]!;
  return { dtype: y.type.dtype, shape: [...y.type.shape], data: [...y.data] };
}

const same = (a: number, b: number): boolean => a === b || (Number.isNaN(a) && Number.isNaN(b));

/** Exact equality of values (NaN equals NaN), with the first mismatch named. */
export function expectExact(actual: readonly number[], expected: readonly number[], what = ''): void {
  expect(actual.length, `${what} length`).toBe(expected.length);
  const bad = actual.findIndex((v, i) => !same(v, expected[i]!));
  if (bad >= 0) throw new Error(`${what} element ${bad}: got ${actual[bad]}, expected ${expected[bad]}\n  got      [${actual.join(', ')}]\n  expected [${expected.join(', ')}]`);
}

/** Closeness under the policy above; NaN and infinity positions must match exactly. */
export function expectClose(actual: readonly number[], expected: readonly number[], what = '', rtol = 1e-12, scale = 1): void {
  expect(actual.length, `${what} length`).toBe(expected.length);
  const bad = actual.findIndex((v, i) => {
    const e = expected[i]!;
    if (!Number.isFinite(v) || !Number.isFinite(e)) return !same(v, e);
    return !(Math.abs(v - e) <= rtol * Math.max(Math.abs(v), Math.abs(e)) + rtol * scale);
  });
  if (bad >= 0) {
    const v = actual[bad]!;
    const e = expected[bad]!;
    throw new Error(`${what} element ${bad}: got ${v}, expected ${e} (diff ${v - e}, rtol ${rtol}, scale ${scale})`);
  }
}

/** Largest magnitude in some arrays (1 at least): the `scale` for expectClose. */
export const magnitude = (...arrays: (readonly number[])[]): number =>
  Math.max(1, ...arrays.flatMap((a) => a.filter(Number.isFinite).map(Math.abs)));

// ---------------------------------------------------------------- generators

/** An extent, 1 often (1-sized axes are where broadcasting and indexing go wrong). */
export const extentArb = (max = 4): fc.Arbitrary<number> =>
  fc.oneof({ arbitrary: fc.constant(1), weight: 1 }, { arbitrary: fc.integer({ min: 1, max }), weight: 3 });

/** A shape of rank minRank..maxRank. */
export const shapeArb = (minRank = 0, maxRank = 4, maxExtent = 4): fc.Arbitrary<number[]> =>
  fc.array(extentArb(maxExtent), { minLength: minRank, maxLength: maxRank });

/** Shapes that broadcast to a common shape: each a random suffix of it with random axes set to 1. */
export const broadcastShapesArb = (count: number, maxRank = 4): fc.Arbitrary<number[][]> =>
  shapeArb(0, maxRank).chain((out) =>
    fc.tuple(
      ...Array.from({ length: count }, () =>
        fc
          .tuple(fc.integer({ min: 0, max: out.length }), fc.array(fc.boolean(), { minLength: out.length, maxLength: out.length }))
          .map(([drop, ones]) => out.map((d, a) => (ones[a] ? 1 : d)).slice(drop)),
      ),
    ),
  );

/**
 * A float64 uniform on [lo, hi] (fc.double is skewed towards tiny magnitudes,
 * which hides errors that only show at moderate ones).
 */
export const uniformArb = (lo: number, hi: number): fc.Arbitrary<number> =>
  fc.integer({ min: 0, max: 2 ** 30 }).map((i) => lo + ((hi - lo) * i) / 2 ** 30);

/** An f32-exact value: mostly moderate, negative as often as positive, sometimes zero or large. */
export const f32Arb: fc.Arbitrary<number> = fc.oneof(
  { arbitrary: fc.integer({ min: -64, max: 64 }).map((i) => i / 8), weight: 2 },
  { arbitrary: uniformArb(-8, 8).map(Math.fround), weight: 4 },
  { arbitrary: fc.double({ min: -8, max: 8, noNaN: true }).map(Math.fround), weight: 1 },
  { arbitrary: fc.constantFrom(0, -0, 1, -1, 1e-30, -3e30).map(Math.fround), weight: 1 },
);

/** f32 values including NaN and infinities. */
export const f32SpecialArb: fc.Arbitrary<number> = fc.oneof(
  { arbitrary: f32Arb, weight: 6 },
  { arbitrary: fc.constantFrom(NaN, Infinity, -Infinity), weight: 1 },
);

/** An i32 value: small mostly, near the wrap-around limits sometimes. */
export const i32Arb: fc.Arbitrary<number> = fc.oneof(
  { arbitrary: fc.integer({ min: -20, max: 20 }), weight: 3 },
  { arbitrary: fc.integer({ min: -2147483648, max: 2147483647 }), weight: 2 },
  { arbitrary: fc.constantFrom(-2147483648, 2147483647, -1, 0, 65536), weight: 1 },
);

/** A bool value (0 or 1). */
export const boolArb: fc.Arbitrary<number> = fc.integer({ min: 0, max: 1 });

/** Values for a dtype. */
export const valueArb = (dtype: DType, special = false): fc.Arbitrary<number> =>
  dtype === 'f32' ? (special ? f32SpecialArb : f32Arb) : dtype === 'i32' ? i32Arb : boolArb;

/** An operand of the given dtype and shape with random values. */
export const argArb = (dtype: DType, shape: readonly number[], values: fc.Arbitrary<number> = valueArb(dtype)): fc.Arbitrary<Arg> => {
  const n = shape.reduce((p, d) => p * d, 1);
  return fc.array(values, { minLength: n, maxLength: n }).map((data) => arg(dtype, shape, data));
};

/** Run counts: small enough that every file finishes in a few seconds. */
export const RUNS = { cheap: 150, medium: 60, costly: 25 } as const;
