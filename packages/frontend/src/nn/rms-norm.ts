import { Module } from '../module.ts';
import { rmsNorm } from '../ops/nn.ts';
import type { Parameter } from '../parameter.ts';
import type { Tensor } from '../tensor.ts';

/** Options of nn.RMSNorm. */
export interface RMSNormOptions {
  /** Added to the mean square (default: float32's epsilon, as PyTorch's eps=None). */
  readonly eps?: number;
  /** Whether to learn `weight` (default true). */
  readonly elementwiseAffine?: boolean;
}

/** RMS normalisation over the trailing axes, as torch.nn.RMSNorm(normalized_shape): parameter `weight` of that shape. */
export class RMSNorm extends Module {
  readonly weight: Parameter | undefined;
  readonly normalizedShape: readonly number[];

  constructor(
    normalizedShape: number | readonly number[],
    readonly opts: RMSNormOptions = {},
  ) {
    super();
    this.normalizedShape = typeof normalizedShape === 'number' ? [normalizedShape] : [...normalizedShape];
    this.weight = opts.elementwiseAffine === false ? undefined : this.parameter(this.normalizedShape);
  }

  /** Normalises [..., *normalized_shape]. */
  forward(x: Tensor): Tensor {
    return rmsNorm(x, this.normalizedShape, this.weight, this.opts.eps);
  }
}
