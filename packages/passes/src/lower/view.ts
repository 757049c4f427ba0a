import { stridesOf } from '@tessera/ir';
import type { IndexMap } from '@tessera/kernel';

/**
 * A graph value as a strided view of a buffer. Movement ops (reshape when
 * expressible, transpose, broadcast_to, slice) only make new views: no
 * kernel, no copy; consumers fold the view into their index maps.
 */
export interface View {
  readonly buffer: number;
  readonly shape: readonly number[];
  readonly strides: readonly number[];
  readonly offset: number;
}

/** The dense view of a whole buffer. */
export function denseView(buffer: number, shape: readonly number[]): View {
  return { buffer, shape, strides: stridesOf(shape), offset: 0 };
}

/** True when the view reads its buffer densely in row-major order from offset 0. */
export function isDense(v: View): boolean {
  const d = stridesOf(v.shape);
  return v.offset === 0 && v.shape.every((n, a) => n === 1 || v.strides[a] === d[a]);
}

/** Permutes a view's axes. */
export function transposeView(v: View, perm: readonly number[]): View {
  return { ...v, shape: perm.map((p) => v.shape[p]!), strides: perm.map((p) => v.strides[p]!) };
}

/** Broadcasts a view to `shape` (numpy rules): new and 1-sized axes get stride 0. */
export function broadcastView(v: View, shape: readonly number[]): View {
  const shift = shape.length - v.shape.length;
  return {
    ...v,
    shape,
    strides: shape.map((n, a) => {
      const src = a - shift;
      return src < 0 || v.shape[src] === 1 ? 0 : v.strides[src]!;
    }),
  };
}

/** Selects start:stop:step on every axis. */
export function sliceView(v: View, start: readonly number[], shape: readonly number[], step: readonly number[]): View {
  return {
    ...v,
    shape,
    offset: v.offset + start.reduce((o, s, a) => o + s * v.strides[a]!, 0),
    strides: v.strides.map((s, a) => s * step[a]!),
  };
}

/**
 * Reshapes a view without copying when the strides allow it (numpy's
 * no-copy reshape): each group of old axes that merges or splits into new
 * axes must be contiguous within itself. Returns undefined when a copy is needed.
 */
export function reshapeView(v: View, newShape: readonly number[]): View | undefined {
  const os: number[] = [];
  const ost: number[] = [];
  v.shape.forEach((n, a) => {
    if (n !== 1) {
      os.push(n);
      ost.push(v.strides[a]!);
    }
  });
  const ns = newShape;
  const nst = new Array<number>(ns.length).fill(0);
  let oi = 0;
  let oj = 1;
  let ni = 0;
  let nj = 1;
  while (ni < ns.length && oi < os.length) {
    let np = ns[ni]!;
    let op = os[oi]!;
    while (np !== op) {
      if (np < op) np *= ns[nj++]!;
      else op *= os[oj++]!;
    }
    for (let ok = oi; ok < oj - 1; ok++) if (ost[ok] !== os[ok + 1]! * ost[ok + 1]!) return undefined;
    nst[nj - 1] = ost[oj - 1]!;
    for (let nk = nj - 1; nk > ni; nk--) nst[nk - 1] = nst[nk]! * ns[nk]!;
    ni = nj++;
    oi = oj++;
  }
  // Axes left over are 1-sized: their stride never matters.
  return { ...v, shape: [...newShape], strides: newShape.map((n, a) => (n === 1 ? 0 : nst[a]!)) };
}

/**
 * The index map of a view read from a kernel of rank `rank`, where view axis
 * `a` follows kernel axis `axes[a]` (a 1-sized view axis never moves).
 */
export function viewMap(v: View, rank: number, axes: readonly number[]): IndexMap {
  const strides = new Array<number>(rank).fill(0);
  v.shape.forEach((n, a) => {
    if (n !== 1) strides[axes[a]!]! += v.strides[a]!;
  });
  return { offset: v.offset, strides };
}

/** Kernel axes for a view right-aligned (numpy broadcasting) in a kernel whose first `rank` axes are the result's. */
export function alignedAxes(viewRank: number, rank: number): number[] {
  return Array.from({ length: viewRank }, (_, a) => a + rank - viewRank);
}
