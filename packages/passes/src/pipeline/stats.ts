import { type Node, type OpName, type Program, type TensorType, byteSize, numel, valueTypes } from '@tessera/ir';
import type { KernelProgram } from '@tessera/kernel';

/** One temporary of the kernel program, as `--emit stats` lists it. */
export interface BufferStat {
  readonly name: string;
  readonly dtype: string;
  readonly shape: readonly number[];
  readonly bytes: number;
}

/** What `tessera compile --emit stats --json` prints. */
export interface CompileStats {
  /** Kernel launches per run. */
  readonly kernels: number;
  readonly kernelsByKind: Record<string, number>;
  /** Launches of the same program compiled with fusion off. */
  readonly unfusedKernels: number;
  /** The memory plan's peak for temporaries (the arena), bytes. */
  readonly peakActivationBytes: number;
  readonly parameterBytes: number;
  /** Floating-point operations per run (see flopsOf). */
  readonly flops: number;
  readonly buffers: readonly BufferStat[];
}

/** The flops of one node, given the types of its operands. */
type FlopRule = (n: Node, operands: readonly TensorType[]) => number;

const none: FlopRule = () => 0;
/** k flops per result element. */
const perElement =
  (k: number): FlopRule =>
  (n) =>
    k * numel(n.type.shape);
/** One flop per element of the reduced operand. */
const perInput: FlopRule = (_n, [x]) => numel(x!.shape);

const matmulFlops: FlopRule = (n, [a]) => 2 * numel(n.type.shape) * a!.shape.at(-1)!;
/** A multiply-add per window element (in/groups * kH * kW), and the bias. */
const conv2dFlops: FlopRule = (n, [, w, bias]) => 2 * numel(n.type.shape) * numel(w!.shape.slice(1)) + (bias ? numel(n.type.shape) : 0);
/** Two per product of each input element and each tap of its output channels' kernels, and the bias. */
const convTransposeFlops: FlopRule = (n, [x, w, bias]) => 2 * numel(x!.shape) * numel(w!.shape.slice(1)) + (bias ? numel(n.type.shape) : 0);
/** One flop per window position of each output (a max or an add; the average's divide makes up for its first add). */
const poolFlops: FlopRule = (n) => numel(n.type.shape) * numel(n.attrs.kernel as number[]);
/** Per resized axis, a multiply-add per input element along it for each output (the dense weights' matmul; nearest counts 0). */
const resizeFlops: FlopRule = (n, [x]) => {
  if (n.attrs.mode === 'nearest') return 0;
  let flops = 0;
  let shape = [...x!.shape];
  (n.attrs.sizes as number[]).forEach((out, a) => {
    if (out === shape[a]) return;
    shape = shape.map((d, i) => (i === a ? out : d));
    flops += 2 * numel(shape) * x!.shape[a]!;
  });
  return flops;
};
/** square, sum, scale (and the weight). */
const rmsNormFlops: FlopRule = (n, [, weight]) => (weight ? 4 : 3) * numel(n.type.shape);
const attentionFlops: FlopRule = (n, [q, k]) => {
  const d = q!.shape.at(-1)!;
  const tk = k!.shape.at(-2)!;
  const dv = n.type.shape.at(-1)!;
  const rows = numel(n.type.shape) / dv;
  return rows * tk * (2 * d + 2 * dv + 5);
};
/** The scores again (2*D per score) and the normalisation (scale, subtract, exp, divide). */
const attentionProbsFlops: FlopRule = (n, [q]) => numel(n.type.shape) * (2 * q!.shape.at(-1)! + 4);

/**
 * Floating-point operations of each op, one rule per op (an exhaustive
 * table, so a new op is counted on purpose, never as 0 by omission):
 * 2*M*N*K per matmul, 2 per output per window element of a convolution
 * (plus 1 with a bias); attention 2*Tq*Tk*(D + Dv) plus 5 per score (scale,
 * max, exp, sum, divide), its probe attention_probs 2*Tq*Tk*D plus 4 per
 * score; softmax and log_softmax 5, layer_norm 8 and
 * rms_norm 3 (4 with a weight) per element; logsumexp 5 per element of its
 * input; gelu 8, silu 5, sigmoid 4 and clamp 2 per element (their
 * decompositions' ops); 1 per element of every other arithmetic op and of
 * the input of a reduction, argmax, argmin or cumsum. Movement,
 * comparisons, predicates (isnan, isinf), logic, selects, casts, gathers,
 * tril, triu and constants count 0. max_pool and avg_pool count one per
 * window position of each output; group_norm 10 per element (layer_norm's 8
 * and the affine's 2).
 */
