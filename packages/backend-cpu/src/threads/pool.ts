/**
 * One pool of workers per process (or page), created on first use, grown
 * when an executable asks for more threads, and reused by every executable:
 * Node's worker_threads, or Web Workers in a cross-origin isolated page. A
 * run posts `run` to the workers it needs, then the calling thread works as
 * thread 0 (and runs the JS fallback kernels alone); after every kernel all
 * threads meet at an Atomics barrier in the pool's control block. The
 * calling thread stays in the run until it is complete: it sleeps on the
 * futex where it may (Node), and only spins where it may not (a browser's
 * main thread).
 */
import type { Worker as NodeWorker } from 'node:worker_threads';
import { TesseraError } from '@tessera/ir';
import type { WasmProgram } from '../wasm/program.ts';
import { CTRL, control, recordedError, threadMayBlock } from './control.ts';
import { WORKER_SOURCE, type WorkerMessage, type WorkerReply } from './worker-source.ts';

/** Where the pool's workers come from. */
export type ThreadHost = 'node' | 'browser';

/** A started worker, whichever kind. */
interface PoolWorker {
  post(m: WorkerMessage): void;
  /** Whether the worker keeps the process alive (Node): only while a load awaits its acknowledgement. */
  hold(held: boolean): void;
}

/** Starts one worker running WORKER_SOURCE, wired to the pool's handlers. */
type WorkerFactory = (onReply: (m: WorkerReply) => void, onError: (e: unknown) => void) => PoolWorker;

/** A Node built-in, reached without an import a bundler would try to resolve (Node >= 20.16). */
function nodeBuiltin<T>(id: string): T | undefined {
  const proc = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process;
  return typeof proc?.getBuiltinModule === 'function' ? (proc.getBuiltinModule(id) as T) : undefined;
}

/** worker_threads Workers evaluating the source text; idle workers must not keep the process alive, one being awaited must. */
function nodeWorkers(): WorkerFactory {
  const wt = nodeBuiltin<{ Worker: typeof NodeWorker }>('node:worker_threads');
  if (!wt) throw new TesseraError('thread pool: node:worker_threads is not reachable (process.getBuiltinModule needs Node >= 20.16)');
  return (onReply, onError) => {
    const w = new wt.Worker(WORKER_SOURCE, { eval: true });
    w.on('message', onReply);
    w.on('error', onError);
    // After the listeners: adding a 'message' listener refs the worker again.
    w.unref();
    return { post: (m) => w.postMessage(m), hold: (held) => (held ? w.ref() : w.unref()) };
  };
}

/** Web Workers started from one Blob URL of the same source text (a page's bundle has no worker file to point at). */
function webWorkers(): WorkerFactory {
  const url = URL.createObjectURL(new Blob([WORKER_SOURCE], { type: 'text/javascript' }));
  return (onReply, onError) => {
    const w = new Worker(url, { name: 'tessera-cpu' });
    w.addEventListener('message', (e: MessageEvent<WorkerReply>) => onReply(e.data));
    w.addEventListener('error', (e: ErrorEvent) => onError(new Error(`a Web Worker of the thread pool failed: ${e.message || 'it could not start'}`)));
    // A page stays open whatever its workers do.
    return { post: (m) => w.postMessage(m), hold: () => {} };
  };
}

/** A program being loaded: acknowledgements still awaited. */
interface PendingLoad {
  remaining: number;
  resolve(): void;
  reject(e: Error): void;
}

/** The process's worker pool. */
export class ThreadPool {
  private readonly workers: PoolWorker[] = [];
  private readonly ctrlBuffer = new SharedArrayBuffer(CTRL.size * 4);
  private readonly ctrl = new Int32Array(this.ctrlBuffer);
  private nextId = 1;
  /** Program id -> the threads it was loaded for. */
  private readonly loaded = new Map<number, number>();
  private readonly pending = new Map<number, PendingLoad>();
  /** Whether the calling thread may sleep in Atomics.wait at a barrier (not a browser's main thread). */
  private readonly mayBlock = threadMayBlock();

  constructor(
    /** Where the workers come from. */
    readonly host: ThreadHost,
    private readonly startWorker: WorkerFactory,
  ) {}

  /** Number of workers (the calling thread not counted). */
  get size(): number {
    return this.workers.length;
  }

  /** Starts workers until there are at least `n`. */
  ensure(n: number): void {
    while (this.workers.length < n) {
      const w = this.startWorker(
        (m) => this.onReply(m),
        (e) => {
          // A worker that dies would leave the others waiting at a barrier, or a load unacknowledged: record it for the next run, fail pending loads.
          control.recordError(this.ctrl, e);
          for (const [id, p] of this.pending) {
            this.settle(id);
            this.unload(id);
            p.reject(e instanceof Error ? e : new TesseraError(String(e)));
          }
        },
      );
      w.post({ type: 'init', ctrl: this.ctrlBuffer });
      this.workers.push(w);
    }
  }

