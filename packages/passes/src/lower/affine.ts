import { E, type Expr, type IndexMap } from '@tessera/kernel';
import type { View } from './view.ts';

/** One axis of a value as an affine function of the kernel's axes: `offset + sum(coeffs[k] * axis_k)`. */
export interface AffineRow {
  readonly coeffs: readonly number[];
  readonly offset: number;
}

/**
 * Where a value is read inside a kernel: one affine row per axis of the
 * value. Movement ops transform it (transpose permutes rows, slice scales
 * and shifts them, broadcast zeroes them), so reads through any chain of
 * views and fused producers stay affine.
 */
export type AffineIndex = readonly AffineRow[];

/** The row reading kernel axis `axis` (or constant 0 for -1). */
export function axisRow(axis: number, rank: number): AffineRow {
  const coeffs = new Array<number>(rank).fill(0);
  if (axis >= 0) coeffs[axis] = 1;
  return { coeffs, offset: 0 };
}

/** An index whose value axis a follows kernel axis axes[a] (-1: always 0). */
export function indexOnAxes(axes: readonly number[], rank: number): AffineIndex {
  return axes.map((a) => axisRow(a, rank));
}

/** The constant-zero row (a broadcast axis). */
export function zeroRow(rank: number): AffineRow {
  return axisRow(-1, rank);
}

/** Right-aligns an index onto an operand of `shape` (numpy broadcasting): 1-sized axes read element 0. */
export function broadcastIndex(ix: AffineIndex, shape: readonly number[]): AffineIndex {
  const shift = ix.length - shape.length;
  const rank = ix[0]?.coeffs.length ?? 0;
  return shape.map((n, a) => (n === 1 ? zeroRow(rank) : ix[a + shift]!));
}

/** The buffer map of a view read at an affine index. */
export function viewMapAt(v: View, ix: AffineIndex, rank: number): IndexMap {
  const strides = new Array<number>(rank).fill(0);
  let offset = v.offset;
  v.shape.forEach((n, a) => {
    if (n === 1) return;
    const row = ix[a]!;
    offset += v.strides[a]! * row.offset;
    row.coeffs.forEach((c, k) => (strides[k]! += c * v.strides[a]!));
  });
  return { offset, strides };
}

/** The i32 expression of an affine row (for iota). */
export function rowExpr(row: AffineRow): Expr {
  let e: Expr | undefined = row.offset !== 0 ? E.const('i32', row.offset) : undefined;
  row.coeffs.forEach((c, k) => {
    if (c === 0) return;
    const term = c === 1 ? E.axis(k) : E.binary('mul', E.axis(k), E.const('i32', c));
    e = e ? E.binary('add', e, term) : term;
  });
  return e ?? E.const('i32', 0);
}

/** Structural equality of two indices. */
export function sameIndex(a: AffineIndex, b: AffineIndex): boolean {
  return a.length === b.length && a.every((r, i) => r.offset === b[i]!.offset && r.coeffs.every((c, k) => c === b[i]!.coeffs[k]));
}
