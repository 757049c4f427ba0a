import { type DType, binaryScalarFn, castValue, compareScalarFn, unaryScalarFn } from '@tessera/ir';
import type { Expr } from '../expr.ts';

/** A value as its dtype holds it: f32 rounded, i32 wrapped, bool 0/1. */
function roundTo(dtype: DType, v: number): number {
  return dtype === 'f32' ? Math.fround(v) : dtype === 'i32' ? v | 0 : v ? 1 : 0;
}

/**
 * Constant folding for every target: a sub-tree of constants becomes one
 * constant, computed with the registry's scalar semantics (so i32 wraps and
 * NaN propagates exactly as the interpreter says) and rounded to its dtype.
 * Memoised per node, so folding every node of an expression is linear.
 * (WGSL needs it: it evaluates constant operands when the shader is created
 * and rejects an overflow or a non-finite result that run time allows.)
 */
export class ConstFolder {
  private readonly memo = new Map<Expr, number | undefined>();

  /** The value of `e` if it is made of constants only, else undefined. */
  value(e: Expr): number | undefined {
    if (this.memo.has(e)) return this.memo.get(e);
    const v = this.compute(e);
    this.memo.set(e, v);
    return v;
  }

  private compute(e: Expr): number | undefined {
    switch (e.k) {
      case 'const':
        return roundTo(e.dtype, e.value);
      case 'unary': {
        const x = this.value(e.x);
        return x === undefined ? undefined : roundTo(e.dtype, unaryScalarFn(e.op, e.x.dtype)(x));
      }
      case 'binary': {
        const a = this.value(e.a);
        const b = a === undefined ? undefined : this.value(e.b);
        return b === undefined ? undefined : roundTo(e.dtype, binaryScalarFn(e.op, e.dtype)(a!, b));
      }
      case 'compare': {
        const a = this.value(e.a);
        const b = a === undefined ? undefined : this.value(e.b);
        return b === undefined ? undefined : compareScalarFn(e.op)(a!, b) ? 1 : 0;
      }
      case 'cast': {
        const x = this.value(e.x);
        return x === undefined ? undefined : roundTo(e.dtype, castValue(x, e.dtype));
      }
      case 'select': {
        const c = this.value(e.cond);
        const a = c === undefined ? undefined : this.value(e.a);
        const b = a === undefined ? undefined : this.value(e.b);
        return b === undefined ? undefined : c ? a : b;
      }
      default:
        return undefined;
    }
  }
}

/** The value of a constant sub-tree (see ConstFolder), or undefined. */
export function foldConst(e: Expr): number | undefined {
  return new ConstFolder().value(e);
}
