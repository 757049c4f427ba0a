import { TesseraError } from '@tessera/ir';
import type { Backend, TensorData } from './backend.ts';
import { evaluateKernelProgram } from './evaluate.ts';
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
    let disposed = false;
    return {
      async run(inputs) {
        if (disposed) throw new TesseraError('this executable has been disposed');
        const out = evaluateKernelProgram(program, inputs);
        return Object.fromEntries(program.outputs.map(({ name, buffer }) => [name, toTyped(program.buffers[buffer]!.dtype, out[name]!)]));
      },
      dispose() {
        disposed = true;
      },
    };
  },
};
