/**
 * Model-shaped steps for the random program generator: the layers real
 * transformer models stack (linear, layer_norm, MLP, token mixing,
 * multi-head attention, explicit softmax attention) over a [batch, tokens,
 * width] stream with batch > 1, with parameters as program inputs,
 * transposes and reshapes around matmuls, residual adds whose operands come
 * from different layouts, and values with several consumers. Single-op
 * steps rarely build these, and a memory-plan bug that only such a block
 * exposes (an in-place residual add in an MLP-Mixer) went unnoticed.
 */
import { type Value, numel, tensorType } from '@tessera/ir';
import type { ProgramGen } from './context.ts';
import { TAME_LIMIT } from './options.ts';
import { randomExtent } from './shapes.ts';

const L = TAME_LIMIT;

/** One model block: takes the stream value [B, T, D] and returns its result. */
export interface BlockGenerator {
  readonly name: string;
  /** What a model layer uses it for: mixing information across tokens, or transforming each token's channels. */
  readonly role: 'tokens' | 'channels';
  /** Whether a stream of this shape leaves room for the block's intermediate values (default: any stream). */
  readonly fits?: (g: ProgramGen, shape: readonly number[]) => boolean;
  readonly generate: (g: ProgramGen, x: Value) => Value;
}

const last = (v: Value) => v.type.shape[v.type.shape.length - 1]!;

/** A parameter input of `shape` named after the block (`blk.fc1.weight`, made unique). */
function param(g: ProgramGen, name: string, shape: readonly number[]): Value {
  return g.input(g.b.freshName(name), tensorType('f32', shape), 'parameter');
}

/** The widest extent a block may give a new last axis of `x` (and of a weight beside `x`'s last axis), within the element budget. */
function room(g: ProgramGen, x: Value): number {
  return Math.max(1, Math.floor(g.budget / Math.max(numel(x.type.shape.slice(0, -1)), last(x))));
}

/**
 * nn.Linear over the last axis: x @ weight^T + bias, the weight [out, in]
 * read through a transpose (as PyTorch stores it), sometimes [in, out]
 * directly, sometimes with the leading axes flattened around the matmul.
 */
function linear(g: ProgramGen, x: Value, out: number, name: string): Value {
  const shape = x.type.shape;
  const din = last(x);
  const w = g.c.oneIn(4) ? param(g, `${name}.weight_t`, [din, out]) : g.emit('transpose', [param(g, `${name}.weight`, [out, din])], { perm: [1, 0] });
  const flatten = shape.length > 2 && g.c.oneIn(3);
  let a = flatten ? g.emit('reshape', [x], { shape: [numel(shape) / din, din] }) : x;
  let b = w;
  [a, b] = g.clampProduct(a, b, din, L);
  let y = g.emit('matmul', [a, b]);
  if (flatten) y = g.emit('reshape', [y], { shape: [...shape.slice(0, -1), out] });
  if (g.c.oneIn(5)) return y;
  return g.emit('add', [y, g.clamp(param(g, `${name}.bias`, [out]), L / 2)]);
}

/** nn.LayerNorm over the last axis with weight and bias parameters. */
function layerNorm(g: ProgramGen, x: Value, name: string): Value {
  const d = last(x);
  const w = g.clamp(param(g, `${name}.weight`, [d]), L / 4 / Math.sqrt(d));
  const b = g.clamp(param(g, `${name}.bias`, [d]), L / 4);
  return g.emit('layer_norm', [x, w, b], { eps: g.opts.tame ? 0.01 : g.c.pick([1e-5, 1e-6]) });
}

/** An activation as models use them: GELU (exact or tanh) mostly, sometimes ReLU as max(x, 0). */
function activation(g: ProgramGen, x: Value): Value {
  if (g.c.oneIn(4)) return g.emit('max', [x, g.scalar(0, 'f32')]);
  return g.emit('gelu', [x], g.c.flag() ? { approximate: 'tanh' } : {});
}

