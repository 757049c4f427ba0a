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
 *
 * Workers can die (terminated, an uncaught error, process.exit): the
 * calling thread cannot see a worker's 'exit' event while it sits in a
 * barrier, so in Node a watcher thread (watcher-source.ts) marks a dead
 * worker's slot and wakes the run, which then fails with the reason. Dead
 * workers are replaced (and sent every program loaded) before the next run
 * or load, so that run works; a death while idle fails the next run, so no
 * error is lost; a load a dead worker never acknowledged is rejected.
 */
import type { Worker as NodeWorker, MessageChannel as NodeMessageChannel } from 'node:worker_threads';
import { TesseraError } from '@tessera/ir';
import type { WasmProgram } from '../wasm/program.ts';
import { CTRL, SLOT, WORKER_STATE, clearError, control, deathReason, recordedError, threadMayBlock, waitWhile } from './control.ts';
import { WATCHER_SOURCE, type WatcherMessage } from './watcher-source.ts';
import { type InjectedFault, WORKER_SOURCE, type WorkerMessage, type WorkerReply } from './worker-source.ts';

/** Where the pool's workers come from. */
export type ThreadHost = 'node' | 'browser';

/** Why a worker died, when neither it nor its exit event said (yet): nothing of it ran. */
const STOPPED = 'its thread was stopped: terminate(), or out of memory';

/** A started worker, whichever kind. */
interface PoolWorker {
  post(m: WorkerMessage, transfer?: readonly unknown[]): void;
  /** Whether the worker keeps the process alive (Node): only while a load awaits its acknowledgement. */
  hold(held: boolean): void;
  /** Stops the worker; its onExit follows. */
  terminate(): void;
}

/** What a worker tells the pool. */
interface WorkerEvents {
  onReply(m: WorkerReply): void;
  /** Its thread has ended (or, in a browser, it failed and was terminated): `reason` says how, where the worker could not. */
  onExit(reason: string): void;
}

/** Where workers come from: how to start one, and (Node) how to have the watcher watch one. */
interface WorkerSource {
  start(events: WorkerEvents): PoolWorker;
  /** Starts the watcher over `ctrl`; the function it returns hands it a worker's slot and returns the worker's end of the channel. */
  startWatcher?(ctrl: SharedArrayBuffer): (slot: SharedArrayBuffer) => unknown;
}

/** A Node built-in, reached without an import a bundler would try to resolve (Node >= 20.16). */
function nodeBuiltin<T>(id: string): T | undefined {
  const proc = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process;
  return typeof proc?.getBuiltinModule === 'function' ? (proc.getBuiltinModule(id) as T) : undefined;
}

/** worker_threads Workers evaluating the source text, and a watcher; idle workers must not keep the process alive, one being awaited must. */
function nodeWorkers(): WorkerSource {
  const wt = nodeBuiltin<{ Worker: typeof NodeWorker; MessageChannel: typeof NodeMessageChannel }>('node:worker_threads');
  if (!wt) throw new TesseraError('thread pool: node:worker_threads is not reachable (process.getBuiltinModule needs Node >= 20.16)');
  return {
    start(events) {
      const w = new wt.Worker(WORKER_SOURCE, { eval: true });
      w.on('message', events.onReply);
      // The worker notes its own uncaught error; 'exit' follows either way. A listener must be there, or Node rethrows here.
      w.on('error', () => {});
      w.on('exit', (code) => events.onExit(`${STOPPED} (exit code ${code})`));
      // After the listeners: adding a 'message' listener refs the worker again.
      w.unref();
      return { post: (m, transfer) => w.postMessage(m, transfer as never), hold: (held) => (held ? w.ref() : w.unref()), terminate: () => void w.terminate() };
    },
    startWatcher(ctrl) {
      const watcher = new wt.Worker(WATCHER_SOURCE, { eval: true });
      watcher.on('error', () => {});
      watcher.unref();
      const post = (m: WatcherMessage, transfer: unknown[] = []) => watcher.postMessage(m, transfer as never);
      post({ type: 'init', ctrl });
      return (slot) => {
        const { port1, port2 } = new wt.MessageChannel();
        post({ type: 'watch', port: port2 as unknown as MessagePort, slot }, [port2]);
        return port1;
      };
    },
  };
}

