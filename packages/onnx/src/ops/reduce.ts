/** Reductions, arg-reductions and running sums. */
import { type ReductionOp, formatType } from '@tessera/ir';
import { type Converter, type NodeContext, attrInt, attrInts, axisOf, constScalar, input, optionalInts, unsupported } from '../context.ts';
import { type Val, typeOf } from '../values.ts';
import { flip } from './shape.ts';

/**
 * The axes of a reduction: an input (ReduceSum from opset 13, every
 * reduction from 18) or the `axes` attribute; none means all axes, or
 * nothing at all with noop_with_empty_axes.
 */
function reductionAxes(ctx: NodeContext, rank: number): number[] | 'noop' {
  const fromInput = ctx.node.op_type === 'ReduceSum' ? ctx.opset >= 13 : ctx.opset >= 18;
  const given = fromInput ? optionalInts(ctx, 1, 'axes') : attrInts(ctx, 'axes');
  if (!given || given.length === 0) return attrInt(ctx, 'noop_with_empty_axes', 0) ? 'noop' : [...Array(rank).keys()];
  return given.map((a) => axisOf(a, rank));
}

/** A reduction, with `pre` applied to the operand and `post` to the result (ReduceL2 = sqrt(sum(x^2))). */
const reduction =
  (op: ReductionOp | 'logsumexp', pre?: (ctx: NodeContext, x: Val) => Val, post?: (ctx: NodeContext, y: Val) => Val): Converter =>
  (ctx) => {
    const x = input(ctx, 0, 'data');
    const t = typeOf(x);
    const axes = reductionAxes(ctx, t.shape.length);
    const px = pre ? pre(ctx, x) : x;
    if (axes === 'noop') return px;
    const keepdims = attrInt(ctx, 'keepdims', 1) !== 0;
    const y = ctx.e.emit(op, [px], { axes, keepdims });
    return post ? post(ctx, y) : y;
  };

const square = (ctx: NodeContext, x: Val) => ctx.e.emit('mul', [x, x]);

const argReduction =
  (op: 'argmax' | 'argmin'): Converter =>
  (ctx) => {
    const x = input(ctx, 0, 'data');
    const shape = typeOf(x).shape;
    const axis = axisOf(attrInt(ctx, 'axis', 0), shape.length);
    const keepdims = attrInt(ctx, 'keepdims', 1) !== 0;
    if (!attrInt(ctx, 'select_last_index', 0)) return ctx.e.emit(op, [x], { axis, keepdims });
    // The last extreme: the first one of the flipped axis, counted back from the end.
    const first = ctx.e.emit(op, [flip(ctx, x, axis)], { axis, keepdims });
    return ctx.e.emit('sub', [constScalarI32(shape[axis]! - 1), first]);
  };

const constScalarI32 = (v: number): Val => ({ kind: 'const', t: { type: { dtype: 'i32', shape: [] }, data: Float64Array.of(v) } });

/** CumSum: exclusive is the inclusive sum less the element; reverse flips the axis around it. */
const cumSum: Converter = (ctx) => {
  let x = input(ctx, 0, 'x');
  const t = typeOf(x);
  if (t.dtype === 'bool') unsupported(`x is ${formatType(t)}, expected a number type`);
  const axis = axisOf(constScalar(ctx, 1, 'axis'), t.shape.length);
  const reverse = attrInt(ctx, 'reverse', 0) !== 0;
  if (reverse) x = flip(ctx, x, axis);
  let y = ctx.e.emit('cumsum', [x], { axis });
  if (attrInt(ctx, 'exclusive', 0)) y = ctx.e.emit('sub', [y, x]);
  return reverse ? flip(ctx, y, axis) : y;
};

/** The reduction converters, by ONNX op type. */
export const REDUCE_CONVERTERS: Readonly<Record<string, Converter>> = {
  ReduceMean: reduction('reduce_mean'),
  ReduceSum: reduction('reduce_sum'),
  ReduceMax: reduction('reduce_max'),
  ReduceMin: reduction('reduce_min'),
  ReduceProd: reduction('reduce_prod'),
  ReduceSumSquare: reduction('reduce_sum', square),
  ReduceL1: reduction('reduce_sum', (ctx, x) => ctx.e.emit('abs', [x])),
  ReduceL2: reduction('reduce_sum', square, (ctx, y) => ctx.e.emit('sqrt', [y])),
  ReduceLogSum: reduction('reduce_sum', undefined, (ctx, y) => ctx.e.emit('log', [y])),
  ReduceLogSumExp: reduction('logsumexp'),
  ArgMax: argReduction('argmax'),
  ArgMin: argReduction('argmin'),
  CumSum: cumSum,
};
