/**
 * The encoder-decoder Transformer of "Attention Is All You Need", as a
 * PyTorch module with children `src_embed` (nn.Embedding), `tgt_embed`
 * (nn.Embedding), `transformer` (nn.Transformer, batch_first=True) and
 * `generator` (nn.Linear): token embeddings × √d_model plus sinusoidal
 * positions, post-norm layers with ReLU feed-forward, a final LayerNorm on
 * encoder and decoder, causal decoder self-attention, and source keys equal
 * to pad_id masked out of encoder self-attention and cross-attention.
 */
import { Module, type Tensor, nn, ops } from '@tessera/frontend';
import { mergeHeads, splitHeads } from '../blocks/attention.ts';
import { sinusoidalEncoding, sinusoidalTable } from '../blocks/positional.ts';
import type { TransformerConfig } from './config.ts';

/** ReLU feed-forward held as the layer's own `linear1`/`linear2`, as nn.TransformerEncoderLayer does. */
function feedForward(layer: { linear1: nn.Linear; linear2: nn.Linear }, x: Tensor): Tensor {
  return layer.linear2.forward(ops.relu(layer.linear1.forward(x)));
}

/** nn.TransformerEncoderLayer (post-norm, ReLU): self_attn, linear1, linear2, norm1, norm2. */
export class EncoderLayer extends Module {
  readonly selfAttn: nn.MultiHeadAttention;
  readonly linear1: nn.Linear;
  readonly linear2: nn.Linear;
  readonly norm1: nn.LayerNorm;
  readonly norm2: nn.LayerNorm;

  constructor(c: TransformerConfig) {
    super();
    const eps = c.layer_norm_eps;
    this.selfAttn = this.registerModule('self_attn', new nn.MultiHeadAttention(c.d_model, c.nhead));
    this.linear1 = new nn.Linear(c.d_model, c.dim_feedforward);
    this.linear2 = new nn.Linear(c.dim_feedforward, c.d_model);
    this.norm1 = new nn.LayerNorm(c.d_model, { eps });
    this.norm2 = new nn.LayerNorm(c.d_model, { eps });
  }

  /** [B, S, E] with bool padding [B, S] (true = padding) -> [B, S, E]. */
  forward(x: Tensor, padding: Tensor): Tensor {
    const a = this.norm1.forward(x.add(this.selfAttn.forward(x, x, x, { keyPaddingMask: padding })));
    return this.norm2.forward(a.add(feedForward(this, a)));
  }
}

/** Keys and values of one attention, split into heads: [B, H, T, hd] each. */
export interface KeyValues {
  readonly k: Tensor;
  readonly v: Tensor;
}

/** nn.TransformerDecoderLayer (post-norm, ReLU): self_attn, multihead_attn, linear1, linear2, norm1..3. */
export class DecoderLayer extends Module {
  readonly selfAttn: nn.MultiHeadAttention;
  readonly crossAttn: nn.MultiHeadAttention;
  readonly linear1: nn.Linear;
  readonly linear2: nn.Linear;
  readonly norm1: nn.LayerNorm;
  readonly norm2: nn.LayerNorm;
  readonly norm3: nn.LayerNorm;

  constructor(c: TransformerConfig) {
    super();
    const eps = c.layer_norm_eps;
    this.selfAttn = this.registerModule('self_attn', new nn.MultiHeadAttention(c.d_model, c.nhead));
    this.crossAttn = this.registerModule('multihead_attn', new nn.MultiHeadAttention(c.d_model, c.nhead));
    this.linear1 = new nn.Linear(c.d_model, c.dim_feedforward);
    this.linear2 = new nn.Linear(c.dim_feedforward, c.d_model);
    this.norm1 = new nn.LayerNorm(c.d_model, { eps });
    this.norm2 = new nn.LayerNorm(c.d_model, { eps });
    this.norm3 = new nn.LayerNorm(c.d_model, { eps });
  }

