import fc from 'fast-check';
import { describe, it } from 'vitest';
import { type Program, interpret, numel } from '@tessera/ir';
import { compileProgram, lowerToKernels } from '@tessera/passes';
import { type ProgramCase, arbProgramWithInputs, describeMismatch, formatCounterexample } from '@tessera/harness';
import { compileWasm, emitWasmProgram } from '../src/index.ts';

/** Random programs per property run, as the JS backend's differential test. */
const RUNS = Number(process.env.TESSERA_DIFF_RUNS ?? 200);

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

function check(c: ProgramCase, name: string, actual: Record<string, ArrayLike<number>>): void {
  const expected = interpret(c.program, c.inputs);
  const reductionLength = longestReduction(c.program);
  for (const o of c.program.outputs) {
    const e = expected[o.name]!;
    const why = describeMismatch(actual[o.name]!, e.data, { dtype: e.type.dtype, reductionLength }, { what: `output '${o.name}'`, shape: e.type.shape });
    if (why) throw new Error(`${name} differs from the interpreter: ${why}\n${formatCounterexample(c.program, c.inputs)}`);
  }
}

describe('differential: interpreter = wasm target', () => {
  const cases = arbProgramWithInputs({ tame: true, maxNodes: 10 });

  for (const threads of [1, 2]) {
    it(`wasm, ${threads} thread(s), every kernel split across the threads, matches the interpreter within the f32 policy, ${RUNS} programs`, async () => {
      await fc.assert(
        fc.asyncProperty(cases, async (c) => {
          const exe = await compileWasm(lowerToKernels(c.program), { threads, minParallelWork: 0 });
          try {
            check(c, `wasm (${threads} threads)`, await exe.run(c.inputs));
          } finally {
            exe.dispose();
          }
        }),
        { numRuns: RUNS },
      );
    });
  }

  for (const threads of [1, 2]) {
    it(`wasm, ${threads} thread(s), after the whole pass pipeline (fusion, memory plan with in-place reuse), matches the interpreter, ${RUNS} programs`, async () => {
      await fc.assert(
        fc.asyncProperty(cases, async (c) => {
          const exe = await compileWasm(compileProgram(c.program).kernels, { threads, minParallelWork: 0 });
          try {
            check(c, `wasm after the pipeline (${threads} threads)`, await exe.run(c.inputs));
          } finally {
            exe.dispose();
          }
        }),
        { numRuns: RUNS },
      );
    });
  }

  it('compiles every kernel of random programs to wasm (none left to the JS fallback)', () => {
    fc.assert(
      fc.property(cases, (c) => {
        const js = emitWasmProgram(compileProgram(c.program).kernels, { threads: 1 }).kernels.filter((k) => k.kind === 'js');
        if (js.length) throw new Error(`left to JS: ${js.map((k) => `${k.name} (${k.kind === 'js' ? k.reason : ''})`).join(', ')}`);
      }),
      { numRuns: 50 },
    );
  });
});
