import { type Program, type RefTensor, interpret } from '@tessera/ir';
import { makeRng } from './gen/choices.ts';
import type { HostInputs } from './inputs.ts';
import { sumLength, valueTypes } from './sum-length.ts';

/**
 * How far a correct f32 evaluation of a program may land from the float64
 * interpreter's value, element by element, estimated by evaluating it again
 * with every inexact f32 value nudged by a random relative error of up to
 * f32's unit roundoff (Monte Carlo arithmetic).
 *
 * Why: the tolerance policy is relative to each result, and that is right
 * where the program is well conditioned. Where it is not, f32's rounding
 * is amplified on the way to the output and no f32 backend can meet the
 * policy. The CI counterexample that made this: a layer norm over two
 * values 5.7724 and 5.7716 (their difference keeps three of f32's seven
 * digits), scaled by up to 1/sqrt(eps) = 10, then two matmuls. Every WebGPU
 * variant landed 5.95e-5 from the float64 value, against 5.9e-5 allowed
 * there, and evaluations with each op's result off by one rounding land
 * 2-8e-5 away. A real bug (a dropped or repeated term, a wrong index, a
 * missing bias) moves a result by the size of a term, far beyond this
 * spread unless the program amplifies rounding without bound.
 *
 * The model is the textbook one of rounding error. An op's result is
 * rounded once: every f32 result f32 cannot hold exactly is nudged (one f32
 * can hold is what a correctly rounded op gives, so a comparison of exact
 * values, which the generator's tame mode keeps, cannot flip). A sum of L
 * terms (a reduction, a dot product, a layer norm's mean, a softmax's
 * denominator) is the exact sum of its terms each off by a relative error
 * of about sqrt(L) roundings in random order (backward stability): the f32
 * operands of an op that sums are nudged by sqrt(L) times as much before it
 * is evaluated. A selection (max, min, any, all over axes) sums nothing.
 */

/** Relative size of each nudge: f32's unit roundoff (2^-24), the most a correctly rounded op is off by. */
const NUDGE = 2 ** -24;
/** Noisy evaluations per estimate. */
const RUNS = 3;
/** The allowance is this many times the largest deviation seen: a backend's rounding is one more sample of the same spread. */
export const SPREAD_FACTOR = 3;

/** A copy of `v` with every finite f32 element that is inexact (or every one, `all`) nudged by a relative error in [-size, size]. */
function nudge(v: RefTensor, size: number, random: () => number, all: boolean): RefTensor {
  if (v.type.dtype !== 'f32') return v;
  const data = Float64Array.from(v.data);
  for (let i = 0; i < data.length; i++) {
    const x = data[i]!;
    if (Number.isFinite(x) && (all || Math.fround(x) !== x)) data[i] = x * (1 + size * (2 * random() - 1));
  }
  return { type: v.type, data };
}

/** Ops that select an element over axes rather than sum: their operands are not nudged. */
const SELECTIONS: ReadonlySet<string> = new Set(['reduce_max', 'reduce_min', 'reduce_any', 'reduce_all']);

/**
 * For each f32 output, SPREAD_FACTOR times the largest deviation of the noisy
 * evaluations from `expected` (the plain interpreter's outputs), per element;
 * 0 where a noisy evaluation is not finite (overflow is not rounding).
 * Seeded, so a failure reproduces.
 */
export function roundingAllowance(p: Program, inputs: HostInputs, expected: Readonly<Record<string, RefTensor>>, seed = 1): Record<string, Float64Array> {
  const random = makeRng(seed);
  const types = valueTypes(p);
  const allowance: Record<string, Float64Array> = {};
  for (const o of p.outputs) if (expected[o.name]!.type.dtype === 'f32') allowance[o.name] = new Float64Array(expected[o.name]!.data.length);
  for (let run = 0; run < RUNS; run++) {
    const noisy = interpret(p, inputs, {
      around: (n, operands, evaluate) => {
        const length = SELECTIONS.has(n.op) ? 1 : sumLength(n, types);
        const xs = length > 1 ? operands.map((x) => nudge(x, NUDGE * Math.sqrt(length), random, true)) : operands;
        return nudge(evaluate(xs), NUDGE, random, false);
      },
    });
    for (const [name, spread] of Object.entries(allowance)) {
      const e = expected[name]!.data;
      const a = noisy[name]!.data;
      for (let i = 0; i < spread.length; i++) {
        const d = Math.abs(a[i]! - e[i]!);
        if (Number.isFinite(d)) spread[i] = Math.max(spread[i]!, SPREAD_FACTOR * d);
      }
    }
  }
  return allowance;
}

/** A copy of `v` with every f32 element rounded to the nearest f32. */
function roundToF32(v: RefTensor): RefTensor {
  return v.type.dtype === 'f32' ? { type: v.type, data: v.data.map(Math.fround) } : v;
}

/**
 * The program evaluated as f32 arithmetic does it: every f32 result rounded
 * to the nearest f32, as a correctly rounded f32 op gives it (PyTorch's f32
 * values, up to summation order and the ulps of transcendentals). Where a
 * discontinuous op (round, floor, a comparison, argmax, a cast to i32) sits
 * on a rounding boundary, this is the answer an f32 backend gives and the
 * float64 interpreter's is not: round(0.2f * 2.5) is round(0.5) = 0 in f32
 * and round(0.5000000075) = 1 in float64.
 */
export function interpretInF32(p: Program, inputs: HostInputs): Record<string, RefTensor> {
  return interpret(p, inputs, { around: (_n, operands, evaluate) => roundToF32(evaluate(operands)) });
}

/** What else an f32 backend's outputs may be, besides the policy around the float64 value (see roundingLeeway). */
export interface RoundingLeeway {
  /** Per f32 output, the spread of f32 rounding added to the policy (roundingAllowance). */
  readonly allowance: Readonly<Record<string, Float64Array>>;
  /** Per output, the values of the program evaluated in f32 (interpretInF32), accepted under the policy too. */
  readonly f32: Readonly<Record<string, RefTensor>>;
}

/**
 * The leeway the comparisons give an output that misses the policy: the
 * spread of f32 rounding through a well-defined but ill-conditioned program,
 * and the f32 evaluation where a discontinuous op sits on a rounding boundary.
 */
export function roundingLeeway(p: Program, inputs: HostInputs, expected: Readonly<Record<string, RefTensor>>): RoundingLeeway {
  return { allowance: roundingAllowance(p, inputs, expected), f32: interpretInF32(p, inputs) };
}
