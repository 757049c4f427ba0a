import { Module } from '../module.ts';
import { type Conv2dOptions, type Size2, conv2d } from '../ops/conv.ts';
import type { Parameter } from '../parameter.ts';
import type { Tensor } from '../tensor.ts';
import { dslError } from '../tracer.ts';

/** Options of nn.Conv2d: F.conv2d's, plus whether to learn a bias (default true) and the padding mode (only 'zeros'). */
export interface Conv2dModuleOptions extends Conv2dOptions {
  readonly bias?: boolean;
  readonly paddingMode?: 'zeros';
}

/**
 * 2-D convolution layer, as torch.nn.Conv2d(in_channels, out_channels,
 * kernel_size, stride, padding, dilation, groups, bias): parameters
 * `weight` [out, in / groups, kH, kW] and `bias` [out].
 */
export class Conv2d extends Module {
  readonly weight: Parameter;
  readonly bias: Parameter | undefined;
  readonly kernelSize: readonly [number, number];

  constructor(
    readonly inChannels: number,
    readonly outChannels: number,
    kernelSize: Size2,
    readonly opts: Conv2dModuleOptions = {},
  ) {
    super();
    const groups = opts.groups ?? 1;
    if (!Number.isInteger(groups) || groups < 1 || inChannels % groups !== 0 || outChannels % groups !== 0) {
      dslError(`nn.Conv2d: groups ${groups} must be a positive integer dividing in_channels (${inChannels}) and out_channels (${outChannels})`);
    }
    if ((opts.paddingMode ?? 'zeros') !== 'zeros') dslError(`nn.Conv2d: padding_mode '${opts.paddingMode}' is not supported (only 'zeros')`);
    this.kernelSize = typeof kernelSize === 'number' ? [kernelSize, kernelSize] : [kernelSize[0], kernelSize[1]];
    this.weight = this.parameter([outChannels, inChannels / groups, ...this.kernelSize]);
    this.bias = opts.bias === false ? undefined : this.parameter([outChannels]);
  }

  /** Applies the layer to [N, in, H, W] giving [N, out, H', W']. */
  forward(x: Tensor): Tensor {
    return conv2d(x, this.weight, this.bias, this.opts);
  }
}
