import { Module } from '../module.ts';
import { causalMask } from '../ops/create.ts';
import { where } from '../ops/math.ts';
import { attention, linear } from '../ops/nn.ts';
import type { Parameter } from '../parameter.ts';
import type { Tensor } from '../tensor.ts';
import { dslError } from '../tracer.ts';
import { Linear } from './linear.ts';

/** Options of nn.MultiHeadAttention (torch.nn.MultiheadAttention's, batch first). */
export interface MultiHeadAttentionOptions {
  /** Whether the input and output projections have biases (default true). */
  readonly bias?: boolean;
  /** Key feature size (default embedDim). */
  readonly kdim?: number;
  /** Value feature size (default embedDim). */
  readonly vdim?: number;
  /** Attention dropout probability: accepted for PyTorch parity, ignored (inference). */
  readonly dropout?: number;
}

/** Masks of one forward call, with PyTorch's conventions. */
export interface MultiHeadAttentionMasks {
  /** [B, S]: bool true = that key is padding (ignored); f32 = added to the scores. */
  readonly keyPaddingMask?: Tensor;
  /** [L, S] or [B*numHeads, L, S]: bool true = NOT allowed to attend; f32 = added to the scores. */
  readonly attnMask?: Tensor;
  /** Query i attends only to keys j <= i (combined with the other masks). */
  readonly isCausal?: boolean;
}

/**
 * Multi-head attention with torch.nn.MultiheadAttention's parameters and
 * names: `in_proj_weight` [3E, E] and `in_proj_bias` [3E] (or
 * `q_proj_weight`/`k_proj_weight`/`v_proj_weight` when kdim or vdim differ
 * from E), and `out_proj.weight`, `out_proj.bias`. Inputs are batch first,
 * [B, T, E] (or unbatched [T, E]); forward returns the attention output only.
 */
export class MultiHeadAttention extends Module {
  readonly inProjWeight: Parameter | undefined;
  readonly qProjWeight: Parameter | undefined;
  readonly kProjWeight: Parameter | undefined;
  readonly vProjWeight: Parameter | undefined;
  readonly inProjBias: Parameter | undefined;
  readonly outProj: Linear;
  readonly headDim: number;
  readonly kdim: number;
  readonly vdim: number;

  constructor(
    readonly embedDim: number,
    readonly numHeads: number,
    opts: MultiHeadAttentionOptions = {},
  ) {
    super();
    if (!(numHeads >= 1) || embedDim % numHeads !== 0) dslError(`MultiHeadAttention: embedDim ${embedDim} must be divisible by numHeads ${numHeads}`);
    const e = embedDim;
    this.headDim = e / numHeads;
    this.kdim = opts.kdim ?? e;
    this.vdim = opts.vdim ?? e;
    if (this.kdim === e && this.vdim === e) {
      this.inProjWeight = this.registerParameter('in_proj_weight', this.parameter([3 * e, e]));
    } else {
      this.qProjWeight = this.registerParameter('q_proj_weight', this.parameter([e, e]));
      this.kProjWeight = this.registerParameter('k_proj_weight', this.parameter([e, this.kdim]));
      this.vProjWeight = this.registerParameter('v_proj_weight', this.parameter([e, this.vdim]));
    }
    if (opts.bias !== false) this.inProjBias = this.registerParameter('in_proj_bias', this.parameter([3 * e]));
    this.outProj = this.registerModule('out_proj', new Linear(e, e, { bias: opts.bias !== false }));
  }

