import {

  type DType,
  type Node,
  type Program,
  TesseraError,
  assertVerified,
  decomposeProgram,

  ints,
  num,
  numel,
  str,
} from '@tessera/ir';
import {
  type BufferDecl,
  type BufferRole,
  E,
  type Expr,
  type Kernel,
  type KernelProgram,
  assertKernelProgram,
  denseStrides,
} from '@tessera/kernel';
import { type View, alignedAxes, broadcastView, denseView, isDense, reshapeView, sliceView, transposeView, viewMap } from './view.ts';

/** Options of the lowering. */
export interface LowerOptions {
  /** Called for every composite op: true keeps it for a fused kernel (not yet: every composite is decomposed today). */
  readonly keepComposite?: (op: string) => boolean;
}

const UNARY = new Set(['neg', 'abs', 'exp', 'log', 'sqrt', 'rsqrt', 'tanh', 'erf', 'sin', 'cos', 'recip']);
const BINARY = new Set(['add', 'sub', 'mul', 'div', 'max', 'min', 'pow']);
const COMPARE = new Set(['eq', 'ne', 'lt', 'le', 'gt', 'ge']);
const REDUCE: Record<string, 'sum' | 'max'> = { reduce_sum: 'sum', reduce_max: 'max', reduce_mean: 'sum' };

/** Builds a kernel program: buffers, kernels and views of graph values. */
class Lowering {
  readonly buffers: BufferDecl[] = [];
  readonly kernels: Kernel[] = [];
  readonly views = new Map<string, View>();
  readonly dtypes = new Map<string, DType>();

  addBuffer(name: string, dtype: DType, shape: readonly number[], role: BufferRole, data?: readonly number[]): number {
    this.buffers.push({ name, dtype, shape: [...shape], size: numel(shape), role, ...(data ? { data } : {}) });
    return this.buffers.length - 1;
  }

  kernelName(op: string): string {
    return `k${this.kernels.length}_${op}`;
  }

  /** An expression reading graph value `name` in a kernel of `rank` axes whose view axis a follows kernel axis axes[a]. */
  read(name: string, rank: number, axes: readonly number[]): Expr {
    const v = this.views.get(name)!;
    return E.load(this.dtypes.get(name)!, v.buffer, viewMap(v, rank, axes));
  }

  /** Reads a value broadcast (right-aligned) into a kernel over the first `rank` axes. */
  readAligned(name: string, rank: number, kernelRank = rank): Expr {
    const v = this.views.get(name)!;
    return this.read(name, kernelRank, alignedAxes(v.shape.length, rank));
  }

  /** A fresh dense temporary for node `n`, registered as its view. */
  result(n: Node): number {
    const b = this.addBuffer(n.name, n.type.dtype, n.type.shape, 'temp');
    this.views.set(n.name, denseView(b, n.type.shape));
    this.dtypes.set(n.name, n.type.dtype);
    return b;
  }

  /** A map kernel computing `value` at every point of the node's result. */
  mapNode(n: Node, value: Expr): void {
    const b = this.result(n);
    const shape = n.type.shape;
    this.kernels.push({ kind: 'map', name: this.kernelName(n.op), shape, stores: [{ buffer: b, map: { offset: 0, strides: denseStrides(shape) }, value }] });
  }

  /** Copies a view into a new dense buffer (a reshape that strides cannot express, or an output). */
  materialize(name: string, bufferName: string, role: BufferRole): number {
    const v = this.views.get(name)!;
    const dtype = this.dtypes.get(name)!;
    const b = this.addBuffer(bufferName, dtype, v.shape, role);
    const rank = v.shape.length;
    this.kernels.push({
      kind: 'map',
      name: this.kernelName('copy'),
      shape: v.shape,
      stores: [{ buffer: b, map: { offset: 0, strides: denseStrides(v.shape) }, value: this.read(name, rank, [...Array(rank).keys()]) }],
    });
    return b;
  }

