import { type BackendInfo, type Executable, type TensorData, disposable } from './backend.ts';
import { InputBinder, type Signature, outputRecord } from './inputs.ts';

/**
 * An executable that computes every output at once from a record of all its
 * inputs (the reference interpreter, the kernel evaluator): inputs are
 * checked by the InputBinder like every backend's and copied when given
 * (a run uses them as they are when run() is called; placed ones stay for
 * later runs), and `compute` returns the outputs in signature order within
 * the run() call.
 */
export function hostCopyExecutable(programName: string, signature: Signature, backend: BackendInfo, compute: (inputs: Readonly<Record<string, TensorData>>) => readonly TensorData[]): Executable {
  // Copies of the inputs as placed, by input index.
  const values: TensorData[] = [];
  const binder = new InputBinder(programName, signature.inputs, (i, v) => {
    values[i] = v.slice();
  });
  return disposable({
    ...signature,
    backend,
    setInputs(inputs) {
      binder.setInputs(inputs);
    },
    async run(inputs) {
      binder.bindRun(inputs);
      return outputRecord(signature.outputs, compute(Object.fromEntries(signature.inputs.map(({ name }, i) => [name, values[i]!]))));
    },
    dispose() {
      binder.close();
    },
  });
}
