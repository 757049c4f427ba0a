/** Neural-network ops: the IR's composites (softmax, layer_norm, rms_norm, gelu, attention) and a few built from core ops. */
import { type Tensor, emitOp } from '../tensor.ts';
import type { Module } from '../module.ts';
import { currentTracer, dslError } from '../tracer.ts';
import { ones } from './create.ts';

/** exp(x - max) / sum(exp(x - max)) along `axis` (default the last). */
export const softmax = (x: Tensor, axis = -1): Tensor => x.softmax(axis);
/** log(softmax(x)) along `axis` (default the last), computed stably, as torch.nn.functional.log_softmax. */
export const logSoftmax = (x: Tensor, axis = -1): Tensor => x.logSoftmax(axis);

/** Layer normalisation over the last axis: (x - mean) / sqrt(var + eps) * weight + bias. */
export function layerNorm(x: Tensor, weight: Tensor, bias: Tensor, eps = 1e-5): Tensor {
  return emitOp('layer_norm', [x, weight, bias], { eps });
}

/**
 * torch.nn.functional.group_norm(input, num_groups, weight, bias, eps): each
 * group of channels of [N, C, ...] with all its positions normalised, then
 * each channel's weight and bias (instance norm: num_groups = C).
 */
export function groupNorm(x: Tensor, numGroups: number, weight?: Tensor | null, bias?: Tensor | null, eps = 1e-5): Tensor {
  // A bias alone takes a weight of ones: the op's optional operands are positional.
  const w = weight ?? (bias ? ones([x.shape[1] ?? 1]) : undefined);
  return emitOp('group_norm', [x, ...(w ? [w] : []), ...(bias ? [bias] : [])], { groups: numGroups, eps });
}

/**
 * RMS normalisation over the trailing `normalizedShape` axes, as
 * torch.nn.functional.rms_norm: x / sqrt(mean(x^2) + eps) * weight, eps by
 * default float32's epsilon (torch.finfo(float32).eps), as PyTorch.
 */
export function rmsNorm(x: Tensor, normalizedShape: number | readonly number[], weight?: Tensor | null, eps?: number): Tensor {
  const dims = typeof normalizedShape === 'number' ? [normalizedShape] : [...normalizedShape];
  const trailing = x.shape.slice(x.rank - dims.length);
  if (dims.length === 0 || dims.length > x.rank || trailing.some((d, a) => d !== dims[a])) {
    return dslError(`rmsNorm: normalized_shape [${dims.join(', ')}] must be the trailing extents of the input, whose shape is [${x.shape.join(', ')}]`);
  }
  const attrs: Record<string, number> = eps === undefined ? {} : { eps };
  if (dims.length === 1) return emitOp('rms_norm', weight ? [x, weight] : [x], attrs);
  // Several normalised axes: one row of their product, as PyTorch computes it.
  const row = dims.reduce((a, b) => a * b, 1);
  const flat = x.reshape([...x.shape.slice(0, x.rank - dims.length), row]);
  return emitOp('rms_norm', weight ? [flat, weight.reshape([row])] : [flat], attrs).reshape(x.shape);
}

/** GELU: exact (erf) form, or the tanh approximation with approximate 'tanh' (or true). */
export function gelu(x: Tensor, approximate: 'none' | 'tanh' | boolean = 'none'): Tensor {
  const form = approximate === true ? 'tanh' : approximate === false ? 'none' : approximate;
  return emitOp('gelu', [x], { approximate: form });
}

/** max(x, 0), as torch.nn.functional.relu. */
export const relu = (x: Tensor): Tensor => x.relu();
/** 1 / (1 + e^-x), as torch.sigmoid. */
export const sigmoid = (x: Tensor): Tensor => x.sigmoid();
/** x * sigmoid(x) (the swish), as torch.nn.functional.silu. */
export const silu = (x: Tensor): Tensor => emitOp('silu', [x]);

/** Options of attention(). */
export interface AttentionOptions {
  /** Bool mask (true = may attend) or f32 mask (added to the scores); broadcasts to [..., Tq, Tk]. */
  readonly mask?: Tensor;
  /** Score scale (default 1/sqrt(head size)). */
  readonly scale?: number;
  /** The module this attention belongs to: trace's `attentions` names its probe by the module's path (`attn/<path>`). */
  readonly module?: Module;
}

/**
 * softmax(q kᵀ · scale + mask) v over [..., T, D] operands (batch axes
 * broadcast). When the trace probes `opts.module`, its probabilities
 * (attention_probs, [..., Tq, Tk]) become an output too.
 */
export function attention(q: Tensor, k: Tensor, v: Tensor, opts: AttentionOptions = {}): Tensor {
  const attrs: Record<string, number> = opts.scale === undefined ? {} : { scale: opts.scale };
  const out = emitOp('attention', opts.mask ? [q, k, v, opts.mask] : [q, k, v], attrs);
  const probes = currentTracer('attention', undefined).probes;
  const name = probes?.outputNameFor(opts.module);
  if (name !== undefined) probes!.outputs.push([name, attentionProbs(q, k, opts)]);
  return out;
}

/** The probabilities softmax(q kᵀ · scale + mask) [..., Tq, Tk] that attention() with the same operands weights v by. */
export function attentionProbs(q: Tensor, k: Tensor, opts: Omit<AttentionOptions, 'module'> = {}): Tensor {
  const attrs: Record<string, number> = opts.scale === undefined ? {} : { scale: opts.scale };
  return emitOp('attention_probs', opts.mask ? [q, k, opts.mask] : [q, k], attrs);
}

/** x Wᵀ + b, as torch.nn.functional.linear: weight [out, in], bias [out]. */
export function linear(x: Tensor, weight: Tensor, bias?: Tensor): Tensor {
  // matmul needs rank >= 2; a single vector is treated as one row.
  const y = x.rank === 1 ? x.unsqueeze(0).matmul(weight.mT).squeeze(0) : x.matmul(weight.mT);
  return bias ? y.add(bias) : y;
}
