/**
 * GPT-2 (transformers' modeling_gpt2) with its parameter names: GPT2Model
 * (`wte`, `wpe`, `h.N`, `ln_f`; its projections are transformers' Conv1D,
 * weight [in, out]) and GPT2LMHeadModel (the same under `transformer.`,
 * and `lm_head`, tied to `transformer.wte` unless tie_word_embeddings is
 * false). The causal mask is ops.causalMask: an index predicate the
 * attention kernel folds. One decoding step over a key/value cache
 * (decodeStep) is the model run for one new position.
 */
import { Module, Parameter, type Tensor, nn, ops } from '@tessera/frontend';
import { type CachedKeyValues, attendWithCache, mergeHeads, splitHeads } from '../blocks/attention.ts';
import { applyActivation } from './activation.ts';
import type { HfGpt2Config } from './config.ts';

/** transformers' Conv1D(nf, nx): a linear layer whose `weight` is [in, out] (the transpose of nn.Linear's). */
class Conv1D extends Module {
  readonly weight: Parameter;
  readonly bias: Parameter;

  constructor(inFeatures: number, outFeatures: number) {
    super();
    this.weight = new Parameter([inFeatures, outFeatures]);
    this.bias = new Parameter([outFeatures]);
  }

  /** [..., in] -> [..., out]. */
  forward(x: Tensor): Tensor {
    return x.matmul(this.weight).add(this.bias);
  }
}

/** GPT2Attention's weights: `c_attn` (q, k, v packed) and `c_proj`. */
class Gpt2Attention extends Module {
  readonly c_attn: Conv1D;
  readonly c_proj: Conv1D;

  constructor(c: HfGpt2Config) {
    super();
    this.c_attn = new Conv1D(c.n_embd, 3 * c.n_embd);
    this.c_proj = new Conv1D(c.n_embd, c.n_embd);
  }
}

/** GPT2MLP: `c_fc`, the activation, `c_proj`. */
class Gpt2Mlp extends Module {
  readonly c_fc: Conv1D;
  readonly c_proj: Conv1D;

  constructor(readonly c: HfGpt2Config) {
    super();
    this.c_fc = new Conv1D(c.n_embd, c.n_inner);
    this.c_proj = new Conv1D(c.n_inner, c.n_embd);
  }

  /** [..., E] -> [..., E]. */
  forward(x: Tensor): Tensor {
    return this.c_proj.forward(applyActivation(this.c_fc.forward(x), this.c.activation_function));
  }
}

/** Attention of q, k, v [B, H, T, hd] (the block supplies the mask or the cache). */
type Attend = (q: Tensor, k: Tensor, v: Tensor, scale: number) => Tensor;

/** GPT2Block: x + attn(ln_1(x)), then + mlp(ln_2(.)). */
class Gpt2Block extends Module {
  readonly ln_1: nn.LayerNorm;
  readonly attn: Gpt2Attention;
  readonly ln_2: nn.LayerNorm;
  readonly mlp: Gpt2Mlp;

  constructor(
    readonly c: HfGpt2Config,
    readonly index: number,
  ) {
    super();
    this.ln_1 = new nn.LayerNorm(c.n_embd, { eps: c.layer_norm_epsilon });
    this.attn = new Gpt2Attention(c);
    this.ln_2 = new nn.LayerNorm(c.n_embd, { eps: c.layer_norm_epsilon });
    this.mlp = new Gpt2Mlp(c);
  }

  /** The score scale: 1/√hd when scale_attn_weights, also / (layer index + 1) when scale_attn_by_inverse_layer_idx. */
  get scale(): number {
    const c = this.c;
    return (c.scale_attn_weights ? 1 / Math.sqrt(c.n_embd / c.n_head) : 1) / (c.scale_attn_by_inverse_layer_idx ? this.index + 1 : 1);
  }

  /** The new keys and values of x [B, T, E], split into heads, and the block's output through `attend`. */
  forward(x: Tensor, attend: Attend): { y: Tensor; k: Tensor; v: Tensor } {
    const e = this.c.n_embd;
    const qkv = this.attn.c_attn.forward(this.ln_1.forward(x));
    const [q, k, v] = [0, 1, 2].map((i) => splitHeads(qkv.slice(-1, i * e, (i + 1) * e), this.c.n_head)) as [Tensor, Tensor, Tensor];
    const a = x.add(this.attn.c_proj.forward(mergeHeads(attend(q, k, v, this.scale))));
    return { y: a.add(this.mlp.forward(this.ln_2.forward(a))), k, v };
  }
}

/** GPT2Model: token and position embeddings, the blocks, ln_f. */
export class HfGpt2Model extends Module {
  readonly wte: nn.Embedding;
  readonly wpe: nn.Embedding;
  readonly h: nn.ModuleList<Gpt2Block>;
  readonly ln_f: nn.LayerNorm;

