export type { MapKernel, ReduceKernel, MatmulKernel, AttentionKernel } from '@tessera/kernel';

/** The smallest power of two >= n. */
export function nextPow2(n: number): number {
  let p = 1;
  while (p < n) p *= 2;
  return p;
}
