import { Module } from '../module.ts';
import { embedding } from '../ops/shape.ts';
import type { Parameter } from '../parameter.ts';
import type { Tensor } from '../tensor.ts';

/** A lookup table, as torch.nn.Embedding(n, d): parameter `weight` [n, d]; forward takes i32 indices. */
export class Embedding extends Module {
  readonly weight: Parameter;

  constructor(
    readonly numEmbeddings: number,
    readonly embeddingDim: number,
  ) {
    super();
    this.weight = this.parameter([numEmbeddings, embeddingDim]);
  }

  /** Rows of the table for i32 indices [...] giving [..., d]. */
  forward(indices: Tensor): Tensor {
    return embedding(indices, this.weight);
  }
}
