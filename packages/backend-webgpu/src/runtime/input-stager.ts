/**
 * Inputs of a WebGPU executable, taken when run() (or setInputs) is called,
 * as the CPU backend takes them: a caller may refill its arrays as soon as
 * the call returns, even though the run is queued behind others. Checked by
 * the kernel package's InputBinder (the same checks and messages as every
 * backend), then written to the device at once when every queued run has
 * already submitted its commands (queue order then keeps earlier runs on the
 * old values, and nothing is copied); otherwise copied now and written by
 * the run itself when its turn comes. Every array given is taken, parameters
 * too; weights placed once with setInputs are written once.
 */
import { type KernelProgram, type TensorData, InputBinder, kernelSignature } from '@tessera/kernel';
import { type StorageData, toStorage } from './host-data.ts';

/** A write of input values into the device buffer of program buffer `buffer`. */
export interface StagedWrite {
  readonly buffer: number;
  readonly data: StorageData;
  readonly param: boolean;
}

/** The inputs of one executable on their way to the device. */
export class InputStager {
  private readonly binder: InputBinder;
  /** Copies taken while a queued run had not submitted yet, for the next run to write, in call order. */
  private carried: StagedWrite[] = [];
  /** Runs taken and not yet submitted. */
  private unsubmitted = 0;
  /** Whether a parameter was written since the last dispatch (the parameter-only prepasses must run). */
  paramsChanged = true;

  constructor(
    private readonly program: KernelProgram,
    /** Writes host data into a program buffer's device buffer now (queue.writeBuffer). */
    private readonly write: (buffer: number, data: StorageData) => void,
  ) {
    this.binder = new InputBinder(program.name, kernelSignature(program).inputs, (i, v) => this.stage(program.inputs[i]!.buffer, v));
  }

  private stage(buffer: number, v: TensorData): void {
    const decl = this.program.buffers[buffer]!;
    const param = decl.role === 'param';
    const data = toStorage(decl.dtype, v);
    if (this.unsubmitted === 0) {
      this.flush(this.carried);
      this.carried = [];
      this.flush([{ buffer, data, param }]);
    } else {
      // toStorage hands back the caller's own array when no conversion was needed: copy it.
      this.carried.push({ buffer, data: (data as unknown) === v ? data.slice() : data, param });
    }
  }

  /** Writes staged values to the device, in order. */
  flush(writes: readonly StagedWrite[]): void {
    for (const w of writes) {
      this.write(w.buffer, w.data);
      if (w.param) this.paramsChanged = true;
    }
  }

  /** Refuses every later call (dispose()); returns whether it was open until now. */
  close(): boolean {
    return this.binder.close();
  }

  /** Throws once closed; `doing` names the call refused. */
  assertOpen(doing: string): void {
    this.binder.assertOpen(doing);
  }

  /** Checks and places inputs later runs may leave out (weights). */
  setInputs(inputs: unknown): void {
    this.binder.setInputs(inputs);
  }

  /**
   * Checks and takes the inputs of a run about to be queued; returns what
   * the run must write when it starts (flush), and counts it until
   * `submitted` is called.
   */
  takeRun(inputs: unknown, doing = 'run()'): StagedWrite[] {
    this.binder.bindRun(inputs, doing);
    const writes = this.carried;
    this.carried = [];
    this.unsubmitted++;
    return writes;
  }

  /** A taken run has submitted its commands, or failed before it could. */
  submitted(): void {
    this.unsubmitted--;
  }
}
