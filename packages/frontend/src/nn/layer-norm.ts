import { Module } from '../module.ts';
import { ones, zeros } from '../ops/create.ts';
import { layerNorm } from '../ops/nn.ts';
import type { Parameter } from '../parameter.ts';
import type { Tensor } from '../tensor.ts';

/** Options of nn.LayerNorm. */
export interface LayerNormOptions {
  /** Added to the variance (default 1e-5). */
  readonly eps?: number;
  /** Whether to learn `weight` and `bias` (default true); without, they are constants 1 and 0. */
  readonly elementwiseAffine?: boolean;
  /** Whether to learn `bias` when affine (default true). */
  readonly bias?: boolean;
}

/** Layer normalisation over the last axis, as torch.nn.LayerNorm(d): parameters `weight` [d] and `bias` [d]. */
export class LayerNorm extends Module {
  readonly weight: Parameter | undefined;
  readonly bias: Parameter | undefined;
  readonly eps: number;

  constructor(
    readonly normalizedShape: number,
    opts: LayerNormOptions = {},
  ) {
    super();
    this.eps = opts.eps ?? 1e-5;
    const affine = opts.elementwiseAffine ?? true;
    this.weight = affine ? this.parameter([normalizedShape]) : undefined;
    this.bias = affine && opts.bias !== false ? this.parameter([normalizedShape]) : undefined;
  }

  /** Normalises [..., d]. */
  forward(x: Tensor): Tensor {
    const d = this.normalizedShape;
    return layerNorm(x, this.weight ?? ones([d]), this.bias ?? zeros([d]), this.eps);
  }
}
