import type { Backend, TensorData } from './backend.ts';
import { assertBufferElements } from './buffer-limits.ts';
import { evaluateKernelProgram } from './evaluate.ts';
import { hostCopyExecutable } from './host-copy-executable.ts';
import { kernelSignature } from './inputs.ts';
import type { KernelProgram } from './kernel.ts';
import { assertKernelProgram } from './verify.ts';

function toTyped(dtype: string, data: Float64Array): TensorData {
  if (dtype === 'f32') return Float32Array.from(data);
  if (dtype === 'i32') return Int32Array.from(data);
  return Uint8Array.from(data);
}

/** The kernel evaluator behind the Backend interface: the simplest backend, and an oracle. */
export const evaluatorBackend: Backend = {
  name: 'eval',
  limits: { maxBuffersPerKernel: Infinity },
  async compile(program: KernelProgram) {
    assertKernelProgram(program);
    // At compile time, as the other backends do: a program it cannot hold is refused before any run.
    assertBufferElements(program, 'kernel evaluator');
    return hostCopyExecutable(program.name, kernelSignature(program), { name: 'eval' }, (inputs) => {
      const out = evaluateKernelProgram(program, inputs);
      return program.outputs.map(({ name, buffer }) => toTyped(program.buffers[buffer]!.dtype, out[name]!));
    });
  },
};