  /** Every target position at once: [B, T, E] attending causally, and to `memory` [B, S, E] where not padding. */
  forward(x: Tensor, memory: Tensor, padding: Tensor): Tensor {
    const a = this.norm1.forward(x.add(this.selfAttn.forward(x, x, x, { isCausal: true })));
    const b = this.norm2.forward(a.add(this.crossAttn.forward(a, memory, memory, { keyPaddingMask: padding })));
    return this.norm3.forward(b.add(feedForward(this, b)));
  }

  /** Cross-attention keys and values of `memory` [B, S, E], computed once per source. */
  crossKeyValues(memory: Tensor): KeyValues {
    const [k, v] = [1, 2].map((i) => splitHeads(projection(this.crossAttn, memory, i), this.crossAttn.numHeads));
    return { k: k!, v: v! };
  }

  /**
   * One new position x [B, 1, E]. Self-attention runs over the first `pos`
   * cached keys/values ([B, H, capacity, hd]; entries at `pos` and beyond are
   * masked out) and the new one; cross-attention over precomputed `cross`
   * with `keep` [B, 1, 1, S] (true = real source token). Returns the output
   * and the new key/value rows [B, H, 1, hd] for the caller to store at `pos`.
   */
  step(x: Tensor, pos: Tensor, cache: KeyValues, cross: KeyValues, keep: Tensor): { y: Tensor; kNew: Tensor; vNew: Tensor } {
    const sa = this.selfAttn;
    const h = sa.numHeads;
    const [q, kNew, vNew] = [0, 1, 2].map((i) => splitHeads(projection(sa, x, i), h)) as [Tensor, Tensor, Tensor];
    const capacity = cache.k.shape[2]!;
    const slot = ops.iota([capacity + 1], 0);
    const selfKeep = slot.lt(pos).logicalOr(slot.eq(capacity));
    const keys = ops.concat([cache.k, kNew], 2);
    const values = ops.concat([cache.v, vNew], 2);
    const selfOut = sa.outProj.forward(mergeHeads(ops.attention(q, keys, values, { mask: selfKeep })));
    const a = this.norm1.forward(x.add(selfOut));
    const ca = this.crossAttn;
    const qc = splitHeads(projection(ca, a, 0), h);
    const crossOut = ca.outProj.forward(mergeHeads(ops.attention(qc, cross.k, cross.v, { mask: keep })));
    const b = this.norm2.forward(a.add(crossOut));
    return { y: this.norm3.forward(b.add(feedForward(this, b))), kNew, vNew };
  }
}

/** Projection i (0 = query, 1 = key, 2 = value) of an nn.MultiHeadAttention's packed in_proj applied to x. */
function projection(mha: nn.MultiHeadAttention, x: Tensor, i: number): Tensor {
  const e = mha.embedDim;
  const w = mha.inProjWeight!.slice(0, i * e, (i + 1) * e);
  return ops.linear(x, w, mha.inProjBias?.slice(0, i * e, (i + 1) * e));
}

/** nn.TransformerEncoder / nn.TransformerDecoder: `layers.{i}` and the final `norm`. */
class Stack<L extends Module> extends Module {
  readonly layers: nn.ModuleList<L>;
  readonly norm: nn.LayerNorm;

  constructor(layers: L[], d: number, eps: number) {
    super();
    this.layers = new nn.ModuleList(layers);
    this.norm = new nn.LayerNorm(d, { eps });
  }
}

/** nn.Transformer's children: `encoder` and `decoder`. */
class TransformerCore extends Module {
  readonly encoder: Stack<EncoderLayer>;
  readonly decoder: Stack<DecoderLayer>;

  constructor(c: TransformerConfig) {
    super();
    const d = c.d_model;
    this.encoder = new Stack(Array.from({ length: c.num_encoder_layers }, () => new EncoderLayer(c)), d, c.layer_norm_eps);
    this.decoder = new Stack(Array.from({ length: c.num_decoder_layers }, () => new DecoderLayer(c)), d, c.layer_norm_eps);
  }
}

