/**
 * ConvTranspose (1-D and 2-D, any stride, dilation, pads, output_padding,
 * output_shape, auto_pad and groups) as the convolution it is the
 * gradient of: the input with stride - 1 zeros between its elements (a
 * reshape, a pad and a reshape), padded by the kernel's reach less the pads
 * (cropped where that is negative), convolved at stride 1 with the kernel
 * flipped and its channel axes swapped within each group.
 */
import { formatShape, numel } from '@tessera/ir';
import { type Converter, type NodeContext, attrInt, attrInts, attrString, input, unsupported } from '../context.ts';
import { type Val, typeOf } from '../values.ts';
import { flip, reshape } from './shape.ts';

/** `x` ([N, C, spatial...]) with `stride - 1` zeros between neighbours along each spatial axis. */
function zeroStuff(ctx: NodeContext, x: Val, stride: readonly number[]): Val {
  if (stride.every((s) => s === 1)) return x;
  const { e } = ctx;
  const shape = typeOf(x).shape;
  const spatial = shape.slice(2);
  // [N, C, H, 1, W, 1] padded to [N, C, H, sH, W, sW]: each element followed by its zeros.
  const split = reshape(ctx, x, [shape[0]!, shape[1]!, ...spatial.flatMap((d) => [d, 1])]);
  const padded = e.emit('pad', [split], { low: Array(2 + 2 * spatial.length).fill(0), high: [0, 0, ...stride.flatMap((s) => [0, s - 1])], value: 0 });
  const merged = reshape(ctx, padded, [shape[0]!, shape[1]!, ...spatial.map((d, i) => d * stride[i]!)]);
  // The zeros after the last element are not part of it.
  const stop = [shape[0]!, shape[1]!, ...spatial.map((d, i) => (d - 1) * stride[i]! + 1)];
  return e.emit('slice', [merged], { start: stop.map(() => 0), stop, step: stop.map(() => 1) });
}

/** `x` padded (a positive amount) or cropped (a negative one) at each spatial axis' two ends. */
function padOrCrop(ctx: NodeContext, x: Val, begin: readonly number[], end: readonly number[]): Val {
  const { e } = ctx;
  const shape = typeOf(x).shape;
  let y = x;
  if ([...begin, ...end].some((p) => p > 0)) {
    y = e.emit('pad', [y], { low: [0, 0, ...begin.map((p) => Math.max(p, 0))], high: [0, 0, ...end.map((p) => Math.max(p, 0))], value: 0 });
  }
  if ([...begin, ...end].some((p) => p < 0)) {
    const ys = typeOf(y).shape;
    const start = [0, 0, ...begin.map((p) => Math.max(-p, 0))];
    const stop = ys.map((d, a) => (a < 2 ? d : d - Math.max(-end[a - 2]!, 0)));
    if (stop.some((s, a) => s <= start[a]!)) unsupported(`the pads crop all of a ${formatShape(shape)} input`);
    y = e.emit('slice', [y], { start, stop, step: ys.map(() => 1) });
  }
  return y;
}

