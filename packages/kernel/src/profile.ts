/**
 * Per-kernel timings of one run, as every backend's `profile(inputs)`
 * reports them: the plain data and how it is summarised (slowest first,
 * totals per kind).
 */
import type { Kernel } from './kernel.ts';

/**
 * How a kernel was timed. `timestamp`: GPU timestamps written at the
 * beginning and end of its compute pass (a WebGPU device with
 * `timestamp-query`). `wall`: its own submit, timed on the host from submit
 * to `onSubmittedWorkDone` (coarser: includes the submit and the wake-up;
 * the only way on llvmpipe). `host`: a CPU kernel timed by the calling
 * thread from its start to the barrier after it, where every thread has
 * finished its share.
 */
export type TimingMethod = 'timestamp' | 'wall' | 'host';

/** One kernel (or WebGPU shader) of a profiled run, in launch order. */
export interface KernelTiming {
  /** The kernel's name (`k3_matmul`), or a WebGPU prepass's (`k3_matmul.pack_b`). */
  readonly name: string;
  readonly kind: Kernel['kind'];
  /** What ran, e.g. `matmul:texture 16x16` (WebGPU), `wasm, 2 threads` (CPU). */
  readonly variant: string;
  /** Milliseconds it took. */
  readonly ms: number;
  /** WebGPU: workgroups dispatched (x, y, z). */
  readonly dispatch?: readonly [number, number, number];
  readonly method: TimingMethod;
}

/** Total milliseconds and launches of one kind of kernel in a profile. */
export interface KindTotal {
  readonly kind: string;
  readonly ms: number;
  readonly dispatches: number;
}

/** Totals per kind, largest first. */
export function totalsByKind(timings: readonly KernelTiming[]): KindTotal[] {
  const by = new Map<string, { ms: number; dispatches: number }>();
  for (const t of timings) {
    const e = by.get(t.kind) ?? { ms: 0, dispatches: 0 };
    e.ms += t.ms;
    e.dispatches += 1;
    by.set(t.kind, e);
  }
  return [...by].map(([kind, e]) => ({ kind, ...e })).sort((a, b) => b.ms - a.ms);
}

/** The timings sorted by time, longest first (launch order among equals). */
export function slowestFirst(timings: readonly KernelTiming[]): KernelTiming[] {
  return timings.map((t, i) => ({ t, i })).sort((a, b) => b.t.ms - a.t.ms || a.i - b.i).map(({ t }) => t);
}
