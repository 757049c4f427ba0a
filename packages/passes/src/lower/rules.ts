import { type Attrs, type FusionClass, type OpName, type TensorType, getOp } from '@tessera/ir';
import { expandsConv2d } from './conv.ts';

/**
 * How the lowering turns an op into kernels, one rule per op (an exhaustive
 * table: a new op fails `tsc` here until it says how it lowers).
 * - `elementwise`: one scalar expression per element, computed inline in its
 *   consumers or stored by a map kernel (composites through their
 *   decomposition). `cheap` ones (no transcendental) are recomputed in every
 *   consumer rather than stored when they only index or mask.
 * - `view`: re-indexing, folded into index maps.
 * - `matmul`, `conv2d` (an implicit GEMM), `reduce` (stages from
 *   reduce-stages.ts), `row` (softmax-like, normalisations, the cumsum scan),
 *   `attention`: a kernel template; such an op is a root that absorbs
 *   prologues and an elementwise epilogue. `attention_probs`: a root too,
 *   the probe of an attention (probes.ts).
 * - `iota`, `constant`, `concat`, `pad`, `gather`: a kernel (or buffer) of its own.
 * - `decompose`: no kernel; expanded into its decomposition before fusion
 *   (the decompose-composites pass; tril and triu become iotas, a
 *   comparison and a select, which fuse into their consumer).
 */
export type LowerRule =
  | { readonly kind: 'elementwise'; readonly cheap: boolean }
  | {
      readonly kind: 'view' | 'matmul' | 'conv2d' | 'reduce' | 'row' | 'attention' | 'attention_probs' | 'iota' | 'constant' | 'concat' | 'pad' | 'gather' | 'decompose';
      /** Some nodes of the op are expanded into their decomposition before fusion instead (see expandsBeforeFusion). */
      readonly expandWhen?: (operands: readonly TensorType[], attrs: Attrs) => boolean;
    };

const cheap = { kind: 'elementwise', cheap: true } as const;
const costly = { kind: 'elementwise', cheap: false } as const;
const view = { kind: 'view' } as const;
const reduce = { kind: 'reduce' } as const;
const row = { kind: 'row' } as const;

/** The lowering rule of every op. */
export const LOWERING: { readonly [P in OpName]: LowerRule } = {
  neg: cheap,
  abs: cheap,
  exp: costly,
  log: costly,
  sqrt: costly,
  rsqrt: costly,
  tanh: costly,
  erf: costly,
  sin: costly,
  cos: costly,
  recip: costly,
  floor: cheap,
  ceil: cheap,
  round: cheap,
  sign: cheap,
  isnan: cheap,
  isinf: cheap,
  add: cheap,
  sub: cheap,
  mul: cheap,
  div: cheap,
  max: cheap,
  min: cheap,
  pow: cheap,
  floor_div: cheap,
  mod: cheap,
  eq: cheap,
  ne: cheap,
  lt: cheap,
  le: cheap,
  gt: cheap,
  ge: cheap,
  where: cheap,
  cast: cheap,
  reduce_sum: reduce,
  reduce_max: reduce,
  reduce_mean: reduce,
  reduce_min: reduce,
  reduce_prod: reduce,
  reduce_any: reduce,
  reduce_all: reduce,
  argmax: reduce,
  argmin: reduce,
  logsumexp: reduce,
  cumsum: row,
  matmul: { kind: 'matmul' },
  matmul_int8: { kind: 'matmul' },
  // Small depthwise convolutions fuse better as their decomposition: one elementwise kernel of KH*KW products (see conv.ts).
  conv2d: { kind: 'conv2d', expandWhen: expandsConv2d },
  reshape: view,
  transpose: view,
  broadcast_to: view,
  slice: view,
  concat: { kind: 'concat' },
  pad: { kind: 'pad' },
  gather: { kind: 'gather' },
  iota: { kind: 'iota' },
  constant: { kind: 'constant' },
  softmax: row,
  log_softmax: row,
  layer_norm: row,
  rms_norm: row,
  tril: { kind: 'decompose' },
  triu: { kind: 'decompose' },
  max_pool: { kind: 'decompose' },
  avg_pool: { kind: 'decompose' },
  group_norm: { kind: 'decompose' },
  conv_transpose2d: { kind: 'decompose' },
  resize: { kind: 'decompose' },
  gelu: costly,
  sigmoid: costly,
  silu: costly,
  relu: cheap,
  clamp: cheap,
  logical_xor: cheap,
  attention: { kind: 'attention' },
  // Paired with its attention, a matmul kernel over the attention's statistics (probes.ts); alone, its decomposition.
  attention_probs: { kind: 'attention_probs' },
};

/** The lowering rule of an op. */
export function lowerRule(op: OpName): LowerRule {
  return LOWERING[op];
}

/** Fusion classes whose ops come out of a kernel template (TVM's kReduce, kOutEWiseFusable, kOpaque). */
const ROOT_CLASSES: ReadonlySet<FusionClass> = new Set(['reduction', 'contraction', 'opaque']);

/** Whether an op is the root of a fusion group: its registry fusion class is reduction, contraction or opaque. */
export function isRootOp(op: OpName): boolean {
  return ROOT_CLASSES.has(getOp(op).fusion) && lowerRule(op).kind !== 'decompose';
}

/** Whether the fused lowering expands this node into its decomposition first: the op has no kernel (rule `decompose`), or its rule says so for these operands. */
export function expandsBeforeFusion(op: OpName, operands: readonly TensorType[], attrs: Attrs): boolean {
  const r = lowerRule(op);
  return r.kind === 'decompose' || (r.kind !== 'elementwise' && r.expandWhen !== undefined && r.expandWhen(operands, attrs));
}

/** Whether an op becomes one scalar expression per element. */
export function isElementwiseOp(op: OpName): boolean {
  return lowerRule(op).kind === 'elementwise';
}

/** Whether an op only re-indexes its operand (a view). */
export function isViewOp(op: OpName): boolean {
  return lowerRule(op).kind === 'view';
}

/** Whether an elementwise op is cheap enough to recompute in every consumer (no transcendental). */
export function isCheapElementwise(op: OpName): boolean {
  const r = lowerRule(op);
  return r.kind === 'elementwise' && r.cheap;
}