/** The sequence-to-sequence Transformer; forward maps src [B, S] and tgt [B, T] (i32) to logits [B, T, tgt_vocab]. */
export class Seq2SeqTransformer extends Module {
  readonly srcEmbed: nn.Embedding;
  readonly tgtEmbed: nn.Embedding;
  readonly transformer: TransformerCore;
  readonly generator: nn.Linear;

  constructor(readonly config: TransformerConfig) {
    super();
    const c = config;
    this.srcEmbed = this.registerModule('src_embed', new nn.Embedding(c.src_vocab, c.d_model));
    this.tgtEmbed = this.registerModule('tgt_embed', new nn.Embedding(c.tgt_vocab, c.d_model));
    this.transformer = new TransformerCore(c);
    this.generator = new nn.Linear(c.d_model, c.tgt_vocab);
  }

  /** Token embeddings × √d_model plus the sinusoidal encodings of positions 0..T-1. */
  private embed(table: nn.Embedding, tokens: Tensor): Tensor {
    const d = this.config.d_model;
    return table.forward(tokens).mul(Math.sqrt(d)).add(sinusoidalTable(tokens.shape[1]!, d));
  }

  /** Bool [B, S], true where the source token is padding (PyTorch's key_padding_mask). */
  sourcePadding(src: Tensor): Tensor {
    return src.eq(this.config.pad_id);
  }

  /** The encoder's output (memory) [B, S, E] for source tokens [B, S]. */
  encode(src: Tensor): Tensor {
    const enc = this.transformer.encoder;
    const padding = this.sourcePadding(src);
    let x = this.embed(this.srcEmbed, src);
    for (const layer of enc.layers) x = layer.forward(x, padding);
    return enc.norm.forward(x);
  }

  /** Logits [B, T, tgt_vocab] for every target position, each seeing the targets up to itself. */
  forward(src: Tensor, tgt: Tensor): Tensor {
    const memory = this.encode(src);
    const padding = this.sourcePadding(src);
    const dec = this.transformer.decoder;
    let y = this.embed(this.tgtEmbed, tgt);
    for (const layer of dec.layers) y = layer.forward(y, memory, padding);
    return this.generator.forward(dec.norm.forward(y));
  }

  /** Cross-attention keys and values of every decoder layer for source tokens [B, S]. */
  encodeForDecoding(src: Tensor): KeyValues[] {
    const memory = this.encode(src);
    return [...this.transformer.decoder.layers].map((l) => l.crossKeyValues(memory));
  }

  /**
   * One decoding step at position `pos` (i32 scalar) for the previous tokens
   * `token` [B, 1]: logits [B, tgt_vocab] of the next token and each decoder
   * layer's new self-attention key/value rows.
   */
  decodeStep(token: Tensor, pos: Tensor, src: Tensor, caches: readonly KeyValues[], cross: readonly KeyValues[]): { logits: Tensor; kv: KeyValues[] } {
    const d = this.config.d_model;
    const [b] = token.shape as [number];
    const keep = this.sourcePadding(src).logicalNot().reshape([b, 1, 1, src.shape[1]!]);
    let x = this.tgtEmbed.forward(token).mul(Math.sqrt(d)).add(sinusoidalEncoding(pos.cast('f32').reshape([1]), d));
    const dec = this.transformer.decoder;
    const kv: KeyValues[] = [];
    [...dec.layers].forEach((layer, i) => {
      const r = layer.step(x, pos, caches[i]!, cross[i]!, keep);
      x = r.y;
      kv.push({ k: r.kNew, v: r.vNew });
    });
    return { logits: this.generator.forward(dec.norm.forward(x)).reshape([b, this.config.tgt_vocab]), kv };
  }
}