/** Web Workers started from one Blob URL of the same source text (a page's bundle has no worker file to point at). */
function webWorkers(): WorkerSource {
  const url = URL.createObjectURL(new Blob([WORKER_SOURCE], { type: 'text/javascript' }));
  return {
    start(events) {
      const w = new Worker(url, { name: 'tessera-cpu' });
      w.addEventListener('message', (e: MessageEvent<WorkerReply>) => events.onReply(e.data));
      // A Web Worker outlives its uncaught errors, and its end fires no event: a failed one is stopped and counted dead here.
      const stop = (reason: string) => {
        w.terminate();
        events.onExit(reason);
      };
      w.addEventListener('error', (e: ErrorEvent) => stop(`it failed: ${e.message || 'it could not start'}`));
      // A page stays open whatever its workers do.
      return { post: (m) => w.postMessage(m), hold: () => {}, terminate: () => stop('it was terminated') };
    },
  };
}

/** A worker of the pool and its slot (see SLOT). */
interface Slot {
  /** Its place in the pool: thread index + 1 in a run. */
  readonly index: number;
  readonly worker: PoolWorker;
  readonly state: Int32Array;
  /** Programs this worker was sent and has not acknowledged: a browser's run cannot start before a worker is there. */
  readonly unacknowledged: Set<number>;
  /** Resolves once the worker's thread has ended. */
  readonly exited: Promise<void>;
  /** Whether its death was already reported (by the loads it failed). */
  deathReported: boolean;
}

/** A program the workers hold: the threads it runs on and the message that loads it (sent again to a replacement). */
interface LoadedProgram {
  readonly threads: number;
  readonly message: WorkerMessage & { type: 'load' };
}

/** A program being loaded: the workers whose acknowledgement is awaited. */
interface PendingLoad {
  readonly waiting: Set<number>;
  resolve(): void;
  reject(e: Error): void;
}

/** Thread t of a run is worker t (slot t - 1): the names errors use. */
const workerName = (index: number) => `worker ${index + 1}`;

/** The process's worker pool. */
export class ThreadPool {
  private readonly slots: Slot[] = [];
  private readonly ctrlBuffer = new SharedArrayBuffer(CTRL.size * 4);
  private readonly ctrl = new Int32Array(this.ctrlBuffer);
  private nextId = 1;
  private readonly loaded = new Map<number, LoadedProgram>();
  private readonly pending = new Map<number, PendingLoad>();
  /** Deaths replaced but not yet reported by a run. */
  private readonly unreported: string[] = [];
  /** Whether the calling thread may sleep in Atomics.wait at a barrier (not a browser's main thread). */
  private readonly mayBlock = threadMayBlock();
  /** Hands the watcher a worker's slot (Node). */
  private readonly watch: ((slot: SharedArrayBuffer) => unknown) | undefined;

  constructor(
    /** Where the workers come from. */
    readonly host: ThreadHost,
    private readonly source: WorkerSource,
  ) {
    this.watch = source.startWatcher?.(this.ctrlBuffer);
  }

  /** Number of workers (the calling thread not counted). */
  get size(): number {
    return this.slots.length;
  }

  /** Starts workers until there are at least `n`. */
  ensure(n: number): void {
    while (this.slots.length < n) this.slots.push(this.spawn(this.slots.length));
  }

  /** Starts the worker of slot `index`. */
  private spawn(index: number): Slot {
    const state = new Int32Array(new SharedArrayBuffer(SLOT.size * 4));
    let exited!: () => void;
    const slot: Slot = {
      index,
      state,
      unacknowledged: new Set(),
      exited: new Promise<void>((resolve) => (exited = resolve)),
      deathReported: false,
      worker: this.source.start({
        onReply: (m) => this.onReply(slot, m),
        onExit: (reason) => {
          exited();
          this.onExit(slot, reason);
        },
      }),
    };
    const lifeline = this.watch?.(state.buffer as SharedArrayBuffer);
    slot.worker.post({ type: 'init', ctrl: this.ctrlBuffer, slot: state.buffer as SharedArrayBuffer, lifeline }, lifeline ? [lifeline] : []);
    return slot;
  }

  /** A worker's thread ended: its slot is dead (if the watcher has not said so already), and loads it owed fail. */
  private onExit(slot: Slot, reason: string): void {
    control.noteReason(slot.state, reason);
    control.markDead(this.ctrl, slot.state);
    if (this.slots[slot.index] === slot) this.failLoadsAwaiting(slot);
  }

