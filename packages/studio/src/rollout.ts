/**
 * Attention rollout (Abnar & Zuidema, "Quantifying Attention Flow in
 * Transformers", 2020): how much each input token reaches the class token
 * through every layer. Each layer's attention is averaged over heads, the
 * residual connection added as an identity (0.5·A + 0.5·I, rows
 * renormalised), and the layers multiplied from the first to the last.
 */

/** One layer's attention probabilities of one image: [heads, tokens, tokens], row-major. */
export interface LayerAttention {
  readonly heads: number;
  readonly tokens: number;
  readonly probs: Float32Array;
}

/** The head-averaged attention with the residual identity, rows summing to 1: [tokens, tokens] in float64. */
export function residualAttention(layer: LayerAttention): Float64Array {
  const { heads, tokens: t, probs } = layer;
  const a = new Float64Array(t * t);
  for (let h = 0; h < heads; h++) for (let i = 0; i < t * t; i++) a[i] += probs[h * t * t + i]! / heads;
  for (let r = 0; r < t; r++) {
    let sum = 0;
    for (let c = 0; c < t; c++) {
      const v = 0.5 * a[r * t + c]! + (r === c ? 0.5 : 0);
      a[r * t + c] = v;
      sum += v;
    }
    for (let c = 0; c < t; c++) a[r * t + c]! /= sum;
  }
  return a;
}

/** The rollout [tokens, tokens] of the layers in order (first layer first): the product A_L · … · A_1. */
export function attentionRollout(layers: readonly LayerAttention[]): Float64Array {
  if (layers.length === 0) throw new RangeError('attention rollout needs at least one layer');
  const t = layers[0]!.tokens;
  let r = residualAttention(layers[0]!);
  for (const layer of layers.slice(1)) {
    if (layer.tokens !== t) throw new RangeError(`attention rollout: layers of ${t} and ${layer.tokens} tokens`);
    const a = residualAttention(layer);
    const next = new Float64Array(t * t);
    for (let i = 0; i < t; i++) for (let k = 0; k < t; k++) {
      const aik = a[i * t + k]!;
      if (aik !== 0) for (let j = 0; j < t; j++) next[i * t + j] += aik * r[k * t + j]!;
    }
    r = next;
  }
  return r;
}

/** Row `row` of a square matrix [tokens, tokens] without its first `skip` columns (the class token's attention to the patches). */
export function rowWithout(m: ArrayLike<number>, tokens: number, row: number, skip: number): Float64Array {
  return Float64Array.from({ length: tokens - skip }, (_, j) => m[row * tokens + skip + j]!);
}
