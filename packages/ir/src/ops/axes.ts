import { TypeRuleError } from '../errors.ts';
import { normalizeAxis } from '../tensor-type.ts';

/** Resolves a list of axes: in range, negative ones counted from the end, no repeats, sorted. */
export function normalizeAxes(axes: readonly number[], rank: number): number[] {
  if (axes.length === 0) throw new TypeRuleError('expected at least one axis to reduce (an empty reduction is an error)');
  const out = axes.map((a) => normalizeAxis(a, rank));
  const sorted = [...out].sort((a, b) => a - b);
  for (let i = 1; i < sorted.length; i++) {
    if (sorted[i] === sorted[i - 1]) throw new TypeRuleError(`axis ${sorted[i]} is listed twice in axes [${axes.join(',')}]`);
  }
  return sorted;
}

/** Checks that `perm` is a permutation of 0..rank-1. */
export function checkPermutation(perm: readonly number[], rank: number): void {
  const seen = new Set(perm);
  if (perm.length !== rank || seen.size !== rank || perm.some((p) => p < 0 || p >= rank)) {
    throw new TypeRuleError(`perm [${perm.join(',')}] is not a permutation of 0..${rank - 1}`);
  }
}

/** Checks that a per-axis list has one entry per axis. */
export function checkPerAxis(name: string, list: readonly number[], rank: number): void {
  if (list.length !== rank) throw new TypeRuleError(`attribute '${name}' has ${list.length} entries, expected one per axis (${rank})`);
}

/** Resolves the axis of an op that works along one axis of its operand x, which must have one (rank >= 1). */
export function lineAxis(shape: readonly number[], axis: number): number {
  if (shape.length === 0) throw new TypeRuleError('operand x is a scalar, expected rank >= 1');
  return normalizeAxis(axis, shape.length);
}
