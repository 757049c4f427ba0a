/**
 * Pooling: MaxPool and AveragePool over any number of spatial axes as the
 * registry's max_pool and avg_pool (explicit pads or auto_pad resolved
 * here, ceil_mode passed on), and their global forms as a mean or max over
 * the spatial axes.
 */
import { formatShape } from '@tessera/ir';
import { type Converter, type NodeContext, attrInt, attrInts, attrString, input, unsupported } from '../context.ts';
import { typeOf } from '../values.ts';
import { convPadding } from './nn.ts';

/** The window attributes of a MaxPool or AveragePool node: kernel, strides, dilations, and pads from pads or auto_pad (begins, then ends). */
function windowAttrs(ctx: NodeContext, spatial: readonly number[]) {
  const n = spatial.length;
  const kernel = attrInts(ctx, 'kernel_shape');
  if (!kernel || kernel.length !== n) unsupported(`kernel_shape ${kernel ? `[${kernel.join(', ')}]` : 'is missing'}, expected ${n} entries`);
  const stride = attrInts(ctx, 'strides') ?? Array(n).fill(1);
  const dilation = attrInts(ctx, 'dilations') ?? Array(n).fill(1);
  const ceil = attrInt(ctx, 'ceil_mode', 0) !== 0;
  const autoPad = attrString(ctx, 'auto_pad', 'NOTSET');
  if (ceil && autoPad !== 'NOTSET') unsupported(`ceil_mode with auto_pad = '${autoPad}'`);
  const { begin, end } = convPadding(ctx, spatial, kernel, stride, dilation);
  return { kernel, stride, dilation, padding: [...begin, ...end], ceil_mode: ceil };
}

const pool =
  (kind: 'max' | 'average'): Converter =>
  (ctx) => {
    const x = input(ctx, 0, 'X');
    const { dtype, shape } = typeOf(x);
    if (shape.length < 3) unsupported(`input ${formatShape(shape)}: pooling needs [N, C, spatial...]`);
    if (kind === 'average' && dtype !== 'f32') unsupported(`AveragePool on ${dtype}`);
    if (ctx.wants(1)) unsupported('the Indices output');
    // The registry's window ops (padded once, a strided slice per tap); ONNX's average leaves padding out by default.
    const attrs = windowAttrs(ctx, shape.slice(2));
    if (kind === 'max') return ctx.e.emit('max_pool', [x], attrs);
    return ctx.e.emit('avg_pool', [x], { ...attrs, count_include_pad: attrInt(ctx, 'count_include_pad', 0) !== 0 });
  };

/** GlobalAveragePool and GlobalMaxPool: a mean or max over every spatial axis, kept as extent 1. */
const globalPool =
  (op: 'reduce_mean' | 'reduce_max'): Converter =>
  (ctx) => {
    const x = input(ctx, 0, 'X');
    const rank = typeOf(x).shape.length;
    if (rank < 3) unsupported(`input ${formatShape(typeOf(x).shape)}: pooling needs [N, C, spatial...]`);
    return ctx.e.emit(op, [x], { axes: Array.from({ length: rank - 2 }, (_, i) => i + 2), keepdims: true });
  };

/** The converters of the pooling ops. */
export const POOL_CONVERTERS: Readonly<Record<string, Converter>> = {
  MaxPool: pool('max'),
  AveragePool: pool('average'),
  GlobalAveragePool: globalPool('reduce_mean'),
  GlobalMaxPool: globalPool('reduce_max'),
};
