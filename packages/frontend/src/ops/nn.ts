/** Neural-network ops: the IR's composites (softmax, layer_norm, gelu, attention) and a few built from core ops. */
import { type Tensor, emitOp } from '../tensor.ts';

/** exp(x - max) / sum(exp(x - max)) along `axis` (default the last). */
export const softmax = (x: Tensor, axis = -1): Tensor => x.softmax(axis);
/** log(softmax(x)) along `axis` (default the last), computed stably, as torch.nn.functional.log_softmax. */
export const logSoftmax = (x: Tensor, axis = -1): Tensor => x.logSoftmax(axis);

/** Layer normalisation over the last axis: (x - mean) / sqrt(var + eps) * weight + bias. */
export function layerNorm(x: Tensor, weight: Tensor, bias: Tensor, eps = 1e-5): Tensor {
  return emitOp('layer_norm', [x, weight, bias], { eps });
}

/** GELU: exact (erf) form, or the tanh approximation with approximate 'tanh' (or true). */
export function gelu(x: Tensor, approximate: 'none' | 'tanh' | boolean = 'none'): Tensor {
  const form = approximate === true ? 'tanh' : approximate === false ? 'none' : approximate;
  return emitOp('gelu', [x], { approximate: form });
}

/** max(x, 0). */
export const relu = (x: Tensor): Tensor => x.maximum(0);

/** Options of attention(). */
export interface AttentionOptions {
  /** Bool mask (true = may attend) or f32 mask (added to the scores); broadcasts to [..., Tq, Tk]. */
  readonly mask?: Tensor;
  /** Score scale (default 1/sqrt(head size)). */
  readonly scale?: number;
}

/** softmax(q kᵀ · scale + mask) v over [..., T, D] operands (batch axes broadcast). */
export function attention(q: Tensor, k: Tensor, v: Tensor, opts: AttentionOptions = {}): Tensor {
  const attrs: Record<string, number> = opts.scale === undefined ? {} : { scale: opts.scale };
  return emitOp('attention', opts.mask ? [q, k, v, opts.mask] : [q, k, v], attrs);
}

/** x Wᵀ + b, as torch.nn.functional.linear: weight [out, in], bias [out]. */
export function linear(x: Tensor, weight: Tensor, bias?: Tensor): Tensor {
  // matmul needs rank >= 2; a single vector is treated as one row.
  const y = x.rank === 1 ? x.unsqueeze(0).matmul(weight.mT).squeeze(0) : x.matmul(weight.mT);
  return bias ? y.add(bias) : y;
}
