/**
 * Axis simplification for map kernels before emission: extent-1 axes are
 * dropped, and neighbouring axes that every access walks contiguously
 * (stride[a] = stride[a+1] * extent[a+1] for every map) are merged. An
 * elementwise kernel over dense [197, 768] becomes one axis of 151296
 * points: one long vector loop, split evenly across threads.
 */
import { E, type Expr, type IndexMap, type MapKernel, type Store, rewriteAxes, walkExpr } from '@tessera/kernel';

/** Every index map a map kernel uses (loads, gathers' bases and index positions, stores). */
function allMaps(k: MapKernel): IndexMap[] {
  const maps: IndexMap[] = [];
  for (const s of k.stores) {
    maps.push(s.map);
    walkExpr(s.value, (x) => {
      if (x.k !== 'load') return;
      maps.push(x.map);
      if (x.indirect) maps.push(x.indirect.site.position);
    });
  }
  return maps;
}

/** Axes that some `axis` expression reads (their values are needed, so they cannot be merged away). */
function readAxes(k: MapKernel): Set<number> {
  const used = new Set<number>();
  for (const s of k.stores) walkExpr(s.value, (x) => x.k === 'axis' && used.add(x.axis));
  return used;
}

/** The same map kernel over fewer axes where its accesses allow; unchanged when nothing merges. */
export function collapseMapKernel(k: MapKernel): MapKernel {
  if (k.shape.length === 0) {
    // A scalar kernel: one axis of extent 1, which no map moves along.
    const map = (m: IndexMap): IndexMap => ({ offset: m.offset, strides: [0] });
    const values = rewriteAxes(
      k.stores.map((s) => s.value),
      map,
      (a) => E.axis(a),
    );
    return { ...k, shape: [1], stores: k.stores.map((s, i) => ({ buffer: s.buffer, map: map(s.map), value: values[i]! })) };
  }
  let shape = [...k.shape];
  // groups[newAxis] = old axes it covers, in order.
  let groups = shape.map((_, a) => [a]);
  const used = readAxes(k);
  const maps = allMaps(k);
  // Drop extent-1 axes (an axis read there is the constant 0), keeping at least one axis.
  const keep = shape.map((n) => n !== 1);
  if (!keep.some(Boolean)) keep[keep.length - 1] = true;
  groups = groups.filter((_, a) => keep[a]);
  shape = shape.filter((_, a) => keep[a]);
  // Merge a into a+1 while every map is contiguous across them and neither is read as a value.
  for (let a = shape.length - 2; a >= 0; a--) {
    const hi = groups[a]!;
    const lo = groups[a + 1]!;
    if (hi.some((x) => used.has(x)) || lo.some((x) => used.has(x))) continue;
    const loAxis = lo[lo.length - 1]!;
    const hiAxis = hi[hi.length - 1]!;
    const ok = maps.every((m) => m.strides[hiAxis] === m.strides[loAxis]! * shape[a + 1]!);
    if (!ok) continue;
    groups.splice(a, 2, [...hi, ...lo]);
    shape.splice(a, 2, shape[a]! * shape[a + 1]!);
  }
  if (shape.length === k.shape.length) return k;
  // New stride of a group = the stride of its innermost old axis.
  const newMap = (m: IndexMap): IndexMap => ({ offset: m.offset, strides: groups.map((g) => m.strides[g[g.length - 1]!]!) });
  const newAxisOf = new Map<number, number>();
  groups.forEach((g, i) => g.length === 1 && newAxisOf.set(g[0]!, i));
  const axis = (a: number): Expr => {
    const n = newAxisOf.get(a);
    return n === undefined ? E.const('i32', 0) : E.axis(n);
  };
  const values = rewriteAxes(
    k.stores.map((s) => s.value),
    newMap,
    axis,
  );
  const stores: Store[] = k.stores.map((s, i) => ({ buffer: s.buffer, map: newMap(s.map), value: values[i]! }));
  return { ...k, shape, stores };
}
