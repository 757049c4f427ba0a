/**
 * View algebra for the pattern step: a chain of reshapes, transposes and
 * unit-step slices read from one source as a strided view (per logical axis,
 * its sub-axes: extent and stride in the source's row-major buffer). The
 * attention rewrite uses it to see that an operand of shape [B*H, T, D]
 * made through a [T, B, ...] layout (nn.MultiheadAttention's export) is a
 * reshape of a rank-4 strided view [B, H, T, D], which it rebuilds as
 * reshape -> slice -> transpose of the source: the form the lowering reads
 * in place, as the DSL's heads split.
 */
import { type Node, numel, stridesOf } from '@tessera/ir';

/** One sub-axis: how many elements, how far apart in the source. */
export interface SubAxis {
  readonly extent: number;
  readonly stride: number;
}

/** A strided view of a source: its logical axes (each a row-major group of sub-axes) and its offset. */
export interface StridedView {
  readonly source: string;
  readonly axes: readonly (readonly SubAxis[])[];
  readonly offset: number;
}

/** Regroups sub-axes (flattened, row-major) into logical axes of `shape`, splitting a sub-axis where a dimension ends inside it. */
function regroup(subs: readonly SubAxis[], shape: readonly number[]): SubAxis[][] | undefined {
  const queue = subs.filter((s) => s.extent !== 1).map((s) => ({ ...s }));
  const out: SubAxis[][] = [];
  for (const d of shape) {
    const group: SubAxis[] = [];
    let need = d;
    while (need > 1) {
      const s = queue.shift();
      if (!s) return undefined;
      if (s.extent <= need) {
        if (need % s.extent !== 0) return undefined;
        group.push(s);
        need /= s.extent;
      } else {
        if (s.extent % need !== 0) return undefined;
        // Split: the outer part (extent `need`) belongs here, the inner part stays queued.
        const inner = s.extent / need;
        group.push({ extent: need, stride: s.stride * inner });
        queue.unshift({ extent: inner, stride: s.stride });
        need = 1;
      }
    }
    out.push(group);
  }
  return queue.length === 0 ? out : undefined;
}

/**
 * The strided view `name` is of the first value up its chain of view ops
 * (reshape, transpose, slice with unit steps) that is not one, or
 * undefined when the chain is not a strided view. `stop` ends the walk
 * early (a value other consumers need as it is).
 */
export function stridedView(defs: ReadonlyMap<string, Node>, types: ReadonlyMap<string, { shape: readonly number[] }>, name: string): StridedView | undefined {
  const d = defs.get(name);
  if (!d || !['reshape', 'transpose', 'slice'].includes(d.op)) {
    const shape = types.get(name)!.shape;
    const strides = stridesOf(shape);
    return { source: name, axes: shape.map((e, a) => [{ extent: e, stride: strides[a]! }]), offset: 0 };
  }
  const inner = stridedView(defs, types, d.operands[0]!);
  if (!inner) return undefined;
  if (d.op === 'transpose') return { ...inner, axes: (d.attrs.perm as number[]).map((p) => inner.axes[p]!) };
  if (d.op === 'reshape') {
    const axes = regroup(inner.axes.flat(), d.attrs.shape as number[]);
    return axes && { ...inner, axes };
  }
  // slice: only axes that are one sub-axis can be cut.
  const [start, stop, step] = (['start', 'stop', 'step'] as const).map((k) => d.attrs[k] as number[]);
  let offset = inner.offset;
  const axes: SubAxis[][] = [];
  for (let a = 0; a < inner.axes.length; a++) {
    const g = inner.axes[a]!;
    const n = Math.ceil((stop![a]! - start![a]!) / step![a]!);
    const full = numel(g.map((s) => s.extent));
    if (n === full && start![a] === 0) {
      axes.push([...g]);
      continue;
    }
    const s = g.filter((x) => x.extent !== 1);
    if (s.length !== 1) return undefined;
    offset += start![a]! * s[0]!.stride;
    axes.push(n === 1 ? [] : [{ extent: n, stride: s[0]!.stride * step![a]! }]);
  }
  return { ...inner, axes, offset };
}

/** How to read a strided view with IR ops: reshape the source to `dims`, slice `start..start+extent`, transpose by `perm`. */
export interface ViewPlan {
  readonly dims: number[];
  readonly start: number[];
  readonly extent: number[];
  readonly perm: number[];
}

/**
 * The plan that reads sub-axes `subs` (in the order wanted) of a source of
 * `size` elements at `offset`: its dimensions from the strides (each stride
 * must divide the next larger one), the offset spread over them.
 */
export function viewPlan(subs: readonly SubAxis[], offset: number, size: number): ViewPlan | undefined {
  const order = subs.map((_, i) => i).sort((a, b) => subs[b]!.stride - subs[a]!.stride);
  const sorted = order.map((i) => subs[i]!);
  if (sorted.some((s, i) => i > 0 && s.stride === sorted[i - 1]!.stride)) return undefined;
  const dims: number[] = [];
  const strides: number[] = [];
  let outer = size;
  for (const s of sorted) {
    if (outer % s.stride !== 0) return undefined;
    dims.push(outer / s.stride);
    strides.push(s.stride);
    outer = s.stride;
  }
  if (outer !== 1) {
    dims.push(outer);
    strides.push(1);
  }
  const start: number[] = [];
  let rest = offset;
  for (const st of strides) {
    start.push(Math.floor(rest / st));
    rest %= st;
  }
  const extent = dims.map((_, i) => (i < sorted.length ? sorted[i]!.extent : 1));
  if (dims.some((d, i) => start[i]! + extent[i]! > d)) return undefined;
  // The view's axis k is sorted position order.indexOf(k).
  const perm = subs.map((_, k) => order.indexOf(k));
  return { dims, start, extent, perm };
}