const convTranspose: Converter = (ctx) => {
  let x = input(ctx, 0, 'X');
  let w = input(ctx, 1, 'W');
  const xs = typeOf(x).shape;
  const ws = typeOf(w).shape;
  if (typeOf(x).dtype !== 'f32') unsupported(`X is ${typeOf(x).dtype}, expected f32`);
  const rank = xs.length - 2;
  if (rank !== 1 && rank !== 2) unsupported(`a ${rank}-D transposed convolution (input ${formatShape(xs)}): Tessera has 1-D and 2-D ones`);
  const group = attrInt(ctx, 'group', 1);
  const [c, mPerGroup] = [ws[0]!, ws[1]!];
  if (c !== xs[1]! || c % group !== 0) unsupported(`W of shape ${formatShape(ws)} for ${xs[1]} input channels in ${group} groups`);
  const kernel = attrInts(ctx, 'kernel_shape') ?? ws.slice(2);
  const ones = Array<number>(rank).fill(1);
  const stride = attrInts(ctx, 'strides') ?? ones;
  const dilation = attrInts(ctx, 'dilations') ?? ones;
  const outputPadding = attrInts(ctx, 'output_padding') ?? ones.map(() => 0);
  const spatial = xs.slice(2);
  const reach = kernel.map((k, i) => (k - 1) * dilation[i]! + 1);
  const full = spatial.map((d, i) => stride[i]! * (d - 1) + outputPadding[i]! + reach[i]!);
  // Pads: given, or from output_shape / auto_pad (ONNX: SAME_UPPER puts the odd one at the end, otherwise at the start).
  const autoPad = attrString(ctx, 'auto_pad', 'NOTSET');
  const outputShape = attrInts(ctx, 'output_shape');
  let begin: number[];
  let end: number[];
  if (outputShape || autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER') {
    const target = outputShape ? outputShape.slice(-rank) : spatial.map((d, i) => d * stride[i]!);
    const total = full.map((f, i) => f - target[i]!);
    const half = total.map((t) => Math.floor(t / 2));
    [begin, end] = autoPad === 'SAME_UPPER' ? [half, total.map((t, i) => t - half[i]!)] : [total.map((t, i) => t - half[i]!), half];
  } else if (autoPad === 'NOTSET' || autoPad === 'VALID') {
    const pads = autoPad === 'VALID' ? [...ones, ...ones].map(() => 0) : (attrInts(ctx, 'pads') ?? [...ones, ...ones].map(() => 0));
    [begin, end] = [pads.slice(0, rank), pads.slice(rank)];
  } else {
    unsupported(`auto_pad = '${autoPad}'`);
  }
  if (rank === 1) {
    // As a 2-D one with a unit height.
    x = reshape(ctx, x, [xs[0]!, xs[1]!, 1, xs[2]!]);
    w = reshape(ctx, w, [ws[0]!, ws[1]!, 1, ws[2]!]);
  }
  const lift = <T>(list: readonly T[], one: T): T[] => (rank === 1 ? [one, ...list] : [...list]);
  const { e } = ctx;
  const stuffed = zeroStuff(ctx, x, lift(stride, 1));
  const framed = padOrCrop(
    ctx,
    stuffed,
    lift(reach.map((r, i) => r - 1 - begin[i]!), 0),
    lift(reach.map((r, i) => r - 1 - end[i]! + outputPadding[i]!), 0),
  );
  // W [C, M/g, k...] -> [M, C/g, k...]: within each group the channel axes swap; the kernel is flipped.
  const k2 = typeOf(w).shape.slice(2);
  const grouped = reshape(ctx, w, [group, c / group, mPerGroup, ...k2]);
  const swapped = e.emit('transpose', [grouped], { perm: [0, 2, 1, 3, 4] });
  let kernelW = reshape(ctx, swapped, [group * mPerGroup, c / group, ...k2]);
  kernelW = flip(ctx, flip(ctx, kernelW, 2), 3);
  const bias = ctx.inputs[2];
  let y = e.emit('conv2d', bias ? [framed, kernelW, bias] : [framed, kernelW], { stride: [1, 1], padding: [0, 0], dilation: lift(dilation, 1), groups: group });
  if (rank === 1) {
    const ys = typeOf(y).shape;
    y = reshape(ctx, y, [ys[0]!, ys[1]!, ys[3]!]);
  }
  const expected = full.map((f, i) => f - begin[i]! - end[i]!);
  const got = typeOf(y).shape.slice(2);
  if (numel(got) !== numel(expected) || got.some((d, i) => d !== expected[i])) unsupported(`an output of ${formatShape(got)} where ONNX gives ${formatShape(expected)}`);
  return y;
};

/** The converter of ConvTranspose. */
export const CONV_TRANSPOSE_CONVERTERS: Readonly<Record<string, Converter>> = { ConvTranspose: convTranspose };
