/** Timing helpers shared by the benchmarks: warm up, then take the median of several runs. */

/** Times `fn` after `warmup` calls; returns the median and minimum milliseconds over `runs` calls. */
export async function timeIt(fn: () => unknown, { runs = 5, warmup = 1 } = {}): Promise<{ median: number; min: number }> {
  for (let i = 0; i < warmup; i++) await fn();
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await fn();
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  return { median: times[Math.floor(times.length / 2)]!, min: times[0]! };
}

/** Prints rows as an aligned text table. */
export function printTable(title: string, header: readonly string[], rows: readonly (readonly string[])[]): void {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (r: readonly string[]) => r.map((c, i) => c.padStart(widths[i]!)).join('  ');
  console.log(`\n${title}`);
  console.log(line(header));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const r of rows) console.log(line(r));
}

/** Seeded uniform values in [-1, 1), so every runtime sees the same data. */
export function seededArray(n: number, seed: number): Float32Array {
  let s = seed >>> 0 || 1;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    out[i] = ((s >>> 0) / 4294967296) * 2 - 1;
  }
  return out;
}

/** Pause before each timed call of a round-robin comparison (env TESSERA_BENCH_GAP_MS, default 50). */
const GAP_MS = Number(process.env.TESSERA_BENCH_GAP_MS ?? 50);

/**
 * Waits GAP_MS before a timed call in a round-robin comparison: runtimes whose
 * thread pools spin after their own call (ONNX Runtime's do) would otherwise
 * take cores from whichever runtime is timed next.
 */
export function idleGap(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, GAP_MS));
}