  /** Rejects the loads still awaiting the (dead) worker of `slot`. */
  private failLoadsAwaiting(slot: Slot): void {
    for (const [id, p] of this.pending) {
      if (!p.waiting.has(slot.index)) continue;
      slot.deathReported = true;
      this.settle(id);
      this.unload(id);
      p.reject(new TesseraError(`thread pool: ${workerName(slot.index)} died while loading program ${id}: ${deathReason(slot.state) ?? STOPPED}`));
    }
  }

  /** Replaces every dead worker (sending it the programs loaded), keeping what happened for the next run to report. */
  private replaceDead(): void {
    for (const slot of this.slots) {
      if (Atomics.load(slot.state, SLOT.state) !== WORKER_STATE.dead) continue;
      this.failLoadsAwaiting(slot);
      if (!slot.deathReported) this.unreported.push(`${workerName(slot.index)} died (${deathReason(slot.state) ?? STOPPED})`);
      const fresh = this.spawn(slot.index);
      this.slots[slot.index] = fresh;
      for (const [id, p] of this.loaded) {
        if (p.threads - 1 <= slot.index) continue;
        fresh.unacknowledged.add(id);
        fresh.worker.post(p.message);
      }
    }
  }

  private onReply(slot: Slot, m: WorkerReply): void {
    slot.unacknowledged.delete(m.id);
    const p = this.pending.get(m.id);
    if (!p || this.slots[slot.index] !== slot || !p.waiting.has(slot.index)) {
      // A replacement that could not instantiate a program it was sent again: the next run says so.
      if (m.error !== undefined && this.loaded.has(m.id)) control.recordError(this.ctrl, `${workerName(slot.index)}, started again, could not instantiate program ${m.id}: ${m.error}`);
      return;
    }
    if (m.error !== undefined) {
      this.settle(m.id);
      // The workers that did instantiate it drop their instance.
      this.unload(m.id);
      p.reject(new TesseraError(`thread pool: a worker could not instantiate program ${m.id}: ${m.error}`));
      return;
    }
    p.waiting.delete(slot.index);
    slot.worker.hold(this.awaited(slot.index));
    if (p.waiting.size === 0) {
      this.settle(m.id);
      p.resolve();
    }
  }

  /** Whether some pending load awaits worker `index`. */
  private awaited(index: number): boolean {
    for (const p of this.pending.values()) if (p.waiting.has(index)) return true;
    return false;
  }

  /** Forgets a pending load; the workers let the process exit once none awaits them. */
  private settle(id: number): void {
    const p = this.pending.get(id);
    this.pending.delete(id);
    if (p) for (const index of p.waiting) this.slots[index]?.worker.hold(this.awaited(index));
  }

  /**
   * Sends a compiled program to the workers a `threads`-thread run needs and
   * resolves with its id once every one has instantiated it: a browser
   * starts workers only while its main thread is free, so the first run
   * must not begin (and spin on a barrier) before they are there.
   */
  load(module: WebAssembly.Module, memory: WebAssembly.Memory, plan: WasmProgram, threads: number): Promise<number> {
    this.ensure(threads - 1);
    // A dead worker would never acknowledge: replace it now (the next run reports its death).
    this.replaceDead();
    const id = this.nextId++;
    const kernels = plan.kernels.map((k) => (k.kind === 'wasm' ? k.exportName : null));
    const message = { type: 'load', id, module, memory, kernels, scratchBase: plan.memory.scratchBase, scratchBytes: plan.memory.scratchBytes } as const;
    this.loaded.set(id, { threads, message });
    if (threads === 1) return Promise.resolve(id);
    const workers = this.slots.slice(0, threads - 1);
    const acknowledged = new Promise<number>((resolve, reject) => {
      this.pending.set(id, { waiting: new Set(workers.map((s) => s.index)), resolve: () => resolve(id), reject });
    });
    for (const s of workers) {
      s.worker.hold(true);
      s.worker.post(message);
    }
    return acknowledged;
  }

  /** Forgets a program in every worker that holds it. */
  unload(id: number): void {
    const p = this.loaded.get(id);
    if (p === undefined) return;
    this.loaded.delete(id);
    for (const s of this.slots.slice(0, p.threads - 1)) s.worker.post({ type: 'unload', id });
  }

