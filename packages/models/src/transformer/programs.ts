/**
 * The Transformer's programs: the full model (every target position at
 * once), and for incremental decoding the encoder (cross-attention keys and
 * values of every decoder layer) and one decoder step over a fixed-capacity
 * key/value cache.
 */
import type { AttentionSelection, Tensor } from '@tessera/frontend';
import type { Program } from '@tessera/ir';
import { traceEntry } from '../entry.ts';
import type { KeyValues, Seq2SeqTransformer } from './model.ts';

/** Shapes of the traced programs. */
export interface Seq2SeqShape {
  /** Sequences per run. */
  readonly batch: number;
  /** Source length (padded with pad_id). */
  readonly srcLen: number;
}

/** Program input and output names of the cache, per decoder layer i. */
export const cacheNames = (i: number) => ({ cacheK: `cache_k_${i}`, cacheV: `cache_v_${i}`, crossK: `cross_k_${i}`, crossV: `cross_v_${i}`, newK: `k_new_${i}`, newV: `v_new_${i}` });

/**
 * The full model: inputs src i32 [B, S], tgt i32 [B, T]; output logits
 * [B, T, tgt_vocab], and with `attentions` each probed attention's
 * `attn/<module path>` [B, H, queries, keys].
 */
export function traceSeq2Seq(model: Seq2SeqTransformer, shape: Seq2SeqShape, tgtLen: number, attentions: AttentionSelection = false): Program {
  const specs = { src: `i32[${shape.batch},${shape.srcLen}]`, tgt: `i32[${shape.batch},${tgtLen}]` };
  return traceEntry(model, (src, tgt) => ({ logits: model.forward(src!, tgt!) }), specs, 'transformer', attentions);
}

/** The encoder for decoding: input src; outputs cross_k_i, cross_v_i [B, H, S, hd] per decoder layer. */
export function traceEncoder(model: Seq2SeqTransformer, shape: Seq2SeqShape): Program {
  return traceEntry(
    model,
    (src) => {
      const out: Record<string, Tensor> = {};
      model.encodeForDecoding(src!).forEach((kv, i) => {
        out[cacheNames(i).crossK] = kv.k;
        out[cacheNames(i).crossV] = kv.v;
      });
      return out;
    },
    { src: `i32[${shape.batch},${shape.srcLen}]` },
    'encode',
  );
}

/**
 * One decoder step: inputs token i32 [B, 1] (the previous token), pos i32 []
 * (its position), src, and per decoder layer i cache_k_i/cache_v_i
 * [B, H, capacity, hd] (positions < pos filled) and cross_k_i/cross_v_i.
 * Outputs logits [B, tgt_vocab] and k_new_i/v_new_i [B, H, 1, hd], which
 * the caller writes into the caches at pos; with `attentions`, the probed
 * attentions' `attn/<module path>` [B, H, 1, keys].
 */
export function traceDecodeStep(model: Seq2SeqTransformer, shape: Seq2SeqShape, capacity: number, attentions: AttentionSelection = false): Program {
  const c = model.config;
  const hd = c.d_model / c.nhead;
  const { batch: b, srcLen: s } = shape;
  const layers = c.num_decoder_layers;
  const specs: Record<string, string> = { token: `i32[${b},1]`, pos: 'i32[]', src: `i32[${b},${s}]` };
  for (let i = 0; i < layers; i++) {
    const n = cacheNames(i);
    // One key at a time: the entry function below takes the inputs in this order.
    specs[n.cacheK] = `f32[${b},${c.nhead},${capacity},${hd}]`;
    specs[n.cacheV] = `f32[${b},${c.nhead},${capacity},${hd}]`;
    specs[n.crossK] = `f32[${b},${c.nhead},${s},${hd}]`;
    specs[n.crossV] = `f32[${b},${c.nhead},${s},${hd}]`;
  }
  return traceEntry(
    model,
    (token, pos, src, ...kv) => {
      const at = (i: number, j: number) => kv[4 * i + j]!;
      const caches: KeyValues[] = Array.from({ length: layers }, (_, i) => ({ k: at(i, 0), v: at(i, 1) }));
      const cross: KeyValues[] = Array.from({ length: layers }, (_, i) => ({ k: at(i, 2), v: at(i, 3) }));
      const r = model.decodeStep(token!, pos!, src!, caches, cross);
      const out: Record<string, Tensor> = { logits: r.logits };
      r.kv.forEach((x, i) => {
        out[cacheNames(i).newK] = x.k;
        out[cacheNames(i).newV] = x.v;
      });
      return out;
    },
    specs,
    'decode_step',
    attentions,
  );
}

/** The module paths of every decoder layer's cross-attention (what generation's cross-attention probes are named by). */
export function crossAttentionPaths(model: Seq2SeqTransformer): string[] {
  return Array.from({ length: model.config.num_decoder_layers }, (_, i) => `transformer.decoder.layers.${i}.multihead_attn`);
}