/** `x + f`, the residual connection (x also feeds the block: two consumers), clamped in tame mode. */
function residual(g: ProgramGen, x: Value, f: Value): Value {
  const [a, b] = [g.clamp(x, L / 2), g.clamp(f, L / 2)];
  return g.c.flag() ? g.emit('add', [a, b]) : g.emit('add', [b, a]);
}

const linearBlock: BlockGenerator = {
  name: 'linear',
  role: 'channels',
  generate(g, x) {
    const y = linear(g, x, Math.min(randomExtent(g.c, 12) + 1, room(g, x)), 'blk.fc');
    return g.c.flag() ? activation(g, y) : y;
  },
};

/** An MLP with a residual, pre-norm x + fc2(act(fc1(norm(x)))) or post-norm norm(x + fc2(act(fc1(x)))). */
const mlpBlock: BlockGenerator = {
  name: 'mlp',
  role: 'channels',
  generate(g, x) {
    const hidden = Math.min(last(x) * g.c.range(1, 3) + g.c.int(last(x)), room(g, x));
    const postNorm = g.c.oneIn(3);
    const h = activation(g, linear(g, postNorm ? x : layerNorm(g, x, 'blk.norm'), hidden, 'blk.fc1'));
    const y = residual(g, x, linear(g, h, last(x), 'blk.fc2'));
    return postNorm ? layerNorm(g, y, 'blk.norm') : y;
  },
};

/** MLP-Mixer token mixing: x + transpose(fc2(act(fc1(transpose(norm(x))))), the residual's operands in different layouts. */
const tokenMixingBlock: BlockGenerator = {
  name: 'token_mixing',
  role: 'tokens',
  generate(g, x) {
    const [b, t, d] = x.type.shape as [number, number, number];
    const tt = g.emit('transpose', [layerNorm(g, x, 'blk.norm')], { perm: [0, 2, 1] });
    const hidden = Math.min(t * g.c.range(1, 2) + 1, room(g, tt));
    const mixed = linear(g, activation(g, linear(g, tt, hidden, 'blk.token_fc1')), t, 'blk.token_fc2');
    return residual(g, x, g.emit('transpose', [mixed], { perm: [0, 2, 1] }));
  },
};

/** A causal (iota compare) or key-padding (bool parameter) mask for [B, heads, T, T] scores, or none. */
function attentionMask(g: ProgramGen, b: number, t: number): Value | undefined {
  const kind = g.c.int(3);
  // Masks are i32 and bool values: none in float-only programs.
  if (kind === 0 || g.opts.floatOnly) return undefined;
  // A causal mask's iotas are [T, T]: within the budget, else key padding instead.
  if (kind === 1 && t * t <= g.budget) {
    const rows = g.emit('iota', [], { shape: [t, t], axis: 0 });
    const cols = g.emit('iota', [], { shape: [t, t], axis: 1 });
    return g.emit('le', [cols, rows]);
  }
  // Key padding: key 0 always visible, so no row is fully masked.
  const visible = g.emit('constant', [], { shape: [b, 1], dtype: 'bool', value: [1] });
  const keys = g.emit('concat', [visible, g.input(g.b.freshName('blk.key_mask'), tensorType('bool', [b, t - 1]), 'activation')], { axis: 1 });
  return g.emit('reshape', [keys], { shape: [b, 1, 1, t] });
}

/**
 * Pre-norm multi-head self-attention with a residual: q, k, v projections of
 * one normed value (several consumers), heads split by reshape + transpose,
 * the attention op (optionally masked), heads merged, output projection
 * (sometimes none: the residual then reads the merged heads through a
 * transposed view).
 */
const attentionBlock: BlockGenerator = {
  name: 'self_attention',
  role: 'tokens',
  generate(g, x) {
    const [b, t, d] = x.type.shape as [number, number, number];
    const heads = [1, 2, 3].filter((h) => d % h === 0 && g.c.flag()).pop() ?? 1;
    const dh = d / heads;
    const h = layerNorm(g, x, 'blk.norm');
    const split = (v: Value) => g.clamp(g.emit('transpose', [g.emit('reshape', [v], { shape: [b, t, heads, dh] })], { perm: [0, 2, 1, 3] }), 4);
    const [q, k, v] = ['q', 'k', 'v'].map((n) => split(linear(g, h, d, `blk.${n}_proj`))) as [Value, Value, Value];
    const mask = t > 1 ? attentionMask(g, b, t) : undefined;
    const attn = g.emit('attention', mask ? [q, k, v, mask] : [q, k, v], g.c.flag() ? {} : { scale: 1 / Math.sqrt(dh) });
    const merged = g.emit('reshape', [g.emit('transpose', [attn], { perm: [0, 2, 1, 3] })], { shape: [b, t, d] });
    return residual(g, x, g.c.oneIn(4) ? merged : linear(g, merged, d, 'blk.out_proj'));
  },
};

