/**
 * The pieces BERT and Hugging Face's ViT share, with transformers' module
 * names: self-attention with separate `query`, `key`, `value` layers, a
 * `dense` layer (plus a residual and a `LayerNorm` where BERT has them) and
 * the pooler on the first token.
 */
import { Module, type Tensor, nn, ops } from '@tessera/frontend';
import { mergeHeads, splitHeads } from '../blocks/attention.ts';
import { type HfActivation, applyActivation } from './activation.ts';

/** BertSelfAttention / ViTSelfAttention: softmax(q kᵀ / √hd + mask) v over heads, q, k, v from their own Linear layers. */
export class SeparateQkvAttention extends Module {
  readonly query: nn.Linear;
  readonly key: nn.Linear;
  readonly value: nn.Linear;

  constructor(
    width: number,
    readonly heads: number,
    bias = true,
  ) {
    super();
    this.query = new nn.Linear(width, width, { bias });
    this.key = new nn.Linear(width, width, { bias });
    this.value = new nn.Linear(width, width, { bias });
  }

  /** [B, T, D] -> [B, T, D] (heads merged); `keep` is a bool mask broadcasting to [B, H, T, T] (true = may attend). */
  forward(x: Tensor, keep?: Tensor): Tensor {
    const [q, k, v] = [this.query, this.key, this.value].map((l) => splitHeads(l.forward(x), this.heads)) as [Tensor, Tensor, Tensor];
    return mergeHeads(ops.attention(q, k, v, keep ? { mask: keep } : {}));
  }
}

/** A Linear named `dense`, then the residual and a `LayerNorm` when given (BertSelfOutput, BertOutput), or the activation (the Intermediate layers). */
export class Dense extends Module {
  readonly dense: nn.Linear;
  readonly LayerNorm: nn.LayerNorm | undefined;

  constructor(inFeatures: number, outFeatures: number, normEps?: number) {
    super();
    this.dense = new nn.Linear(inFeatures, outFeatures);
    this.LayerNorm = normEps === undefined ? undefined : new nn.LayerNorm(outFeatures, { eps: normEps });
  }

  /** LayerNorm(dense(x) + residual), without the parts not given. */
  forward(x: Tensor, residual?: Tensor): Tensor {
    const y = residual ? this.dense.forward(x).add(residual) : this.dense.forward(x);
    return this.LayerNorm ? this.LayerNorm.forward(y) : y;
  }

  /** act(dense(x)): BertIntermediate, ViTIntermediate, the poolers. */
  activated(x: Tensor, act: HfActivation): Tensor {
    return applyActivation(this.dense.forward(x), act);
  }
}

/** A module that only groups children under a name (`encoder` with its `layer` list). */
export class Group extends Module {}

/** `encoder.layer.N` holding `layers`. */
export function encoderStack(layers: readonly Module[]): Group {
  const encoder = new Group();
  encoder.registerModule('layer', new nn.ModuleList(layers));
  return encoder;
}

/** The bool mask [B, 1, 1, T] of an attention_mask [B, T] (1 = a token, 0 = padding): keys that may be attended to. */
export function paddingKeep(attentionMask: Tensor): Tensor {
  const [b, t] = attentionMask.shape as [number, number];
  return attentionMask.ne(0).reshape([b, 1, 1, t]);
}