  /**
   * Attends from `query` [B, L, E] to `key` [B, S, kdim] / `value` [B, S, vdim]
   * (self-attention when key and value are omitted), giving [B, L, E].
   */
  forward(query: Tensor, key: Tensor = query, value: Tensor = key, masks: MultiHeadAttentionMasks = {}): Tensor {
    if (query.rank === 2) {
      // Unbatched, as PyTorch allows: run as a batch of one.
      const kpm = masks.keyPaddingMask?.unsqueeze(0);
      const out = this.forward(query.unsqueeze(0), key.unsqueeze(0), value.unsqueeze(0), { ...masks, ...(kpm ? { keyPaddingMask: kpm } : {}) });
      return out.squeeze(0);
    }
    const e = this.embedDim;
    const checks: [Tensor, string, number][] = [
      [query, 'query', e],
      [key, 'key', this.kdim],
      [value, 'value', this.vdim],
    ];
    for (const [t, what, d] of checks) {
      if (t.rank !== 3 || t.shape[2] !== d) dslError(`MultiHeadAttention: ${what} has shape [${t.shape.join(',')}], expected [B, T, ${d}] (batch first)`);
    }
    const [b, l] = query.shape as [number, number, number];
    const s = key.shape[1]!;
    const [q, k, v] = this.project(query, key, value);
    const split = (t: Tensor, n: number) => t.reshape([b, n, this.numHeads, this.headDim]).transpose([0, 2, 1, 3]);
    const mask = this.combinedMask(masks, b, l, s);
    const o = attention(split(q, l), split(k, s), split(v, s), { ...(mask ? { mask } : {}), module: this });
    return this.outProj.forward(o.transpose([0, 2, 1, 3]).reshape([b, l, e]));
  }

  /** The input projections: one packed matmul for self-attention, three otherwise. */
  private project(query: Tensor, key: Tensor, value: Tensor): [Tensor, Tensor, Tensor] {
    const e = this.embedDim;
    const bias = (i: number) => this.inProjBias?.slice(0, i * e, (i + 1) * e);
    if (this.inProjWeight && query === key && key === value) {
      const qkv = linear(query, this.inProjWeight, this.inProjBias);
      return [0, 1, 2].map((i) => qkv.slice(-1, i * e, (i + 1) * e)) as [Tensor, Tensor, Tensor];
    }
    const w = (i: number, sep: Parameter | undefined) => sep ?? this.inProjWeight!.slice(0, i * e, (i + 1) * e);
    return [linear(query, w(0, this.qProjWeight), bias(0)), linear(key, w(1, this.kProjWeight), bias(1)), linear(value, w(2, this.vProjWeight), bias(2))];
  }

  /**
   * One mask for ops.attention broadcasting to [B, H, L, S]: bool (true =
   * attend) when every given mask is bool, else f32 added to the scores.
   */
  private combinedMask(masks: MultiHeadAttentionMasks, b: number, l: number, s: number): Tensor | undefined {
    const parts: Tensor[] = [];
    if (masks.attnMask) {
      const m = masks.attnMask;
      const ok = (m.rank === 2 && m.shape[0] === l && m.shape[1] === s) || (m.rank === 3 && m.shape[0] === b * this.numHeads && m.shape[1] === l && m.shape[2] === s);
      if (!ok) dslError(`MultiHeadAttention: attnMask has shape [${m.shape.join(',')}], expected [${l},${s}] or [${b * this.numHeads},${l},${s}]`);
      const shaped = m.rank === 3 ? m.reshape([b, this.numHeads, l, s]) : m;
      parts.push(shaped.dtype === 'bool' ? shaped.logicalNot() : shaped);
    }
    if (masks.keyPaddingMask) {
      const m = masks.keyPaddingMask;
      if (m.rank !== 2 || m.shape[0] !== b || m.shape[1] !== s) dslError(`MultiHeadAttention: keyPaddingMask has shape [${m.shape.join(',')}], expected [${b},${s}]`);
      const shaped = m.reshape([b, 1, 1, s]);
      parts.push(shaped.dtype === 'bool' ? shaped.logicalNot() : shaped);
    }
    if (masks.isCausal) parts.push(causalMask(l, s));
    if (parts.length === 0) return undefined;
    if (parts.every((p) => p.dtype === 'bool')) return parts.reduce((a, p) => a.logicalAnd(p));
    const additive = parts.map((p) => (p.dtype === 'bool' ? where(p, 0, -Infinity) : p));
    return additive.reduce((a, p) => a.add(p));
  }
}
