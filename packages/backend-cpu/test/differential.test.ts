import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type Program, interpret, numel } from '@tessera/ir';
import { evaluateKernelProgram } from '@tessera/kernel';
import { compileProgram, lowerToKernels } from '@tessera/passes';
import { type ProgramCase, arbProgramWithInputs, describeMismatch, formatCounterexample } from '@tessera/harness';
import { compileJs } from '../src/index.ts';

/** Random programs per property run (the closing note of the kernel-program issue reports it). */
export const DIFFERENTIAL_RUNS = Number(process.env.TESSERA_DIFF_RUNS ?? 200);

/** The longest sum feeding any value of the program: the tolerance policy scales with its square root. */
function longestReduction(p: Program): number {
  const types = new Map(p.inputs.map((i) => [i.name, i.type] as const));
  for (const n of p.nodes) types.set(n.name, n.type);
  let longest = 1;
  for (const n of p.nodes) {
    const x = types.get(n.operands[0] ?? '');
    let len = 1;
    if (n.op.startsWith('reduce_')) len = numel((n.attrs.axes as number[]).map((a) => x!.shape[a]!));
    else if (n.op === 'matmul' || n.op === 'layer_norm' || n.op === 'softmax') len = x!.shape[n.op === 'softmax' ? (n.attrs.axis as number) : x!.shape.length - 1]!;
    else if (n.op === 'attention') len = x!.shape[x!.shape.length - 1]! * types.get(n.operands[1]!)!.shape.at(-2)!;
    longest = Math.max(longest, len);
  }
  return longest;
}

function check(c: ProgramCase, name: string, actual: Record<string, ArrayLike<number>>, options: { rtol?: number; atol?: number }): void {
  const expected = interpret(c.program, c.inputs);
  const reductionLength = longestReduction(c.program);
  for (const o of c.program.outputs) {
    const e = expected[o.name]!;
    const why = describeMismatch(actual[o.name]!, e.data, { dtype: e.type.dtype, reductionLength, ...options }, { what: `output '${o.name}'`, shape: e.type.shape });
    if (why) throw new Error(`${name} differs from the interpreter: ${why}\n${formatCounterexample(c.program, c.inputs)}`);
  }
}

describe('differential: interpreter = kernel evaluator = CPU backend', () => {
  const cases = arbProgramWithInputs({ tame: true, maxNodes: 10 });

  it(`kernel evaluator matches the interpreter (float64 both: tight tolerance), ${DIFFERENTIAL_RUNS} programs`, () => {
    fc.assert(
      fc.property(cases, (c) => {
        const kp = lowerToKernels(c.program);
        check(c, 'kernel evaluator', evaluateKernelProgram(kp, c.inputs), { atol: 1e-9, rtol: 1e-9 });
      }),
      { numRuns: DIFFERENTIAL_RUNS },
    );
  });

  it(`kernel evaluator matches the interpreter on untamed programs (NaN, inf and overflow included), ${DIFFERENTIAL_RUNS} programs`, () => {
    fc.assert(
      fc.property(arbProgramWithInputs({ maxNodes: 10 }), (c) => {
        const kp = lowerToKernels(c.program);
        check(c, 'kernel evaluator', evaluateKernelProgram(kp, c.inputs), { atol: 1e-9, rtol: 1e-9 });
      }),
      { numRuns: DIFFERENTIAL_RUNS },
    );
  });

  for (const fusion of [true, false]) {
    it(`CPU backend (JS) matches the interpreter within the f32 policy, whole pipeline (canonicalize, ${fusion ? 'fuse' : 'no fusion'}, plan-memory), ${DIFFERENTIAL_RUNS} programs`, async () => {
      await fc.assert(
        fc.asyncProperty(cases, async (c) => {
          const { kernels } = compileProgram(c.program, fusion ? {} : { disabled: ['fuse'] });
          const exe = compileJs(kernels);
          check(c, `cpu backend (fusion ${fusion ? 'on' : 'off'})`, await exe.run(c.inputs), {});
        }),
        { numRuns: DIFFERENTIAL_RUNS },
      );
    });
  }
});
