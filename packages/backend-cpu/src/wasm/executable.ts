/**
 * Runs a kernel program compiled to WebAssembly: one memory holds every
 * buffer (typed-array views give the JS side and JS fallback kernels
 * access), kernels run in order on this thread or, with threads > 1, on the
 * worker pool over a shared memory.
 */
import { TesseraError } from '@tessera/ir';
import { type Executable, type KernelProgram, type TensorData } from '@tessera/kernel';
import { instantiateJsKernel } from '../js/module.ts';
import { type ThreadPool, getThreadPool, threadsAvailable } from '../threads/pool.ts';
import { type WasmEmitOptions, type WasmProgram, emitWasmProgram } from './program.ts';
import { runtimeImports } from './runtime-imports.ts';

const ARRAY_FOR = { f32: 'Float32Array', i32: 'Int32Array', bool: 'Uint8Array' } as const;

/** Options of the wasm target. */
export interface WasmCompileOptions {
  /** Threads to run kernels on (this thread included); 1 runs everything here. */
  readonly threads?: number;
  /** Kernel kinds to leave to the JS code. */
  readonly jsKinds?: WasmEmitOptions['jsKinds'];
  /** Kernels with less work run on thread 0 alone (0 splits every kernel across the threads, for tests). */
  readonly minParallelWork?: number;
  /** Matmul cache blocking override (tests). */
  readonly blocking?: WasmEmitOptions['blocking'];
}

/** Typed-array views of every buffer in the memory. */
function bufferViews(program: KernelProgram, plan: WasmProgram, memory: WebAssembly.Memory): TensorData[] {
  return program.buffers.map((b, i) => {
    const off = plan.memory.offsets[i]!;
    if (b.dtype === 'f32') return new Float32Array(memory.buffer, off, b.size);
    if (b.dtype === 'i32') return new Int32Array(memory.buffer, off, b.size);
    return new Uint8Array(memory.buffer, off, b.size);
  });
}

/** Compiles a kernel program for the wasm target (SIMD128 kernels, optional worker threads). */
export async function compileWasm(program: KernelProgram, options: WasmCompileOptions = {}): Promise<Executable> {
  // Without worker threads (a browser, for now) the program runs on this thread alone.
  const threads = threadsAvailable() ? Math.max(1, Math.floor(options.threads ?? 1)) : 1;
  const plan = emitWasmProgram(program, { ...options, threads });
  const { pages } = plan.memory;
  const memory = new WebAssembly.Memory(plan.shared ? { initial: pages, maximum: pages, shared: true } : { initial: pages });
  const module = await WebAssembly.compile(plan.bytes);
  const instance = await WebAssembly.instantiate(module, { env: { memory }, m: runtimeImports() });
  const views = bufferViews(program, plan, memory);
  program.buffers.forEach((b, i) => {
    if (!b.data) return;
    if (b.data.length === 1) views[i]!.fill(b.data[0]!);
    else views[i]!.set(b.data);
  });
  const steps: (() => void)[] = plan.kernels.map((k) => {
    if (k.kind === 'js') return instantiateJsKernel(k.source, views);
    const fn = instance.exports[k.exportName] as (tid: number, nt: number, scratch: number) => void;
    const scratch = plan.memory.scratchBase;
    return () => fn(0, 1, scratch);
  });
  let pool: ThreadPool | undefined;
  let handle: number | undefined;
  if (threads > 1) {
    pool = await getThreadPool(threads - 1);
    handle = pool.load(module, memory, plan, threads);
  }
  let disposed = false;
  return {
    async run(inputs) {
      if (disposed) throw new TesseraError('this executable has been disposed');
      for (const { name, buffer } of program.inputs) {
        const decl = program.buffers[buffer]!;
        const v = inputs[name];
        if (!v) throw new TesseraError(`missing input '${name}' (${decl.dtype}[${decl.shape.join(',')}])`);
        if (v.constructor.name !== ARRAY_FOR[decl.dtype]) throw new TesseraError(`input '${name}' must be a ${ARRAY_FOR[decl.dtype]} for dtype ${decl.dtype}, got ${v.constructor.name}`);
        if (v.length !== decl.size) throw new TesseraError(`input '${name}' of shape [${decl.shape.join(',')}] needs ${decl.size} elements, got ${v.length}`);
        views[buffer]!.set(v as never);
      }
      if (pool && handle !== undefined) pool.run(handle, instance, steps, plan);
      else for (const step of steps) step();
      const out: Record<string, TensorData> = {};
      for (const { name, buffer } of program.outputs) out[name] = views[buffer]!.slice();
      return out;
    },
    dispose() {
      if (disposed) return;
      disposed = true;
      if (pool && handle !== undefined) pool.unload(handle);
    },
  };
}
