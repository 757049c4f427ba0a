import { type Attrs, flag, ints } from '../attrs.ts';
import { type DType, isFloat, isNumeric } from '../dtype.ts';
import { TypeRuleError } from '../errors.ts';
import { type OpSpec, type OpTable, fixedOperands } from '../op-def.ts';
import type { RefTensor } from '../ref-tensor.ts';
import { type TensorType, numel, stridesOf } from '../tensor-type.ts';
import { normalizeAxes } from './axes.ts';
import { forEachIndex } from './eval-util.ts';

/**
 * How a reduction folds values: its start value and its step, in float64,
 * with i32 wrapping where a step can overflow. Shared by the interpreter's
 * reductions and the kernel evaluator's reduction stages, so a fold is
 * defined once. max and min propagate NaN (Math.max, Math.min). Steps take
 * exactly two arguments: reduceRef passes a third (the output index).
 */
export const COMBINERS = {
  sum: { init: 0, f64: (a: number, v: number) => a + v, i32: (a: number, v: number) => (a + v) | 0 },
  prod: { init: 1, f64: (a: number, v: number) => a * v, i32: (a: number, v: number) => Math.imul(a, v) },
  max: { init: -Infinity, f64: (a: number, v: number) => Math.max(a, v), i32: (a: number, v: number) => Math.max(a, v) },
  min: { init: Infinity, f64: (a: number, v: number) => Math.min(a, v), i32: (a: number, v: number) => Math.min(a, v) },
} as const;

/** The ways a reduction can fold its values. */
export type CombinerName = keyof typeof COMBINERS;

/** The step of a combiner for an accumulator of `dtype` (i32 wraps; bool folds 0/1 like numbers). */
export function combineFn(c: CombinerName, dtype: DType): (acc: number, v: number) => number {
  return dtype === 'i32' ? COMBINERS[c].i32 : COMBINERS[c].f64;
}

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
 * Each output element starts at `init` and folds the inputs in row-major
 * order; `combine` and `finish` are also told the output element's flat index.
 */
export function reduceRef(
  x: RefTensor,
  axes: readonly number[],
  result: TensorType,
  init: number,
  combine: (acc: number, v: number, out: number) => number,
  finish: (acc: number, count: number, out: number) => number = (acc) => acc,
): RefTensor {
  const kept = x.type.shape.map((_, a) => a).filter((a) => !axes.includes(a));
  const keptShape = kept.map((a) => x.type.shape[a]!);
  const keptStrides = stridesOf(keptShape);
  const acc = new Float64Array(numel(keptShape)).fill(init);
  forEachIndex(x.type.shape, (idx, flat) => {
    let o = 0;
    for (let k = 0; k < kept.length; k++) o += idx[kept[k]!]! * keptStrides[k]!;
    acc[o] = combine(acc[o]!, x.data[flat]!, o);
  });
  const count = numel(x.type.shape) / acc.length;
  for (let i = 0; i < acc.length; i++) acc[i] = finish(acc[i]!, count, i);
  return { type: result, data: acc };
}

/** Which operand dtypes a reduction accepts, and the dtype of its result. */
type Accepts = 'float' | 'numeric' | 'any';

const ACCEPTS_DOC: Record<Accepts, string> = { float: 'f32', numeric: 'f32 or i32', any: 'f32, i32 or bool' };

/** One reduction over a list of axes: a combiner over (possibly mapped) values, an optional finish. */
interface ReductionRule {
  readonly doc: string;
  readonly accepts: Accepts;
  readonly combiner: CombinerName;
  /** The result is bool whatever the operand (any, all); else the operand's dtype. */
  readonly boolResult?: boolean;
  readonly finish?: (acc: number, count: number) => number;
}

/** Truthiness as PyTorch's any/all see it: nonzero, NaN included. */
const truth = (v: number): number => (v !== 0 ? 1 : 0);

