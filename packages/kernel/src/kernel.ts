import type { CombinerName, DType } from '@tessera/ir';
import { type Expr, type IndexMap, loadedBuffers } from './expr.ts';
import type { ConvWindow } from './window.ts';

/** A write of `value` to `buffer` at `map` for every point the store iterates. */
export interface Store {
  readonly buffer: number;
  readonly map: IndexMap;
  readonly value: Expr;
}

/** What every kernel may record about where it came from (for diagnostics only; backends ignore it). */
export interface KernelOrigin {
  /** The graph nodes (value names of the lowered graph) whose values this kernel computes, inline or stored, in program order. */
  readonly nodes?: readonly string[];
}

/** Elementwise and injective work: every point of `shape` evaluates each store. Axes 0..rank-1. */
export interface MapKernel extends KernelOrigin {
  readonly kind: 'map';
  readonly name: string;
  readonly shape: readonly number[];
  readonly stores: readonly Store[];
}

/** How a reduction stage folds its values (sum, prod, max, min: the IR's COMBINERS, one definition of each fold). */
export type Combiner = CombinerName;

/** One reduction of a reduce kernel: folds `value` over the reduction axes into `name`. */
export interface ReductionStage {
  readonly name: string;
  readonly combiner: Combiner;
  /** Accumulator dtype (f32 kernels accumulate in at least float32; see each backend's documented precision). */
  readonly dtype: DType;
  readonly value: Expr;
}

/**
 * A reduction, or a row kernel (softmax, layer_norm): the iteration space is
 * `shape`, whose last `reduceRank` axes are reduced. Stages run in order,
 * each over the reduction axes, and may refer to earlier stages by name.
 * `stores` run once per parallel point after all stages (their maps must
 * have stride 0 on reduction axes); `rowStores` run at every point of the
 * full space after all stages (a row kernel's output).
 *
 * With `scan` (cumsum) the kernel is an inclusive scan instead: reduceRank
 * is 1, there are no `stores`, and at each point j of a row the stages fold
 * that point's values first, so the row stores at j see every stage folded
 * over points 0..j of the row only.
 */
export interface ReduceKernel extends KernelOrigin {
  readonly kind: 'reduce';
  readonly name: string;
  readonly shape: readonly number[];
  readonly reduceRank: number;
  readonly stages: readonly ReductionStage[];
  readonly stores: readonly Store[];
  readonly rowStores: readonly Store[];
  readonly scan?: boolean;
}

/**
 * A contraction template (as ONNX Runtime's mm_readA / mm_readB / mm_write):
 * the iteration space is [...batch, i, j, p] with extents [...batch, m, n, k].
 * `readA` (axes batch, i, p) and `readB` (axes batch, p, j) are the prologue
 * hooks; `acc` = sum over p of readA * readB; each store's value (the
 * epilogue hook, referring to `acc`) is written per (batch, i, j), so its
 * maps have stride 0 on p. Passes fuse bias, activations and residual adds
 * into the epilogue and transposes into the reads. With a `window` (a
 * convolution as an implicit GEMM) readA is instead evaluated at the
 * window's input point (see ConvWindow), over [...batch, c, y, x].
 */
export interface MatmulKernel extends KernelOrigin {
  readonly kind: 'matmul';
  readonly name: string;
  readonly batch: readonly number[];
  readonly m: number;
  readonly n: number;
  readonly k: number;
  readonly readA: Expr;
  readonly readB: Expr;
  readonly stores: readonly Store[];
  /** A convolution's window: how readA reads the image (no im2col buffer). */
  readonly window?: ConvWindow;
}

/**
 * Fused attention (flash-attention style: one pass over keys with an online
 * softmax, scores never materialised). The iteration space is
 * [...batch, i, j, c] with extents [...batch, tq, tk, max(d, dv)]: i is the
 * query, j the key, c the channel. `readQ` (axes batch, i, c < d), `readK`
 * (batch, j, c < d) and `readV` (batch, j, c < dv) read the operands through
 * their views (head split and merge are index maps). The score of (i, j) is
 * `scale * sum_c readQ * readK`, plus `bias` (f32, axes batch, i, j) when
 * given; key j is skipped when `keep` (bool, axes batch, i, j) is false, and,
 * when `causalOffset` is set, whenever j > i + causalOffset (a loop bound:
 * masked blocks are never computed). Each store (axes batch, i, c < dv;
 * stride 0 on j) writes an epilogue of `out`, the attention output at
 * (batch, i, c). A row whose keys are all masked gives NaN, as the graph's
 * softmax does. `statStores` (attention probes) run once per (batch, i)
 * after the key loop, their maps with stride 0 on j and c: their values
 * may refer to `max`, the row's largest visible score (-inf when no key is
 * visible), and `sum`, the sum of exp(score - max) over its visible keys,
 * so that a probability is exp(score - max) / sum.
 */
