/**
 * The pool's control block (an Int32Array over a SharedArrayBuffer) and
 * the barrier every thread of a run passes after each kernel. The same
 * source runs on the main thread (imported) and in the workers (as text),
 * so the protocol is written once.
 */

/** Slots of the control block. */
export const CTRL = {
  /** Threads that have reached the current barrier. */
  count: 0,
  /** Bumped by the last thread to arrive; waiters watch it. */
  generation: 1,
  /** Nonzero once some thread's kernel threw: the rest of the run is skipped. */
  error: 2,
  /** Length of the error message stored from `message` on. */
  messageLength: 3,
  /** First slot of the error message (one UTF-16 code unit per slot). */
  message: 16,
  /** Slots in all. */
  size: 16 + 1024,
} as const;

/** Spins before sleeping on the futex: a barrier usually completes within microseconds. */
export const SPIN_ITERATIONS = 20000;

/**
 * JavaScript source of `barrier(ctrl, n, mayBlock)` and `recordError(ctrl, e)`,
 * shared by the main thread (through `new Function`) and the workers.
 * `mayBlock` false makes a waiter only spin: a browser's main thread may not
 * call Atomics.wait (it throws there), while workers may sleep.
 */
export const CONTROL_SOURCE = `
function barrier(ctrl, n, mayBlock) {
  if (n === 1) return;
  const gen = Atomics.load(ctrl, ${CTRL.generation});
  if (Atomics.add(ctrl, ${CTRL.count}, 1) === n - 1) {
    Atomics.store(ctrl, ${CTRL.count}, 0);
    Atomics.add(ctrl, ${CTRL.generation}, 1);
    Atomics.notify(ctrl, ${CTRL.generation});
    return;
  }
  let spins = 0;
  while (Atomics.load(ctrl, ${CTRL.generation}) === gen) {
    if (mayBlock && ++spins > ${SPIN_ITERATIONS}) Atomics.wait(ctrl, ${CTRL.generation}, gen);
  }
}
function recordError(ctrl, e) {
  if (Atomics.compareExchange(ctrl, ${CTRL.error}, 0, 1) !== 0) return;
  const text = String(e && e.message !== undefined ? (e.name || 'Error') + ': ' + e.message : e).slice(0, ${CTRL.size - CTRL.message});
  for (let i = 0; i < text.length; i++) ctrl[${CTRL.message} + i] = text.charCodeAt(i);
  Atomics.store(ctrl, ${CTRL.messageLength}, text.length);
}
`;

/** The barrier and error recorder, compiled for this thread. */
export const control = new Function(`${CONTROL_SOURCE}\nreturn { barrier, recordError };`)() as {
  barrier(ctrl: Int32Array, n: number, mayBlock: boolean): void;
  recordError(ctrl: Int32Array, e: unknown): void;
};

/** The recorded error message of a failed run, or undefined. */
export function recordedError(ctrl: Int32Array): string | undefined {
  if (Atomics.load(ctrl, CTRL.error) === 0) return undefined;
  const n = Atomics.load(ctrl, CTRL.messageLength);
  return String.fromCharCode(...Array.from(ctrl.subarray(CTRL.message, CTRL.message + n)));
}

/** Whether this thread may block in Atomics.wait (a browser's main thread may not: the call throws there before comparing). */
export function threadMayBlock(): boolean {
  try {
    // The value differs, so an allowed wait returns 'not-equal' at once.
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 1, 0);
    return true;
  } catch {
    return false;
  }
}
