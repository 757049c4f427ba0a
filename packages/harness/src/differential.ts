import { type Program, type RefTensor, formatShape, interpret, shapesEqual, toHost } from '@tessera/ir';
import { formatCounterexample } from './counterexample.ts';
import type { HostInputs } from './inputs.ts';
import { type RoundingLeeway, roundingLeeway } from './rounding-spread.ts';
import { longestReduction } from './sum-length.ts';
import { type CloseOptions, describeMismatch } from './tolerance.ts';

/** How the interpreter's values are compared: rounded to each output's dtype (f32 backends), or in float64 (the kernel evaluator). */
export interface ReferenceOptions {
  readonly float64?: boolean;
}

/** A backend's output as the checks take it: a tensor from run() (its dtype and dims are checked too), or bare values. */
export type ActualOutput = ArrayLike<number> | { readonly data: ArrayLike<number>; readonly dims: readonly number[]; readonly dtype: string };

/** Why a tensor output's dtype or dims differ from the interpreter's value, or undefined (always, for bare values). */
function typeMismatch(name: string, actual: ActualOutput, expected: RefTensor): string | undefined {
  if (!('dims' in actual)) return undefined;
  const want = `${expected.type.dtype}${formatShape(expected.type.shape)}`;
  const got = `${String(actual.dtype)}${formatShape(actual.dims)}`;
  return actual.dtype === expected.type.dtype && shapesEqual(actual.dims, expected.type.shape) ? undefined : `output '${name}' is ${got}, expected ${want}`;
}

/**
 * Why a backend's outputs differ from the interpreter's under the tolerance
 * policy (expected values rounded to each output's dtype unless `float64`,
 * L from the program unless given), or undefined when they agree. Tensors
 * must also have the interpreter's dtype and dims. An output outside the
 * policy is compared again with the leeway of f32 rounding (`roundingLeeway`),
 * estimated only then: an ill-conditioned program, or a discontinuous op on
 * a rounding boundary, is not a backend's fault. A float64 reference (the
 * kernel evaluator) gets no leeway.
 */
export function mismatchVsInterpreter(p: Program, inputs: HostInputs, actual: Readonly<Record<string, ActualOutput>>, options: CloseOptions = {}, reference: ReferenceOptions = {}): string | undefined {
  const expected = interpret(p, inputs);
  const reductionLength = options.reductionLength ?? longestReduction(p);
  let leeway: RoundingLeeway | undefined;
  for (const o of p.outputs) {
    const e = expected[o.name]!;
    const a = actual[o.name];
    if (a === undefined) return `output '${o.name}' is missing`;
    const typeWhy = typeMismatch(o.name, a, e);
    if (typeWhy) return typeWhy;
    const describe = (more: CloseOptions = {}) =>
      describeMismatch('dims' in a ? a.data : a, reference.float64 ? e.data : toHost(e), { dtype: e.type.dtype, ...options, reductionLength, ...more }, { what: `output '${o.name}'`, shape: e.type.shape });
    let why = describe();
    if (why && !reference.float64) {
      leeway ??= roundingLeeway(p, inputs, expected);
      const allowance = leeway.allowance[o.name];
      why = describe({ ...(allowance ? { allowance } : {}), alternative: toHost(leeway.f32[o.name]!) });
    }
    if (why) return why;
  }
  return undefined;
}

/** Throws, with the program and inputs printed, when a backend's outputs differ from the interpreter's. */
export function assertMatchesInterpreter(
  c: { program: Program; inputs: HostInputs },
  actual: Readonly<Record<string, ActualOutput>>,
  backend: string,
  options: CloseOptions = {},
  reference: ReferenceOptions = {},
): void {
  const why = mismatchVsInterpreter(c.program, c.inputs, actual, options, reference);
  if (why) throw new Error(`${backend} differs from the interpreter: ${why}\n${formatCounterexample(c.program, c.inputs)}`);
}
