/**
 * The score functions of Luong et al. (2015) between a decoder state h and
 * encoder states s_i, as the `attn` child of the PyTorch model
 * (tools/seq2seq_rnn.py): `dot` r_i = hᵀs_i; `general` r_i = hᵀW s_i
 * (`W`: Linear(H, H, bias=False)); `additive` r_i = vᵀtanh(W_q h + W_k s_i)
 * (`W_q`, `W_k`: Linear(H, H); `v`: Linear(H, 1, bias=False)).
 */
import { Module, type Tensor, nn, ops } from '@tessera/frontend';
import type { AttentionScore } from './config.ts';

/** Context vectors [B, T, H] and, when asked for, the attention weights [B, T, S]. */
export interface Attended {
  readonly context: Tensor;
  readonly weights?: Tensor;
}

/** Attention of decoder states over encoder states with one of the three score forms. */
export class LuongAttention extends Module {
  readonly W: nn.Linear | undefined;
  readonly Wq: nn.Linear | undefined;
  readonly Wk: nn.Linear | undefined;
  readonly v: nn.Linear | undefined;

  constructor(
    readonly score: AttentionScore,
    readonly hiddenSize: number,
  ) {
    super();
    const h = hiddenSize;
    if (score === 'general') this.W = new nn.Linear(h, h, { bias: false });
    if (score === 'additive') {
      this.Wq = this.registerModule('W_q', new nn.Linear(h, h));
      this.Wk = this.registerModule('W_k', new nn.Linear(h, h));
      this.v = new nn.Linear(h, 1, { bias: false });
    }
  }

  /**
   * What the scores read of the encoder states [B, S, H], computed once per
   * source: W s (general), W_k s (additive), s itself (dot).
   */
  keys(memory: Tensor): Tensor {
    if (this.score === 'general') return this.W!.forward(memory);
    if (this.score === 'additive') return this.Wk!.forward(memory);
    return memory;
  }

  /** Scores [B, T, S] of decoder states h [B, T, H] against `keys` (from keys()). */
  scores(h: Tensor, keys: Tensor): Tensor {
    if (this.score !== 'additive') return h.matmul(keys.mT);
    const [b, t] = h.shape as [number, number];
    const s = keys.shape[1]!;
    const hidden = this.Wq!.forward(h).unsqueeze(2).add(keys.unsqueeze(1)).tanh();
    return this.v!.forward(hidden).reshape([b, t, s]);
  }

  /**
   * Attends from decoder states h [B, T, H] over encoder states `memory`
   * [B, S, H] (scored against `keys`), `keep` [B, 1, S] true at real source
   * tokens: padding gets no weight. With `weights`, the softmax weights are
   * computed explicitly and returned; without, dot and general scores run as
   * one fused attention kernel (the mask an index predicate in it).
   */
  forward(h: Tensor, memory: Tensor, keys: Tensor, keep: Tensor, weights = false): Attended {
    if (!weights && this.score !== 'additive') return { context: ops.attention(h, keys, memory, { mask: keep, scale: 1 }) };
    const a = ops.where(keep, this.scores(h, keys), -Infinity).softmax(-1);
    return { context: a.matmul(memory), weights: a };
  }
}
