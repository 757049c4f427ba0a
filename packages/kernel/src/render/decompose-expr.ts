import { type Attrs, type DType, type Emitter, type OpDef, type OpName, type Value, completeAttrs, getOp, isBinaryOp, isComposite, isCompareOp, isUnaryOp, str } from '@tessera/ir';
import { E, type Expr } from '../expr.ts';

/**
 * The scalar expression of an elementwise op applied to operand expressions
 * (already at the result's index): a primitive is one node; a composite
 * (gelu, silu, ...) is expanded through its registry decomposition, so each
 * op is still defined once.
 */
export function scalarExpr(op: OpName, attrs: Attrs, operands: readonly Expr[]): Expr {
  if (isUnaryOp(op)) return E.unary(op, operands[0]!);
  if (isBinaryOp(op)) return E.binary(op, operands[0]!, operands[1]!);
  if (isCompareOp(op)) return E.compare(op, operands[0]!, operands[1]!);
  if (op === 'where') return E.select(operands[0]!, operands[1]!, operands[2]!);
  if (op === 'cast') return E.cast(str(attrs, 'to') as DType, operands[0]!);
  const def = getOp(op);
  if (isComposite(op) && def.decompose) return expandDecomposition(def, attrs, operands);
  throw new Error(`scalarExpr: '${op}' is not an elementwise op`);
}

/**
 * Runs an op's decomposition on scalar expressions: each value the
 * decomposition emits is one expression, scalar constants are literals.
 * Used by the lowering for composites and by the legaliser for primitives a
 * target has no code for. Only elementwise decompositions fit (every value
 * at the same index); a decomposition that needs shapes is not one.
 */
export function expandDecomposition(def: OpDef, attrs: Attrs, operands: readonly Expr[]): Expr {
  const exprs = new Map<string, Expr>();
  const value = (e: Expr): Value => {
    const name = `e${exprs.size}`;
    exprs.set(name, e);
    return { name, type: { dtype: e.dtype, shape: [] } };
  };
  const emitter: Emitter = {
    emit(op, vs, a = {}) {
      if (op === 'constant') {
        const values = a.value as readonly number[];
        if (values.length !== 1) throw new Error(`expandDecomposition: ${def.name} emits a non-scalar constant`);
        return value(E.const((a.dtype as DType | undefined) ?? 'f32', values[0]!));
      }
      // Defaults filled, as the builder would: a nested composite reads its attributes.
      return value(scalarExpr(op, completeAttrs(getOp(op).attrs, a), vs.map((v) => exprs.get(v.name)!)));
    },
  };
  if (!def.decompose) throw new Error(`expandDecomposition: '${def.name}' has no decomposition`);
  return exprs.get(def.decompose(emitter, operands.map(value), attrs).name)!;
}
