import { Module } from '../module.ts';
import { type AvgPoolOptions, type InterpolateOptions, type MaxPoolOptions, type SizeN, adaptiveAvgPool2d, avgPool1d, avgPool2d, avgPool3d, interpolate, maxPool1d, maxPool2d, maxPool3d } from '../ops/pool.ts';
import type { Tensor } from '../tensor.ts';

/** A pooling layer (no parameters) of the options `O`; each spatial rank names its function. */
abstract class PoolLayer<O extends MaxPoolOptions | AvgPoolOptions> extends Module {
  protected abstract readonly pool: (input: Tensor, kernelSize: SizeN, opts?: O) => Tensor;

  constructor(
    readonly kernelSize: SizeN,
    readonly opts: O = {} as O,
  ) {
    super();
  }

  forward(x: Tensor): Tensor {
    return this.pool(x, this.kernelSize, this.opts);
  }
}

/** Max pooling over [N, C, L], as torch.nn.MaxPool1d(kernel_size, stride, padding, dilation, ceil_mode). */
export class MaxPool1d extends PoolLayer<MaxPoolOptions> {
  protected readonly pool = maxPool1d;
}
/** Max pooling over [N, C, H, W], as torch.nn.MaxPool2d(kernel_size, stride, padding, dilation, ceil_mode). */
export class MaxPool2d extends PoolLayer<MaxPoolOptions> {
  protected readonly pool = maxPool2d;
}
/** Max pooling over [N, C, D, H, W], as torch.nn.MaxPool3d. */
export class MaxPool3d extends PoolLayer<MaxPoolOptions> {
  protected readonly pool = maxPool3d;
}
/** Average pooling over [N, C, L], as torch.nn.AvgPool1d(kernel_size, stride, padding, ceil_mode, count_include_pad). */
export class AvgPool1d extends PoolLayer<AvgPoolOptions> {
  protected readonly pool = avgPool1d;
}
/** Average pooling over [N, C, H, W], as torch.nn.AvgPool2d(kernel_size, stride, padding, ceil_mode, count_include_pad). */
export class AvgPool2d extends PoolLayer<AvgPoolOptions> {
  protected readonly pool = avgPool2d;
}
/** Average pooling over [N, C, D, H, W], as torch.nn.AvgPool3d. */
export class AvgPool3d extends PoolLayer<AvgPoolOptions> {
  protected readonly pool = avgPool3d;
}

/** Average pooling to a fixed output size that divides the input's, as torch.nn.AdaptiveAvgPool2d (1: the global average pool). */
export class AdaptiveAvgPool2d extends Module {
  constructor(readonly outputSize: SizeN) {
    super();
  }

  forward(x: Tensor): Tensor {
    return adaptiveAvgPool2d(x, this.outputSize);
  }
}

/** Upsampling (or any resize) of the spatial axes, as torch.nn.Upsample(size, scale_factor, mode, align_corners). */
export class Upsample extends Module {
  constructor(readonly opts: InterpolateOptions) {
    super();
  }

  forward(x: Tensor): Tensor {
    return interpolate(x, this.opts);
  }
}
