import { ints, num, str } from '../attrs.ts';
import type { DType } from '../dtype.ts';
import { TypeRuleError } from '../errors.ts';
import { type OpSpec, type OpTable, fixedOperands } from '../op-def.ts';
import { normalizeAxis, numel, tensorType } from '../tensor-type.ts';
import { forEachIndex } from './eval-util.ts';
import { castValue } from './elementwise.ts';

const iotaOp: OpSpec = {
  doc: 'each element is its index along `axis` (0, 1, 2, ...)',
  fusion: 'injective',
  operands: fixedOperands(),
  attrs: {
    shape: { kind: 'ints', doc: 'result shape' },
    axis: { kind: 'int', doc: 'axis whose index is the value' },
    dtype: { kind: 'dtype', default: 'i32', doc: 'result dtype (i32 or f32)' },
  },
  canonicalize: (_ops, attrs) => ({ ...attrs, axis: normalizeAxis(num(attrs, 'axis'), ints(attrs, 'shape').length) }),
  inferType(_ops, attrs) {
    const dtype = str(attrs, 'dtype') as DType;
    if (dtype === 'bool') throw new TypeRuleError('dtype bool is not allowed, expected i32 or f32');
    const shape = ints(attrs, 'shape');
    normalizeAxis(num(attrs, 'axis'), shape.length);
    return tensorType(dtype, shape);
  },
  evaluate(_ops, attrs, result) {
    const axis = num(attrs, 'axis');
    const data = new Float64Array(numel(result.shape));
    forEachIndex(result.shape, (idx, flat) => {
      data[flat] = idx[axis]!;
    });
    return { type: result, data };
  },
};

/** Rounds a constant's values to what its dtype can hold (f32 rounding, i32 and bool exact). */
export function roundConstant(dtype: DType, values: readonly number[]): number[] {
  return values.map((v) => (dtype === 'f32' ? Math.fround(v) : castValue(v, dtype)));
}

const constantOp: OpSpec = {
  doc: 'a literal tensor: `value` in row-major order, or one value repeated',
  fusion: 'injective',
  operands: fixedOperands(),
  attrs: {
    shape: { kind: 'ints', doc: 'result shape' },
    dtype: { kind: 'dtype', default: 'f32', doc: 'result dtype' },
    value: { kind: 'floats', doc: 'elements in row-major order (or a single value, repeated)' },
  },
  // Doubles are rounded to f32 for convenience (a DSL writes 0.1); i32 and bool values must already be exact.
  canonicalize: (_ops, attrs) => (str(attrs, 'dtype') === 'f32' ? { ...attrs, value: roundConstant('f32', attrs.value as number[]) } : attrs),
  inferType(_ops, attrs) {
    const t = tensorType(str(attrs, 'dtype') as DType, ints(attrs, 'shape'));
    const values = attrs.value as readonly number[];
    const n = numel(t.shape);
    if (values.length !== n && values.length !== 1) {
      throw new TypeRuleError(`value has ${values.length} elements, expected ${n} (or 1, repeated) for shape [${t.shape.join(',')}]`);
    }
    const exact = roundConstant(t.dtype, values);
    const bad = values.findIndex((v, i) => v !== exact[i] && !(Number.isNaN(v) && Number.isNaN(exact[i]!)));
    if (bad >= 0) throw new TypeRuleError(`value element ${bad} is ${values[bad]}, which dtype ${t.dtype} cannot hold exactly`);
    return t;
  },
  evaluate(_ops, attrs, result) {
    const values = attrs.value as readonly number[];
    const data = new Float64Array(numel(result.shape));
    for (let i = 0; i < data.length; i++) data[i] = values.length === 1 ? values[0]! : values[i]!;
    return { type: result, data };
  },
};

/** Ops with no operands. */
export const SOURCE_OPS = {
  iota: iotaOp,
  constant: constantOp,
} as const satisfies OpTable;
