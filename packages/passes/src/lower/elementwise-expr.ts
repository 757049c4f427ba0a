import { type Attrs, type DType, type OpDef, type OpName, type TensorType, type Value, getOp, isBinaryOp, isCompareOp, isUnaryOp, str } from '@tessera/ir';
import { E, type Expr } from '@tessera/kernel';

/**
 * The scalar expression of an elementwise op applied to operand expressions
 * (already broadcast to the result's index). Composites (gelu) are expanded
 * through their registry decomposition, so each op is still defined once.
 */
export function elementwiseExpr(op: string, attrs: Attrs, operands: readonly Expr[], type: TensorType): Expr {
  if (isUnaryOp(op)) return E.unary(op, operands[0]!);
  if (isBinaryOp(op)) return E.binary(op, operands[0]!, operands[1]!);
  if (isCompareOp(op)) return E.compare(op, operands[0]!, operands[1]!);
  if (op === 'where') return E.select(operands[0]!, operands[1]!, operands[2]!);
  if (op === 'cast') return E.cast(str(attrs, 'to') as DType, operands[0]!);
  const def = getOp(op);
  if (def.decompose) return expandComposite(def, attrs, operands, type);
  throw new Error(`elementwiseExpr: '${op}' is not elementwise`);
}

/**
 * Runs a composite's decomposition on scalar expressions: every value of the
 * decomposition is one expression (scalar constants become literals).
 */
function expandComposite(def: OpDef, attrs: Attrs, operands: readonly Expr[], type: TensorType): Expr {
  const exprs = new Map<string, Expr>();
  let counter = 0;
  const value = (e: Expr): Value => {
    const name = `e${counter++}`;
    exprs.set(name, e);
    return { name, type: { dtype: e.dtype, shape: type.shape } };
  };
  const emitter = {
    emit(op: string, vs: readonly Value[], a: Attrs = {}): Value {
      if (op === 'constant') {
        const values = a.value as readonly number[];
        if (values.length !== 1) throw new Error(`expandComposite: ${def.name} emits a non-scalar constant`);
        return value(E.const((a.dtype as DType | undefined) ?? 'f32', values[0]!));
      }
      return value(elementwiseExpr(op, a, vs.map((v) => exprs.get(v.name)!), type));
    },
  };
  const out = def.decompose!(emitter, operands.map(value), attrs);
  return exprs.get(out.name)!;
}
