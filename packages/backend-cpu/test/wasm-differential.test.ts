import fc from 'fast-check';
import { describe, it } from 'vitest';
import { compileProgram, lowerToKernels } from '@tessera/passes';
import { arbModelWithInputs, arbProgramWithInputs, assertMatchesInterpreter } from '@tessera/harness';
import { compileWasm, emitWasmProgram, enableRelaxedSimd } from '../src/index.ts';

// The default a user gets where the engine has relaxed SIMD (Node 22, browsers): fused multiply-adds in the micro-kernel.
enableRelaxedSimd();

/** Random programs per property run, as the JS backend's differential test. */
const RUNS = Number(process.env.TESSERA_DIFF_RUNS ?? 200);
/** Model-shaped programs per thread count (each compiles a larger module than a random program). */
const MODEL_WASM_RUNS = Number(process.env.TESSERA_MODEL_RUNS ?? 100);

describe('differential: interpreter = wasm target', () => {
  const cases = arbProgramWithInputs({ tame: true, maxNodes: 10 });

  for (const threads of [1, 2]) {
    it(`wasm, ${threads} thread(s), every kernel split across the threads, matches the interpreter within the f32 policy, ${RUNS} programs`, async () => {
      await fc.assert(
        fc.asyncProperty(cases, async (c) => {
          const exe = await compileWasm(lowerToKernels(c.program), { threads, minParallelWork: 0 });
          try {
            assertMatchesInterpreter(c, await exe.run(c.inputs), `wasm (${threads} threads)`);
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
            assertMatchesInterpreter(c, await exe.run(c.inputs), `wasm after the pipeline (${threads} threads)`);
          } finally {
            exe.dispose();
          }
        }),
        { numRuns: RUNS },
      );
    });
  }

  for (const threads of [1, 2]) {
    it(`wasm, ${threads} thread(s), model-shaped programs (stacked blocks, batch > 1, arena reuse) after the whole pipeline match the interpreter, ${MODEL_WASM_RUNS} programs`, async () => {
      await fc.assert(
        fc.asyncProperty(arbModelWithInputs(), async (c) => {
          const exe = await compileWasm(compileProgram(c.program).kernels, { threads, minParallelWork: 0 });
          try {
            assertMatchesInterpreter(c, await exe.run(c.inputs), `wasm, model-shaped (${threads} threads)`);
          } finally {
            exe.dispose();
          }
        }),
        { numRuns: MODEL_WASM_RUNS },
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
