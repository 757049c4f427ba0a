import { getOp } from '@tessera/ir';
import { type Expr, E } from '../expr.ts';
import type { Kernel, KernelProgram, Store } from '../kernel.ts';
import { expandDecomposition } from './decompose-expr.ts';
import { type AnyCodeTable, type ScalarOp, hasCode } from './renderer.ts';

/** Which scalar ops a code generator has code for (the others are legalised). */
export type OpSupport = (op: ScalarOp) => boolean;

/** The ops a code table has code for. */
export function supportOf(table: AnyCodeTable): OpSupport {
  return (op) => hasCode(table, op);
}

/** Every op of the tables has code in each of them (a backend with several code generators). */
export function supportOfAll(...tables: readonly AnyCodeTable[]): OpSupport {
  return (op) => tables.every((t) => hasCode(t, op));
}

/** Decompositions nest (gelu's erf, say), but never this deep: a cycle is a bug, not a program. */
const MAX_DEPTH = 16;

/**
 * The legalisation step before codegen (tinygrad's transcendental
 * decompositions, TVM's FLegalize): every scalar op the target has no code
 * for is rewritten into its registry decomposition, recursively, so each
 * decomposition (erf's polynomial, say) is written once for every target.
 * Returns `e` itself when nothing changes.
 */
export function legalizeExpr(e: Expr, supports: OpSupport, memo = new Map<Expr, Expr>(), depth = 0): Expr {
  const known = memo.get(e);
  if (known) return known;
  const go = (x: Expr) => legalizeExpr(x, supports, memo, depth);
  let out: Expr;
  switch (e.k) {
    case 'load': {
      const index = e.indirect ? go(e.indirect.index) : undefined;
      out = e.indirect && index !== e.indirect.index ? { ...e, indirect: { ...e.indirect, index: index! } } : e;
      break;
    }
    case 'unary':
    case 'cast': {
      const x = go(e.x);
      out = x === e.x ? e : { ...e, x };
      break;
    }
    case 'binary':
    case 'compare': {
      const [a, b] = [go(e.a), go(e.b)];
      out = a === e.a && b === e.b ? e : { ...e, a, b };
      break;
    }
    case 'select': {
      const [cond, a, b] = [go(e.cond), go(e.a), go(e.b)];
      out = cond === e.cond && a === e.a && b === e.b ? e : E.select(cond, a, b);
      break;
    }
    default:
      out = e;
  }
  if ((out.k === 'unary' || out.k === 'binary' || out.k === 'compare') && !supports(out.op)) {
    if (depth >= MAX_DEPTH) throw new Error(`legalize: decomposing '${out.op}' nests deeper than ${MAX_DEPTH} levels`);
    const operands = out.k === 'unary' ? [out.x] : [out.a, out.b];
    out = legalizeExpr(expandDecomposition(getOp(out.op), {}, operands), supports, new Map(), depth + 1);
  }
  memo.set(e, out);
  return out;
}

function legalizeStores(stores: readonly Store[], f: (e: Expr) => Expr): readonly Store[] {
  const out = stores.map((s) => {
    const value = f(s.value);
    return value === s.value ? s : { ...s, value };
  });
  return out.every((s, i) => s === stores[i]) ? stores : out;
}

/** One kernel legalised (itself when nothing changes). */
export function legalizeKernel(k: Kernel, supports: OpSupport): Kernel {
  const memo = new Map<Expr, Expr>();
  const f = (e: Expr) => legalizeExpr(e, supports, memo);
  const opt = (e: Expr | undefined) => (e === undefined ? undefined : f(e));
  let next: Kernel;
  switch (k.kind) {
    case 'map':
      next = { ...k, stores: legalizeStores(k.stores, f) };
      break;
    case 'reduce': {
      const stages = k.stages.map((s) => {
        const value = f(s.value);
        return value === s.value ? s : { ...s, value };
      });
      next = { ...k, stages: stages.every((s, i) => s === k.stages[i]) ? k.stages : stages, stores: legalizeStores(k.stores, f), rowStores: legalizeStores(k.rowStores, f) };
      break;
    }
    case 'matmul':
      next = { ...k, readA: f(k.readA), readB: f(k.readB), stores: legalizeStores(k.stores, f) };
      break;
    case 'attention': {
      const [keep, bias] = [opt(k.keep), opt(k.bias)];
      next = { ...k, readQ: f(k.readQ), readK: f(k.readK), readV: f(k.readV), ...(keep ? { keep } : {}), ...(bias ? { bias } : {}), stores: legalizeStores(k.stores, f) };
      break;
    }
  }
  const changed = (Object.keys(next) as (keyof Kernel)[]).some((key) => next[key] !== k[key]);
  return changed ? next : k;
}

/** A kernel program with every kernel legalised for a target (the program itself when nothing changes). */
export function legalizeKernelProgram(p: KernelProgram, supports: OpSupport): KernelProgram {
  const kernels = p.kernels.map((k) => legalizeKernel(k, supports));
  return kernels.every((k, i) => k === p.kernels[i]) ? p : { ...p, kernels };
}
