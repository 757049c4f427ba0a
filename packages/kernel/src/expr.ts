import type { BinaryOp, CompareOp, DType, GatherNode, UnaryOp } from '@tessera/ir';

/**
 * An affine index map: the flat element offset read or written at a point of
 * the kernel's iteration space is `offset + sum(strides[a] * axis[a])`. One
 * stride per iteration axis; 0 means the axis does not move the address
 * (broadcast, or an axis the access does not depend on). Transposes, slices,
 * broadcasts and expressible reshapes are all such maps: views, not copies.
 */
export interface IndexMap {
  readonly offset: number;
  readonly strides: readonly number[];
}

/**
 * A data-dependent part of an address (gather): the i32 value of `index`,
 * checked to lie in [0, extent), times `stride`, is added to the offset.
 * An index outside that range is a run-time error (GatherIndexError) that
 * names `site`; generated kernels record it (the least position wins) and
 * read row 0 instead, and the runtime throws after the run.
 */
export interface Indirect {
  readonly index: Expr;
  readonly stride: number;
  readonly extent: number;
  readonly site: GatherSite;
}

/**
 * The graph gather an indirect load comes from, for its error: the node, its
 * operands and location, and where in its indices tensor each point's index
 * sits (`position`, an affine map over the kernel's axes into a flat,
 * row-major position in [0, positions)).
 */
export interface GatherSite extends GatherNode {
  readonly position: IndexMap;
  readonly positions: number;
}

/**
 * The scalar expression language of kernel bodies. Every node carries its
 * dtype so emitters never infer. Bool values are true/false; i32 arithmetic
 * wraps to 32 bits; f32 arithmetic is at least float32-accurate (backends may
 * keep more precision in registers).
 */
export type Expr =
  | { readonly k: 'const'; readonly dtype: DType; readonly value: number }
  /** The current value of iteration axis `axis` (an i32). */
  | { readonly k: 'axis'; readonly dtype: 'i32'; readonly axis: number }
  /** An element of buffer `buffer` (index into the program's buffer list). */
  | { readonly k: 'load'; readonly dtype: DType; readonly buffer: number; readonly map: IndexMap; readonly indirect?: Indirect }
  | { readonly k: 'unary'; readonly dtype: DType; readonly op: UnaryOp; readonly x: Expr }
  | { readonly k: 'binary'; readonly dtype: DType; readonly op: BinaryOp; readonly a: Expr; readonly b: Expr }
  | { readonly k: 'compare'; readonly dtype: 'bool'; readonly op: CompareOp; readonly a: Expr; readonly b: Expr }
  | { readonly k: 'select'; readonly dtype: DType; readonly cond: Expr; readonly a: Expr; readonly b: Expr }
  | { readonly k: 'cast'; readonly dtype: DType; readonly x: Expr }
  /** A named scalar computed earlier in the kernel: a reduction stage's result, or `acc` in a matmul epilogue. */
  | { readonly k: 'ref'; readonly dtype: DType; readonly name: string };

/** Expression constructors, so lowering code reads like the math. */
export const E = {
  const: (dtype: DType, value: number): Expr => ({ k: 'const', dtype, value }),
  axis: (axis: number): Expr => ({ k: 'axis', dtype: 'i32', axis }),
  load: (dtype: DType, buffer: number, map: IndexMap, indirect?: Indirect): Expr =>
    indirect ? { k: 'load', dtype, buffer, map, indirect } : { k: 'load', dtype, buffer, map },
  unary: (op: UnaryOp, x: Expr): Expr => ({ k: 'unary', dtype: x.dtype, op, x }),
  binary: (op: BinaryOp, a: Expr, b: Expr): Expr => ({ k: 'binary', dtype: a.dtype, op, a, b }),
  compare: (op: CompareOp, a: Expr, b: Expr): Expr => ({ k: 'compare', dtype: 'bool', op, a, b }),
  select: (cond: Expr, a: Expr, b: Expr): Expr => ({ k: 'select', dtype: a.dtype, cond, a, b }),
  cast: (dtype: DType, x: Expr): Expr => ({ k: 'cast', dtype, x }),
  ref: (dtype: DType, name: string): Expr => ({ k: 'ref', dtype, name }),
};

/** The direct operands of a node (a gather's index counts as one). */
export function exprChildren(e: Expr): readonly Expr[] {
  switch (e.k) {
    case 'load':
      return e.indirect ? [e.indirect.index] : [];
    case 'unary':
    case 'cast':
      return [e.x];
    case 'binary':
    case 'compare':
      return [e.a, e.b];
    case 'select':
      return [e.cond, e.a, e.b];
    default:
      return [];
  }
}

/** Calls `fn` on every sub-expression, parents before children. */
export function walkExpr(e: Expr, fn: (e: Expr) => void): void {
  fn(e);
  switch (e.k) {
    case 'load':
      if (e.indirect) walkExpr(e.indirect.index, fn);
      return;
    case 'unary':
    case 'cast':
      walkExpr(e.x, fn);
      return;
    case 'binary':
    case 'compare':
      walkExpr(e.a, fn);
      walkExpr(e.b, fn);
      return;
    case 'select':
      walkExpr(e.cond, fn);
      walkExpr(e.a, fn);
      walkExpr(e.b, fn);
      return;
    default:
      return;
  }
}

/** The buffers an expression loads from. */
export function loadedBuffers(e: Expr, into = new Set<number>()): Set<number> {
  walkExpr(e, (x) => {
    if (x.k === 'load') into.add(x.buffer);
  });
  return into;
}

/**
 * The expressions with every iteration axis and index map rewritten (loads,
 * gathers' bases, indices and index positions), shared sub-expressions kept
 * shared: for passes and backends that change a kernel's iteration space.
 */
export function rewriteAxes(roots: readonly Expr[], map: (m: IndexMap) => IndexMap, axis: (a: number) => Expr): Expr[] {
  const memo = new Map<Expr, Expr>();
  const go = (e: Expr): Expr => {
    const hit = memo.get(e);
    if (hit) return hit;
    let out: Expr;
    switch (e.k) {
      case 'axis':
        out = axis(e.axis);
        break;
      case 'load':
        out = e.indirect
          ? E.load(e.dtype, e.buffer, map(e.map), { ...e.indirect, index: go(e.indirect.index), site: { ...e.indirect.site, position: map(e.indirect.site.position) } })
          : E.load(e.dtype, e.buffer, map(e.map));
        break;
      case 'unary':
      case 'cast':
        out = { ...e, x: go(e.x) };
        break;
      case 'binary':
      case 'compare':
        out = { ...e, a: go(e.a), b: go(e.b) };
        break;
      case 'select':
        out = { ...e, cond: go(e.cond), a: go(e.a), b: go(e.b) };
        break;
      default:
        out = e;
    }
    memo.set(e, out);
    return out;
  };
  return roots.map(go);
}