export interface AttentionKernel extends KernelOrigin {
  readonly kind: 'attention';
  readonly name: string;
  readonly batch: readonly number[];
  readonly tq: number;
  readonly tk: number;
  readonly d: number;
  readonly dv: number;
  readonly scale: number;
  readonly readQ: Expr;
  readonly readK: Expr;
  readonly readV: Expr;
  readonly keep?: Expr;
  readonly bias?: Expr;
  readonly causalOffset?: number;
  readonly stores: readonly Store[];
  readonly statStores?: readonly Store[];
}

/** Every kernel kind; backends switch on `kind`. */
export type Kernel = MapKernel | ReduceKernel | MatmulKernel | AttentionKernel;

/** What a buffer holds and who provides it. */
export type BufferRole = 'input' | 'param' | 'output' | 'temp' | 'const';

/** A buffer of the kernel program: flat, dense, `size` elements of `dtype`. */
export interface BufferDecl {
  readonly name: string;
  readonly dtype: DType;
  /** The logical shape of the graph value it holds (for printing and stats). */
  readonly shape: readonly number[];
  readonly size: number;
  readonly role: BufferRole;
  /** Initial contents of a `const` buffer. */
  readonly data?: readonly number[];
  /** For a temporary placed by the memory plan: its byte offset in the program's arena. */
  readonly arenaOffset?: number;
}

/** A lowered program: buffers and the kernels to launch, in order. */
export interface KernelProgram {
  readonly name: string;
  readonly buffers: readonly BufferDecl[];
  readonly kernels: readonly Kernel[];
  /** Program input name -> buffer index (role input or param). */
  readonly inputs: readonly { readonly name: string; readonly buffer: number }[];
  /** Program output name -> buffer index (role output). */
  readonly outputs: readonly { readonly name: string; readonly buffer: number }[];
  /** Bytes of the arena that holds every temporary with an `arenaOffset` (the memory plan's peak). */
  readonly arenaBytes?: number;
}

/** The number of iteration axes of a kernel. */
export function kernelRank(k: Kernel): number {
  return k.kind === 'matmul' || k.kind === 'attention' ? k.batch.length + 3 : k.shape.length;
}

/** The extents of a kernel's full iteration space. */
export function iterationSpace(k: Kernel): readonly number[] {
  if (k.kind === 'matmul') return [...k.batch, k.m, k.n, k.k];
  if (k.kind === 'attention') return [...k.batch, k.tq, k.tk, Math.max(k.d, k.dv)];
  return k.shape;
}

/** Every store of a kernel. */
export function kernelStores(k: Kernel): readonly Store[] {
  if (k.kind === 'attention' && k.statStores) return [...k.stores, ...k.statStores];
  return k.kind === 'reduce' ? [...k.stores, ...k.rowStores] : k.stores;
}

/** Every top-level expression of a kernel (reads, stage values, store values). */
export function kernelExprs(k: Kernel): readonly Expr[] {
  const stores = kernelStores(k).map((s) => s.value);
  if (k.kind === 'matmul') return [k.readA, k.readB, ...stores];
  if (k.kind === 'attention') return [k.readQ, k.readK, k.readV, ...(k.keep ? [k.keep] : []), ...(k.bias ? [k.bias] : []), ...stores];
  if (k.kind === 'reduce') return [...k.stages.map((s) => s.value), ...stores];
  return stores;
}

/** The buffers a kernel loads from (its gathers' tables and indices included). */
export function kernelReads(k: Kernel): Set<number> {
  const read = new Set<number>();
  for (const e of kernelExprs(k)) loadedBuffers(e, read);
  return read;
}

/** The buffers a kernel binds: those it loads from and those it stores to. */
export function kernelBuffers(k: Kernel): Set<number> {
  const bound = kernelReads(k);
  for (const s of kernelStores(k)) bound.add(s.buffer);
  return bound;
}
