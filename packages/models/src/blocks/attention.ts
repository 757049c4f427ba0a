/**
 * Multi-head attention pieces shared by the models: head split/merge and a
 * self-attention module with one packed qkv projection (timm's naming).
 * torch.nn.MultiheadAttention itself is the frontend's nn.MultiHeadAttention.
 */
import { Module, type Tensor, nn, ops } from '@tessera/frontend';

/** [B, T, H·hd] -> [B, H, T, hd]. */
export function splitHeads(x: Tensor, heads: number): Tensor {
  const [b, t, e] = x.shape as [number, number, number];
  return x.reshape([b, t, heads, e / heads]).transpose([0, 2, 1, 3]);
}

/** [B, H, T, hd] -> [B, T, H·hd]. */
export function mergeHeads(x: Tensor): Tensor {
  const [b, h, t, d] = x.shape as [number, number, number, number];
  return x.transpose([0, 2, 1, 3]).reshape([b, t, h * d]);
}

/**
 * Self-attention as timm's `Attention`: `qkv` Linear(E, 3E) whose output
 * rows are q, k, v (each split into heads in order, the same layout as
 * PyTorch's in_proj_weight) and `proj` Linear(E, E).
 */
export class QkvSelfAttention extends Module {
  readonly qkv: nn.Linear;
  readonly proj: nn.Linear;

  constructor(
    readonly embedDim: number,
    readonly numHeads: number,
  ) {
    super();
    if (embedDim % numHeads !== 0) throw new RangeError(`attention: width ${embedDim} must be divisible by the head count ${numHeads}`);
    this.qkv = new nn.Linear(embedDim, 3 * embedDim);
    this.proj = new nn.Linear(embedDim, embedDim);
  }

  /** [B, T, E] -> [B, T, E], every token attending to every token. */
  forward(x: Tensor): Tensor {
    const e = this.embedDim;
    const qkv = this.qkv.forward(x);
    const [q, k, v] = [0, 1, 2].map((i) => splitHeads(qkv.slice(-1, i * e, (i + 1) * e), this.numHeads)) as [Tensor, Tensor, Tensor];
    return this.proj.forward(mergeHeads(ops.attention(q, k, v, { module: this })));
  }
}
