export type { MapKernel, ReduceKernel, MatmulKernel, AttentionKernel } from '@tessera/kernel';

/** Product of extents (1 for a scalar). */
export function numelOf(extents: readonly number[]): number {
  return extents.reduce((a, b) => a * b, 1);
}

/** The smallest power of two >= n. */
export function nextPow2(n: number): number {
  let p = 1;
  while (p < n) p *= 2;
  return p;
}
