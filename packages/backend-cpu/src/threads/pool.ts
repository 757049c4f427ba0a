/**
 * One pool of worker_threads per process, created on first use, grown when
 * an executable asks for more threads, and reused by every executable. A
 * run posts `run` to the workers it needs, then the calling thread works as
 * thread 0 (and runs the JS fallback kernels alone); after every kernel all
 * threads meet at an Atomics barrier in the pool's control block. The
 * calling thread blocks until the run is complete (Node allows Atomics.wait
 * on the main thread; browsers do not, so Web Workers are not supported yet).
 */
import type { Worker } from 'node:worker_threads';
import { TesseraError } from '@tessera/ir';
import type { WasmProgram } from '../wasm/program.ts';
import { CTRL, control, recordedError } from './control.ts';
import { WORKER_SOURCE, type WorkerMessage } from './worker-source.ts';

/** The worker_threads Worker constructor (imported lazily). */
type WorkerClass = typeof Worker;

/** The process's worker pool. */
export class ThreadPool {
  private readonly workers: Worker[] = [];
  private readonly ctrlBuffer = new SharedArrayBuffer(CTRL.size * 4);
  private readonly ctrl = new Int32Array(this.ctrlBuffer);
  private nextId = 1;
  /** Program id -> the threads it was loaded for. */
  private readonly loaded = new Map<number, number>();

  constructor(private readonly WorkerImpl: WorkerClass) {}

  /** Number of workers (the calling thread not counted). */
  get size(): number {
    return this.workers.length;
  }

  /** Starts workers until there are at least `n`. */
  ensure(n: number): void {
    while (this.workers.length < n) {
      const w = new this.WorkerImpl(WORKER_SOURCE, { eval: true });
      // Idle workers must not keep the process alive.
      w.unref();
      w.on('error', (e: unknown) => {
        // A worker that dies mid-run would leave the others waiting: record it for the next run to report.
        control.recordError(this.ctrl, e);
      });
      this.post(w, { type: 'init', ctrl: this.ctrlBuffer });
      this.workers.push(w);
    }
  }

  private post(w: Worker, m: WorkerMessage): void {
    w.postMessage(m);
  }

  /** Sends a compiled program to the workers a `threads`-thread run needs; returns its id. */
  load(module: WebAssembly.Module, memory: WebAssembly.Memory, plan: WasmProgram, threads: number): number {
    this.ensure(threads - 1);
    const id = this.nextId++;
    const kernels = plan.kernels.map((k) => (k.kind === 'wasm' ? k.exportName : null));
    for (let t = 0; t < threads - 1; t++) {
      this.post(this.workers[t]!, { type: 'load', id, module, memory, kernels, scratchBase: plan.memory.scratchBase, scratchBytes: plan.memory.scratchBytes });
    }
    this.loaded.set(id, threads);
    return id;
  }

  /** Forgets a program in every worker that holds it. */
  unload(id: number): void {
    const threads = this.loaded.get(id);
    if (threads === undefined) return;
    this.loaded.delete(id);
    for (let t = 0; t < threads - 1; t++) this.post(this.workers[t]!, { type: 'unload', id });
  }

  /**
   * Runs program `id`: the workers and this thread each take their share of
   * every kernel, meeting at a barrier after each. `steps[i]` runs kernel i
   * on this thread as thread 0 (all of it, for JS kernels). Throws the first
   * error any thread hit.
   */
  run(id: number, instance: WebAssembly.Instance, steps: readonly (() => void)[], plan: WasmProgram): void {
    const threads = this.loaded.get(id);
    if (threads === undefined) throw new TesseraError(`program ${id} is not loaded in the thread pool`);
    const ctrl = this.ctrl;
    Atomics.store(ctrl, CTRL.error, 0);
    Atomics.store(ctrl, CTRL.count, 0);
    for (let t = 0; t < threads - 1; t++) this.post(this.workers[t]!, { type: 'run', id, tid: t + 1, threads, steps: plan.kernels.length });
    const scratch = plan.memory.scratchBase;
    plan.kernels.forEach((k, i) => {
      if (Atomics.load(ctrl, CTRL.error) === 0) {
        try {
          if (k.kind === 'wasm') (instance.exports[k.exportName] as (t: number, n: number, s: number) => void)(0, threads, scratch);
          else steps[i]!();
        } catch (e) {
          control.recordError(ctrl, e);
        }
      }
      control.barrier(ctrl, threads);
    });
    const message = recordedError(ctrl);
    if (message !== undefined) {
      // Keep the error's kind where it says (gather range errors are RangeErrors).
      if (message.startsWith('RangeError: ')) throw new RangeError(message.slice('RangeError: '.length));
      throw new TesseraError(message);
    }
  }
}

let pool: ThreadPool | undefined;

/**
 * Whether worker threads can run wasm kernels here: Node's worker_threads,
 * SharedArrayBuffer, and a main thread allowed to block in Atomics.wait.
 * (Browsers: Web Workers when crossOriginIsolated are not implemented yet.)
 */
export function threadsAvailable(): boolean {
  const proc = (globalThis as { process?: { versions?: { node?: string } } }).process;
  return typeof SharedArrayBuffer === 'function' && typeof Atomics === 'object' && proc?.versions?.node !== undefined;
}

/** The process's pool, started (on first use) or grown to at least `workers` workers. */
export async function getThreadPool(workers: number): Promise<ThreadPool> {
  if (!pool) {
    // Imported lazily so the package still loads where node:worker_threads does not exist.
    const { Worker: WorkerImpl } = await import('node:worker_threads');
    pool ??= new ThreadPool(WorkerImpl);
  }
  pool.ensure(workers);
  return pool;
}
