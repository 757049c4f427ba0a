import fc from 'fast-check';
import { describe, it } from 'vitest';
import { evaluateKernelProgram } from '@tessera/kernel';
import { compileProgram, lowerToKernels } from '@tessera/passes';
import { arbModelWithInputs, arbProgramWithInputs, assertMatchesInterpreter } from '@tessera/harness';
import { compileJs } from '../src/index.ts';
import { DIFFERENTIAL_RUNS, MODEL_RUNS } from './support/runs.ts';


describe('differential: interpreter = kernel evaluator = CPU backend', () => {
  const cases = arbProgramWithInputs({ tame: true, maxNodes: 10 });

  it(`kernel evaluator matches the interpreter (float64 both: tight tolerance), ${DIFFERENTIAL_RUNS} programs`, () => {
    fc.assert(
      fc.property(cases, (c) => {
        const kp = lowerToKernels(c.program);
        assertMatchesInterpreter(c, evaluateKernelProgram(kp, c.inputs), 'kernel evaluator', { atol: 1e-9, rtol: 1e-9 }, { float64: true });
      }),
      { numRuns: DIFFERENTIAL_RUNS },
    );
  });

  it(`kernel evaluator matches the interpreter on untamed programs (NaN, inf and overflow included), ${DIFFERENTIAL_RUNS} programs`, () => {
    fc.assert(
      fc.property(arbProgramWithInputs({ maxNodes: 10 }), (c) => {
        const kp = lowerToKernels(c.program);
        assertMatchesInterpreter(c, evaluateKernelProgram(kp, c.inputs), 'kernel evaluator', { atol: 1e-9, rtol: 1e-9 }, { float64: true });
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
          assertMatchesInterpreter(c, await exe.run(c.inputs), `cpu backend (fusion ${fusion ? 'on' : 'off'})`);
        }),
        { numRuns: DIFFERENTIAL_RUNS },
      );
    });
  }

  it(`CPU backend (JS) matches the interpreter on model-shaped programs (stacked blocks, batch > 1, arena reuse), whole pipeline, ${MODEL_RUNS} programs`, async () => {
    await fc.assert(
      fc.asyncProperty(arbModelWithInputs(), async (c) => {
        assertMatchesInterpreter(c, await compileJs(compileProgram(c.program).kernels).run(c.inputs), 'cpu backend (JS), model-shaped');
      }),
      { numRuns: MODEL_RUNS },
    );
  });
});
