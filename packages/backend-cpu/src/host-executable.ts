/**
 * The executable both CPU targets return: program buffers as typed arrays
 * in host memory (JS arrays, or views of a WebAssembly.Memory), inputs
 * checked and copied in by the kernel package's InputBinder, outputs copied
 * out after each run.
 */
import { TesseraError } from '@tessera/ir';
import { type Executable, InputBinder, type KernelProgram, type KernelTiming, type TensorData } from '@tessera/kernel';

/** An executable whose inputs can also be placed once, ahead of the runs. */
export interface HostExecutable extends Executable {
  /**
   * Copies inputs (typically the weights) into the executable's buffers now;
   * later runs use them without copying again unless a run passes them anew.
   * The caller may then drop its own arrays: the buffers hold the only copy.
   */
  setInputs(inputs: Readonly<Record<string, TensorData>>): void;
  /**
   * Runs once on `inputs`, as run does, timing each kernel from its start
   * to the barrier after it (all threads done); resolves to the timings in
   * launch order.
   */
  profile(inputs: Readonly<Record<string, TensorData>>): Promise<KernelTiming[]>;
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
 * appends each kernel's milliseconds to it) as an executable; `variants[i]`
 * says how kernel i runs, for profiles; `release` frees what dispose() should.
 */
export function hostExecutable(
  program: KernelProgram,
  buffers: readonly TensorData[],
  execute: (stepMs?: number[]) => void,
  variants: readonly string[],
  release: () => void = () => {},
): HostExecutable {
  const binder = new InputBinder(program, (buffer, v) => buffers[buffer]!.set(v as never));
  let disposed = false;
  const alive = () => {
    if (disposed) throw new TesseraError('this executable has been disposed');
  };
  return {
    setInputs(inputs) {
      alive();
      binder.setInputs(inputs);
    },
    async run(inputs) {
      alive();
      binder.bindRun(inputs);
      execute();
      const out: Record<string, TensorData> = {};
      for (const { name, buffer } of program.outputs) out[name] = buffers[buffer]!.slice();
      return out;
    },
    async profile(inputs) {
      alive();
      binder.bindRun(inputs);
      const stepMs: number[] = [];
      execute(stepMs);
      return program.kernels.map((k, i) => ({ name: k.name, kind: k.kind, variant: variants[i]!, ms: stepMs[i]!, method: 'host' as const }));
    },
    dispose() {
      if (disposed) return;
      disposed = true;
      release();
    },
  };
}
