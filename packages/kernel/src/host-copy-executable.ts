import type { Executable, TensorData } from './backend.ts';
import { InputBinder, type InputSlot, outputRecord } from './inputs.ts';

/**
 * An executable that computes every output at once from a record of all its
 * inputs (the reference interpreter, the kernel evaluator): inputs are
 * checked by the InputBinder like every backend's and copied when given
 * (a run uses them as they are when run() is called; placed ones stay for
 * later runs), and `compute` runs within the run() call.
 */
export function hostCopyExecutable(programName: string, slots: readonly InputSlot[], compute: (inputs: Readonly<Record<string, TensorData>>) => Iterable<readonly [string, TensorData]>): Executable {
  // Copies of the inputs as placed, by input index.
  const values: TensorData[] = [];
  const binder = new InputBinder(programName, slots, (i, v) => {
    values[i] = v.slice();
  });
  return {
    setInputs(inputs) {
      binder.setInputs(inputs);
    },
    async run(inputs) {
      binder.bindRun(inputs);
      return outputRecord(compute(Object.fromEntries(slots.map(({ name }, i) => [name, values[i]!]))));
    },
    dispose() {
      binder.close();
    },
  };
}
