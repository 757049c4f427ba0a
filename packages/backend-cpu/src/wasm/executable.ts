/**
 * Runs a kernel program compiled to WebAssembly: one memory holds every
 * buffer (typed-array views give the JS side and JS fallback kernels
 * access), kernels run in order on this thread or, with threads > 1, on the
 * worker pool over a shared memory.
 */
import { type KernelProgram, type TensorData, allocateOrExplain, assertKernelProgram } from '@tessera/kernel';
import { GatherFaultSlots } from '../gather-fault-slots.ts';
import { type HostExecutable, hostExecutable, runSteps } from '../host-executable.ts';
import { instantiateJsKernel } from '../js/module.ts';
import { type ThreadPool, getThreadPool, threadsAvailable } from '../threads/pool.ts';
import { type WasmEmitOptions, type WasmProgram, emitWasmProgram } from './program.ts';
import { packPanels } from './packed-weights.ts';
import { runtimeImports } from './runtime-imports.ts';


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
  /** Fused multiply-adds in the micro-kernel: default where the engine has relaxed SIMD (see WasmEmitOptions). */
  readonly relaxedSimd?: boolean;
}

/** A wasm executable; inputs can also be placed in its memory once, ahead of the runs (setInputs). */
export interface WasmExecutable extends HostExecutable {
  /** Threads each run uses, this one included: the requested count, or 1 where there are no worker threads (see threadHost). */
  readonly threads: number;
  /** Whether the matmul and attention micro-kernel uses fused multiply-adds (relaxed SIMD). */
  readonly relaxedSimd: boolean;
}

/** Typed-array views of every buffer in the memory (empty for parameters with no buffer of their own). */
function bufferViews(program: KernelProgram, plan: WasmProgram, memory: WebAssembly.Memory): TensorData[] {
  const unstored = new Set(plan.unstored);
  return program.buffers.map((b, i) => {
    const off = plan.memory.offsets[i]!;
    if (unstored.has(i)) return new Float32Array(0);
    if (b.dtype === 'f32') return new Float32Array(memory.buffer, off, b.size);
    if (b.dtype === 'i32') return new Int32Array(memory.buffer, off, b.size);
    return new Uint8Array(memory.buffer, off, b.size);
  });
}

/** Compiles a kernel program for the wasm target (SIMD128 kernels, optional worker threads). */
export async function compileWasm(program: KernelProgram, options: WasmCompileOptions = {}): Promise<WasmExecutable> {
  // Cheap next to compiling (about 1 ms for ViT-B/16), and a bad memory plan would be a wrong answer.
  assertKernelProgram(program);
  // Without worker threads (a page that is not cross-origin isolated, say) the program runs on this thread alone.
  const threads = threadsAvailable() ? Math.max(1, Math.floor(options.threads ?? 1)) : 1;
  const plan = emitWasmProgram(program, { ...options, threads });
  const { pages } = plan.memory;
  // The plan fits wasm32; the engine or the machine may still refuse that much.
  const memory = allocateOrExplain('cpu backend (wasm)', `the memory of program @${program.name}`, pages * 65536, () =>
    new WebAssembly.Memory(plan.shared ? { initial: pages, maximum: pages, shared: true } : { initial: pages }),
  );
  const module = await WebAssembly.compile(plan.bytes);
  const instance = await WebAssembly.instantiate(module, { env: { memory }, m: runtimeImports() });
  const views = bufferViews(program, plan, memory);
  program.buffers.forEach((b, i) => {
    if (!b.data) return;
    if (b.data.length === 1) views[i]!.fill(b.data[0]!);
    else views[i]!.set(b.data);
  });
  const faults = GatherFaultSlots.inMemory(program, memory.buffer, plan.memory.faultsBase, threads);
  const steps: (() => void)[] = plan.kernels.map((k) => {
    if (k.kind === 'js') return instantiateJsKernel(k.source, views, faults.record);
    const fn = instance.exports[k.exportName] as (tid: number, nt: number, scratch: number) => void;
    const scratch = plan.memory.scratchBase;
    return () => fn(0, 1, scratch);
  });
  let pool: ThreadPool | undefined;
  let handle: number | undefined;
  if (threads > 1) {
    pool = await getThreadPool(threads - 1);
    // Resolves once every worker holds an instance: a browser cannot start a worker while a run spins on a barrier.
    handle = await pool.load(module, memory, plan, threads);
  }
  // Chunk counters (forEachChunk): zeroed before every run, before any thread starts on it.
  const counters = new Int32Array(memory.buffer, plan.memory.countersBase, plan.kernels.length);
  // f32 weights are packed into their panels as they are bound. Int8 weights are quantized and packed on this thread
  // before the first run after their parameters are bound; a staged parameter's right after it is written, before
  // the next one overwrites the staging area.
  const preparations = plan.preparations.map((p) => ({ fn: instance.exports[p.exportName] as (tid: number, nt: number, scratch: number) => void, buffers: new Set(p.buffers), stale: true }));
  const prepare = (only?: number) => {
    for (const p of preparations) {
      if (!p.stale || (only !== undefined && !p.buffers.has(only))) continue;
      p.fn(0, 1, plan.memory.scratchBase);
      p.stale = false;
    }
  };
  const staged = new Set(plan.staged);
  const unstored = new Set(plan.unstored);
  const memoryF32 = new Float32Array(memory.buffer);
  const place = (buffer: number, values: TensorData) => {
    if (!unstored.has(buffer)) views[buffer]!.set(values as never);
    // The values of an f32 parameter are a Float32Array (InputBinder checks each input's dtype).
    for (const pb of plan.packs) if (pb.buffer === buffer) packPanels(pb, values as Float32Array, memoryF32);
    for (const p of preparations) if (p.buffers.has(buffer)) p.stale = true;
    if (staged.has(buffer)) prepare(buffer);
  };
  const exe = hostExecutable(
    program,
    views,
    faults,
    (stepMs) => {
      prepare();
      counters.fill(0);
      if (pool && handle !== undefined) pool.run(handle, instance, steps, plan, stepMs);
      else runSteps(steps, stepMs);
    },
    plan.kernels.map((k) => (k.kind === 'js' ? `js (${k.reason})` : threads > 1 ? `wasm, ${threads} threads` : 'wasm')),
    { name: 'cpu', target: 'wasm', threads },
    () => {
      if (pool && handle !== undefined) pool.unload(handle);
    },
    place,
  );
  return { ...exe, threads, relaxedSimd: plan.relaxedSimd };
}