  lowerNode(n: Node): void {
    const a = n.attrs;
    const rank = n.type.shape.length;
    this.dtypes.set(n.name, n.type.dtype);
    const operand = (i: number) => n.operands[i]!;
    if (UNARY.has(n.op)) return this.mapNode(n, E.unary(n.op, this.readAligned(operand(0), rank)));
    if (BINARY.has(n.op)) return this.mapNode(n, E.binary(n.op, this.readAligned(operand(0), rank), this.readAligned(operand(1), rank)));
    if (COMPARE.has(n.op)) return this.mapNode(n, E.compare(n.op, this.readAligned(operand(0), rank), this.readAligned(operand(1), rank)));
    switch (n.op) {
      case 'where':
        return this.mapNode(n, E.select(this.readAligned(operand(0), rank), this.readAligned(operand(1), rank), this.readAligned(operand(2), rank)));
      case 'cast':
        return this.mapNode(n, E.cast(str(a, 'to') as DType, this.readAligned(operand(0), rank)));
      case 'iota':
        return this.mapNode(n, E.cast(n.type.dtype, E.axis(num(a, 'axis'))));
      case 'constant': {
        const b = this.addBuffer(n.name, n.type.dtype, n.type.shape, 'const', a.value as number[]);
        this.views.set(n.name, denseView(b, n.type.shape));
        return;
      }
      case 'reshape': {
        const src = this.views.get(operand(0))!;
        const v = reshapeView(src, ints(a, 'shape'));
        if (v) this.views.set(n.name, v);
        else this.views.set(n.name, denseView(this.materialize(operand(0), n.name, 'temp'), ints(a, 'shape')));
        return;
      }
      case 'transpose':
        this.views.set(n.name, transposeView(this.views.get(operand(0))!, ints(a, 'perm')));
        return;
      case 'broadcast_to':
        this.views.set(n.name, broadcastView(this.views.get(operand(0))!, ints(a, 'shape')));
        return;
      case 'slice':
        this.views.set(n.name, sliceView(this.views.get(operand(0))!, ints(a, 'start'), n.type.shape, ints(a, 'step')));
        return;
      case 'concat':
        return this.lowerConcat(n);
      case 'pad':
        return this.lowerPad(n);
      case 'gather':
        return this.lowerGather(n);
      case 'matmul':
        return this.lowerMatmul(n);
      default:
        if (n.op in REDUCE) return this.lowerReduce(n);
        throw new TesseraError(`lowering: no kernel for op '${n.op}' (%${n.name})`, n.loc);
    }
  }

  /** Each operand is copied into its slice of the result: one kernel per operand, all affine. */
  lowerConcat(n: Node): void {
    const b = this.result(n);
    const axis = num(n.attrs, 'axis');
    const strides = denseStrides(n.type.shape);
    let start = 0;
    for (const o of n.operands) {
      const shape = this.views.get(o)!.shape;
      const rank = shape.length;
      this.kernels.push({
        kind: 'map',
        name: this.kernelName('concat'),
        shape,
        stores: [{ buffer: b, map: { offset: start * strides[axis]!, strides }, value: this.read(o, rank, [...Array(rank).keys()]) }],
      });
      start += shape[axis]!;
    }
  }

  /** Fills the result with the pad value, then copies the operand into the interior. */
  lowerPad(n: Node): void {
    const b = this.result(n);
    const strides = denseStrides(n.type.shape);
    const low = ints(n.attrs, 'low');
    const src = this.views.get(n.operands[0]!)!;
    const rank = src.shape.length;
    this.kernels.push({ kind: 'map', name: this.kernelName('pad_fill'), shape: n.type.shape, stores: [{ buffer: b, map: { offset: 0, strides }, value: E.const(n.type.dtype, num(n.attrs, 'value')) }] });
    this.kernels.push({
      kind: 'map',
      name: this.kernelName('pad_copy'),
      shape: src.shape,
      stores: [{ buffer: b, map: { offset: low.reduce((o, l, a) => o + l * strides[a]!, 0), strides }, value: this.read(n.operands[0]!, rank, [...Array(rank).keys()]) }],
    });
  }

  /** Result axes: table axes before `axis`, then the index axes, then the table axes after it. */
  lowerGather(n: Node): void {
    const axis = num(n.attrs, 'axis');
    const table = this.views.get(n.operands[0]!)!;
    const indices = this.views.get(n.operands[1]!)!;
    const rank = n.type.shape.length;
    const ir = indices.shape.length;
    const tableAxes = table.shape.map((_, a) => (a < axis ? a : a > axis ? a - 1 + ir : -1));
    const strides = new Array<number>(rank).fill(0);
    tableAxes.forEach((k, a) => {
      if (k >= 0 && table.shape[a] !== 1) strides[k] = table.strides[a]!;
    });
    const index = this.read(n.operands[1]!, rank, Array.from({ length: ir }, (_, i) => axis + i));
    const value = E.load(this.dtypes.get(n.operands[0]!)!, table.buffer, { offset: table.offset, strides }, { index, stride: table.strides[axis]!, extent: table.shape[axis]! });
    this.mapNode(n, value);
  }

