/**
 * conv2d as an implicit GEMM: one matmul kernel per convolution whose A
 * operand is read through the convolution's window (ConvWindow: the image
 * read in place, zero in the padding; no im2col buffer), B is the weight
 * as [groups, out/groups, in/groups*kh*kw], and the output positions
 * (oh, ow) are the GEMM's rows, so bias, activations, residual adds and
 * trailing reshapes/transposes fuse into the epilogue as for any matmul.
 *
 * The kernel's iteration space is [...batch, i, j, p], batch = [N] or
 * [N, groups], i = oh * OW + ow. The epilogue is built over an extended
 * space with oh and ow as two axes (every graph value indexes them
 * separately) and folded into i afterwards, which needs every access to
 * walk (oh, ow) as one row-major run; when one does not, the convolution
 * stores its result alone and the epilogue becomes a kernel of its own.
 *
 * Depthwise convolutions (one channel per group, at most DEPTHWISE_MAX_TAPS
 * taps) are not lowered here: their decomposition, a sum of per-channel
 * products of strided slices, fuses into one elementwise kernel, which does
 * KH*KW multiply-adds per output where a GEMM would be 1 column wide.
 */
import { type Attrs, type Node, type TensorType, conv2dGeometry, isDepthwise } from '@tessera/ir';
import { E, type ConvWindow, type Expr, type IndexMap, type Kernel, type Store, rewriteAxes } from '@tessera/kernel';
import { type AffineIndex, type AffineRow, axisRow } from './affine.ts';
import { type View, reshapeView, viewMap } from './view.ts';

/** Depthwise kernels with at most this many taps are lowered through their decomposition (one fused elementwise kernel). */
export const DEPTHWISE_MAX_TAPS = 64;

/** Whether the fused lowering expands a conv2d node into its decomposition instead of an implicit GEMM. */
export function expandsConv2d(operands: readonly TensorType[], attrs: Attrs): boolean {
  const g = conv2dGeometry(operands[0]!, operands[1]!, operands[2], attrs);
  return isDepthwise(g) && g.kernel[0] * g.kernel[1] <= DEPTHWISE_MAX_TAPS;
}

/** What the convolution lowering needs of the lowering it is part of. */
export interface ConvHost {
  shapeOf(name: string): readonly number[];
  /** The value at an index over `rank` kernel axes (a load through its view, or computed inline). */
  exprAt(name: string, ix: AffineIndex, rank: number): Expr;
  /** The value's view, stored first if computed inline. */
  viewOf(name: string): View;
  /** A dense copy of the value (a copy kernel). */
  copyOf(name: string): View;
  /** The root's value stored through its epilogue into the sink's buffer (index over `rank` axes). */
  epilogue(root: Node, sink: Node, index: AffineIndex, rank: number, value: Expr): Store[];
  kernelName(op: string): string;
  pushKernel(k: Kernel): void;
}

/** The row of a grouped channel, g * perGroup + c, over kernel axes `g` (none without groups) and `c`. */
function groupedRow(g: number | undefined, perGroup: number, c: number, rank: number): AffineRow {
  const row = axisRow(c, rank);
  if (g === undefined) return row;
  const coeffs = [...row.coeffs];
  coeffs[g] = perGroup;
  return { coeffs, offset: 0 };
}

/**
 * Lowers conv2d node `n` with its epilogue up to `sink` into one matmul
 * kernel. Returns false, having pushed nothing, when the epilogue cannot be
 * folded into the GEMM's rows (the caller then stores the convolution alone).
 */
export function lowerConv2d(L: ConvHost, n: Node, sink: Node): boolean {
  const [x, w, bias] = n.operands as [string, string, string | undefined];
  const xs = L.shapeOf(x);
  const ws = L.shapeOf(w);
  const g = conv2dGeometry({ dtype: 'f32', shape: xs }, { dtype: 'f32', shape: ws }, bias === undefined ? undefined : { dtype: 'f32', shape: L.shapeOf(bias) }, n.attrs);
  const { groups: G, groupChannels: Cg, outHeight: OH, outWidth: OW } = g;
  const Og = g.outChannels / G;
  const K = Cg * g.kernel[0] * g.kernel[1];
  const batch = G > 1 ? [g.batch, G] : [g.batch];
  const nb = batch.length;
  const gAxis = G > 1 ? 1 : undefined;
  const rank = nb + 3;

  // A: the input at [n, g * Cg + c, y, x], over the window space [...batch, c, y, x].
  const readA = L.exprAt(x, [axisRow(0, rank), groupedRow(gAxis, Cg, nb, rank), axisRow(nb + 1, rank), axisRow(nb + 2, rank)], rank);
  // B: the weight as [G, Og, K] (a view when its (c, kh, kw) axes are contiguous, as a dense parameter's are).
  const flat = reshapeView(L.viewOf(w), [G, Og, K]) ?? reshapeView(L.copyOf(w), [G, Og, K])!;
  const readB = E.load('f32', flat.buffer, viewMap(flat, rank, [gAxis ?? 0, nb + 1, nb + 2]));

  // The epilogue over [...batch, oh, ow, j, p]: output channel g * Og + j at (oh, ow).
  const ext = nb + 4;
  const channel = groupedRow(gAxis, Og, nb + 2, ext);
  const acc = E.ref('f32', 'acc');
  const value = bias === undefined ? acc : E.binary('add', acc, L.exprAt(bias, [channel], ext));
  const stores = foldRows(L.epilogue(n, sink, [axisRow(0, ext), channel, axisRow(nb, ext), axisRow(nb + 1, ext)], ext, value), nb, OH, OW);
  if (!stores) return false;
  const window: ConvWindow = {
    channels: Cg,
    input: [g.height, g.width],
    output: [OH, OW],
    kernel: g.kernel,
    stride: g.stride,
    dilation: g.dilation,
    padding: g.padding,
  };
  L.pushKernel({ kind: 'matmul', name: L.kernelName('conv2d'), batch, m: OH * OW, n: Og, k: K, readA, readB, stores, window });
  return true;
}

/**
 * Stores over [...batch, oh, ow, j, p] rewritten over [...batch, i, j, p]
 * with i = oh * OW + ow; undefined when some access does not walk (oh, ow)
 * as one run (its oh stride is not OW times its ow stride) or an
 * expression reads oh or ow as a value.
 */
function foldRows(stores: readonly Store[], nb: number, OH: number, OW: number): Store[] | undefined {
  const [OHA, OWA] = [nb, nb + 1];
  let ok = true;
  const fold = (m: IndexMap): IndexMap => {
    const [sh, sw] = [m.strides[OHA]!, m.strides[OWA]!];
    if (OH > 1 && OW > 1 && sh !== OW * sw) ok = false;
    return { offset: m.offset, strides: [...m.strides.slice(0, nb), OW === 1 ? sh : sw, ...m.strides.slice(nb + 2)] };
  };
  const axis = (a: number): Expr => {
    if (a < nb) return E.axis(a);
    if (a > OWA) return E.axis(a - 1);
    // oh or ow as a value: only when the other is 1-sized (then it is i itself), or it is 1-sized (0).
    if ((a === OHA ? OH : OW) === 1) return E.const('i32', 0);
    if ((a === OHA ? OW : OH) === 1) return E.axis(nb);
    ok = false;
    return E.axis(nb);
  };
  const values = rewriteAxes(
    stores.map((s) => s.value),
    fold,
    axis,
  );
  const folded = stores.map((s, i) => ({ buffer: s.buffer, map: fold(s.map), value: values[i]! }));
  return ok ? folded : undefined;
}
