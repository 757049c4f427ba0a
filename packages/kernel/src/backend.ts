import type { KernelProgram } from './kernel.ts';

/** Typed arrays a backend accepts and returns, by dtype: f32 -> Float32Array, i32 -> Int32Array, bool -> Uint8Array. */
export type TensorData = Float32Array | Int32Array | Uint8Array;

/** What a backend can do; lowering and fusion respect these. */
export interface BackendLimits {
  /** Most distinct buffers one kernel may read and write (WebGPU: storage buffers per stage). */
  readonly maxBuffersPerKernel: number;
}

/** A compiled program, ready to run many times. */
export interface Executable {
  /** Runs once. Inputs keyed by program input name (activations and parameters); returns outputs by name. */
  run(inputs: Readonly<Record<string, TensorData>>): Promise<Record<string, TensorData>>;
  /**
   * Places inputs that stay the same across runs (weights) once; later runs
   * may leave them out, and the caller may drop its arrays. Optional: an
   * executable without it is given every input on every run.
   */
  setInputs?(inputs: Readonly<Record<string, TensorData>>): void;
  /** Frees what the executable holds (device buffers, workers). */
  dispose(): void;
}

/**
 * A backend: its name, its limits, and how it compiles a kernel program.
 * Adding a backend means implementing this interface and nothing else.
 */
export interface Backend {
  readonly name: string;
  readonly limits: BackendLimits;
  compile(program: KernelProgram): Promise<Executable>;
}