  /** Waits until no worker owes a run: after an abandoned run, some may still be finishing their share of a kernel. */
  private waitForWorkers(): void {
    for (const s of this.slots) waitWhile(s.state, SLOT.state, WORKER_STATE.running, this.mayBlock);
  }

  /** Throws what happened since the last run (deaths, an error recorded while idle), if anything. */
  private reportSinceLastRun(): void {
    const recorded = recordedError(this.ctrl);
    if (this.unreported.length === 0 && recorded === undefined) return;
    const deaths = this.unreported.splice(0);
    clearError(this.ctrl);
    const what = [...(deaths.length ? [`${deaths.join(', ')} while the pool was idle (a dead worker is replaced)`] : []), ...(recorded === undefined ? [] : [recorded])];
    throw new TesseraError(`thread pool: ${what.join('; ')}; this run did not start: run again`);
  }

  /**
   * Runs program `id`: the workers and this thread each take their share of
   * every kernel, meeting at a barrier after each. `steps[i]` runs kernel i
   * on this thread as thread 0 (all of it, for JS kernels); with `stepMs`,
   * each kernel's milliseconds up to the barrier after it are appended.
   * Throws the first error any thread hit, or that a worker died (it is
   * then replaced, and the next run works).
   */
  run(id: number, instance: WebAssembly.Instance, steps: readonly (() => void)[], plan: WasmProgram, stepMs?: number[]): void {
    const threads = this.loaded.get(id)?.threads;
    if (threads === undefined || this.pending.has(id)) throw new TesseraError(`program ${id} is not loaded in the thread pool`);
    const ctrl = this.ctrl;
    this.waitForWorkers();
    // The base first, then the scan: a death counted after this abandons the run, one counted before is found by the scan.
    Atomics.store(ctrl, CTRL.base, Atomics.load(ctrl, CTRL.deaths));
    this.replaceDead();
    this.reportSinceLastRun();
    const workers = this.slots.slice(0, threads - 1);
    const starting = workers.find((s) => s.unacknowledged.size > 0);
    if (starting && this.host === 'browser') {
      throw new TesseraError(`thread pool: ${workerName(starting.index)} is still starting after a failure; run again once the page has been idle for a moment`);
    }
    Atomics.store(ctrl, CTRL.count, 0);
    for (const s of workers) {
      // A worker that died since the scan stays dead; the run is then abandoned.
      Atomics.compareExchange(s.state, SLOT.state, WORKER_STATE.idle, WORKER_STATE.running);
      s.worker.post({ type: 'run', id, tid: s.index + 1, threads, steps: plan.kernels.length });
    }
    const scratch = plan.memory.scratchBase;
    let completed = true;
    for (let i = 0; i < plan.kernels.length && completed; i++) {
      const k = plan.kernels[i]!;
      const t0 = stepMs ? performance.now() : 0;
      if (Atomics.load(ctrl, CTRL.error) === 0) {
        try {
          if (k.kind === 'wasm') (instance.exports[k.exportName] as (t: number, n: number, s: number) => void)(0, threads, scratch);
          else steps[i]!();
        } catch (e) {
          control.recordError(ctrl, e);
        }
      }
      completed = control.barrier(ctrl, threads, this.mayBlock);
      stepMs?.push(performance.now() - t0);
    }
    if (!completed) {
      this.waitForWorkers();
      this.replaceDead();
      const deaths = this.unreported.splice(0);
      clearError(ctrl);
      throw new TesseraError(`thread pool: ${deaths.join(', ') || 'a worker died'} during the run, which is abandoned; the worker was replaced: run again`);
    }
    const message = recordedError(ctrl);
    if (message !== undefined) {
      clearError(ctrl);
      throw new TesseraError(message);
    }
  }

  /**
   * Test only: makes worker `thread` (1 = the first worker) die: terminated
   * from here, or by its own hand as `fault` says. Resolves once its thread
   * has ended (for a fault at the next run or load, once that came).
   */
  injectFault(thread: number, fault: InjectedFault | { readonly kind: 'terminate' }): Promise<void> {
    const slot = this.slots[thread - 1];
    if (!slot) throw new TesseraError(`thread pool: no worker ${thread}`);
    // Held until it is gone, so a test awaiting that keeps the process alive.
    slot.worker.hold(true);
    if (fault.kind === 'terminate') slot.worker.terminate();
    else slot.worker.post({ type: 'fault', fault });
    return slot.exited;
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