  constructor(readonly config: HfGpt2Config) {
    super();
    const c = config;
    this.wte = new nn.Embedding(c.vocab_size, c.n_embd);
    this.wpe = new nn.Embedding(c.n_positions, c.n_embd);
    this.h = new nn.ModuleList(Array.from({ length: c.n_layer }, (_, i) => new Gpt2Block(c, i)));
    this.ln_f = new nn.LayerNorm(c.n_embd, { eps: c.layer_norm_epsilon });
  }

  /** last_hidden_state [B, T, E] of input_ids [B, T], every position attending to itself and those before it. */
  hidden(inputIds: Tensor): Tensor {
    return this.prefill(inputIds).hidden;
  }

  /** The hidden states [B, T, E] after ln_f and each block's keys and values [B, H, T, hd] (a prompt's, to fill the caches). */
  prefill(inputIds: Tensor): { hidden: Tensor; kv: CachedKeyValues[] } {
    const t = inputIds.shape[1]!;
    let x = this.wte.forward(inputIds).add(this.wpe.forward(ops.arange(t)));
    const mask = ops.causalMask(t);
    const kv: CachedKeyValues[] = [];
    for (const block of this.h) {
      const r = block.forward(x, (q, k, v, scale) => ops.attention(q, k, v, { mask, scale }));
      x = r.y;
      kv.push({ k: r.k, v: r.v });
    }
    return { hidden: this.ln_f.forward(x), kv };
  }

  /** GPT2Model's output. */
  forward(inputIds: Tensor): Record<string, Tensor> {
    return { last_hidden_state: this.hidden(inputIds) };
  }

  /**
   * One new position: the previous tokens `token` [B, 1] at position `pos`
   * (i32 scalar) over each block's cache ([B, H, capacity, hd], rows before
   * pos filled). Returns the hidden state [B, 1, E] after ln_f and each
   * block's new key/value rows [B, H, 1, hd] for the caller to store at pos.
   */
  decodeStep(token: Tensor, pos: Tensor, caches: readonly CachedKeyValues[]): { hidden: Tensor; kv: CachedKeyValues[] } {
    let x = this.wte.forward(token).add(this.wpe.forward(pos.reshape([1])));
    const kv: CachedKeyValues[] = [];
    [...this.h].forEach((block, i) => {
      const r = block.forward(x, (q, k, v, scale) => attendWithCache(q, k, v, caches[i]!, pos, scale === undefined ? {} : { scale }));
      x = r.y;
      kv.push({ k: r.k, v: r.v });
    });
    return { hidden: this.ln_f.forward(x), kv };
  }
}

/** The language-model head: `weight` [vocab, E], the token embedding itself when tied. */
class LmHead extends Module {
  readonly weight: Parameter;

  constructor(tied: Parameter | undefined, c: HfGpt2Config) {
    super();
    this.weight = tied ?? new Parameter([c.vocab_size, c.n_embd]);
  }

  /** Logits [..., vocab] of hidden states [..., E] (no bias). */
  forward(x: Tensor): Tensor {
    return ops.linear(x, this.weight);
  }
}

/** GPT2LMHeadModel: `transformer` and `lm_head`; logits [B, T, vocab]. */
export class HfGpt2LMHeadModel extends Module {
  readonly transformer: HfGpt2Model;
  readonly lm_head: LmHead;

  constructor(readonly config: HfGpt2Config) {
    super();
    this.transformer = new HfGpt2Model(config);
    // Tied: the same Parameter, so the program has one input, named transformer.wte.weight (listed first).
    this.lm_head = new LmHead(config.tie_word_embeddings ? this.transformer.wte.weight : undefined, config);
  }

  /** logits [B, T, vocab] of input_ids [B, T]. */
  forward(inputIds: Tensor): Record<string, Tensor> {
    return { logits: this.lm_head.forward(this.transformer.hidden(inputIds)) };
  }

  /** A prompt through the model (HfGpt2Model.prefill): logits [B, vocab] of the token after it, and each block's keys and values. */
  prefill(inputIds: Tensor): { logits: Tensor; kv: CachedKeyValues[] } {
    const r = this.transformer.prefill(inputIds);
    return { logits: this.lm_head.forward(r.hidden.select(1, inputIds.shape[1]! - 1)), kv: r.kv };
  }

  /** One decoding step (HfGpt2Model.decodeStep) with logits [B, vocab] of the next token. */
  decodeStep(token: Tensor, pos: Tensor, caches: readonly CachedKeyValues[]): { logits: Tensor; kv: CachedKeyValues[] } {
    const [b] = token.shape as [number];
    const r = this.transformer.decodeStep(token, pos, caches);
    return { logits: this.lm_head.forward(r.hidden).reshape([b, this.config.vocab_size]), kv: r.kv };
  }
}
