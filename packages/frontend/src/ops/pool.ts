/** Pooling, as torch.nn.functional's max_pool1d/2d/3d, avg_pool1d/2d/3d and adaptive_avg_pool2d. */
import { type Tensor, emitOp } from '../tensor.ts';
import { dslError } from '../tracer.ts';

/** A per-axis size: one number for every spatial axis, or one each. */
export type SizeN = number | readonly number[];

/** Options of the pooling functions, with torch.nn.functional's names and defaults. */
export interface PoolOptions {
  /** Step of the window (default: the kernel size). */
  readonly stride?: SizeN;
  /** Positions added on both sides of each axis (default 0): -inf for max, 0 for avg (counted as count_include_pad says). */
  readonly padding?: SizeN;
  /** Round the output extent up (default false). */
  readonly ceilMode?: boolean;
}

/** Options of max pooling: spacing of the window's positions too. */
export interface MaxPoolOptions extends PoolOptions {
  readonly dilation?: SizeN;
}

/** Options of average pooling: whether padding counts in the mean (default true, as PyTorch). */
export interface AvgPoolOptions extends PoolOptions {
  readonly countIncludePad?: boolean;
}

function sizes(what: string, fn: string, v: SizeN, rank: number): number[] {
  const list = typeof v === 'number' ? Array<number>(rank).fill(v) : [...v];
  if (list.length !== rank || !list.every(Number.isInteger)) return dslError(`${fn}: ${what} ${JSON.stringify(v)} must be an integer or ${rank} integers`);
  return list;
}

function windowAttrs(fn: string, rank: number, kernelSize: SizeN, opts: MaxPoolOptions) {
  const kernel = sizes('kernel_size', fn, kernelSize, rank);
  return {
    kernel,
    stride: opts.stride === undefined ? kernel : sizes('stride', fn, opts.stride, rank),
    padding: sizes('padding', fn, opts.padding ?? 0, rank),
    ...(opts.dilation === undefined ? {} : { dilation: sizes('dilation', fn, opts.dilation, rank) }),
    ceil_mode: opts.ceilMode ?? false,
  };
}

const maxPool = (rank: number) => (input: Tensor, kernelSize: SizeN, opts: MaxPoolOptions = {}): Tensor => emitOp('max_pool', [input], windowAttrs(`max_pool${rank}d`, rank, kernelSize, opts));
const avgPool =
  (rank: number) =>
  (input: Tensor, kernelSize: SizeN, opts: AvgPoolOptions = {}): Tensor =>
    emitOp('avg_pool', [input], { ...windowAttrs(`avg_pool${rank}d`, rank, kernelSize, opts), count_include_pad: opts.countIncludePad ?? true });

/** Maximum over windows of [N, C, L], as F.max_pool1d. */
export const maxPool1d = maxPool(1);
/** Maximum over windows of [N, C, H, W], as F.max_pool2d. */
export const maxPool2d = maxPool(2);
/** Maximum over windows of [N, C, D, H, W], as F.max_pool3d. */
export const maxPool3d = maxPool(3);
/** Mean over windows of [N, C, L], as F.avg_pool1d. */
export const avgPool1d = avgPool(1);
/** Mean over windows of [N, C, H, W], as F.avg_pool2d. */
export const avgPool2d = avgPool(2);
/** Mean over windows of [N, C, D, H, W], as F.avg_pool3d. */
export const avgPool3d = avgPool(3);

/**
 * Mean over [N, C, H, W] to an output of `outputSize` (H', W'), as
 * F.adaptive_avg_pool2d, where each output extent divides the input's (1
 * included: the global average pool): then every window is the same.
 */
export function adaptiveAvgPool2d(input: Tensor, outputSize: SizeN): Tensor {
  const out = sizes('output_size', 'adaptive_avg_pool2d', outputSize, 2);
  if (input.rank !== 4) return dslError(`adaptive_avg_pool2d: input has shape [${input.shape.join(', ')}], expected [N, C, H, W]`);
  const [h, w] = input.shape.slice(2) as [number, number];
  if (h % out[0]! !== 0 || w % out[1]! !== 0) {
    return dslError(`adaptive_avg_pool2d: output size [${out.join(', ')}] must divide the input's [${h}, ${w}] (windows of one size; PyTorch's uneven windows are not supported)`);
  }
  const kernel = [h / out[0]!, w / out[1]!];
  return emitOp('avg_pool', [input], { kernel, stride: kernel });
}
