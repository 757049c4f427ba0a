import { Module } from '../module.ts';
import { type Conv2dOptions, type ConvTranspose2dOptions, type Size2, conv2d, convTranspose2d } from '../ops/conv.ts';
import type { Parameter } from '../parameter.ts';
import type { Tensor } from '../tensor.ts';
import { dslError } from '../tracer.ts';

/** The groups of a convolution layer (default 1), checked to divide both channel counts. */
function checkedGroups(layer: string, groups: number | undefined, inChannels: number, outChannels: number): number {
  const g = groups ?? 1;
  if (!Number.isInteger(g) || g < 1 || inChannels % g !== 0 || outChannels % g !== 0) {
    dslError(`${layer}: groups ${g} must be a positive integer dividing in_channels (${inChannels}) and out_channels (${outChannels})`);
  }
  return g;
}

const kernelPair = (k: Size2): [number, number] => (typeof k === 'number' ? [k, k] : [k[0], k[1]]);

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
    const groups = checkedGroups('nn.Conv2d', opts.groups, inChannels, outChannels);
    if ((opts.paddingMode ?? 'zeros') !== 'zeros') dslError(`nn.Conv2d: padding_mode '${opts.paddingMode}' is not supported (only 'zeros')`);
    this.kernelSize = kernelPair(kernelSize);
    this.weight = this.parameter([outChannels, inChannels / groups, ...this.kernelSize]);
    this.bias = opts.bias === false ? undefined : this.parameter([outChannels]);
  }

  /** Applies the layer to [N, in, H, W] giving [N, out, H', W']. */
  forward(x: Tensor): Tensor {
    return conv2d(x, this.weight, this.bias, this.opts);
  }
}

/** Options of nn.ConvTranspose2d: F.conv_transpose2d's, plus whether to learn a bias (default true). */
export interface ConvTranspose2dModuleOptions extends ConvTranspose2dOptions {
  readonly bias?: boolean;
}

/**
 * 2-D transposed convolution layer, as torch.nn.ConvTranspose2d(in_channels,
 * out_channels, kernel_size, stride, padding, output_padding, groups, bias,
 * dilation): parameters `weight` [in, out / groups, kH, kW] and `bias` [out].
 */
export class ConvTranspose2d extends Module {
  readonly weight: Parameter;
  readonly bias: Parameter | undefined;
  readonly kernelSize: readonly [number, number];

  constructor(
    readonly inChannels: number,
    readonly outChannels: number,
    kernelSize: Size2,
    readonly opts: ConvTranspose2dModuleOptions = {},
  ) {
    super();
    const groups = checkedGroups('nn.ConvTranspose2d', opts.groups, inChannels, outChannels);
    this.kernelSize = kernelPair(kernelSize);
    this.weight = this.parameter([inChannels, outChannels / groups, ...this.kernelSize]);
    this.bias = opts.bias === false ? undefined : this.parameter([outChannels]);
  }

  /** Applies the layer to [N, in, H, W] giving [N, out, H', W']. */
  forward(x: Tensor): Tensor {
    return convTranspose2d(x, this.weight, this.bias, this.opts);
  }
}
