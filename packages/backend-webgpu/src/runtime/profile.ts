/**
 * Per-kernel timings of one run (`WebgpuExecutable.profile`): the plain
 * data, how it is summarised, and the GPU timestamp arithmetic.
 */
import type { KernelShader } from '../wgsl/module.ts';

/**
 * How a kernel was timed. `timestamp`: GPU timestamps written at the
 * beginning and end of its compute pass (the device has `timestamp-query`).
 * `wall`: its own submit, timed on the host from submit to
 * `onSubmittedWorkDone` (coarser: includes the submit and the wake-up; the
 * only way on llvmpipe).
 */
export type TimingMethod = 'timestamp' | 'wall';

/** One dispatched shader of a profiled run, in launch order. */
export interface KernelTiming {
  /** The shader's name: the kernel's (`k3_matmul`), or a prepass's (`k3_matmul.pack_b`). */
  readonly name: string;
  readonly kind: KernelShader['kind'];
  /** The algorithm generated, e.g. `matmul:texture 16x16`. */
  readonly variant: string;
  /** Milliseconds the dispatch took. */
  readonly ms: number;
  /** Workgroups dispatched (x, y, z). */
  readonly dispatch: readonly [number, number, number];
  readonly method: TimingMethod;
}

/** Most dispatches timed per query set and submit (WebGPU allows 4096 queries per set, two per dispatch). */
export const DISPATCHES_PER_QUERY_SET = 2048;

/** Milliseconds between pairs of GPU timestamps (ns, begin then end per dispatch); a pair that runs backwards (a clock reset) reads 0. */
export function timestampPairsToMs(ns: BigUint64Array, count: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < count; i++) {
    const begin = ns[2 * i]!;
    const end = ns[2 * i + 1]!;
    out.push(end > begin ? Number(end - begin) / 1e6 : 0);
  }
  return out;
}

/** Total milliseconds and dispatches of one kind of kernel in a profile. */
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
