/**
 * The source of a pool worker, as text, so it runs the same under tsx,
 * vitest and plain Node (a worker_threads Worker with `eval: true`) without
 * a TypeScript loader in the worker, and in a browser (a Web Worker started
 * from a Blob URL of the same text). A worker holds instances of the
 * programs it was sent (module + shared memory), acknowledges each load, and
 * on `run` walks the program's kernel list as thread `tid`: its share of
 * each wasm kernel, then the barrier.
 */
import { RUNTIME_IMPORTS_SOURCE } from '../wasm/runtime-imports.ts';
import { CONTROL_SOURCE, CTRL } from './control.ts';

/** Messages the pool sends a worker. */
export type WorkerMessage =
  | { readonly type: 'init'; readonly ctrl: SharedArrayBuffer }
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
  /** Run program `id` as thread `tid` of `threads`; `steps` barriers are passed whatever happens. */
  | { readonly type: 'run'; readonly id: number; readonly tid: number; readonly threads: number; readonly steps: number };

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
const programs = new Map();
function run(p, tid, n) {
  const scratch = p.scratchBase + tid * p.scratchBytes;
  for (const fn of p.fns) {
    if (fn && Atomics.load(ctrl, ${CTRL.error}) === 0) {
      try { fn(tid, n, scratch); } catch (e) { recordError(ctrl, e); }
    }
    barrier(ctrl, n, true);
  }
}
onMessage((msg) => {
  try {
    if (msg.type === 'init') ctrl = new Int32Array(msg.ctrl);
    else if (msg.type === 'load') {
      try {
        const instance = new WebAssembly.Instance(msg.module, { env: { memory: msg.memory }, m: makeRuntimeImports() });
        programs.set(msg.id, { fns: msg.kernels.map((k) => (k === null ? null : instance.exports[k])), scratchBase: msg.scratchBase, scratchBytes: msg.scratchBytes });
        reply({ type: 'loaded', id: msg.id });
      } catch (e) {
        reply({ type: 'loaded', id: msg.id, error: String(e && e.message !== undefined ? (e.name || 'Error') + ': ' + e.message : e) });
      }
    } else if (msg.type === 'unload') programs.delete(msg.id);
    else if (msg.type === 'run') {
      const p = programs.get(msg.id);
      if (p) run(p, msg.tid, msg.threads);
      else {
        // Loads are acknowledged before a run, so this is a bug: report it, and still pass every barrier so the other threads finish.
        recordError(ctrl, new Error('worker ' + msg.tid + ' has no instance of program ' + msg.id));
        for (let i = 0; i < msg.steps; i++) barrier(ctrl, msg.threads, true);
      }
    }
  } catch (e) {
    if (ctrl) recordError(ctrl, e);
  }
});
`;
