/**
 * Per-kernel timings of one run (`WebgpuExecutable.profile`): the GPU
 * timestamp arithmetic. The data and its summaries (KernelTiming,
 * totalsByKind, slowestFirst) are shared with the CPU backend, in
 * @tessera/kernel.
 */

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
