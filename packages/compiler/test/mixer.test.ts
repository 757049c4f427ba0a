/**
 * The model that found the memory-plan bug (examples/mixer.ts: a Linear
 * stem and one MLP-Mixer block, input f32[2,16,32]) agrees with the
 * interpreter on every backend. Batch element 1 was wrong on cpu (js and
 * wasm) because an in-place residual add was planned partly over both of
 * its operands.
 */
import { describe, expect, it } from 'vitest';
import { trace } from '@tessera/frontend';
import { inputsFor, mismatchVsInterpreter } from '@tessera/harness';
import { verifyMemoryPlan } from '@tessera/kernel';
import { compileProgram } from '@tessera/passes';
import { createCpuBackend } from '@tessera/backend-cpu';
import mixer, { inputs as specs } from '../../../examples/mixer.ts';
import { type Executable, compile } from '../src/index.ts';

const program = trace(mixer, specs, { name: 'mixer' });
const values = inputsFor(program, 12, { paramMax: 0.2 });

describe('the MLP-Mixer of examples/mixer.ts', () => {
  it('gets a memory plan whose in-place residual add shares bytes only exactly with an operand', () => {
    const { kernels } = compileProgram(program);
    expect(verifyMemoryPlan(kernels)).toEqual([]);
    const add = kernels.kernels.find((k) => k.kind === 'map' && k.name.endsWith('_add'))!;
    expect(add, 'the token-mixing residual add is a kernel of its own').toBeDefined();
  });

  const configurations: [string, () => Promise<Executable>][] = [
    ['eval', () => compile(program, { backend: 'eval' })],
    ['cpu (js)', () => createCpuBackend({ target: 'js' }).compile(compileProgram(program).kernels)],
    ['cpu (wasm, 1 thread)', () => createCpuBackend({ threads: 1 }).compile(compileProgram(program).kernels)],
    ['cpu (wasm, 2 threads)', () => createCpuBackend({ threads: 2 }).compile(compileProgram(program).kernels)],
    ['webgpu', () => compile(program, { backend: 'webgpu' })],
  ];
  for (const [name, make] of configurations) {
    it(`agrees with the interpreter on ${name}, both batch elements`, async () => {
      const exe = await make();
      try {
        expect(mismatchVsInterpreter(program, values, await exe.run(values))).toBeUndefined();
      } finally {
        exe.dispose();
      }
    });
  }

});
