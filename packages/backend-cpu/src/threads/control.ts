/**
 * The pool's control block (an Int32Array over a SharedArrayBuffer), each
 * worker's slot (its own small shared block: in a run or not, dead, and why
 * it died), and the barrier every thread of a run passes after each kernel.
 * The same source runs on the main thread (imported), in the workers and in
 * the watcher (as text), so the protocol is written once.
 *
 * A worker that dies mid-run would leave the others at a barrier forever:
 * whoever learns of the death first (the watcher thread, or the main
 * thread's exit/error event) marks its slot dead and bumps `deaths`; every
 * barrier compares `deaths` with `base` (its value when the run started),
 * so all threads of the run leave it, and the run fails.
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
  /** Workers seen dead so far (only ever grows). */
  deaths: 4,
  /** `deaths` when the run in progress started: a run whose count moves on is abandoned. */
  base: 5,
  /** First slot of the error message (one UTF-16 code unit per slot). */
  message: 16,
  /** Slots in all. */
  size: 16 + 1024,
} as const;

/** Slots of a worker's own block. */
export const SLOT = {
  /** One of WORKER_STATE. */
  state: 0,
  /** Length of the reason stored from `reason` on: why the worker died, as far as anyone could tell. */
  reasonLength: 1,
  reason: 2,
  /** Slots in all. */
  size: 2 + 256,
} as const;

/** What a worker is doing, as its slot says. */
export const WORKER_STATE = {
  /** Waiting for messages. */
  idle: 0,
  /** Owes the run posted to it: set by the main thread when it posts, cleared by the worker when it leaves the run. */
  running: 1,
  /** Gone: set once, by whoever noticed first. */
  dead: 2,
} as const;

/** Spins before sleeping on the futex: a barrier usually completes within microseconds. */
export const SPIN_ITERATIONS = 20000;

/**
 * JavaScript source of the protocol, shared by the main thread (through
 * `new Function`), the workers and the watcher:
 * `barrier(ctrl, n, mayBlock)` returns false once the run is abandoned;
 * `mayBlock` false makes a waiter only spin: a browser's main thread may not
 * call Atomics.wait (it throws there), while workers may sleep.
 * `recordError(ctrl, e)` keeps the first error of a run; `noteReason(slot,
 * text)` the first reason a worker died; `markDead(ctrl, slot)` marks a
 * worker dead once and wakes every waiter.
 */
export const CONTROL_SOURCE = `
function describeError(e) {
  return String(e && e.message !== undefined ? (e.name || 'Error') + ': ' + e.message : e);
}
function abandoned(ctrl) {
  return Atomics.load(ctrl, ${CTRL.deaths}) !== Atomics.load(ctrl, ${CTRL.base});
}
function barrier(ctrl, n, mayBlock) {
  if (n === 1) return true;
  const gen = Atomics.load(ctrl, ${CTRL.generation});
  if (Atomics.add(ctrl, ${CTRL.count}, 1) === n - 1) {
    Atomics.store(ctrl, ${CTRL.count}, 0);
    Atomics.add(ctrl, ${CTRL.generation}, 1);
    Atomics.notify(ctrl, ${CTRL.generation});
    return !abandoned(ctrl);
  }
  // A death counted before 'gen' was read bumped the generation before it too: only this check sees it.
  if (abandoned(ctrl)) return false;
  let spins = 0;
  while (Atomics.load(ctrl, ${CTRL.generation}) === gen) {
    if (mayBlock && ++spins > ${SPIN_ITERATIONS}) Atomics.wait(ctrl, ${CTRL.generation}, gen);
  }
  return !abandoned(ctrl);
}
function storeText(block, lengthSlot, first, size, text) {
  text = text.slice(0, size - first);
  for (let i = 0; i < text.length; i++) block[first + i] = text.charCodeAt(i);
  Atomics.store(block, lengthSlot, text.length);
}
function recordError(ctrl, e) {
  if (Atomics.compareExchange(ctrl, ${CTRL.error}, 0, 1) !== 0) return;
  storeText(ctrl, ${CTRL.messageLength}, ${CTRL.message}, ${CTRL.size}, describeError(e) || 'Error');
}
function noteReason(slot, text) {
  if (Atomics.load(slot, ${SLOT.reasonLength}) === 0) storeText(slot, ${SLOT.reasonLength}, ${SLOT.reason}, ${SLOT.size}, text || '?');
}
function markDead(ctrl, slot) {
  for (;;) {
    const s = Atomics.load(slot, ${SLOT.state});
    if (s === ${WORKER_STATE.dead}) return false;
    if (Atomics.compareExchange(slot, ${SLOT.state}, s, ${WORKER_STATE.dead}) === s) break;
  }
  Atomics.notify(slot, ${SLOT.state});
  // The slot first, then the count: a thread that sees the count move finds the dead slot.
  Atomics.add(ctrl, ${CTRL.deaths}, 1);
  Atomics.add(ctrl, ${CTRL.generation}, 1);
  Atomics.notify(ctrl, ${CTRL.generation});
  return true;
}
`;

/** The protocol, compiled for this thread. */
export const control = new Function(`${CONTROL_SOURCE}\nreturn { barrier, recordError, noteReason, markDead, abandoned };`)() as {
  barrier(ctrl: Int32Array, n: number, mayBlock: boolean): boolean;
  recordError(ctrl: Int32Array, e: unknown): void;
  noteReason(slot: Int32Array, text: string): void;
  markDead(ctrl: Int32Array, slot: Int32Array): boolean;
  abandoned(ctrl: Int32Array): boolean;
};

/** The text stored in `block` from slot `first` on, `lengthSlot` long. */
function storedText(block: Int32Array, lengthSlot: number, first: number): string {
  const n = Atomics.load(block, lengthSlot);
  return String.fromCharCode(...Array.from(block.subarray(first, first + n)));
}

/** The recorded error message of a failed run, or undefined. */
export function recordedError(ctrl: Int32Array): string | undefined {
  return Atomics.load(ctrl, CTRL.error) === 0 ? undefined : storedText(ctrl, CTRL.messageLength, CTRL.message);
}

/** Forgets a recorded error. */
export function clearError(ctrl: Int32Array): void {
  Atomics.store(ctrl, CTRL.messageLength, 0);
  Atomics.store(ctrl, CTRL.error, 0);
}

/** Why a worker died, as noted in its slot, or undefined. */
export function deathReason(slot: Int32Array): string | undefined {
  return Atomics.load(slot, SLOT.reasonLength) === 0 ? undefined : storedText(slot, SLOT.reasonLength, SLOT.reason);
}

/** Waits while `block[index]` holds `value` (sleeping where this thread may, spinning where it may not). */
export function waitWhile(block: Int32Array, index: number, value: number, mayBlock: boolean): void {
  while (Atomics.load(block, index) === value) {
    if (mayBlock) Atomics.wait(block, index, value, 100);
  }
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
