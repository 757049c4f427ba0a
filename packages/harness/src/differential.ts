import { type Program, interpret, numel, toHost } from '@tessera/ir';
import { formatCounterexample } from './counterexample.ts';
import type { HostInputs } from './inputs.ts';
import { type CloseOptions, describeMismatch } from './tolerance.ts';

/**
 * The length of the longest sum in a program (reductions, dot products and convolution windows,
 * softmax and layer_norm rows, attention's q·k and weighted sum): the L by
 * whose square root the tolerance policy scales.
 */
export function longestReduction(p: Program): number {
  const types = new Map(p.inputs.map((i) => [i.name, i.type] as const));
  for (const n of p.nodes) types.set(n.name, n.type);
  let longest = 1;
  for (const n of p.nodes) {
    const x = types.get(n.operands[0] ?? '');
    let len = 1;
    if (n.op.startsWith('reduce_')) len = numel((n.attrs.axes as number[]).map((a) => x!.shape[a]!));
    else if (n.op === 'matmul' || n.op === 'layer_norm' || n.op === 'rms_norm') len = x!.shape.at(-1)!;
    else if (n.op === 'conv2d') len = numel(types.get(n.operands[1]!)!.shape.slice(1));
    else if (n.op === 'softmax') len = x!.shape[n.attrs.axis as number]!;
    else if (n.op === 'attention') len = x!.shape.at(-1)! * types.get(n.operands[1]!)!.shape.at(-2)!;
    longest = Math.max(longest, len);
  }
  return longest;
}

/** How the interpreter's values are compared: rounded to each output's dtype (f32 backends), or in float64 (the kernel evaluator). */
export interface ReferenceOptions {
  readonly float64?: boolean;
}

/**
 * Why a backend's outputs differ from the interpreter's under the tolerance
 * policy (expected values rounded to each output's dtype unless `float64`,
 * L from the program unless given), or undefined when they agree.
 */
export function mismatchVsInterpreter(p: Program, inputs: HostInputs, actual: Readonly<Record<string, ArrayLike<number>>>, options: CloseOptions = {}, reference: ReferenceOptions = {}): string | undefined {
  const expected = interpret(p, inputs);
  const reductionLength = options.reductionLength ?? longestReduction(p);
  for (const o of p.outputs) {
    const e = expected[o.name]!;
    const why = describeMismatch(actual[o.name]!, reference.float64 ? e.data : toHost(e), { dtype: e.type.dtype, ...options, reductionLength }, { what: `output '${o.name}'`, shape: e.type.shape });
    if (why) return why;
  }
  return undefined;
}

/** Throws, with the program and inputs printed, when a backend's outputs differ from the interpreter's. */
export function assertMatchesInterpreter(
  c: { program: Program; inputs: HostInputs },
  actual: Readonly<Record<string, ArrayLike<number>>>,
  backend: string,
  options: CloseOptions = {},
  reference: ReferenceOptions = {},
): void {
  const why = mismatchVsInterpreter(c.program, c.inputs, actual, options, reference);
  if (why) throw new Error(`${backend} differs from the interpreter: ${why}\n${formatCounterexample(c.program, c.inputs)}`);
}