export const FLOPS: { readonly [P in OpName]: FlopRule } = {
  neg: perElement(1),
  abs: perElement(1),
  exp: perElement(1),
  log: perElement(1),
  sqrt: perElement(1),
  rsqrt: perElement(1),
  tanh: perElement(1),
  erf: perElement(1),
  sin: perElement(1),
  cos: perElement(1),
  recip: perElement(1),
  floor: perElement(1),
  ceil: perElement(1),
  round: perElement(1),
  sign: perElement(1),
  isnan: none,
  isinf: none,
  add: perElement(1),
  sub: perElement(1),
  mul: perElement(1),
  div: perElement(1),
  max: perElement(1),
  min: perElement(1),
  pow: perElement(1),
  floor_div: perElement(1),
  mod: perElement(1),
  eq: none,
  ne: none,
  lt: none,
  le: none,
  gt: none,
  ge: none,
  where: none,
  cast: none,
  reduce_sum: perInput,
  reduce_max: perInput,
  reduce_mean: perInput,
  reduce_min: perInput,
  reduce_prod: perInput,
  reduce_any: perInput,
  reduce_all: perInput,
  argmax: perInput,
  argmin: perInput,
  cumsum: perInput,
  logsumexp: (_n, [x]) => 5 * numel(x!.shape),
  matmul: matmulFlops,
  matmul_int8: matmulFlops,
  conv2d: conv2dFlops,
  conv_transpose2d: convTransposeFlops,
  reshape: none,
  transpose: none,
  broadcast_to: none,
  slice: none,
  concat: none,
  pad: none,
  gather: none,
  iota: none,
  constant: none,
  softmax: perElement(5),
  log_softmax: perElement(5),
  layer_norm: perElement(8),
  rms_norm: rmsNormFlops,
  tril: none,
  triu: none,
  max_pool: poolFlops,
  avg_pool: poolFlops,
  group_norm: perElement(10),
  resize: resizeFlops,
  gelu: perElement(8),
  sigmoid: perElement(4),
  silu: perElement(5),
  relu: perElement(1),
  clamp: perElement(2),
  logical_xor: none,
  attention: attentionFlops,
  attention_probs: attentionProbsFlops,
};

/** Floating-point operations of a graph (see FLOPS). */
export function flopsOf(p: Program): number {
  const types = valueTypes(p);
  let flops = 0;
  for (const n of p.nodes) flops += FLOPS[n.op](n, n.operands.map((o) => types.get(o)!));
  return flops;
}

/** Statistics of a compiled program (fused kernels, with the unfused launch count for comparison). */
export function compileStats(graph: Program, kernels: KernelProgram, unfusedKernels: number): CompileStats {
  const kernelsByKind: Record<string, number> = {};
  for (const k of kernels.kernels) kernelsByKind[k.kind] = (kernelsByKind[k.kind] ?? 0) + 1;
  const temps = kernels.buffers.filter((b) => b.role === 'temp');
  const peak = kernels.arenaBytes ?? temps.reduce((s, b) => s + b.size * byteSize(b.dtype), 0);
  return {
    kernels: kernels.kernels.length,
    kernelsByKind,
    unfusedKernels,
    peakActivationBytes: peak,
    parameterBytes: graph.inputs.filter((i) => i.kind === 'parameter').reduce((s, i) => s + numel(i.type.shape) * byteSize(i.type.dtype), 0),
    flops: flopsOf(graph),
    buffers: temps.map((b) => ({ name: b.name, dtype: b.dtype, shape: b.shape, bytes: b.size * byteSize(b.dtype) })),
  };
}
