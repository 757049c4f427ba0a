import { type DType, TesseraError, byteSize } from '@tessera/ir';
import { type Backend, type Executable, type KernelProgram, type TensorData, allocateOrExplain, assertBufferElements, assertKernelProgram, describeBuffer } from '@tessera/kernel';
import { GatherFaultSlots } from './gather-fault-slots.ts';
import { type HostExecutable, hostExecutable, runSteps } from './host-executable.ts';
import { emitJsProgram, instantiateJsKernel } from './js/module.ts';
import { compileWasm } from './wasm/executable.ts';

/** Allocates the typed array backing a buffer of `dtype`. */
export function allocate(dtype: DType, size: number): TensorData {
  return dtype === 'f32' ? new Float32Array(size) : dtype === 'i32' ? new Int32Array(size) : new Uint8Array(size);
}

/** A typed array of `dtype` over `size` elements of `arena` from byte `offset`. */
function view(arena: ArrayBuffer, dtype: DType, offset: number, size: number): TensorData {
  return dtype === 'f32' ? new Float32Array(arena, offset, size) : dtype === 'i32' ? new Int32Array(arena, offset, size) : new Uint8Array(arena, offset, size);
}


/** Who refuses a program too large for the JS target. */
const JS_TARGET = 'cpu backend (js)';

/**
 * Compiles a kernel program to JavaScript closures: buffers are allocated
 * once, kernels compiled once, and each run copies inputs in, launches the
 * kernels in order and copies outputs out.
 */
export function compileJs(program: KernelProgram): HostExecutable {
  // Cheap next to compiling, and a bad memory plan would be a wrong answer.
  assertKernelProgram(program);
  assertBufferElements(program, JS_TARGET);
  const src = emitJsProgram(program);
  // Temporaries placed by the memory plan are views into one arena.
  const arenaBytes = program.arenaBytes ?? 0;
  const arena = allocateOrExplain(JS_TARGET, `the arena of temporaries of program @${program.name}`, arenaBytes, () => new ArrayBuffer(arenaBytes));
  const buffers = program.buffers.map((b) => {
    const arr =
      b.arenaOffset !== undefined
        ? view(arena, b.dtype, b.arenaOffset, b.size)
        : allocateOrExplain(JS_TARGET, `buffer ${describeBuffer(b)}`, b.size * byteSize(b.dtype), () => allocate(b.dtype, b.size));
    if (b.data) {
      if (b.data.length === 1) arr.fill(b.data[0]!);
      else arr.set(b.data);
    }
    return arr;
  });
  const faults = GatherFaultSlots.inArray(program);
  const kernels = src.kernels.map((k) => instantiateJsKernel(k, buffers, faults.record));
  return hostExecutable(program, buffers, faults, (stepMs) => runSteps(kernels, stepMs), kernels.map(() => 'js'), { name: 'cpu', target: 'js', threads: 1 });
}

/** Options of the CPU backend. */
export interface CpuBackendOptions {
  /** `wasm`: WebAssembly SIMD128 kernels (the default); `js`: generated JavaScript (float64 registers). */
  readonly target?: 'wasm' | 'js';
  /** Threads for the wasm target, this one included (default: every core, `os.availableParallelism()`). */
  readonly threads?: number;
}

/** Every core this process may use (Node's os.availableParallelism; a browser's navigator.hardwareConcurrency). */
export async function defaultThreads(): Promise<number> {
  const nav = (globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator;
  if (nav?.hardwareConcurrency) return nav.hardwareConcurrency;
  // Through process.getBuiltinModule, not an import, so a browser bundle has no node:os to resolve.
  const proc = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process;
  const os = typeof proc?.getBuiltinModule === 'function' ? (proc.getBuiltinModule('node:os') as typeof import('node:os') | undefined) : undefined;
  if (!os) return 1;
  return Math.max(1, typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length);
}

/**
 * The most threads a CPU backend takes (256: more cores than current machines
 * have). Each thread is a worker with its own instance of the kernels; a
 * thousand of them took 6.6 GB and 8 s per run of a tiny model.
 */
export const MAX_THREADS = 256;

/** A CPU backend with the given target and thread count. */
export function createCpuBackend(options: CpuBackendOptions = {}): Backend {
  const target = options.target ?? 'wasm';
  if (target !== 'wasm' && target !== 'js') throw new TesseraError(`cpu backend: target '${String(target)}' is not 'wasm' or 'js'`);
  const threads = options.threads;
  if (threads !== undefined && (!Number.isInteger(threads) || threads < 1 || threads > MAX_THREADS)) throw new TesseraError(`cpu backend: threads must be an integer in [1, ${MAX_THREADS}], got ${threads}`);
  return {
    name: 'cpu',
    limits: { maxBuffersPerKernel: Infinity },
    async compile(program) {
      return target === 'js' ? compileJs(program) : compileWasm(program, { threads: threads ?? (await defaultThreads()) });
    },
  };
}

/** The CPU backend with its defaults: wasm kernels on every core. */
export const cpuBackend: Backend = createCpuBackend();