/** The reductions over a list of axes, one entry per op. */
const REDUCTIONS = {
  reduce_sum: { doc: 'sum over axes', accepts: 'numeric', combiner: 'sum' },
  reduce_max: { doc: 'maximum over axes (NaN if any element is NaN; on bool, any)', accepts: 'any', combiner: 'max' },
  reduce_mean: { doc: 'arithmetic mean over axes', accepts: 'float', combiner: 'sum', finish: (acc, n) => acc / n },
  reduce_min: { doc: 'minimum over axes (NaN if any element is NaN; on bool, all)', accepts: 'any', combiner: 'min' },
  reduce_prod: { doc: 'product over axes (i32 wraps)', accepts: 'numeric', combiner: 'prod' },
  reduce_any: { doc: 'true where some element over axes is nonzero (NaN counts as nonzero), as torch.any', accepts: 'any', combiner: 'max', boolResult: true },
  reduce_all: { doc: 'true where every element over axes is nonzero (NaN counts as nonzero), as torch.all', accepts: 'any', combiner: 'min', boolResult: true },
} as const satisfies Readonly<Record<string, ReductionRule>>;

/** Checks an operand dtype against what a reduction accepts. */
export function checkReductionDType(d: DType, accepts: Accepts, what = 'operand x'): void {
  const ok = accepts === 'any' || (accepts === 'float' ? isFloat(d) : isNumeric(d));
  if (!ok) throw new TypeRuleError(`${what} has dtype ${d}, expected ${ACCEPTS_DOC[accepts]}`);
}

/** The `axes` and `keepdims` attributes every reduction over a list of axes has. */
export const AXES_ATTRS = {
  axes: { kind: 'ints', doc: 'axes to reduce (negative counts from the end)' },
  keepdims: { kind: 'bool', default: false, doc: 'keep reduced axes as extent 1' },
} as const;

/** The type of reducing `x` over the `axes` and `keepdims` attributes, into `dtype`. */
export function reductionType(x: TensorType, attrs: Attrs, dtype: DType): TensorType {
  const axes = normalizeAxes(ints(attrs, 'axes'), x.shape.length);
  return { dtype, shape: reducedShape(x.shape, axes, flag(attrs, 'keepdims')) };
}

function reductionOp(rule: ReductionRule): OpSpec {
  return {
    doc: rule.doc,
    fusion: 'reduction',
    operands: fixedOperands('x'),
    attrs: AXES_ATTRS,
    canonicalize([x], attrs) {
      return { ...attrs, axes: normalizeAxes(ints(attrs, 'axes'), x!.shape.length) };
    },
    inferType([x], attrs: Attrs) {
      checkReductionDType(x!.dtype, rule.accepts);
      return reductionType(x!, attrs, rule.boolResult ? 'bool' : x!.dtype);
    },
    evaluate([x], attrs, result) {
      const axes = normalizeAxes(ints(attrs, 'axes'), x!.type.shape.length);
      const step = combineFn(rule.combiner, result.dtype);
      const combine = rule.boolResult ? (a: number, v: number) => step(a, truth(v)) : step;
      return reduceRef(x!, axes, result, COMBINERS[rule.combiner].init, combine, rule.finish);
    },
  };
}

/** The reductions over a list of axes (sum, max, mean, min, prod, any, all), one entry per op. */
export const REDUCTION_OPS = Object.fromEntries(Object.entries(REDUCTIONS).map(([n, r]) => [n, reductionOp(r)])) as Record<keyof typeof REDUCTIONS, OpSpec> satisfies OpTable;

/**
 * How a reduction over axes folds, for lowerings: its combiner, whether it
 * folds truth values into a bool (any, all), and whether it divides by the
 * count (mean). Undefined for other ops.
 */
export function reductionFold(op: string): { combiner: CombinerName; truth: boolean; mean: boolean } | undefined {
  const r: ReductionRule | undefined = Object.hasOwn(REDUCTIONS, op) ? REDUCTIONS[op as keyof typeof REDUCTIONS] : undefined;
  return r && { combiner: r.combiner, truth: r.boolResult ?? false, mean: op === 'reduce_mean' };
}