  /** Reduced axes are moved last in the iteration space; the store has stride 0 on them. */
  lowerReduce(n: Node): void {
    const axes = ints(n.attrs, 'axes');
    const src = this.views.get(n.operands[0]!)!;
    const kept = src.shape.map((_, a) => a).filter((a) => !axes.includes(a));
    const order = [...kept, ...axes];
    const shape = order.map((a) => src.shape[a]!);
    const kernelAxisOf = new Array<number>(src.shape.length);
    order.forEach((srcAxis, k) => (kernelAxisOf[srcAxis] = k));
    const b = this.result(n);
    const outShape = kept.map((a) => src.shape[a]!);
    const outStrides = [...denseStrides(outShape), ...axes.map(() => 0)];
    const combiner = REDUCE[n.op]!;
    const dtype = n.type.dtype;
    const count = numel(axes.map((a) => src.shape[a]!));
    const acc = E.ref(dtype, 'r');
    const value = n.op === 'reduce_mean' ? E.binary('div', acc, E.const(dtype, count)) : acc;
    this.kernels.push({
      kind: 'reduce',
      name: this.kernelName(n.op),
      shape,
      reduceRank: axes.length,
      stages: [{ name: 'r', combiner, dtype, value: this.read(n.operands[0]!, shape.length, kernelAxisOf) }],
      stores: [{ buffer: b, map: { offset: 0, strides: outStrides }, value }],
      rowStores: [],
    });
  }

  /** A matmul kernel over [...batch, i, j, p]; operands broadcast over batch, read through their views. */
  lowerMatmul(n: Node): void {
    const batch = n.type.shape.slice(0, -2);
    const nb = batch.length;
    const [m, nn] = n.type.shape.slice(-2) as [number, number];
    const aView = this.views.get(n.operands[0]!)!;
    const bView = this.views.get(n.operands[1]!)!;
    const kk = aView.shape[aView.shape.length - 1]!;
    const rank = nb + 3;
    const batchAxes = (r: number) => Array.from({ length: r - 2 }, (_, a) => a + nb - (r - 2));
    const readA = this.read(n.operands[0]!, rank, [...batchAxes(aView.shape.length), nb, nb + 2]);
    const readB = this.read(n.operands[1]!, rank, [...batchAxes(bView.shape.length), nb + 2, nb + 1]);
    const out = this.result(n);
    this.kernels.push({
      kind: 'matmul',
      name: this.kernelName('matmul'),
      batch,
      m,
      n: nn,
      k: kk,
      readA,
      readB,
      stores: [{ buffer: out, map: { offset: 0, strides: [...denseStrides(n.type.shape), 0] }, value: E.ref('f32', 'acc') }],
    });
  }
}

/**
 * Lowers a verified graph program to a kernel program: composites are
 * decomposed, movement ops become views folded into index maps, every other
 * op becomes one kernel (the passes make this smarter: fusion, planning).
 */
export function lowerToKernels(program: Program, _options: LowerOptions = {}): KernelProgram {
  assertVerified(program);
  const p = decomposeProgram(program);
  const L = new Lowering();
  const inputs = p.inputs.map((i) => {
    const b = L.addBuffer(i.name, i.type.dtype, i.type.shape, i.kind === 'parameter' ? 'param' : 'input');
    L.views.set(i.name, denseView(b, i.type.shape));
    L.dtypes.set(i.name, i.type.dtype);
    return { name: i.name, buffer: b };
  });
  for (const n of p.nodes) L.lowerNode(n);
  const claimed = new Set<number>();
  const outputs = p.outputs.map((o) => {
    const v = L.views.get(o.value)!;
    const decl = L.buffers[v.buffer]!;
    if (decl.role === 'temp' && isDense(v) && decl.size === numel(v.shape) && !claimed.has(v.buffer)) {
      claimed.add(v.buffer);
      L.buffers[v.buffer] = { ...decl, role: 'output', shape: [...v.shape] };
      return { name: o.name, buffer: v.buffer };
    }
    return { name: o.name, buffer: L.materialize(o.value, `out.${o.name}`, 'output') };
  });
  const kp: KernelProgram = { name: p.name, buffers: L.buffers, kernels: L.kernels, inputs, outputs };
  assertKernelProgram(kp);
  return kp;
}
