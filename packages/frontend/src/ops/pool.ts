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

/** Options of interpolate, with torch.nn.functional.interpolate's names. */
export interface InterpolateOptions {
  /** The output extents of the spatial axes (one number for all), or... */
  readonly size?: SizeN;
  /** ...the factor each spatial extent is scaled by (the output extent rounded down); the coordinate map uses it as given. */
  readonly scaleFactor?: number | readonly number[];
  /** 'nearest' (default), 'linear' (1 spatial axis), 'bilinear' (2), 'bicubic' (2) or 'trilinear' (3). */
  readonly mode?: 'nearest' | 'linear' | 'bilinear' | 'bicubic' | 'trilinear';
  /** Map the corner pixels' centres onto each other (linear modes; default false). */
  readonly alignCorners?: boolean;
}

const SPATIAL_RANK = { nearest: undefined, linear: 1, bilinear: 2, bicubic: 2, trilinear: 3 } as const;

/**
 * Resizes the spatial axes of [N, C, ...] as torch.nn.functional.interpolate:
 * nearest (PyTorch's: the input at floor(output * in / out)), linear,
 * bilinear, trilinear and bicubic (a = -0.75), with align_corners; the
 * registry's resize with PyTorch's coordinate maps. (PyTorch's antialias
 * filter is not ONNX's, which resize implements: not offered here.)
 */
export function interpolate(input: Tensor, opts: InterpolateOptions): Tensor {
  const mode = opts.mode ?? 'nearest';
  const rank = input.rank - 2;
  const want = SPATIAL_RANK[mode];
  if (rank < 1 || (want !== undefined && rank !== want)) return dslError(`interpolate: mode '${mode}' takes ${want ?? 'at least one'} spatial axes, got input [${input.shape.join(', ')}]`);
  if ((opts.size === undefined) === (opts.scaleFactor === undefined)) return dslError('interpolate: give exactly one of size and scaleFactor');
  if (opts.alignCorners !== undefined && mode === 'nearest') return dslError("interpolate: alignCorners applies to the linear and cubic modes, not 'nearest'");
  const spatial = input.shape.slice(2);
  const factors = opts.scaleFactor === undefined ? undefined : typeof opts.scaleFactor === 'number' ? spatial.map(() => opts.scaleFactor as number) : [...opts.scaleFactor];
  if (factors && (factors.length !== rank || factors.some((f) => !(f > 0)))) return dslError(`interpolate: scaleFactor ${JSON.stringify(opts.scaleFactor)} must be a positive number or ${rank} of them`);
  const out = factors ? spatial.map((d, i) => Math.floor(d * factors[i]!)) : sizes('size', 'interpolate', opts.size!, rank);
  if (out.some((d) => d < 1)) return dslError(`interpolate: the output would be [${out.join(', ')}]`);
  const cubic = mode === 'bicubic';
  return emitOp('resize', [input], {
    sizes: [...input.shape.slice(0, 2), ...out],
    scales: [1, 1, ...(factors ?? out.map((d, i) => d / spatial[i]!))],
    mode: mode === 'nearest' ? 'nearest' : cubic ? 'cubic' : 'linear',
    coordinate_transformation_mode: mode === 'nearest' ? 'asymmetric' : opts.alignCorners ? 'align_corners' : 'pytorch_half_pixel',
    nearest_mode: 'floor',
  });
}