/** Attention written out: softmax(q k^T * scale) v with k transposed by the matmul's operand, as models without a fused op do. */
const softmaxAttentionBlock: BlockGenerator = {
  name: 'softmax_attention',
  role: 'tokens',
  fits: (g, [b, t]) => b! * t! * t! <= g.budget,
  generate(g, x) {
    const [, t, d] = x.type.shape as [number, number, number];
    const q = g.clamp(linear(g, x, d, 'blk.q'), 2);
    const k = g.clamp(linear(g, x, d, 'blk.k'), 2);
    const scores = g.emit('mul', g.clampProduct(g.emit('matmul', [q, g.emit('transpose', [k], { perm: [0, 2, 1] })]), g.scalar(1 / Math.sqrt(d), 'f32'), 1, L));
    const probs = g.emit('softmax', [scores], g.c.flag() ? { axis: -1 } : {});
    const out = g.emit('matmul', g.clampProduct(probs, x, t, L));
    return g.c.flag() ? residual(g, x, out) : out;
  },
};

/** Every block kind, simplest first (the shrink target). */
export const BLOCKS: readonly BlockGenerator[] = [linearBlock, mlpBlock, tokenMixingBlock, attentionBlock, softmaxAttentionBlock];

/** The blocks of one role. */
export const blocksFor = (role: BlockGenerator['role']): BlockGenerator[] => BLOCKS.filter((b) => b.role === role);

/** A new stream's shape: batch 2 or 3, model-like tokens and width, within the budget for every block (B * T * T and D * D included). */
function streamShape(g: ProgramGen): [number, number, number] {
  const b = g.c.range(2, 3);
  const t = Math.min(g.c.range(2, 16), Math.floor(Math.sqrt(g.budget / b)));
  const d = Math.min(g.c.range(2, 24), Math.floor(Math.sqrt(g.budget)));
  // Shrink the larger of t and d until the stream leaves room for blocks twice its size.
  const shape: [number, number, number] = [b, t, d];
  while (b * shape[1] * shape[2] > g.budget / 2) shape[shape[1] > shape[2] ? 1 : 2]--;
  return shape;
}

/** A model's input: activation `x` [B, T, D], sometimes through a linear stem (an embedding-like first layer), added to the pool. */
export function modelInput(g: ProgramGen): Value {
  const x = g.input('x', tensorType('f32', streamShape(g)), 'activation');
  if (!g.c.flag()) return x;
  const stem = linear(g, x, last(x), 'stem');
  g.pool.push(stem);
  return stem;
}

/**
 * The stream a block continues: most often the latest [B, T, D] f32 value
 * with B > 1 (so blocks stack like a model's layers), sometimes an earlier
 * one (a value with several consumers), else a pool value reshaped into a
 * new stream.
 */
export function streamFor(g: ProgramGen, block: BlockGenerator): Value {
  // Square projections (attention's d x d weights) must fit the budget too.
  const streams = g.pool.filter((v) => v.type.dtype === 'f32' && v.type.shape.length === 3 && v.type.shape[0]! > 1 && numel(v.type.shape) <= g.budget / 2 && last(v) ** 2 <= g.budget && (block.fits?.(g, v.type.shape) ?? true));
  if (streams.length && (g.opts.model || !g.c.oneIn(4))) return g.c.oneIn(4) ? streams[g.c.int(streams.length)]! : streams[streams.length - 1]!;
  return g.clamp(g.fitShape(g.toFloat(g.pick()), streamShape(g)), 4);
}
