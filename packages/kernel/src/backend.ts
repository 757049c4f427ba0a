// Executables are Disposable: consumers get the lib that declares Symbol.dispose from our declarations, whatever their own `lib`.
/// <reference lib="esnext.disposable" preserve="true" />
import './dispose-symbol.ts';
import type { HostTensor, TensorArray, TensorLike } from './host-tensor.ts';
import type { InputInfo, TensorInfo } from './input-value.ts';
import type { KernelProgram } from './kernel.ts';

/** Typed arrays a backend holds and copies in, by dtype: f32 -> Float32Array, i32 -> Int32Array, bool -> Uint8Array. */
export type TensorData = Float32Array | Int32Array | Uint8Array;

/** A value `run()` takes for one input: a tensor (anything with data and dims) or a bare typed array of the input's element count. */
export type InputValue = TensorLike | TensorArray;

/** The inputs of a run, keyed by program input name. */
export type Inputs = Readonly<Record<string, InputValue>>;

/** The outputs of a run, keyed by program output name. */
export type Outputs = Record<string, HostTensor<TensorInfo['dtype']>>;

/** What a backend can do; lowering and fusion respect these. */
export interface BackendLimits {
  /** Most distinct buffers one kernel may read and write (WebGPU: storage buffers per stage). */
  readonly maxBuffersPerKernel: number;
}

/** The adapter a WebGPU device runs on, as GPUAdapterInfo names it. */
export interface AdapterInfo {
  readonly vendor: string;
  readonly architecture: string;
  readonly device: string;
  readonly description: string;
}

/** Where an executable runs, as it describes itself. */
export interface BackendInfo {
  /** The backend's name, as `compile({ backend })` takes it: interp, eval, cpu, webgpu. */
  readonly name: string;
  /** CPU: the code its kernels are (`wasm` or `js`). */
  readonly target?: string;
  /** CPU: the threads each run uses, this one included. */
  readonly threads?: number;
  /** WebGPU: the adapter its device was created on. */
  readonly adapter?: AdapterInfo;
}

/**
 * A compiled program, ready to run many times. Disposable: `using exe =
 * await compile(...)` frees it at the end of the block. A backend builds
 * one as `disposable({ ...kernelSignature(program), backend, run, dispose })`,
 * its inputs checked by an InputBinder and its outputs made by outputRecord.
 */
export interface Executable {
  /** The program's inputs in order: name, dtype, dims, and whether each is an activation or a parameter. */
  readonly inputs: readonly InputInfo[];
  /** The program's outputs in order: name, dtype, dims. */
  readonly outputs: readonly TensorInfo[];
  /** The backend it runs on, with its target and threads (CPU) or adapter (WebGPU). */
  readonly backend: BackendInfo;
  /** Runs once. Inputs keyed by program input name (activations and parameters); returns output tensors by name. */
  run(inputs: Inputs): Promise<Outputs>;
  /**
   * Places inputs that stay the same across runs (weights) once; later runs
   * may leave them out, and the caller may drop its arrays. Optional: an
   * executable without it is given every input on every run.
   */
  setInputs?(inputs: Inputs): void;
  /** Frees what the executable holds (device buffers, workers); idempotent. Runs called before it complete; later calls fail. */
  dispose(): void;
  /** The same as dispose(): what `using` calls at the end of its block. */
  [Symbol.dispose](): void;
}

/**
 * A backend: its name, its limits, and how it compiles a kernel program.
 * Adding a backend means implementing this interface and nothing else.
 */
export interface Backend {
  readonly name: string;
  readonly limits: BackendLimits;
  /** Precisions `compile` accepts besides f32 (WebGPU: f16 where the adapter has shader-f16). */
  readonly precisions?: readonly 'f16'[];
  compile(program: KernelProgram, options?: BackendCompileOptions): Promise<Executable>;
}

/** What `compile()` passes a backend besides the program. */
export interface BackendCompileOptions {
  /** Arithmetic precision: 'f16' only where the backend says it has it (`precisions`); absent means f32. */
  readonly precision?: 'f32' | 'f16';
}

/** An executable as a backend builds it, before `disposable` adds Symbol.dispose. */
export type ExecutableParts<E extends Executable> = Omit<E, typeof Symbol.dispose>;

/** Completes an executable with `[Symbol.dispose]`, which calls its dispose(). */
export function disposable<E extends Executable>(parts: ExecutableParts<E>): E {
  return Object.assign(parts, { [Symbol.dispose]: () => parts.dispose() }) as unknown as E;
}
