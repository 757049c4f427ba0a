/**
 * Pooling: MaxPool and AveragePool over any number of spatial axes, and
 * their global forms. A window op is its taps: the input padded once, then
 * for each kernel position a strided slice holding that tap of every
 * window; the max (or the sum) of the taps is one elementwise kernel after
 * lowering. The output extent follows ONNX (explicit pads or auto_pad,
 * ceil_mode dropping a last window that would start in the end padding),
 * padding past the input never wins a max (-inf), and an average divides
 * each window by its count, a constant: the taps inside the input, or with
 * count_include_pad the taps inside the input and its explicit pads.
 */
import { formatShape } from '@tessera/ir';
import { type Converter, type NodeContext, attrInt, attrInts, attrString, constOf, input, unsupported } from '../context.ts';
import { type Val, typeOf } from '../values.ts';
import { convPadding } from './nn.ts';

/** One spatial axis of a pooling: input extent, kernel, stride, dilation, explicit pads and output extent. */
interface PoolAxis {
  readonly size: number;
  readonly kernel: number;
  readonly stride: number;
  readonly dilation: number;
  readonly begin: number;
  readonly end: number;
  readonly out: number;
}

/** The spatial axes of a MaxPool or AveragePool node (ONNX's output-shape rules). */
function poolAxes(ctx: NodeContext, spatial: readonly number[]): PoolAxis[] {
  const n = spatial.length;
  const kernel = attrInts(ctx, 'kernel_shape');
  if (!kernel || kernel.length !== n) unsupported(`kernel_shape ${kernel ? `[${kernel.join(', ')}]` : 'is missing'}, expected ${n} entries`);
  const stride = attrInts(ctx, 'strides') ?? Array(n).fill(1);
  const dilation = attrInts(ctx, 'dilations') ?? Array(n).fill(1);
  const ceil = attrInt(ctx, 'ceil_mode', 0) !== 0;
  const autoPad = attrString(ctx, 'auto_pad', 'NOTSET');
  if (ceil && autoPad !== 'NOTSET') unsupported(`ceil_mode with auto_pad = '${autoPad}'`);
  const { begin, end } = convPadding(ctx, spatial, kernel, stride, dilation);
  return spatial.map((size, i) => {
    const span = (kernel[i]! - 1) * dilation[i]! + 1;
    const steps = (size + begin[i]! + end[i]! - span) / stride[i]!;
    let out = (ceil ? Math.ceil(steps) : Math.floor(steps)) + 1;
    // A last window that would start in the end padding is dropped (ceil mode).
    if (ceil && (out - 1) * stride[i]! >= size + begin[i]!) out--;
    if (out < 1) unsupported(`a window of ${span} does not fit axis ${i + 2} of extent ${size} with pads ${begin[i]}, ${end[i]}`);
    return { size, kernel: kernel[i]!, stride: stride[i]!, dilation: dilation[i]!, begin: begin[i]!, end: end[i]!, out };
  });
}

/** Every tap of the kernel: one index per spatial axis. */
function taps(axes: readonly PoolAxis[]): number[][] {
  return axes.reduce<number[][]>((all, a) => all.flatMap((t) => Array.from({ length: a.kernel }, (_, k) => [...t, k])), [[]]);
}

/** For each window along one axis, how many of its taps fall inside the input (or inside the input and its explicit pads). */
function counts(a: PoolAxis, includePad: boolean): number[] {
  const [low, high] = includePad ? [0, a.begin + a.size + a.end] : [a.begin, a.begin + a.size];
  return Array.from({ length: a.out }, (_, o) => Array.from({ length: a.kernel }, (_, k) => o * a.stride + k * a.dilation).filter((p) => p >= low && p < high).length);
}

const pool =
  (kind: 'max' | 'average'): Converter =>
  (ctx) => {
    const x = input(ctx, 0, 'X');
    const { dtype, shape } = typeOf(x);
    if (shape.length < 3) unsupported(`input ${formatShape(shape)}: pooling needs [N, C, spatial...]`);
    if (kind === 'average' && dtype !== 'f32') unsupported(`AveragePool on ${dtype}`);
    if (ctx.wants(1)) unsupported('the Indices output');
    const axes = poolAxes(ctx, shape.slice(2));
    const { e } = ctx;
    // Enough padding for every window: the explicit pads, and past them what ceil mode's last window reaches.
    const low = [0, 0, ...axes.map((a) => a.begin)];
    const high = [0, 0, ...axes.map((a) => Math.max(a.end, (a.out - 1) * a.stride + (a.kernel - 1) * a.dilation + 1 - a.size - a.begin))];
    const fill = kind === 'max' ? (dtype === 'f32' ? -Infinity : dtype === 'i32' ? -(2 ** 31) : 0) : 0;
    const padded: Val = low.some(Boolean) || high.some(Boolean) ? e.emit('pad', [x], { low, high, value: fill }) : x;
    const slices = taps(axes).map((t) =>
      e.emit('slice', [padded], {
        start: [0, 0, ...t.map((k, i) => k * axes[i]!.dilation)],
        stop: [shape[0]!, shape[1]!, ...t.map((k, i) => k * axes[i]!.dilation + (axes[i]!.out - 1) * axes[i]!.stride + 1)],
        step: [1, 1, ...axes.map((a) => a.stride)],
      }),
    );
    const combined = slices.reduce((acc, s) => e.emit(kind === 'max' ? 'max' : 'add', [acc, s]));
    if (kind === 'max') return combined;
    const includePad = attrInt(ctx, 'count_include_pad', 0) !== 0;
    const perAxis = axes.map((a) => counts(a, includePad));
    const count = perAxis.reduce<number[]>((all, c) => all.flatMap((v) => c.map((k) => v * k)), [1]);
    return e.emit('div', [combined, constOf('f32', [1, 1, ...axes.map((a) => a.out)], count)]);
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
