/**
 * A deterministic stream of choices read from a recipe's numbers. Generation
 * draws every random decision from here, so a recipe rebuilds the same
 * program, and fast-check shrinking the numbers toward 0 steers every
 * decision toward its simplest option (choice 0). An exhausted stream answers 0.
 */
export class Choices {
  private next = 0;

  constructor(private readonly stream: readonly number[]) {}

  /** An integer in [0, n); 0 when n <= 1. */
  int(n: number): number {
    if (n <= 1) return 0;
    const v = this.stream[this.next++] ?? 0;
    return v % n;
  }

  /** An integer in [lo, hi]. */
  range(lo: number, hi: number): number {
    return lo + this.int(hi - lo + 1);
  }

  /** True with probability about 1/n; false is the shrink target. */
  oneIn(n: number): boolean {
    return this.int(n) === n - 1;
  }

  /** A fair coin; false is the shrink target. */
  flag(): boolean {
    return this.int(2) === 1;
  }

  /** One element of a non-empty list (the first is the shrink target). */
  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)]!;
  }

  /** A seed for bulk data (constant values), so long tensors do not drain the stream. */
  seed(): number {
    return this.int(0x10000);
  }
}

/** mulberry32: a tiny, fast, deterministic PRNG returning numbers in [0, 1). */
export function makeRng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
