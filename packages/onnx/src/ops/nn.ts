/** Neural-network ONNX ops: matrix products, convolution, normalisations, softmax. */
import { formatShape, formatType, numel } from '@tessera/ir';
import { type Converter, type NodeContext, attrFloat, attrInt, attrInts, attrString, axisOf, input, scalarOf, unsupported } from '../context.ts';
import { type Val, typeOf } from '../values.ts';
import { reshape } from './shape.ts';

function requireF32(x: Val, what: string): void {
  const t = typeOf(x);
  if (t.dtype !== 'f32') unsupported(`${what} is ${formatType(t)}; Tessera computes this op on float only`);
}

/** ONNX MatMul (numpy matmul): 1-D operands get a unit axis for the product, removed after. */
export function matmul(ctx: NodeContext, a: Val, b: Val): Val {
  requireF32(a, 'A');
  requireF32(b, 'B');
  const [sa, sb] = [typeOf(a).shape, typeOf(b).shape];
  const a2 = sa.length === 1 ? reshape(ctx, a, [1, sa[0]!]) : a;
  const b2 = sb.length === 1 ? reshape(ctx, b, [sb[0]!, 1]) : b;
  const y = ctx.e.emit('matmul', [a2, b2]);
  if (sa.length > 1 && sb.length > 1) return y;
  const ys = typeOf(y).shape;
  const drop = new Set<number>();
  if (sa.length === 1) drop.add(ys.length - 2);
  if (sb.length === 1) drop.add(ys.length - 1);
  return reshape(ctx, y, ys.filter((_, i) => !drop.has(i)));
}

const swapLast2 = (ctx: NodeContext, x: Val): Val => ctx.e.emit('transpose', [x], { perm: [1, 0] });

const gemm: Converter = (ctx) => {
  let a = input(ctx, 0, 'A');
  let b = input(ctx, 1, 'B');
  if (attrInt(ctx, 'transA', 0)) a = swapLast2(ctx, a);
  if (attrInt(ctx, 'transB', 0)) b = swapLast2(ctx, b);
  const alpha = attrFloat(ctx, 'alpha', 1);
  const beta = attrFloat(ctx, 'beta', 1);
  const { e } = ctx;
  let y = matmul(ctx, a, b);
  if (alpha !== 1) y = e.emit('mul', [y, scalarOf('f32', alpha)]);
  const c = ctx.inputs[2];
  if (c && beta !== 0) y = e.emit('add', [y, beta === 1 ? c : e.emit('mul', [c, scalarOf('f32', beta)])]);
  return y;
};

/** Begin and end padding per spatial axis from auto_pad (SAME_UPPER/SAME_LOWER/VALID) or pads. */
export function convPadding(ctx: NodeContext, spatial: readonly number[], kernel: readonly number[], stride: readonly number[], dilation: readonly number[]): { begin: number[]; end: number[] } {
  const autoPad = attrString(ctx, 'auto_pad', 'NOTSET');
  const n = spatial.length;
  if (autoPad === 'NOTSET') {
    const pads = attrInts(ctx, 'pads') ?? Array(2 * n).fill(0);
    return { begin: pads.slice(0, n), end: pads.slice(n) };
  }
  if (autoPad === 'VALID') return { begin: Array(n).fill(0), end: Array(n).fill(0) };
  if (autoPad !== 'SAME_UPPER' && autoPad !== 'SAME_LOWER') unsupported(`auto_pad = '${autoPad}'`);
  const begin: number[] = [];
  const end: number[] = [];
  spatial.forEach((size, i) => {
    const out = Math.ceil(size / stride[i]!);
    const total = Math.max(0, (out - 1) * stride[i]! + (kernel[i]! - 1) * dilation[i]! + 1 - size);
    const small = Math.floor(total / 2);
    begin.push(autoPad === 'SAME_UPPER' ? small : total - small);
    end.push(total - begin[i]!);
  });
  return { begin, end };
}

/** Conv (1-D as 2-D with a unit height, and 2-D); asymmetric padding is a pad op before it. */
const conv: Converter = (ctx) => {
  let x = input(ctx, 0, 'X');
  let w = input(ctx, 1, 'W');
  requireF32(x, 'X');
  const xs = typeOf(x).shape;
  const ws = typeOf(w).shape;
  const spatialRank = xs.length - 2;
  if (spatialRank !== 1 && spatialRank !== 2) unsupported(`a ${spatialRank}-D convolution (input ${formatShape(xs)}): Tessera has 1-D and 2-D ones`);
  const kernel = attrInts(ctx, 'kernel_shape') ?? ws.slice(2);
  const stride = attrInts(ctx, 'strides') ?? Array(spatialRank).fill(1);
  const dilation = attrInts(ctx, 'dilations') ?? Array(spatialRank).fill(1);
  const { begin, end } = convPadding(ctx, xs.slice(2), kernel, stride, dilation);
  const up = <T>(list: readonly T[], one: T): T[] => (spatialRank === 1 ? [one, ...list] : [...list]);
  if (spatialRank === 1) {
    x = reshape(ctx, x, [xs[0]!, xs[1]!, 1, xs[2]!]);
    w = reshape(ctx, w, [ws[0]!, ws[1]!, 1, ws[2]!]);
  }
  let padding = up(begin, 0);
  if (begin.some((b, i) => b !== end[i])) {
    x = ctx.e.emit('pad', [x], { low: [0, 0, ...up(begin, 0)], high: [0, 0, ...up(end, 0)], value: 0 });
    padding = [0, 0];
  }
  const bias = ctx.inputs[2];
  let y = ctx.e.emit('conv2d', bias ? [x, w, bias] : [x, w], { stride: up(stride, 1), padding, dilation: up(dilation, 1), groups: attrInt(ctx, 'group', 1) });
  if (spatialRank === 1) {
    const ys = typeOf(y).shape;
    y = reshape(ctx, y, [ys[0]!, ys[1]!, ys[3]!]);
  }
  return y;
};

