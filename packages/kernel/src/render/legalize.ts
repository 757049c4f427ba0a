import { getOp } from '@tessera/ir';
import { type Expr, E } from '../expr.ts';
import { type Kernel, type KernelProgram, type Store, kernelExprs } from '../kernel.ts';
import { expandDecomposition } from './decompose-expr.ts';
import { type AnyCodeTable, type ScalarOp, hasCode } from './renderer.ts';

/** Which scalar ops a code generator has code for (the others are legalised). */
export type OpSupport = (op: ScalarOp) => boolean;

/** The ops a code table has code for. */
export function supportOf(table: AnyCodeTable): OpSupport {
  return supportOfAll(table);
}

/** The ops every one of the tables has code for (a backend with several code generators). */
export function supportOfAll(...tables: readonly AnyCodeTable[]): OpSupport {
  const ops = [...Object.keys(tables[0]!.unary), ...Object.keys(tables[0]!.binary), ...Object.keys(tables[0]!.compare)] as ScalarOp[];
  const supported = new Set(ops.filter((op) => tables.every((t) => hasCode(t, op))));
  return (op) => supported.has(op);
}

/** Decompositions nest (gelu's erf, say), but never this deep: a cycle is a bug, not a program. */
const MAX_DEPTH = 16;

/** Whether `e` has an op the target has no code for (no allocation: most kernels are legal already). */
function needsLegalizing(e: Expr, supports: OpSupport): boolean {
  switch (e.k) {
    case 'load':
      return e.indirect !== undefined && needsLegalizing(e.indirect.index, supports);
    case 'unary':
      return !supports(e.op) || needsLegalizing(e.x, supports);
    case 'cast':
      return needsLegalizing(e.x, supports);
    case 'binary':
    case 'compare':
      return !supports(e.op) || needsLegalizing(e.a, supports) || needsLegalizing(e.b, supports);
    case 'select':
      return needsLegalizing(e.cond, supports) || needsLegalizing(e.a, supports) || needsLegalizing(e.b, supports);
    default:
      return false;
  }
}

/**
 * The legalisation step before codegen (tinygrad's transcendental
 * decompositions, TVM's FLegalize): every scalar op the target has no code
 * for is rewritten into its registry decomposition, recursively, so each
 * decomposition (erf's polynomial, say) is written once for every target.
 * Sub-expressions shared before are shared after (one memo per kernel).
 */
class Legalizer {
  private readonly memo = new Map<Expr, Expr>();

  constructor(
    private readonly supports: OpSupport,
    private readonly depth = 0,
  ) {}

  /** `e` legalised (itself when nothing changes). */
  expr(e: Expr): Expr {
    if (!needsLegalizing(e, this.supports)) return e;
    const known = this.memo.get(e);
    if (known) return known;
    let out: Expr;
    switch (e.k) {
      case 'load':
        out = { ...e, indirect: { ...e.indirect!, index: this.expr(e.indirect!.index) } };
        break;
      case 'unary':
      case 'cast':
        out = { ...e, x: this.expr(e.x) };
        break;
      case 'binary':
      case 'compare':
        out = { ...e, a: this.expr(e.a), b: this.expr(e.b) };
        break;
      case 'select':
        out = E.select(this.expr(e.cond), this.expr(e.a), this.expr(e.b));
        break;
      default:
        out = e;
    }
    if ((out.k === 'unary' || out.k === 'binary' || out.k === 'compare') && !this.supports(out.op)) {
      if (this.depth >= MAX_DEPTH) throw new Error(`legalize: decomposing '${out.op}' nests deeper than ${MAX_DEPTH} levels`);
      const operands = out.k === 'unary' ? [out.x] : [out.a, out.b];
      out = new Legalizer(this.supports, this.depth + 1).expr(expandDecomposition(getOp(out.op), {}, operands));
    }
    this.memo.set(e, out);
    return out;
  }

  stores(stores: readonly Store[]): readonly Store[] {
    return stores.some((s) => needsLegalizing(s.value, this.supports)) ? stores.map((s) => ({ ...s, value: this.expr(s.value) })) : stores;
  }
}

/** `e` legalised for a target: ops without code become their decompositions (`e` itself when nothing changes). */
export function legalizeExpr(e: Expr, supports: OpSupport): Expr {
  return new Legalizer(supports).expr(e);
}

/** Whether a kernel has an op the target has no code for. */
function kernelNeedsLegalizing(k: Kernel, supports: OpSupport): boolean {
  return kernelExprs(k).some((e) => needsLegalizing(e, supports));
}

/** One kernel legalised (itself when nothing changes). */
export function legalizeKernel(k: Kernel, supports: OpSupport): Kernel {
  if (!kernelNeedsLegalizing(k, supports)) return k;
  const l = new Legalizer(supports);
  switch (k.kind) {
    case 'map':
      return { ...k, stores: l.stores(k.stores) };
    case 'reduce':
      return { ...k, stages: k.stages.map((s) => ({ ...s, value: l.expr(s.value) })), stores: l.stores(k.stores), rowStores: l.stores(k.rowStores) };
    case 'matmul':
      return { ...k, readA: l.expr(k.readA), readB: l.expr(k.readB), stores: l.stores(k.stores) };
    case 'attention':
      return {
        ...k,
        readQ: l.expr(k.readQ),
        readK: l.expr(k.readK),
        readV: l.expr(k.readV),
        ...(k.keep ? { keep: l.expr(k.keep) } : {}),
        ...(k.bias ? { bias: l.expr(k.bias) } : {}),
        stores: l.stores(k.stores),
        ...(k.statStores ? { statStores: l.stores(k.statStores) } : {}),
      };
  }
}

/** A kernel program with every kernel legalised for a target (the program itself when nothing changes). */
export function legalizeKernelProgram(p: KernelProgram, supports: OpSupport): KernelProgram {
  const kernels = p.kernels.map((k) => legalizeKernel(k, supports));
  return kernels.every((k, i) => k === p.kernels[i]) ? p : { ...p, kernels };
}
