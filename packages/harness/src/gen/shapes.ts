import { broadcastShapes, numel } from '@tessera/ir';
import type { Choices } from './choices.ts';

/** Largest extent the generator picks for one axis (small, odd sizes on purpose). */
export const MAX_EXTENT = 7;

/** An extent, 1 about a third of the time so broadcasting and squeezable axes occur. */
export function randomExtent(c: Choices, max = MAX_EXTENT): number {
  return c.oneIn(3) ? 1 : c.range(1, max);
}

/** Sets the largest extents to 1 until the shape holds at most `budget` elements. */
export function fitBudget(shape: readonly number[], budget: number): number[] {
  const out = [...shape];
  while (numel(out) > budget) {
    let big = 0;
    for (let a = 1; a < out.length; a++) if (out[a]! > out[big]!) big = a;
    out[big] = 1;
  }
  return out;
}

/** A random shape of rank minRank..maxRank with at most `budget` elements. */
export function randomShape(c: Choices, budget: number, minRank = 0, maxRank = 4): number[] {
  const rank = c.range(minRank, maxRank);
  return fitBudget(Array.from({ length: rank }, () => randomExtent(c)), budget);
}

function primeFactors(n: number): number[] {
  const out: number[] = [];
  for (let p = 2; p * p <= n; p++) {
    while (n % p === 0) {
      out.push(p);
      n /= p;
    }
  }
  if (n > 1) out.push(n);
  return out;
}

/** A random shape with exactly `n` elements: n's prime factors dealt to 0..4 axes. */
export function randomFactorShape(c: Choices, n: number): number[] {
  const rank = n === 1 ? c.int(5) : c.range(1, 4);
  const shape = new Array<number>(rank).fill(1);
  for (const p of primeFactors(n)) shape[c.int(rank)]! *= p;
  return shape;
}

/** True when `from` broadcasts to exactly `to` (numpy rules, no rank reduction). */
export function broadcastsTo(from: readonly number[], to: readonly number[]): boolean {
  if (from.length > to.length) return false;
  const shift = to.length - from.length;
  return from.every((d, a) => d === 1 || d === to[a + shift]);
}

/** numpy broadcast of shapes, or undefined when they do not broadcast. */
export function tryBroadcast(...shapes: readonly (readonly number[])[]): number[] | undefined {
  try {
    return broadcastShapes(...shapes);
  } catch {
    return undefined;
  }
}

/**
 * A shape that broadcasts against `base`: leading axes sometimes dropped (or
 * one added), kept extents sometimes set to 1, and 1-extents of `base`
 * sometimes grown, as long as the broadcast result stays within `budget`.
 */
export function partnerShape(c: Choices, base: readonly number[], budget: number): number[] {
  const drop = c.oneIn(3) ? c.int(base.length + 1) : 0;
  const grown = base.slice(drop).map((d) => (d === 1 ? (c.oneIn(3) ? c.range(2, MAX_EXTENT) : 1) : c.oneIn(3) ? 1 : d));
  const shape = drop === 0 && c.oneIn(6) ? [c.range(2, 3), ...grown] : grown;
  if (numel(broadcastShapes(base, shape)) <= budget) return shape;
  // Growing overflowed the budget: keep only shrinking changes.
  return base.slice(drop).map((d, a) => (grown[a] === 1 ? 1 : d));
}

/** A shape `x` broadcasts to: 1-extents grown, up to two leading axes added, within `budget`. */
export function growShape(c: Choices, x: readonly number[], budget: number): number[] {
  const lead = c.oneIn(2) ? c.range(1, 2) : 0;
  const shape = [...Array.from({ length: lead }, () => c.range(1, 4)), ...x.map((d) => (d === 1 && c.flag() ? c.range(2, MAX_EXTENT) : d))];
  if (numel(shape) <= budget) return shape;
  return x.length === 0 ? [] : [...x];
}

/** A random permutation of 0..rank-1 (identity is the shrink target). */
export function randomPermutation(c: Choices, rank: number): number[] {
  const perm = Array.from({ length: rank }, (_, i) => i);
  for (let i = rank - 1; i > 0; i--) {
    const j = i - c.int(i + 1);
    [perm[i], perm[j]] = [perm[j]!, perm[i]!];
  }
  return perm;
}
