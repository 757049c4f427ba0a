import fc from 'fast-check';
import { afterAll, describe, it } from 'vitest';
import { compileProgram } from '@tessera/passes';
import { arbModelWithInputs, arbProgramWithInputs } from '@tessera/harness';
import { checkProgram, mismatchVsInterpreter, releaseBackend, runKernels, testBackend } from './support.ts';

/** Random programs per property: fewer than the CPU backend's 200, since each compiles its shaders on llvmpipe (TESSERA_DIFF_RUNS overrides). */
const RUNS = Number(process.env.TESSERA_WEBGPU_DIFF_RUNS ?? process.env.TESSERA_DIFF_RUNS ?? 60);

afterAll(releaseBackend);

describe('differential: interpreter = WebGPU backend (lowerToKernels -> WGSL)', () => {
  // No subnormal inputs: WGSL lets an implementation flush them to zero, and NVIDIA's Vulkan driver does (see README, numerics).
  const cases = arbProgramWithInputs({ tame: true, maxNodes: 10, subnormals: false });

  it(`matches the interpreter within the f32 policy with the adapter's default variants, ${RUNS} programs`, async () => {
    await fc.assert(
      fc.asyncProperty(cases, async (c) => {
        const why = await checkProgram(c.program, c.inputs);
        if (why) throw new Error(why);
      }),
      { numRuns: RUNS },
    );
  });

  it(`matches with the GPU variants forced (tiled or split-K matmul in turn, workgroup reductions and attention), ${Math.ceil(RUNS / 2)} programs`, async () => {
    let turn = 0;
    await fc.assert(
      fc.asyncProperty(cases, async (c) => {
        const matmul = turn++ % 2 ? 'splitk' : 'tiled';
        const why = await checkProgram(c.program, c.inputs, { matmul, reduce: 'workgroup', attention: 'workgroup' });
        if (why) throw new Error(why);
      }),
      { numRuns: Math.ceil(RUNS / 2) },
    );
  });

  it(`matches with the texture matmul forced (operands packed into textures by prepasses), ${Math.ceil(RUNS / 2)} programs`, async () => {
    await fc.assert(
      fc.asyncProperty(cases, async (c) => {
        const why = await checkProgram(c.program, c.inputs, { matmul: 'texture' });
        if (why) throw new Error(why);
      }),
      { numRuns: Math.ceil(RUNS / 2) },
    );
  });

  it(`matches with the naive matmul and one-row-per-invocation reductions and attention forced, ${Math.ceil(RUNS / 2)} programs`, async () => {
    await fc.assert(
      fc.asyncProperty(cases, async (c) => {
        const why = await checkProgram(c.program, c.inputs, { matmul: 'naive', reduce: 'thread', attention: 'row' });
        if (why) throw new Error(why);
      }),
      { numRuns: Math.ceil(RUNS / 2) },
    );
  });

  // Model-shaped programs are several times larger than random ones (more shaders to compile on llvmpipe): a quarter as many.
  it(`matches on model-shaped programs (stacked blocks, batch > 1) after the whole pipeline under the device's buffer limit, ${Math.ceil(RUNS / 4)} programs`, async () => {
    const { limits } = await testBackend();
    await fc.assert(
      fc.asyncProperty(arbModelWithInputs({ subnormals: false }), async (c) => {
        const { kernels } = compileProgram(c.program, { maxBuffersPerKernel: limits.maxBuffersPerKernel });
        const why = mismatchVsInterpreter(c.program, c.inputs, await runKernels(kernels, c.inputs));
        if (why) throw new Error(why);
      }),
      { numRuns: Math.ceil(RUNS / 4) },
    );
  });
});
