/**
 * Pieces every wasm kernel uses: the kernel function's signature (thread
 * id, thread count, this thread's scratch address), sharing a range of work
 * across threads in dynamically scheduled chunks, and turning a flat row
 * index back into axis values.
 */
import { FunctionBuilder, I32 } from './binary.ts';
import { OP } from './opcodes.ts';

/** Parameters of every kernel function: (tid, nthreads, scratch byte address). */
export const TID = 0;
export const NT = 1;
export const SCRATCH = 2;

/** A new kernel function builder: (tid: i32, nt: i32, scratch: i32) -> (). */
export function kernelFunction(): FunctionBuilder {
  return new FunctionBuilder([I32, I32, I32], []);
}

/** Below this many scalar operations a kernel runs on thread 0 alone by default: sharing it costs more than it saves. */
export const PARALLEL_MIN_WORK = 1 << 14;

function clampTo(f: FunctionBuilder, total: number): void {
  const t = f.local(I32);
  f.set(t);
  f.i32(total).get(t).get(t).i32(total).op(OP.i32_gt_u, OP.select);
}

/** Chunks per thread that forEachChunk aims for: enough for a thread on a slower or busier core to take fewer. */
export const CHUNKS_PER_THREAD = 4;

/**
 * Runs `body` once per chunk of [0, total) that this thread takes: chunks
 * (multiples of `grain`, about CHUNKS_PER_THREAD per thread) are handed out
 * by an atomic counter at `counter` (zeroed before every run), so the
 * threads share the work dynamically: a thread whose core is slower or
 * shared (a VM's vCPU, a browser tab's neighbour, an efficiency core) takes
 * fewer chunks instead of holding everyone at the next barrier. `lo`, `hi`
 * are set for each chunk. Each output is still computed by exactly one
 * chunk, so results do not depend on the schedule.
 */
export function forEachChunk(f: FunctionBuilder, counter: number, total: number, grain: number, lo: number, hi: number, body: () => void, perThread = CHUNKS_PER_THREAD): void {
  const units = Math.ceil(total / grain);
  // chunk = ceil(units / (nt * perThread)) * grain, in elements.
  const chunk = f.local(I32);
  f.i32(units).get(NT).i32(perThread).op(OP.i32_mul).op(OP.i32_add).i32(1).op(OP.i32_sub);
  f.get(NT).i32(perThread).op(OP.i32_mul).op(OP.i32_div_u).i32(grain).op(OP.i32_mul).set(chunk);
  f.block((done) => {
    f.loop((next) => {
      f.i32(counter).i32(1).atomicAddI32().get(chunk).op(OP.i32_mul).tee(lo);
      f.i32(total).op(OP.i32_ge_u).brIf(done);
      f.get(lo).get(chunk).op(OP.i32_add);
      clampTo(f, total);
      f.set(hi);
      body();
      f.br(next);
    });
  });
}

/** x rounded up to a multiple of m. */
export const roundUp = (x: number, m: number): number => Math.ceil(x / m) * m;

/** x rounded up to a multiple of 64 bytes (a cache line): scratch areas start there. */
export const align64 = (x: number): number => roundUp(x, 64);

/** Emits `into = min(a, b)` for the i32 values the callbacks push (each evaluated once). */
export function setMin(f: FunctionBuilder, into: number, a: () => void, b: () => void): void {
  const x = f.local(I32);
  const y = f.local(I32);
  a();
  f.set(x);
  b();
  f.set(y);
  f.get(x).get(y).get(x).get(y).op(OP.i32_lt_s, OP.select).set(into);
}

/** Emits `if (tid != 0) return` (small kernels run on thread 0 only). */
export function onlyThreadZero(f: FunctionBuilder): void {
  f.get(TID).if(() => f.op(OP.return));
}

/**
 * Sets one local per axis from a flat row-major index in local `r` over
 * `extents` (the last axis varies fastest).
 */
export function decompose(f: FunctionBuilder, r: number, extents: readonly number[], axisLocals: readonly number[]): void {
  const rem = f.local(I32);
  f.get(r).set(rem);
  for (let a = extents.length - 1; a >= 0; a--) {
    const e = extents[a]!;
    if (a === 0) {
      f.get(rem).set(axisLocals[a]!);
      break;
    }
    f.get(rem).i32(e).op(OP.i32_rem_u).set(axisLocals[a]!);
    f.get(rem).i32(e).op(OP.i32_div_u).set(rem);
  }
}
