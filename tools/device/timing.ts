/** Timing within a time limit: bench/timing.ts's warm-up-then-median, stopping early when calls are slow (llvmpipe, naive kernels). */

/** Median and min milliseconds of `fn` over up to `runs` calls after up to `warmup` calls, taking no more calls once `maxS` seconds have passed (at least one warm-up and one timed call). */
export async function timeWithin(fn: () => Promise<unknown>, runs: number, warmup: number, maxS: number): Promise<{ median: number; min: number; runs: number }> {
  const t0 = performance.now();
  const within = () => performance.now() - t0 < maxS * 1000;
  for (let i = 0; i < warmup && (i === 0 || within()); i++) await fn();
  const times: number[] = [];
  while (times.length < runs && (times.length === 0 || within())) {
    const t = performance.now();
    await fn();
    times.push(performance.now() - t);
  }
  times.sort((a, b) => a - b);
  return { median: times[Math.floor(times.length / 2)]!, min: times[0]!, runs: times.length };
}
