/**
 * ConvTranspose (1-D and 2-D, any stride, dilation, pads, output_padding,
 * output_shape, auto_pad and groups) as the registry's conv_transpose2d
 * (1-D with a unit height): ONNX's output_shape and auto_pad resolved here
 * into pads and output padding.
 */
import { formatShape } from '@tessera/ir';
import { type Converter, attrInt, attrInts, attrString, input, unsupported } from '../context.ts';
import { type Val, typeOf } from '../values.ts';
import { reshape } from './shape.ts';

const convTranspose: Converter = (ctx) => {
  let x = input(ctx, 0, 'X');
  let w = input(ctx, 1, 'W');
  const xs = typeOf(x).shape;
  const ws = typeOf(w).shape;
  if (typeOf(x).dtype !== 'f32') unsupported(`X is ${typeOf(x).dtype}, expected f32`);
  const rank = xs.length - 2;
  if (rank !== 1 && rank !== 2) unsupported(`a ${rank}-D transposed convolution (input ${formatShape(xs)}): Tessera has 1-D and 2-D ones`);
  const group = attrInt(ctx, 'group', 1);
  const c = ws[0]!;
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
  // Pads that would lengthen the output (an output_shape past the full extent) become output_padding at the end.
  if (begin.some((p) => p < 0)) unsupported(`an output_shape that needs padding before the output (pads ${begin.join(', ')})`);
  const extra = end.map((p, i) => outputPadding[i]! + Math.max(-p, 0));
  end = end.map((p) => Math.max(p, 0));
  if (rank === 1) {
    // As a 2-D one with a unit height.
    x = reshape(ctx, x, [xs[0]!, xs[1]!, 1, xs[2]!]);
    w = reshape(ctx, w, [ws[0]!, ws[1]!, 1, ws[2]!]);
  }
  const lift = <T>(list: readonly T[], one: T): T[] => (rank === 1 ? [one, ...list] : [...list]);
  const bias = ctx.inputs[2];
  const attrs = { stride: lift(stride, 1), padding: [...lift(begin, 0), ...lift(end, 0)], output_padding: lift(extra, 0), dilation: lift(dilation, 1), groups: group };
  let y = ctx.e.emit('conv_transpose2d', bias ? [x, w, bias] : [x, w], attrs);
  if (rank === 1) {
    const ys = typeOf(y).shape;
    y = reshape(ctx, y, [ys[0]!, ys[1]!, ys[3]!]);
  }
  return y;
};

/** The converter of ConvTranspose. */
export const CONV_TRANSPOSE_CONVERTERS: Readonly<Record<string, Converter>> = { ConvTranspose: convTranspose };
