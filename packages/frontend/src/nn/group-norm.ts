import { Module } from '../module.ts';
import { groupNorm } from '../ops/nn.ts';
import type { Parameter } from '../parameter.ts';
import type { Tensor } from '../tensor.ts';
import { dslError } from '../tracer.ts';

/** Options of nn.GroupNorm: eps (default 1e-5) and whether to learn weight and bias (default true). */
export interface GroupNormOptions {
  readonly eps?: number;
  readonly affine?: boolean;
}

/** Group normalisation, as torch.nn.GroupNorm(num_groups, num_channels, eps, affine): parameters `weight` and `bias` [num_channels]. */
export class GroupNorm extends Module {
  readonly weight: Parameter | undefined;
  readonly bias: Parameter | undefined;

  constructor(
    readonly numGroups: number,
    readonly numChannels: number,
    readonly opts: GroupNormOptions = {},
  ) {
    super();
    if (!Number.isInteger(numGroups) || numGroups < 1 || numChannels % numGroups !== 0) {
      dslError(`nn.GroupNorm: num_groups ${numGroups} must be a positive divisor of num_channels (${numChannels})`);
    }
    this.weight = opts.affine === false ? undefined : this.parameter([numChannels]);
    this.bias = opts.affine === false ? undefined : this.parameter([numChannels]);
  }

  /** Normalises [N, num_channels, ...]. */
  forward(x: Tensor): Tensor {
    return groupNorm(x, this.numGroups, this.weight, this.bias, this.opts.eps);
  }
}

/** Options of nn.InstanceNorm1d/2d: eps (default 1e-5) and whether to learn weight and bias (default false, as PyTorch). */
export interface InstanceNormOptions {
  readonly eps?: number;
  readonly affine?: boolean;
}

/**
 * Instance normalisation, as torch.nn.InstanceNorm1d/2d/3d(num_features,
 * eps, affine) with track_running_stats false (PyTorch's default: each
 * sample's own statistics, in eval too): parameters `weight` and `bias`
 * [num_features] when affine.
 */
export class InstanceNorm extends Module {
  readonly weight: Parameter | undefined;
  readonly bias: Parameter | undefined;

  constructor(
    readonly numFeatures: number,
    readonly opts: InstanceNormOptions = {},
  ) {
    super();
    this.weight = opts.affine ? this.parameter([numFeatures]) : undefined;
    this.bias = opts.affine ? this.parameter([numFeatures]) : undefined;
  }

  /** Normalises each channel of [N, num_features, ...] over its positions. */
  forward(x: Tensor): Tensor {
    return groupNorm(x, this.numFeatures, this.weight, this.bias, this.opts.eps);
  }
}

/** torch.nn.InstanceNorm1d: [N, C, L]. */
export class InstanceNorm1d extends InstanceNorm {}
/** torch.nn.InstanceNorm2d: [N, C, H, W]. */
export class InstanceNorm2d extends InstanceNorm {}
/** torch.nn.InstanceNorm3d: [N, C, D, H, W]. */
export class InstanceNorm3d extends InstanceNorm {}
