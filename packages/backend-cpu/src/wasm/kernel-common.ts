/**
 * Pieces every wasm kernel uses: the kernel function's signature (thread
 * id, thread count, this thread's scratch address), splitting a range of
 * work evenly across threads, and turning a flat row index back into axis
 * values.
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

/**
 * Sets `lo`, `hi` to this thread's share of [0, total): shares differ by at
 * most one, computed without overflow as q*tid + min(tid, r).
 */
export function splitRange(f: FunctionBuilder, total: number, lo: number, hi: number, grain = 1): void {
  // Work in units of `grain` so shares stay multiples of it (vector steps), then clamp to total.
  const units = Math.ceil(total / grain);
  const q = f.local(I32);
  const r = f.local(I32);
  f.i32(units).get(NT).op(OP.i32_div_u).set(q);
  f.i32(units).get(NT).op(OP.i32_rem_u).set(r);
  const start = (t: () => void) => {
    const x = f.local(I32);
    t();
    f.set(x);
    // q*x + min(x, r)
    f.get(q).get(x).op(OP.i32_mul);
    f.get(x).get(r).get(x).get(r).op(OP.i32_lt_u, OP.select);
    f.op(OP.i32_add);
    if (grain > 1) f.i32(grain).op(OP.i32_mul);
  };
  start(() => f.get(TID));
  clampTo(f, total);
  f.set(lo);
  start(() => f.get(TID).i32(1).op(OP.i32_add));
  clampTo(f, total);
  f.set(hi);
}

function clampTo(f: FunctionBuilder, total: number): void {
  const t = f.local(I32);
  f.set(t);
  f.i32(total).get(t).get(t).i32(total).op(OP.i32_gt_u, OP.select);
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
