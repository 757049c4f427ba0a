/**
 * How big a config's model is, computed from the config alone: a config
 * with a million layers or a hidden size of a billion must be rejected
 * before the model is built (building it would allocate a module per layer
 * and run out of memory, not fail with a message).
 */
import type { Seq2SeqRnnConfig } from './rnn/config.ts';
import type { TransformerConfig } from './transformer/config.ts';
import { VIT_CHANNELS, VIT_PRESETS, type VitConfig, vitPatches } from './vit/config.ts';

/**
 * The most f32 parameter elements a model may have: 2^30 elements are 4 GiB,
 * all that wasm32 (the cpu backend) addresses; WebGPU's buffers are smaller still.
 */
export const MAX_PARAMETERS = 2 ** 30;

/**
 * The most layers a config may stack (each encoder or decoder stack): deep
 * enough for any published transformer (they stop near 200), shallow enough
 * that tracing stays seconds, not hours: a layer is a few dozen graph nodes,
 * and a million tiny layers would fit the parameter bound.
 */
export const MAX_LAYERS = 1024;

/** The most f32 elements one activation of a ViT may have at batch 1 (4 GiB, as for the parameters). */
export const MAX_ACTIVATION = 2 ** 30;

/** Elements of a ViT's largest activation for one image: the image itself, or tokens x the widest layer (q, k, v together or the MLP). */
export function vitLargestActivation(c: VitConfig): number {
  const tokens = vitPatches(c) + 1;
  return Math.max(VIT_CHANNELS * c.image_size * c.image_size, tokens * Math.max(3 * c.hidden_dim, c.mlp_dim));
}

/** A transformer block's parameters: attention (q, k, v, out projections with biases), feed-forward, `norms` LayerNorms. */
function blockParameters(d: number, ff: number, attentions: number, norms: number): number {
  return attentions * (4 * d * d + 4 * d) + (2 * d * ff + ff + d) + norms * 2 * d;
}

/** Parameter elements of a ViT (torchvision's layout; timm's has the same count). */
export function vitParameters(c: VitConfig): number {
  const d = c.hidden_dim;
  const patchEmbedding = d * VIT_CHANNELS * c.patch_size * c.patch_size + d;
  const tokens = vitPatches(c) + 1;
  return patchEmbedding + d + tokens * d + c.num_layers * blockParameters(d, c.mlp_dim, 1, 2) + 2 * d + d * c.num_classes + c.num_classes;
}

/** Parameter elements of the encoder-decoder Transformer (embeddings, nn.Transformer, generator). */
export function transformerParameters(c: TransformerConfig): number {
  const d = c.d_model;
  const encoder = c.num_encoder_layers * blockParameters(d, c.dim_feedforward, 1, 2) + 2 * d;
  const decoder = c.num_decoder_layers * blockParameters(d, c.dim_feedforward, 2, 3) + 2 * d;
  return (c.src_vocab + c.tgt_vocab) * d + encoder + decoder + d * c.tgt_vocab + c.tgt_vocab;
}

/** ViT-B/16's sizes: the usual ones for a ViT. */
export const VIT_BASE: Readonly<Record<string, number>> = (({ image_size, patch_size, num_layers, hidden_dim, mlp_dim, num_classes }) => ({ image_size, patch_size, num_layers, hidden_dim, mlp_dim, num_classes }))(VIT_PRESETS['vit-b-16']!);

/** The base Transformer of Vaswani et al. (d_model 512, 6 + 6 layers, 37,000 shared BPE tokens): the usual sizes. */
export const TRANSFORMER_BASE: Readonly<Record<string, number>> = { d_model: 512, num_encoder_layers: 6, num_decoder_layers: 6, dim_feedforward: 2048, src_vocab: 37000, tgt_vocab: 37000 };

/**
 * The size key furthest beyond its usual value (`usual`: ViT-B/16's or the
 * base Transformer's), by ratio: the one to name when a model is too big,
 * so a user knows what to change.
 */
export function mostOversized(config: Readonly<Record<string, unknown>>, usual: Readonly<Record<string, number>>): string {
  let best = '';
  let bestRatio = -Infinity;
  for (const [k, u] of Object.entries(usual)) {
    const ratio = Number(config[k]) / u;
    if (ratio > bestRatio) [best, bestRatio] = [k, ratio];
  }
  return best;
}

/** Parameter elements of the RNN seq2seq model (embeddings, encoder and decoder cells, attention, combine, generator). */
export function rnnParameters(c: Seq2SeqRnnConfig): number {
  const h = c.hidden_size;
  const gates = c.cell === 'gru' ? 3 : 4;
  // Layer 0 reads the embeddings, later layers the layer below; weights and both biases per layer.
  const cell = gates * h * (c.embedding_dim + h + 2) + (c.num_layers - 1) * gates * h * (2 * h + 2);
  const attention = c.attention === 'dot' ? 0 : c.attention === 'general' ? h * h : 2 * (h * h + h) + h;
  return (c.src_vocab + c.tgt_vocab) * c.embedding_dim + 2 * cell + attention + (2 * h * h + h) + (h * c.tgt_vocab + c.tgt_vocab);
}

/** The usual sizes of an RNN translation model (Luong et al. 2015: 1000 units, 50,000-word vocabularies). */
export const RNN_BASE: Readonly<Record<string, number>> = { embedding_dim: 1000, hidden_size: 1000, num_layers: 4, src_vocab: 50000, tgt_vocab: 50000 };

/** Parameter elements of any config's model. */
export function modelParameters(c: VitConfig | TransformerConfig | Seq2SeqRnnConfig): number {
  return c.model === 'vit' ? vitParameters(c) : c.model === 'transformer' ? transformerParameters(c) : rnnParameters(c);
}
