/**
 * The encoder-decoder Transformer of "Attention Is All You Need", as a
 * PyTorch module with children `src_embed` (nn.Embedding), `tgt_embed`
 * (nn.Embedding), `transformer` (the DSL's nn.Transformer, batch_first) and
 * `generator` (nn.Linear): token embeddings × √d_model plus sinusoidal
 * positions, post-norm layers with ReLU feed-forward, a final LayerNorm on
 * encoder and decoder, causal decoder self-attention, and source keys equal
 * to pad_id masked out of encoder self-attention and cross-attention.
 * Incremental decoding runs each nn.TransformerDecoderLayer one position at
 * a time over a key/value cache (decoderStep).
 */
import { Module, type Tensor, nn, ops } from '@tessera/frontend';
import { mergeHeads, splitHeads } from '../blocks/attention.ts';
import { sinusoidalEncoding, sinusoidalTable } from '../blocks/positional.ts';
import type { TransformerConfig } from './config.ts';

/** Keys and values of one attention, split into heads: [B, H, T, hd] each. */
export interface KeyValues {
  readonly k: Tensor;
  readonly v: Tensor;
}

/** Projection i (0 = query, 1 = key, 2 = value) of an nn.MultiHeadAttention's packed in_proj applied to x. */
function projection(mha: nn.MultiHeadAttention, x: Tensor, i: number): Tensor {
  const e = mha.embedDim;
  const w = mha.inProjWeight!.slice(0, i * e, (i + 1) * e);
  return ops.linear(x, w, mha.inProjBias?.slice(0, i * e, (i + 1) * e));
}

/** A decoder layer's cross-attention keys and values of `memory` [B, S, E], computed once per source. */
export function crossKeyValues(layer: nn.TransformerDecoderLayer, memory: Tensor): KeyValues {
  const ca = layer.multiheadAttn;
  const [k, v] = [1, 2].map((i) => splitHeads(projection(ca, memory, i), ca.numHeads));
  return { k: k!, v: v! };
}

/**
 * One new position x [B, 1, E] through a decoder layer (batch first).
 * Self-attention runs over the first `pos` cached keys/values ([B, H,
 * capacity, hd]; entries at `pos` and beyond are masked out) and the new
 * one; cross-attention over precomputed `cross` with `keep` [B, 1, 1, S]
 * (true = real source token). Returns the output and the new key/value rows
 * [B, H, 1, hd] for the caller to store at `pos`.
 */
export function decoderStep(layer: nn.TransformerDecoderLayer, x: Tensor, pos: Tensor, cache: KeyValues, cross: KeyValues, keep: Tensor): { y: Tensor; kNew: Tensor; vNew: Tensor } {
  const sa = layer.selfAttn;
  const h = sa.numHeads;
  let kNew: Tensor | undefined;
  let vNew: Tensor | undefined;
  const selfAttention = (input: Tensor): Tensor => {
    const [q, k, v] = [0, 1, 2].map((i) => splitHeads(projection(sa, input, i), h)) as [Tensor, Tensor, Tensor];
    [kNew, vNew] = [k, v];
    const capacity = cache.k.shape[2]!;
    const slot = ops.iota([capacity + 1], 0);
    const selfKeep = slot.lt(pos).logicalOr(slot.eq(capacity));
    const keys = ops.concat([cache.k, k], 2);
    const values = ops.concat([cache.v, v], 2);
    return sa.outProj.forward(mergeHeads(ops.attention(q, keys, values, { mask: selfKeep, module: sa })));
  };
  const ca = layer.multiheadAttn;
  const crossAttention = (input: Tensor): Tensor => {
    const qc = splitHeads(projection(ca, input, 0), h);
    return ca.outProj.forward(mergeHeads(ops.attention(qc, cross.k, cross.v, { mask: keep, module: ca })));
  };
  const a = layer.sublayer(x, layer.norm1, selfAttention);
  const b = layer.sublayer(a, layer.norm2, crossAttention);
  return { y: layer.sublayer(b, layer.norm3, (t) => layer.feedForward(t)), kNew: kNew!, vNew: vNew! };
}

/** The sequence-to-sequence Transformer; forward maps src [B, S] and tgt [B, T] (i32) to logits [B, T, tgt_vocab]. */
export class Seq2SeqTransformer extends Module {
  readonly srcEmbed: nn.Embedding;
  readonly tgtEmbed: nn.Embedding;
  readonly transformer: nn.Transformer;
  readonly generator: nn.Linear;

  constructor(readonly config: TransformerConfig) {
    super();
    const c = config;
    this.srcEmbed = this.registerModule('src_embed', new nn.Embedding(c.src_vocab, c.d_model));
    this.tgtEmbed = this.registerModule('tgt_embed', new nn.Embedding(c.tgt_vocab, c.d_model));
    this.transformer = new nn.Transformer({
      dModel: c.d_model,
      nhead: c.nhead,
      numEncoderLayers: c.num_encoder_layers,
      numDecoderLayers: c.num_decoder_layers,
      dimFeedforward: c.dim_feedforward,
      layerNormEps: c.layer_norm_eps,
      batchFirst: true,
    });
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
    const padding = this.sourcePadding(src);
    return this.transformer.encoder.forward(this.embed(this.srcEmbed, src), { srcKeyPaddingMask: padding });
  }

  /** Logits [B, T, tgt_vocab] for every target position, each seeing the targets up to itself. */
  forward(src: Tensor, tgt: Tensor): Tensor {
    const memory = this.encode(src);
    const padding = this.sourcePadding(src);
    const y = this.transformer.decoder.forward(this.embed(this.tgtEmbed, tgt), memory, { tgtIsCausal: true, memoryKeyPaddingMask: padding });
    return this.generator.forward(y);
  }

  /** Cross-attention keys and values of every decoder layer for source tokens [B, S]. */
  encodeForDecoding(src: Tensor): KeyValues[] {
    const memory = this.encode(src);
    return [...this.transformer.decoder.layers].map((l) => crossKeyValues(l, memory));
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
      const r = decoderStep(layer, x, pos, caches[i]!, cross[i]!, keep);
      x = r.y;
      kv.push({ k: r.kNew, v: r.vNew });
    });
    return { logits: this.generator.forward(dec.norm!.forward(x)).reshape([b, this.config.tgt_vocab]), kv };
  }
}
