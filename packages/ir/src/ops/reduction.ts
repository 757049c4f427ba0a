import { type Attrs, flag, ints } from '../attrs.ts';
import { isFloat, isNumeric } from '../dtype.ts';
import { TypeRuleError } from '../errors.ts';
import { type OpSpec, type OpTable, fixedOperands } from '../op-def.ts';
import type { RefTensor } from '../ref-tensor.ts';
import { type TensorType, numel, stridesOf } from '../tensor-type.ts';
import { normalizeAxes } from './axes.ts';
import { forEachIndex } from './eval-util.ts';

/** Result shape of reducing `axes` (canonical) of `shape`. */
export function reducedShape(shape: readonly number[], axes: readonly number[], keepdims: boolean): number[] {
  const out: number[] = [];
  shape.forEach((d, a) => {
    if (!axes.includes(a)) out.push(d);
    else if (keepdims) out.push(1);
  });
  return out;
}

/**
 * Folds the elements of `x` along `axes` into a result of `result`'s type.
 * Each output element starts at `init` and folds the inputs in row-major order.
 */
export function reduceRef(
  x: RefTensor,
  axes: readonly number[],
  result: TensorType,
  init: number,
  combine: (acc: number, v: number) => number,
  finish: (acc: number, count: number) => number = (acc) => acc,
): RefTensor {
  const kept = x.type.shape.map((_, a) => a).filter((a) => !axes.includes(a));
  const keptShape = kept.map((a) => x.type.shape[a]!);
  const keptStrides = stridesOf(keptShape);
  const acc = new Float64Array(numel(keptShape)).fill(init);
  forEachIndex(x.type.shape, (idx, flat) => {
    let o = 0;
    for (let k = 0; k < kept.length; k++) o += idx[kept[k]!]! * keptStrides[k]!;
    acc[o] = combine(acc[o]!, x.data[flat]!);
  });
  const count = numel(x.type.shape) / acc.length;
  for (let i = 0; i < acc.length; i++) acc[i] = finish(acc[i]!, count);
  return { type: result, data: acc };
}

function reductionOp(
  doc: string,
  floatOnly: boolean,
  init: number,
  combine: (acc: number, v: number) => number,
  finish?: (acc: number, count: number) => number,
): OpSpec {
  return {
    doc,
    fusion: 'reduction',
    operands: fixedOperands('x'),
    attrs: {
      axes: { kind: 'ints', doc: 'axes to reduce (negative counts from the end)' },
      keepdims: { kind: 'bool', default: false, doc: 'keep reduced axes as extent 1' },
    },
    canonicalize([x], attrs) {
      return { ...attrs, axes: normalizeAxes(ints(attrs, 'axes'), x!.shape.length) };
    },
    inferType([x], attrs: Attrs) {
      const ok = floatOnly ? isFloat(x!.dtype) : isNumeric(x!.dtype);
      if (!ok) throw new TypeRuleError(`operand x has dtype ${x!.dtype}, expected ${floatOnly ? 'f32' : 'f32 or i32'}`);
      const axes = normalizeAxes(ints(attrs, 'axes'), x!.shape.length);
      return { dtype: x!.dtype, shape: reducedShape(x!.shape, axes, flag(attrs, 'keepdims')) };
    },
    evaluate([x], attrs, result) {
      const axes = normalizeAxes(ints(attrs, 'axes'), x!.type.shape.length);
      const wrap = result.dtype === 'i32' ? (v: number) => v | 0 : (v: number) => v;
      return reduceRef(x!, axes, result, init, (a, v) => wrap(combine(a, v)), finish);
    },
  };
}

/** sum, max and mean over a list of axes. */
export const REDUCTION_OPS = {
  reduce_sum: reductionOp('sum over axes', false, 0, (a, v) => a + v),
  reduce_max: reductionOp('maximum over axes (NaN if any element is NaN)', false, -Infinity, Math.max),
  reduce_mean: reductionOp('arithmetic mean over axes', true, 0, (a, v) => a + v, (acc, n) => acc / n),
} as const satisfies OpTable;
