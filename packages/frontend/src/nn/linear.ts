import { Module } from '../module.ts';
import { linear } from '../ops/nn.ts';
import type { Parameter } from '../parameter.ts';
import type { Tensor } from '../tensor.ts';

/** Options of nn.Linear. */
export interface LinearOptions {
  /** Whether to add a bias (default true). */
  readonly bias?: boolean;
}

/** y = x Wᵀ + b, as torch.nn.Linear: parameters `weight` [out, in] and `bias` [out]. */
export class Linear extends Module {
  readonly weight: Parameter;
  readonly bias: Parameter | undefined;

  constructor(
    readonly inFeatures: number,
    readonly outFeatures: number,
    opts: LinearOptions = {},
  ) {
    super();
    this.weight = this.parameter([outFeatures, inFeatures]);
    this.bias = opts.bias === false ? undefined : this.parameter([outFeatures]);
  }

  /** Applies the layer to [..., in] giving [..., out]. */
  forward(x: Tensor): Tensor {
    return linear(x, this.weight, this.bias);
  }
}
