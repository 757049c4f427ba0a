import { type Program, type RefTensor, formatShape, interpret, numel, shapesEqual, toHost } from '@tessera/ir';
import { formatCounterexample } from './counterexample.ts';
import type { HostInputs } from './inputs.ts';
import { type CloseOptions, describeMismatch } from './tolerance.ts';

/**
 * The length of the longest sum in a program (reductions, dot products and convolution windows,
 * softmax, log_softmax, layer_norm and rms_norm rows, running sums, attention's q·k and weighted sum): the L by
 * whose square root the tolerance policy scales.
 */
export function longestReduction(p: Program): number {
  const types = new Map(p.inputs.map((i) => [i.name, i.type] as const));
  for (const n of p.nodes) types.set(n.name, n.type);
  let longest = 1;
  for (const n of p.nodes) {
    const x = types.get(n.operands[0] ?? '');
    let len = 1;
    if (n.op.startsWith('reduce_') || n.op === 'logsumexp') len = numel((n.attrs.axes as number[]).map((a) => x!.shape[a]!));
    else if (n.op === 'matmul' || n.op === 'layer_norm' || n.op === 'rms_norm') len = x!.shape.at(-1)!;
    else if (n.op === 'conv2d') len = numel(types.get(n.operands[1]!)!.shape.slice(1));
    else if (n.op === 'softmax' || n.op === 'log_softmax' || n.op === 'cumsum') len = x!.shape[n.attrs.axis as number]!;
    else if (n.op === 'attention') len = x!.shape.at(-1)! * types.get(n.operands[1]!)!.shape.at(-2)!;
    longest = Math.max(longest, len);
  }
  return longest;
}

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
 * must also have the interpreter's dtype and dims.
 */
export function mismatchVsInterpreter(p: Program, inputs: HostInputs, actual: Readonly<Record<string, ActualOutput>>, options: CloseOptions = {}, reference: ReferenceOptions = {}): string | undefined {
  const expected = interpret(p, inputs);
  const reductionLength = options.reductionLength ?? longestReduction(p);
  for (const o of p.outputs) {
    const e = expected[o.name]!;
    const a = actual[o.name];
    if (a === undefined) return `output '${o.name}' is missing`;
    const why =
      typeMismatch(o.name, a, e) ??
      describeMismatch('dims' in a ? a.data : a, reference.float64 ? e.data : toHost(e), { dtype: e.type.dtype, ...options, reductionLength }, { what: `output '${o.name}'`, shape: e.type.shape });
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