/** Softmax-like ops of opset 13+: one axis (default the last). */
const alongAxis =
  (op: 'softmax' | 'log_softmax'): Converter =>
  (ctx) => {
    const x = input(ctx, 0);
    requireF32(x, 'input');
    if (ctx.opset < 13) unsupported(`${ctx.node.op_type} before opset 13 (a 2-D coerced axis)`);
    return ctx.e.emit(op, [x], { axis: attrInt(ctx, 'axis', -1) });
  };

/**
 * LayerNormalization over the axes from `axis` on: layer_norm over the last
 * axis (several normalised axes are flattened into one first). Its optional
 * Mean and InvStdDev outputs are computed apart.
 */
const layerNormalization: Converter = (ctx) => {
  const x = input(ctx, 0, 'X');
  requireF32(x, 'X');
  const shape = typeOf(x).shape;
  const axis = axisOf(attrInt(ctx, 'axis', -1), shape.length);
  const eps = attrFloat(ctx, 'epsilon', 1e-5);
  const normShape = shape.slice(axis);
  const d = numel(normShape);
  const { e } = ctx;
  const asRow = (v: Val | undefined, fill: number, what: string): Val => {
    if (!v) return e.emit('broadcast_to', [scalarOf('f32', fill)], { shape: [d] });
    const vs = typeOf(v).shape;
    if (numel(vs) === d && vs.length <= normShape.length) return reshape(ctx, v, [d]);
    // A Scale or B that broadcasts over the normalised axes.
    const full = e.emit('broadcast_to', [v], { shape: normShape });
    if (numel(typeOf(full).shape) !== d) unsupported(`${what} has shape ${formatShape(vs)}, expected one broadcasting to ${formatShape(normShape)}`);
    return reshape(ctx, full, [d]);
  };
  const scale = asRow(input(ctx, 1, 'Scale'), 1, 'Scale');
  const bias = asRow(ctx.inputs[2], 0, 'B');
  const rows = reshape(ctx, x, [...shape.slice(0, axis), d]);
  const y = reshape(ctx, e.emit('layer_norm', [rows, scale, bias], { eps }), shape);
  if (!ctx.wants(1) && !ctx.wants(2)) return [y];
  const axes = normShape.map((_, i) => axis + i);
  const mean = e.emit('reduce_mean', [x], { axes, keepdims: true });
  const xc = e.emit('sub', [x, mean]);
  const variance = e.emit('reduce_mean', [e.emit('mul', [xc, xc])], { axes, keepdims: true });
  const invStd = e.emit('rsqrt', [e.emit('add', [variance, scalarOf('f32', eps)])]);
  return [y, mean, invStd];
};

/** BatchNormalization in inference: per-channel (axis 1) statistics. */
const batchNormalization: Converter = (ctx) => {
  if (attrInt(ctx, 'training_mode', 0)) unsupported('training_mode = 1 (Tessera runs inference)');
  if (ctx.wants(1) || ctx.wants(2)) unsupported('the running mean and variance outputs (training only)');
  const x = input(ctx, 0, 'X');
  const rank = typeOf(x).shape.length;
  const eps = attrFloat(ctx, 'epsilon', 1e-5);
  const { e } = ctx;
  const perChannel = (i: number, what: string) => {
    const v = input(ctx, i, what);
    const c = typeOf(v).shape[0]!;
    return reshape(ctx, v, [c, ...Array(Math.max(0, rank - 2)).fill(1)]);
  };
  const [scale, bias, mean, variance] = [perChannel(1, 'scale'), perChannel(2, 'B'), perChannel(3, 'input_mean'), perChannel(4, 'input_var')];
  const inv = e.emit('rsqrt', [e.emit('add', [variance, scalarOf('f32', eps)])]);
  return e.emit('add', [e.emit('mul', [e.emit('mul', [e.emit('sub', [x, mean]), inv]), scale]), bias]);
};

/** The neural-network converters, by ONNX op type. */
export const NN_CONVERTERS: Readonly<Record<string, Converter>> = {
  MatMul: (ctx) => matmul(ctx, input(ctx, 0, 'A'), input(ctx, 1, 'B')),
  Gemm: gemm,
  Conv: conv,
  Softmax: alongAxis('softmax'),
  LogSoftmax: alongAxis('log_softmax'),
  LayerNormalization: layerNormalization,
  BatchNormalization: batchNormalization,
};