  private onReply(m: WorkerReply): void {
    const p = this.pending.get(m.id);
    if (!p) return;
    if (m.error !== undefined) {
      this.settle(m.id);
      // The workers that did instantiate it drop their instance.
      this.unload(m.id);
      p.reject(new TesseraError(`thread pool: a worker could not instantiate program ${m.id}: ${m.error}`));
    } else if (--p.remaining === 0) {
      this.settle(m.id);
      p.resolve();
    }
  }

  /** Forgets a pending load; the workers let the process exit once none is left. */
  private settle(id: number): void {
    this.pending.delete(id);
    if (this.pending.size === 0) for (const w of this.workers) w.hold(false);
  }

  /**
   * Sends a compiled program to the workers a `threads`-thread run needs and
   * resolves with its id once every one has instantiated it: a browser
   * starts workers only while its main thread is free, so the first run
   * must not begin (and spin on a barrier) before they are there.
   */
  load(module: WebAssembly.Module, memory: WebAssembly.Memory, plan: WasmProgram, threads: number): Promise<number> {
    this.ensure(threads - 1);
    const id = this.nextId++;
    const kernels = plan.kernels.map((k) => (k.kind === 'wasm' ? k.exportName : null));
    this.loaded.set(id, threads);
    if (threads === 1) return Promise.resolve(id);
    const acknowledged = new Promise<number>((resolve, reject) => {
      this.pending.set(id, { remaining: threads - 1, resolve: () => resolve(id), reject });
    });
    for (const w of this.workers) w.hold(true);
    for (let t = 0; t < threads - 1; t++) {
      this.workers[t]!.post({ type: 'load', id, module, memory, kernels, scratchBase: plan.memory.scratchBase, scratchBytes: plan.memory.scratchBytes });
    }
    return acknowledged;
  }

  /** Forgets a program in every worker that holds it. */
  unload(id: number): void {
    const threads = this.loaded.get(id);
    if (threads === undefined) return;
    this.loaded.delete(id);
    for (let t = 0; t < threads - 1; t++) this.workers[t]!.post({ type: 'unload', id });
  }

  /**
   * Runs program `id`: the workers and this thread each take their share of
   * every kernel, meeting at a barrier after each. `steps[i]` runs kernel i
   * on this thread as thread 0 (all of it, for JS kernels); with `stepMs`,
   * each kernel's milliseconds up to the barrier after it are appended.
   * Throws the first error any thread hit.
   */
  run(id: number, instance: WebAssembly.Instance, steps: readonly (() => void)[], plan: WasmProgram, stepMs?: number[]): void {
    const threads = this.loaded.get(id);
    if (threads === undefined || this.pending.has(id)) throw new TesseraError(`program ${id} is not loaded in the thread pool`);
    const ctrl = this.ctrl;
    Atomics.store(ctrl, CTRL.error, 0);
    Atomics.store(ctrl, CTRL.count, 0);
    for (let t = 0; t < threads - 1; t++) this.workers[t]!.post({ type: 'run', id, tid: t + 1, threads, steps: plan.kernels.length });
    const scratch = plan.memory.scratchBase;
    plan.kernels.forEach((k, i) => {
      const t0 = stepMs ? performance.now() : 0;
      if (Atomics.load(ctrl, CTRL.error) === 0) {
        try {
          if (k.kind === 'wasm') (instance.exports[k.exportName] as (t: number, n: number, s: number) => void)(0, threads, scratch);
          else steps[i]!();
        } catch (e) {
          control.recordError(ctrl, e);
        }
      }
      control.barrier(ctrl, threads, this.mayBlock);
      stepMs?.push(performance.now() - t0);
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
 * Where worker threads can run wasm kernels here, or undefined: Node (with
 * process.getBuiltinModule), or a cross-origin isolated page (COOP
 * same-origin + COEP require-corp) with Worker and SharedArrayBuffer;
 * anywhere else kernels run on the calling thread alone.
 */
export function threadHost(): ThreadHost | undefined {
  if (typeof SharedArrayBuffer !== 'function' || typeof Atomics !== 'object') return undefined;
  const g = globalThis as { process?: { versions?: { node?: string }; getBuiltinModule?: unknown }; crossOriginIsolated?: boolean; Worker?: unknown };
  if (g.process?.versions?.node !== undefined) return typeof g.process.getBuiltinModule === 'function' ? 'node' : undefined;
  if (g.crossOriginIsolated === true && typeof g.Worker === 'function' && typeof Blob === 'function') return 'browser';
  return undefined;
}

/** Whether worker threads can run wasm kernels here (see threadHost). */
export function threadsAvailable(): boolean {
  return threadHost() !== undefined;
}

/** The process's pool, started (on first use) or grown to at least `workers` workers. */
export async function getThreadPool(workers: number): Promise<ThreadPool> {
  if (!pool) {
    const host = threadHost();
    if (!host) throw new TesseraError('thread pool: no worker threads here (Node >= 20.16, or a cross-origin isolated page, is needed)');
    pool = new ThreadPool(host, host === 'node' ? nodeWorkers() : webWorkers());
  }
  pool.ensure(workers);
  return pool;
}
