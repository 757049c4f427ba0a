/**
 * The source of a pool worker, as text, so it runs the same under tsx,
 * vitest and plain Node (a worker_threads Worker with `eval: true`) without
 * a TypeScript loader in the worker, and in a browser (a Web Worker started
 * from a Blob URL of the same text). A worker holds instances of the
 * programs it was sent (module + shared memory), acknowledges each load, and
 * on `run` walks the program's kernel list as thread `tid`: its share of
 * each wasm kernel, then the barrier; it leaves early when the run is
 * abandoned (another thread died), and marks its slot idle when it leaves.
 */
import { RUNTIME_IMPORTS_SOURCE } from '../wasm/runtime-imports.ts';
import { CONTROL_SOURCE, CTRL, SLOT, WORKER_STATE } from './control.ts';

/**
 * A death a test asks a worker for (test only): `exit` calls process.exit
 * (a Web Worker closes itself), `throw` throws an uncaught error outside any
 * kernel; `now`, at its next run, or at its next load.
 */
export interface InjectedFault {
  readonly kind: 'exit' | 'throw';
  readonly when: 'now' | 'run' | 'load';
}

/** Messages the pool sends a worker. */
export type WorkerMessage =
  /** The pool's control block, this worker's own slot, and (Node) its end of the channel the watcher holds the other end of. */
  | { readonly type: 'init'; readonly ctrl: SharedArrayBuffer; readonly slot: SharedArrayBuffer; readonly lifeline?: unknown }
  | {
      readonly type: 'load';
      readonly id: number;
      readonly module: WebAssembly.Module;
      readonly memory: WebAssembly.Memory;
      /** Per kernel: its export name, or null for a kernel the main thread runs alone (JS). */
      readonly kernels: readonly (string | null)[];
      readonly scratchBase: number;
      readonly scratchBytes: number;
    }
  | { readonly type: 'unload'; readonly id: number }
  /** Run program `id` as thread `tid` of `threads`; `steps` barriers are passed unless the run is abandoned. */
  | { readonly type: 'run'; readonly id: number; readonly tid: number; readonly threads: number; readonly steps: number }
  /** Test only: die as asked (see InjectedFault). */
  | { readonly type: 'fault'; readonly fault: InjectedFault };

/**
 * What a worker sends back: `loaded` once program `id` is instantiated (or
 * failed to be, with the error's text). A browser starts workers
 * asynchronously and cannot start one while its main thread spins on a
 * barrier, so a pool waits for these before the first run.
 */
export type WorkerReply = { readonly type: 'loaded'; readonly id: number; readonly error?: string };

/** The worker's JavaScript. */
export const WORKER_SOURCE = `
// Node: worker_threads' parentPort (through process.getBuiltinModule, so a bundler sees no import); a browser: the worker's own scope.
const port = typeof process === 'object' && typeof process.getBuiltinModule === 'function' ? process.getBuiltinModule('node:worker_threads').parentPort : null;
function onMessage(handler) {
  if (port) port.on('message', handler);
  else self.addEventListener('message', (e) => handler(e.data));
}
function reply(m) {
  if (port) port.postMessage(m);
  else self.postMessage(m);
}
${RUNTIME_IMPORTS_SOURCE}
${CONTROL_SOURCE}
let ctrl;
let slot;
let fault;
// Held for as long as this thread lives: the watcher sees its peer close when the thread ends.
let lifeline;
const programs = new Map();
function run(p, tid, n) {
  const scratch = p.scratchBase + tid * p.scratchBytes;
  for (const fn of p.fns) {
    if (abandoned(ctrl)) return;
    if (fn && Atomics.load(ctrl, ${CTRL.error}) === 0) {
      try { fn(tid, n, scratch); } catch (e) { recordError(ctrl, e); }
    }
    if (!barrier(ctrl, n, true)) return;
  }
}
// Test only: the deaths a test asks for (see InjectedFault).
function die(kind) {
  if (kind === 'throw') throw new Error('injected fault: an uncaught error a test asked for');
  if (port) process.exit(3);
  else self.close();
}
onMessage((msg) => {
  if (msg.type === 'fault') {
    if (msg.fault.when === 'now') die(msg.fault.kind);
    else fault = msg.fault;
    return;
  }
  if (fault && fault.when === msg.type) die(fault.kind);
  try {
    if (msg.type === 'init') {
      ctrl = new Int32Array(msg.ctrl);
      slot = new Int32Array(msg.slot);
      lifeline = msg.lifeline;
      if (port) {
        // Why this worker died, for the error the pool reports (a terminated worker runs neither hook).
        process.on('uncaughtExceptionMonitor', (e) => noteReason(slot, 'it threw an uncaught ' + describeError(e)));
        process.on('exit', (code) => noteReason(slot, 'it called process.exit(' + code + ')'));
      }
    } else if (msg.type === 'load') {
      try {
        const instance = new WebAssembly.Instance(msg.module, { env: { memory: msg.memory }, m: makeRuntimeImports() });
        programs.set(msg.id, { fns: msg.kernels.map((k) => (k === null ? null : instance.exports[k])), scratchBase: msg.scratchBase, scratchBytes: msg.scratchBytes });
        reply({ type: 'loaded', id: msg.id });
      } catch (e) {
        reply({ type: 'loaded', id: msg.id, error: describeError(e) });
      }
    } else if (msg.type === 'unload') programs.delete(msg.id);
    else if (msg.type === 'run') {
      try {
        const p = programs.get(msg.id);
        if (p) run(p, msg.tid, msg.threads);
        else {
          // Loads are acknowledged before a run, so this is a bug: report it, and still pass every barrier so the other threads finish.
          recordError(ctrl, new Error('worker ' + msg.tid + ' has no instance of program ' + msg.id));
          for (let i = 0; i < msg.steps && barrier(ctrl, msg.threads, true); i++);
        }
      } finally {
        // The main thread waits for this before it resets the control block for the next run (a slot marked dead stays dead).
        Atomics.compareExchange(slot, ${SLOT.state}, ${WORKER_STATE.running}, ${WORKER_STATE.idle});
        Atomics.notify(slot, ${SLOT.state});
      }
    }
  } catch (e) {
    // Recorded while idle, it fails the next run rather than being lost.
    if (ctrl) recordError(ctrl, e);
  }
});
`;
