/**
 * The source of the pool's watcher (Node only), as text like the workers'.
 * The main thread sits in a barrier for the whole of a run and cannot see a
 * worker's 'exit' event then, so one more thread, which runs no kernels,
 * holds one end of a MessageChannel per worker: when a worker's thread ends,
 * however it ends (process.exit, an uncaught error, terminate(), out of
 * memory), its end of the channel closes, and the watcher marks its slot
 * dead, which wakes every thread of the run in progress.
 */
import { CONTROL_SOURCE } from './control.ts';

/** Messages the pool sends the watcher. */
export type WatcherMessage =
  | { readonly type: 'init'; readonly ctrl: SharedArrayBuffer }
  /** Watch one worker: `port` is entangled with one the worker holds; `slot` is its slot. */
  | { readonly type: 'watch'; readonly port: MessagePort; readonly slot: SharedArrayBuffer };

/** The watcher's JavaScript. */
export const WATCHER_SOURCE = `
const { parentPort } = process.getBuiltinModule('node:worker_threads');
${CONTROL_SOURCE}
let ctrl;
parentPort.on('message', (msg) => {
  if (msg.type === 'init') ctrl = new Int32Array(msg.ctrl);
  else if (msg.type === 'watch') {
    const slot = new Int32Array(msg.slot);
    msg.port.on('close', () => markDead(ctrl, slot));
    // A port only reports its peer closing once it is started.
    msg.port.start();
  }
});
`;
