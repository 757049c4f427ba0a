/**
 * The executable both CPU targets return: program buffers as typed arrays
 * in host memory (JS arrays, or views of a WebAssembly.Memory), inputs
 * checked and copied in by the kernel package's InputBinder, kernels run at
 * the call (so a run uses its inputs as they are when run() is called), the
 * gather fault slots checked and outputs copied out after each run.
 */
import { type BackendInfo, type Executable, type Inputs, InputBinder, type KernelProgram, type KernelTiming, type TensorData, disposable, kernelSignature, outputRecord } from '@tessera/kernel';
import type { GatherFaultSlots } from './gather-fault-slots.ts';

/** An executable whose inputs can also be placed once, ahead of the runs. */
export interface HostExecutable extends Executable {
  readonly backend: BackendInfo & { readonly name: 'cpu'; readonly target: 'wasm' | 'js'; readonly threads: number };
  /**
   * Copies inputs (typically the weights) into the executable's buffers now;
   * later runs use them without copying again unless a run passes them anew.
   * The caller may then drop its own arrays: the buffers hold the only copy.
   */
  setInputs(inputs: Inputs): void;
  /**
   * Runs once on `inputs`, as run does, timing each kernel from its start
   * to the barrier after it (all threads done); resolves to the timings in
   * launch order.
   */
  profile(inputs: Inputs): Promise<KernelTiming[]>;
}

/** Runs every step in order; with `stepMs`, appends each one's milliseconds to it. */
export function runSteps(steps: readonly (() => void)[], stepMs?: number[]): void {
  for (const step of steps) {
    if (!stepMs) {
      step();
      continue;
    }
    const t0 = performance.now();
    step();
    stepMs.push(performance.now() - t0);
  }
}

/**
 * Wraps `execute` (runs every kernel once over `buffers`; with `stepMs`,
 * appends each kernel's milliseconds to it) as an executable; `faults` are
 * where its kernels record out-of-range gather indices; `variants[i]` says
 * how kernel i runs, for profiles; `backend` is what it says it runs on;
 * `release` frees what dispose() should; `place` copies an input's values
 * into its buffer (the wasm target also packs weights there, or only packs
 * them when they have no buffer of their own).
 */
export function hostExecutable(
  program: KernelProgram,
  buffers: readonly TensorData[],
  faults: GatherFaultSlots,
  execute: (stepMs?: number[]) => void,
  variants: readonly string[],
  backend: HostExecutable['backend'],
  release: () => void = () => {},
  place: (buffer: number, values: TensorData) => void = (buffer, values) => buffers[buffer]!.set(values as never),
): HostExecutable {
  const signature = kernelSignature(program);
  const binder = new InputBinder(program.name, signature.inputs, (i, v) => place(program.inputs[i]!.buffer, v));
  const checked = (stepMs?: number[]) => {
    faults.reset();
    execute(stepMs);
    faults.check();
  };
  return disposable<HostExecutable>({
    ...signature,
    backend,
    setInputs(inputs) {
      binder.setInputs(inputs);
    },
    async run(inputs) {
      binder.bindRun(inputs);
      checked();
      return outputRecord(
        signature.outputs,
        program.outputs.map(({ buffer }) => buffers[buffer]!.slice()),
      );
    },
    async profile(inputs) {
      binder.bindRun(inputs, 'profile()');
      const stepMs: number[] = [];
      checked(stepMs);
      return program.kernels.map((k, i) => ({ name: k.name, kind: k.kind, variant: variants[i]!, ms: stepMs[i]!, method: 'host' as const }));
    },
    dispose() {
      if (binder.close()) release();
    },
  });
}
