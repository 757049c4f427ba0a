import { TesseraError } from '@tessera/ir';
import type { Backend, TensorData } from './backend.ts';
import { evaluateKernelProgram } from './evaluate.ts';
import { InputBinder, kernelInputSlots, outputRecord } from './inputs.ts';
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
    const alive = () => {
      if (disposed) throw new TesseraError('this executable has been disposed');
    };
    // Copies of the inputs as placed, by input index (weights stay between runs).
    const values: TensorData[] = [];
    const binder = new InputBinder(program.name, kernelInputSlots(program), (i, v) => {
      values[i] = v.slice();
    });
    return {
      setInputs(inputs) {
        alive();
        binder.setInputs(inputs);
      },
      async run(inputs) {
        alive();
        binder.bindRun(inputs);
        const out = evaluateKernelProgram(program, Object.fromEntries(program.inputs.map(({ name }, i) => [name, values[i]!])));
        return outputRecord(program.outputs.map(({ name, buffer }) => [name, toTyped(program.buffers[buffer]!.dtype, out[name]!)]));
      },
      dispose() {
        disposed = true;
      },
    };
  },
};
