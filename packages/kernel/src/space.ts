import type { IndexMap } from './expr.ts';

/** Visits every point of an iteration space in row-major order; the point array is reused. */
export function forEachPoint(extents: readonly number[], fn: (point: number[]) => void): void {
  const point = new Array<number>(extents.length).fill(0);
  if (extents.some((e) => e <= 0)) return;
  for (;;) {
    fn(point);
    let a = extents.length - 1;
    for (; a >= 0; a--) {
      if (++point[a]! < extents[a]!) break;
      point[a] = 0;
    }
    if (a < 0) return;
  }
}

/** The flat offset an affine map gives at a point. */
export function mapOffset(map: IndexMap, point: readonly number[]): number {
  let o = map.offset;
  for (let a = 0; a < map.strides.length; a++) o += map.strides[a]! * point[a]!;
  return o;
}

/** The smallest and largest offsets an affine map reaches over an iteration space. */
export function mapRange(map: IndexMap, extents: readonly number[]): { min: number; max: number } {
  let min = map.offset;
  let max = map.offset;
  map.strides.forEach((s, a) => {
    const span = s * (extents[a]! - 1);
    if (span < 0) min += span;
    else max += span;
  });
  return { min, max };
}
