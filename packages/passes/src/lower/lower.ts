import { type DType, type Node, type Program, TesseraError, assertVerified, decomposeProgram, ints, num, numel, stridesOf, valueTypes } from '@tessera/ir';
import { lowerConv2d } from './conv.ts';
import { type BufferDecl, type BufferRole, E, type Expr, type Kernel, type KernelProgram, type Store, assertKernelProgram, loadedBuffers, scalarExpr } from '@tessera/kernel';
import { type AffineIndex, broadcastIndex, indexOnAxes, rowExpr, sameIndex, viewMapAt, zeroRow } from './affine.ts';
import { andAll, foldMask, sumAll } from './mask-folding.ts';
import { type FusionPlan, NO_FUSION, planFusion } from './plan.ts';
import { type ProbeSource, maskedScoreExpr, pairProbes, probabilityExpr, probeKernel, scheduleProbes, statStores } from './probes.ts';
import { reductionStages, rowStages } from './reduce-stages.ts';
import { expandsBeforeFusion, isElementwiseOp, isRootOp, isViewOp, lowerRule } from './rules.ts';
import { type View, broadcastView, denseView, isDense, reshapeView, sliceView, transposeView } from './view.ts';

/** Stands for the faults buffer a gather kernel binds on WebGPU, in a kernel's count of buffers (not a program buffer). */
const GATHER_FAULTS_SLOT = -1;

/** Options of the lowering. */
export interface LowerOptions {
  /** Fuse (default true): elementwise chains, prologues, epilogues, row kernels, attention with folded masks. Off: one kernel per core op. */
  readonly fusion?: boolean;
  /** The backend's limit of distinct buffers one kernel may bind (WebGPU: storage buffers per stage). */
  readonly maxBuffersPerKernel?: number;
}

/** How a graph value is available while lowering. */
type Lowered =
  | { readonly kind: 'view'; readonly view: View }
  | { readonly kind: 'deferred'; readonly node: Node }
  /** A root's result inside its own kernel: valid only at the root's output index. */
  | { readonly kind: 'root'; readonly index: AffineIndex; readonly value: Expr };

const inversePerm = (perm: readonly number[]): number[] => perm.map((_, i) => perm.indexOf(i));

/** Builds a kernel program: buffers, kernels, and how each graph value is available. */
class Lowering {
  readonly buffers: BufferDecl[] = [];
  readonly kernels: Kernel[] = [];
  readonly values = new Map<string, Lowered>();
  readonly types = new Map<string, { dtype: DType; shape: readonly number[] }>();
  readonly nodes = new Map<string, Node>();

  /** Buffers the kernel under construction binds so far (its stores' buffer counted in advance). */
  private used = new Set<number>();
  /**
   * Buffer slots held for operands of a node being inlined that are not read
   * yet: each will cost the kernel at least one buffer (its own, if it is
   * stored rather than inlined), so inlining an earlier operand must leave
   * them room.
   */
  private held = 0;
  /** Graph nodes the kernel under construction computes (recorded on it as `nodes`). */
  covered = new Set<string>();
  /** Program order of the graph nodes, so a kernel lists its nodes as the program does. */
  private readonly order = new Map<string, number>();

  /** What each probed attention's kernel shares with its probes, by attention node name. */
  private readonly probeSources = new Map<string, ProbeSource>();
  /** The attentions some probe reads the statistics of. */
  private readonly probedAttentions: ReadonlySet<string>;

  constructor(
    readonly plan: FusionPlan,
    readonly maxBuffers = Infinity,
    /** Attention probes paired with their attention: probe name -> attention name (pairProbes). */
    readonly probes: ReadonlyMap<string, string> = new Map(),
  ) {
    this.probedAttentions = new Set(probes.values());
  }

  /** Starts counting the buffers and graph nodes of a new kernel. */
  beginKernel(): void {
    this.used = new Set();
    this.held = 0;
    this.covered = new Set();
  }

  /** Pushes a kernel, recording the graph nodes it computes. */
  pushKernel(k: Kernel): void {
    const nodes = [...this.covered].sort((a, b) => (this.order.get(a) ?? 0) - (this.order.get(b) ?? 0));
    this.kernels.push(nodes.length ? { ...k, nodes } : k);
  }

  /** Buffers a value reads: its own if stored, else those its inline computation reads. */
  leafBuffers(name: string, into = new Set<number>()): Set<number> {
    const v = this.values.get(name);
    if (v?.kind === 'view') into.add(v.view.buffer);
    else if (v?.kind === 'deferred') for (const o of v.node.operands) this.leafBuffers(o, into);
    return into;
  }

  addBuffer(name: string, dtype: DType, shape: readonly number[], role: BufferRole, data?: readonly number[]): number {
    this.buffers.push({ name, dtype, shape: [...shape], size: numel(shape), role, ...(data ? { data } : {}) });
    return this.buffers.length - 1;
  }

  kernelName(op: string): string {
    return `k${this.kernels.length}_${op}`;
  }

  shapeOf(name: string): readonly number[] {
    return this.types.get(name)!.shape;
  }

  /**
   * The scalar expression of graph value `name` at `ix` (one affine row per
   * axis of the value, over `rank` kernel axes): a load through its view, or
   * its producer evaluated inline.
   */
  exprAt(name: string, ix: AffineIndex, rank: number): Expr {
    const shape = this.shapeOf(name);
    // A 1-sized axis is always at index 0, whatever kernel axis it was aligned with.
    const at = ix.map((row, a) => (shape[a] === 1 ? zeroRow(rank) : row));
    let v = this.values.get(name);
    if (!v) throw new TesseraError(`lowering: value %${name} is not available here`);
    const dtype = this.types.get(name)!.dtype;
    if (v.kind === 'deferred' && Number.isFinite(this.maxBuffers) && !this.insideRootKernel(name)) {
      // Inlining must not push the kernel past the backend's buffer limit (one slot kept for its store): store the value instead.
      const needed = new Set([...this.used, ...this.leafBuffers(name)]);
      if (needed.size + this.held > this.maxBuffers - 1) {
        this.viewOf(name);
        v = this.values.get(name)!;
      }
    }
    if (v.kind === 'view') {
      this.used.add(v.view.buffer);
      const decl = this.buffers[v.view.buffer]!;
      if (decl.role === 'const' && decl.data && decl.data.length === 1) return E.const(dtype, dtype === 'bool' ? (decl.data[0] ? 1 : 0) : decl.data[0]!);
      return E.load(dtype, v.view.buffer, viewMapAt(v.view, at, rank));
    }
    if (v.kind === 'root') {
      if (!sameIndex(at, v.index)) throw new TesseraError(`lowering: %${name} is read at another index than its kernel computes it`);
      return v.value;
    }
    return this.nodeExpr(v.node, at, rank);
  }

  /** Whether a value is an epilogue member of the root whose kernel is being built (it reads `acc`, so no other kernel can compute it). */
  insideRootKernel(name: string): boolean {
    const root = this.plan.members.get(name);
    return root !== undefined && this.values.get(root)?.kind === 'root';
  }

  /**
   * Whether the root's kernel with its whole epilogue can bind at most the
   * backend's limit of buffers: the buffers its operands and the epilogue
   * read, each value computed inline but outside the epilogue counted as
   * one (it can be stored by a kernel of its own), plus the store. When it
   * fits, the buffers read through views are reserved for the kernel, so
   * that a prologue inlined before the epilogue is read (exprAt) is stored
   * instead where inlining it would leave them no room.
   */
  epilogueFits(root: Node, sink: Node): boolean {
    if (!Number.isFinite(this.maxBuffers)) return true;
    const bound = new Set<number | string>();
    const visit = (name: string): void => {
      const v = this.values.get(name);
      if (v?.kind === 'view') bound.add(v.view.buffer);
      else if (v?.kind === 'deferred' && this.plan.members.get(name) === root.name) v.node.operands.forEach(visit);
      else if (v?.kind === 'deferred') bound.add(name);
    };
    root.operands.forEach(visit);
    if (sink !== root) visit(sink.name);
    if (sink !== root && bound.size + 1 > this.maxBuffers) return false;
    for (const b of bound) if (typeof b === 'number') this.used.add(b);
    return true;
  }

  /** A node's value computed inline at `ix`. */
  nodeExpr(n: Node, ix: AffineIndex, rank: number): Expr {
    this.covered.add(n.name);
    const src = n.operands[0]!;
    if (isElementwiseOp(n.op)) {
      // Under a buffer limit, every operand's cost is counted before any is inlined: stored operands' buffers are
      // reserved, and a slot is held until it is read for each computed one that reads a buffer not bound yet (it
      // costs at least one: its own, if it is stored because inlining it would not fit; one whose buffers are all
      // bound already costs nothing, and holding a slot for it would store it, at the cost of a buffer).
      const limited = Number.isFinite(this.maxBuffers);
      if (limited) {
        for (const o of n.operands) {
          const v = this.values.get(o);
          if (v?.kind === 'view') this.used.add(v.view.buffer);
        }
      }
      const holds = n.operands.map(
        (o) => limited && this.values.get(o)?.kind === 'deferred' && !this.insideRootKernel(o) && [...this.leafBuffers(o)].some((b) => !this.used.has(b)),
      );
      this.held += holds.filter(Boolean).length;
      const operands = n.operands.map((o, i) => {
        if (holds[i]) this.held--;
        return this.exprAt(o, broadcastIndex(ix, this.shapeOf(o)), rank);
      });
      return scalarExpr(n.op, n.attrs, operands);
    }
    switch (n.op) {
      case 'iota':
        return E.cast(n.type.dtype, rowExpr(ix[num(n.attrs, 'axis')]!));
      case 'transpose': {
        const perm = ints(n.attrs, 'perm');
        const srcIx = new Array<AffineIndex[number]>(perm.length);
        perm.forEach((p, a) => (srcIx[p] = ix[a]!));
        return this.exprAt(src, srcIx, rank);
      }
      case 'broadcast_to':
        return this.exprAt(src, broadcastIndex(ix, this.shapeOf(src)), rank);
      case 'slice': {
        const start = ints(n.attrs, 'start');
        const step = ints(n.attrs, 'step');
        return this.exprAt(src, ix.map((r, a) => ({ coeffs: r.coeffs.map((c) => c * step[a]!), offset: start[a]! + step[a]! * r.offset })), rank);
      }
      case 'reshape': {
        // Only 1-sized axes added or removed (the plan defers no other reshape).
        const kept = ix.filter((_, a) => n.type.shape[a] !== 1);
        let k = 0;
        return this.exprAt(src, this.shapeOf(src).map((d) => (d === 1 ? zeroRow(rank) : kept[k++]!)), rank);
      }
      default:
        throw new TesseraError(`lowering: %${n.name} = ${n.op} cannot be computed inline`, n.loc);
    }
  }

  /** Reads value `name` with its axis a on kernel axis axes[a] (-1: index 0). */
  read(name: string, rank: number, axes: readonly number[]): Expr {
    return this.exprAt(name, indexOnAxes(axes, rank), rank);
  }

  /** The view of a value, storing it first if it is computed inline. */
  viewOf(name: string): View {
    const v = this.values.get(name)!;
    if (v.kind === 'view') return v.view;
    if (v.kind === 'root') throw new TesseraError(`lowering: %${name} is computed inside its kernel and cannot be stored separately`);
    const shape = this.shapeOf(name);
    const b = this.addBuffer(name, this.types.get(name)!.dtype, shape, 'temp');
    // Stored by a kernel of its own, which counts its own buffers and nodes.
    const [outerUsed, outerCovered, outerHeld] = [this.used, this.covered, this.held];
    this.beginKernel();
    this.used.add(b);
    // The producer itself, evaluated here (its operands may in turn be stored if the limit needs it).
    const value = this.nodeExpr(v.node, indexOnAxes([...shape.keys()], shape.length), shape.length);
    this.pushMap(v.node.op, shape, [{ buffer: b, map: { offset: 0, strides: stridesOf(shape) }, value }]);
    [this.used, this.covered, this.held] = [outerUsed, outerCovered, outerHeld];
    const view = denseView(b, shape);
    this.values.set(name, { kind: 'view', view });
    return view;
  }

  /** A dense copy of a value, made by a kernel of its own (a layout the consumer cannot read as a view). */
  copyOf(name: string): View {
    const src = this.viewOf(name);
    const b = this.addBuffer(`${name}.dense`, this.types.get(name)!.dtype, src.shape, 'temp');
    const [outerUsed, outerCovered, outerHeld] = [this.used, this.covered, this.held];
    this.beginKernel();
    const rank = src.shape.length;
    this.pushMap('copy', src.shape, [{ buffer: b, map: { offset: 0, strides: stridesOf(src.shape) }, value: this.read(name, rank, [...Array(rank).keys()]) }]);
    [this.used, this.covered, this.held] = [outerUsed, outerCovered, outerHeld];
    return denseView(b, src.shape);
  }

  /** Runs `build`; when it returns false, every buffer, kernel and value it added is taken back. */
  attempt(build: () => boolean): boolean {
    const saved = { buffers: this.buffers.length, kernels: this.kernels.length, values: new Map(this.values), used: new Set(this.used), covered: new Set(this.covered), held: this.held };
    if (build()) return true;
    this.buffers.length = saved.buffers;
    this.kernels.length = saved.kernels;
    this.values.clear();
    for (const [k, v] of saved.values) this.values.set(k, v);
    [this.used, this.covered, this.held] = [saved.used, saved.covered, saved.held];
    return false;
  }

  pushMap(op: string, shape: readonly number[], stores: readonly Store[]): void {
    this.pushKernel({ kind: 'map', name: this.kernelName(op), shape, stores });
  }

  /** A fresh dense temporary holding node `n`'s value. */
  result(n: Node): number {
    const b = this.addBuffer(n.name, n.type.dtype, n.type.shape, 'temp');
    this.values.set(n.name, { kind: 'view', view: denseView(b, n.type.shape) });
    return b;
  }

  lowerNode(n: Node): void {
    this.beginKernel();
    this.order.set(n.name, this.order.size);
    this.types.set(n.name, n.type);
    this.nodes.set(n.name, n);
    const root = this.plan.members.get(n.name);
    if (root !== undefined) {
      this.values.set(n.name, { kind: 'deferred', node: n });
      if (this.plan.sinks.get(root) === n.name) this.lowerRoot(this.nodes.get(root)!, n);
      return;
    }
    if (this.plan.deferred.has(n.name)) {
      this.values.set(n.name, { kind: 'deferred', node: n });
      return;
    }
    if (isRootOp(n.op)) {
      if ((this.plan.sinks.get(n.name) ?? n.name) === n.name) this.lowerRoot(n, n);
      return;
    }
    switch (lowerRule(n.op).kind) {
      case 'view':
        return this.lowerMovement(n);
      case 'elementwise':
      case 'iota':
        return this.lowerElementwise(n);
      case 'constant': {
        const b = this.addBuffer(n.name, n.type.dtype, n.type.shape, 'const', n.attrs.value as number[]);
        this.values.set(n.name, { kind: 'view', view: denseView(b, n.type.shape) });
        return;
      }
      case 'concat':
        return this.lowerConcat(n);
      case 'pad':
        return this.lowerPad(n);
      case 'gather':
        return this.lowerGather(n);
      default:
        throw new TesseraError(`lowering: no kernel for op '${n.op}' (%${n.name}); the decompose-composites pass rewrites it first`, n.loc);
    }
  }

  /** An elementwise node (or iota) computed by a map kernel of its own, its deferred operands inline. */
  lowerElementwise(n: Node): void {
    const rank = n.type.shape.length;
    const value = this.nodeExpr(n, indexOnAxes([...n.type.shape.keys()], rank), rank);
    const b = this.result(n);
    this.pushMap(n.op, n.type.shape, [{ buffer: b, map: { offset: 0, strides: stridesOf(n.type.shape) }, value }]);
  }

  /** Movement of a stored value: a new view (a reshape the strides cannot express is copied first). */
  lowerMovement(n: Node): void {
    const a = n.attrs;
    const src = this.viewOf(n.operands[0]!);
    let view: View | undefined;
    if (n.op === 'transpose') view = transposeView(src, ints(a, 'perm'));
    else if (n.op === 'broadcast_to') view = broadcastView(src, ints(a, 'shape'));
    else if (n.op === 'slice') view = sliceView(src, ints(a, 'start'), n.type.shape, ints(a, 'step'));
    else {
      view = reshapeView(src, ints(a, 'shape'));
      if (!view) {
        this.covered.add(n.name);
        const copy = this.addBuffer(n.name, n.type.dtype, src.shape, 'temp');
        const rank = src.shape.length;
        this.pushMap('copy', src.shape, [{ buffer: copy, map: { offset: 0, strides: stridesOf(src.shape) }, value: this.read(n.operands[0]!, rank, [...Array(rank).keys()]) }]);
        view = denseView(copy, n.type.shape);
      }
    }
    this.values.set(n.name, { kind: 'view', view });
  }

  /**
   * Emits a root's kernel, storing `sink`: the root itself, or the last of
   * its elementwise epilogue (and trailing transposes/reshapes, folded into
   * the store's index map).
   */
  lowerRoot(root: Node, sink: Node): void {
    // Over the buffer limit: the root's kernel stores the root alone, and the epilogue runs after it like any elementwise chain.
    if (!this.epilogueFits(root, sink)) return this.lowerRootThenEpilogue(root, sink);
    switch (lowerRule(root.op).kind) {
      case 'matmul':
        return this.lowerMatmul(root, sink);
      case 'conv2d':
        // An epilogue that cannot fold into the GEMM's rows runs as a kernel of its own.
        if (!this.attempt(() => lowerConv2d(this, root, sink))) this.lowerRootThenEpilogue(root, sink);
        return;
      case 'attention':
        return this.lowerAttention(root, sink);
      case 'attention_probs':
        return this.lowerProbe(root, sink);
      case 'row':
        return this.lowerRow(root, sink);
      case 'reduce':
        return this.lowerReduce(root, sink);
      default:
        throw new TesseraError(`lowering: '${root.op}' is not a kernel root (%${root.name}, shape ${root.type.shape.join('x')})`);
    }
  }

  /** The root's kernel storing the root alone, then its epilogue (up to `sink`) as a kernel of its own. */
  lowerRootThenEpilogue(root: Node, sink: Node): void {
    this.lowerRoot(root, root);
    this.beginKernel();
    if (isViewOp(sink.op)) this.lowerMovement(sink);
    else this.lowerElementwise(sink);
  }

  /** The stores of a root's kernel: the epilogue of the root's value (at `index`, over `rank` axes) into the sink's buffer. */
  epilogue(root: Node, sink: Node, index: AffineIndex, rank: number, value: Expr): Store[] {
    // Normalised as exprAt normalises reads: a 1-sized axis is index 0.
    const normal = index.map((row, a) => (root.type.shape[a] === 1 ? zeroRow(rank) : row));
    this.values.set(root.name, { kind: 'root', index: normal, value });
    this.covered.add(root.name);
    const movements: Node[] = [];
    let last = sink;
    while (last !== root && isViewOp(last.op)) {
      movements.unshift(last);
      this.covered.add(last.name);
      last = this.nodes.get(last.operands[0]!)!;
    }
    const stored = this.exprAt(last.name, index, rank);
    const b = this.addBuffer(sink.name, sink.type.dtype, sink.type.shape, 'temp');
    let view = denseView(b, sink.type.shape);
    for (const m of [...movements].reverse()) {
      const before = this.shapeOf(m.operands[0]!);
      view = m.op === 'transpose' ? transposeView(view, inversePerm(ints(m.attrs, 'perm'))) : reshapeView(view, before)!;
    }
    this.values.set(sink.name, { kind: 'view', view: denseView(b, sink.type.shape) });
    return [{ buffer: b, map: viewMapAt(view, index, rank), value: stored }];
  }

  /** Matmul over [...batch, i, j, p]: operands broadcast over batch and read through their views (prologue hooks). */
  lowerMatmul(n: Node, sink: Node): void {
    const batch = n.type.shape.slice(0, -2);
    const nb = batch.length;
    const [m, nn] = n.type.shape.slice(-2) as [number, number];
    const [a, b] = n.operands as [string, string];
    const k = this.shapeOf(a).at(-1)!;
    const rank = nb + 3;
    const batchAxes = (r: number) => Array.from({ length: r - 2 }, (_, t) => t + nb - (r - 2));
    const readA = this.read(a, rank, [...batchAxes(this.shapeOf(a).length), nb, nb + 2]);
    const readB = this.read(b, rank, [...batchAxes(this.shapeOf(b).length), nb + 2, nb + 1]);
    const index = indexOnAxes([...batch.keys(), nb, nb + 1], rank);
    const stores = this.epilogue(n, sink, index, rank, E.ref('f32', 'acc'));
    // matmul_int8: the same template, quantized (MatmulKernel.quant).
    const quant = n.op === 'matmul_int8' ? { quant: { activationMax: num(n.attrs, 'activation_max'), weightMax: num(n.attrs, 'weight_max') } } : {};
    this.pushKernel({ kind: 'matmul', name: this.kernelName(n.op), batch, m, n: nn, k, readA, readB, stores, ...quant });
  }

  /** Reduced axes (`axes`, or the one `axis`) move last in the iteration space; the stores have stride 0 on them. */
  lowerReduce(n: Node, sink: Node): void {
    const axes = 'axes' in n.attrs ? ints(n.attrs, 'axes') : [num(n.attrs, 'axis')];
    const keepdims = n.attrs.keepdims as boolean;
    const src = n.operands[0]!;
    const srcShape = this.shapeOf(src);
    const kept = srcShape.map((_, a) => a).filter((a) => !axes.includes(a));
    const order = [...kept, ...axes];
    const shape = order.map((a) => srcShape[a]!);
    const rank = shape.length;
    const kernelAxisOf = srcShape.map((_, a) => order.indexOf(a));
    const count = numel(axes.map((a) => srcShape[a]!));
    const outAxes = keepdims ? srcShape.map((_, a) => (axes.includes(a) ? -1 : kernelAxisOf[a]!)) : kept.map((a) => kernelAxisOf[a]!);
    const x = this.read(src, rank, kernelAxisOf);
    const { stages, value } = reductionStages(n.op)!({ x, dtype: n.type.dtype, count, index: E.axis(rank - 1), extent: shape[rank - 1]! });
    const stores = this.epilogue(n, sink, indexOnAxes(outAxes, rank), rank, value);
    this.pushKernel({ kind: 'reduce', name: this.kernelName(n.op), shape, reduceRank: axes.length, stages, stores, rowStores: [] });
  }

  /**
   * Row kernels (softmax, log_softmax, layer_norm, rms_norm, and the cumsum
   * scan): the row's axis last, stages for the row statistics (running ones
   * in a scan), row stores for the result.
   */
  lowerRow(n: Node, sink: Node): void {
    const x = n.operands[0]!;
    const xShape = this.shapeOf(x);
    const axis = n.op === 'layer_norm' || n.op === 'rms_norm' ? xShape.length - 1 : num(n.attrs, 'axis');
    const order = [...xShape.keys()].filter((a) => a !== axis).concat(axis);
    const shape = order.map((a) => xShape[a]!);
    const rank = shape.length;
    const kernelAxisOf = xShape.map((_, a) => order.indexOf(a));
    const xe = this.read(x, rank, kernelAxisOf);
    const f = (v: number) => E.const('f32', Math.fround(v));
    const d = xShape[axis]!;
    let stages;
    let value: Expr;
    let scan = false;
    const rule = rowStages(n.op);
    if (rule) ({ stages, value, scan = false } = rule({ x: xe, dtype: n.type.dtype, count: d, index: E.axis(rank - 1), extent: d }));
    else if (n.op === 'rms_norm') {
      stages = [{ name: 'sq', combiner: 'sum' as const, dtype: 'f32' as const, value: E.binary('mul', xe, xe) }];
      const inv = E.unary('rsqrt', E.binary('add', E.binary('div', E.ref('f32', 'sq'), f(d)), f(num(n.attrs, 'eps'))));
      const normed = E.binary('mul', xe, inv);
      value = n.operands[1] === undefined ? normed : E.binary('mul', normed, this.read(n.operands[1], rank, [rank - 1]));
    } else {
      const mean = E.binary('div', E.ref('f32', 'sum'), f(d));
      const centred = E.binary('sub', xe, mean);
      stages = [
        { name: 'sum', combiner: 'sum' as const, dtype: 'f32' as const, value: xe },
        { name: 'sq', combiner: 'sum' as const, dtype: 'f32' as const, value: E.binary('mul', centred, centred) },
      ];
      const inv = E.unary('rsqrt', E.binary('add', E.binary('div', E.ref('f32', 'sq'), f(d)), f(num(n.attrs, 'eps'))));
      const [w, b] = [n.operands[1]!, n.operands[2]!].map((p) => this.read(p, rank, [rank - 1])) as [Expr, Expr];
      value = E.binary('add', E.binary('mul', E.binary('mul', centred, inv), w), b);
    }
    const rowStores = this.epilogue(n, sink, indexOnAxes(kernelAxisOf, rank), rank, value);
    this.pushKernel({ kind: 'reduce', name: this.kernelName(n.op), shape, reduceRank: 1, stages, stores: [], rowStores, ...(scan ? { scan } : {}) });
  }

  /** Attention over [...batch, i, j, c] with the mask folded into index predicates, a causal bound and a bias. */
  lowerAttention(n: Node, sink: Node): void {
    const batch = n.type.shape.slice(0, -2);
    const nb = batch.length;
    const [I, J, C] = [nb, nb + 1, nb + 2];
    const rank = nb + 3;
    const [q, k, v, mask] = n.operands as [string, string, string, string | undefined];
    const [tq, d] = this.shapeOf(q).slice(-2) as [number, number];
    const [tk, dv] = this.shapeOf(v).slice(-2) as [number, number];
    // Operands align on the right with [...batch, rows, cols] (numpy broadcasting), whatever their rank.
    const operand = (name: string, last2: [number, number]) => {
      const axes = [...batch.keys(), ...last2];
      return this.read(name, rank, axes.slice(axes.length - this.shapeOf(name).length));
    };
    const folded = mask ? foldMask(operand(mask, [I, J]), this.buffers, I, J, tq, tk) : { keep: [], bias: [] };
    const keep = andAll(folded.keep);
    const bias = sumAll(folded.bias);
    const stores = this.epilogue(n, sink, indexOnAxes([...batch.keys(), I, C], rank), rank, E.ref('f32', 'out'));
    const readQ = operand(q, [I, C]);
    const readK = operand(k, [J, C]);
    const causalOffset = 'causalOffset' in folded ? folded.causalOffset : undefined;
    const scale = Math.fround(num(n.attrs, 'scale'));
    const readV = operand(v, [J, C]);
    let stats: number | undefined;
    if (this.probedAttentions.has(n.name)) {
      // Probed: the kernel also stores each row's softmax statistics for the probes' kernels, if it can bind one more buffer.
      const bound = new Set<number>(stores.map((st) => st.buffer));
      for (const e of [readQ, readK, readV, ...(keep ? [keep] : []), ...(bias ? [bias] : []), ...stores.map((st) => st.value)]) loadedBuffers(e, bound);
      if (bound.size < this.maxBuffers) stats = this.addBuffer(`${n.name}.stats`, 'f32', [...batch, tq, 2], 'temp');
      this.probeSources.set(n.name, { batch, tq, tk, d, scale, readQ, readK, ...(keep ? { keep } : {}), ...(bias ? { bias } : {}), ...(causalOffset !== undefined ? { causalOffset } : {}), ...(stats !== undefined ? { stats } : {}) });
    }
    this.pushKernel({
      kind: 'attention',
      name: this.kernelName('attention'),
      batch,
      tq,
      tk,
      d,
      dv,
      scale,
      readQ,
      readK,
      readV,
      ...(keep ? { keep } : {}),
      ...(bias ? { bias } : {}),
      ...(causalOffset !== undefined ? { causalOffset } : {}),
      stores,
      ...(stats !== undefined ? { statStores: statStores(batch, tq, stats) } : {}),
    });
  }

  /**
   * An attention probe: a matmul kernel over its attention's reads and
   * statistics (probes.ts), storing `sink`. When the attention kernel had no
   * room for the statistics, the masked scores are stored instead and a
   * softmax row kernel normalises them.
   */
  lowerProbe(n: Node, sink: Node): void {
    const src = this.probeSources.get(this.probes.get(n.name) ?? '');
    if (!src) throw new TesseraError(`lowering: attention probe %${n.name} has no attention kernel before it (lowerToKernels expands such a probe)`, n.loc);
    const nb = src.batch.length;
    const rank = nb + 3;
    for (const e of [src.readQ, src.readK, ...(src.keep ? [src.keep] : []), ...(src.bias ? [src.bias] : [])]) loadedBuffers(e, this.used);
    const index = indexOnAxes([...src.batch.keys(), nb, nb + 1], rank);
    if (src.stats !== undefined) {
      this.used.add(src.stats);
      this.pushKernel(probeKernel(this.kernelName('attention_probs'), { ...src, stats: src.stats }, this.epilogue(n, sink, index, rank, probabilityExpr({ ...src, stats: src.stats }))));
      return;
    }
    const shape = [...src.batch, src.tq, src.tk];
    const scores = this.addBuffer(`${n.name}.scores`, 'f32', shape, 'temp');
    const dense = { offset: 0, strides: [...stridesOf(shape), 0] };
    this.pushKernel(probeKernel(this.kernelName('attention_scores'), src, [{ buffer: scores, map: dense, value: maskedScoreExpr(src) }]));
    this.beginKernel();
    const row = rowStages('softmax')!({ x: E.load('f32', scores, { offset: 0, strides: stridesOf(shape) }), dtype: 'f32', count: src.tk, index: E.axis(nb + 1), extent: src.tk });
    const rowStores = this.epilogue(n, sink, indexOnAxes([...shape.keys()], nb + 2), nb + 2, row.value);
    this.pushKernel({ kind: 'reduce', name: this.kernelName('attention_probs'), shape, reduceRank: 1, stages: row.stages, stores: [], rowStores });
  }

  /** Each operand is copied into its slice of the result: one kernel per operand, all affine. */
  lowerConcat(n: Node): void {
    const b = this.result(n);
    const axis = num(n.attrs, 'axis');
    const strides = stridesOf(n.type.shape);
    let start = 0;
    for (const o of n.operands) {
      const shape = this.shapeOf(o);
      // Each operand's kernel computes the concat and what it inlines of that operand only.
      this.covered = new Set([n.name]);
      this.pushMap('concat', shape, [{ buffer: b, map: { offset: start * strides[axis]!, strides }, value: this.read(o, shape.length, [...shape.keys()]) }]);
      start += shape[axis]!;
    }
  }

  /** Fills the result with the pad value, then copies the operand into the interior. */
  lowerPad(n: Node): void {
    this.covered.add(n.name);
    const b = this.result(n);
    const strides = stridesOf(n.type.shape);
    const low = ints(n.attrs, 'low');
    const src = n.operands[0]!;
    const shape = this.shapeOf(src);
    this.pushMap('pad_fill', n.type.shape, [{ buffer: b, map: { offset: 0, strides }, value: E.const(n.type.dtype, num(n.attrs, 'value')) }]);
    this.pushMap('pad_copy', shape, [{ buffer: b, map: { offset: low.reduce((o, l, a) => o + l * strides[a]!, 0), strides }, value: this.read(src, shape.length, [...shape.keys()]) }]);
  }

  /** Result axes: table axes before `axis`, then the index axes, then the table axes after it. */
  lowerGather(n: Node): void {
    this.covered.add(n.name);
    const axis = num(n.attrs, 'axis');
    const table = this.viewOf(n.operands[0]!);
    const ir = this.shapeOf(n.operands[1]!).length;
    const rank = n.type.shape.length;
    const strides = new Array<number>(rank).fill(0);
    table.shape.forEach((extent, a) => {
      if (a !== axis && extent !== 1) strides[a < axis ? a : a - 1 + ir] = table.strides[a]!;
    });
    const indexShape = this.shapeOf(n.operands[1]!);
    // Counted against the buffer limit before the index is inlined: the table, and the slot where backends record an index out of range (WebGPU binds a faults buffer).
    this.used.add(table.buffer).add(GATHER_FAULTS_SLOT);
    const index = this.read(n.operands[1]!, rank, Array.from({ length: ir }, (_, i) => axis + i));
    // The flat position in the indices of each point's index: the index axes, dense (what the range error names).
    const position = { offset: 0, strides: new Array<number>(rank).fill(0) };
    stridesOf(indexShape).forEach((s, i) => (position.strides[axis + i] = s));
    const site = { node: n.name, operands: n.operands, loc: n.loc, position, positions: numel(indexShape) };
    const value = E.load(n.type.dtype, table.buffer, { offset: table.offset, strides }, { index, stride: table.strides[axis]!, extent: table.shape[axis]!, site });
    const b = this.result(n);
    this.pushMap('gather', n.type.shape, [{ buffer: b, map: { offset: 0, strides: stridesOf(n.type.shape) }, value }]);
  }
}

/**
 * The program with the composites the fused lowering has no kernel for
 * expanded (see expandsBeforeFusion), and the attention probes no attention
 * kernel can serve (see pairProbes) or `excludedProbes`; itself when it has none.
 */
function expandBeforeFusion(program: Program, excludedProbes: ReadonlySet<string> = new Set()): Program {
  const typeOf = valueTypes(program);
  const pairs = pairProbes(program, excludedProbes);
  const expands = (n: Node) => (n.op === 'attention_probs' && !pairs.has(n.name)) || expandsBeforeFusion(n.op, n.operands.map((o) => typeOf.get(o)!), n.attrs);
  if (!program.nodes.some(expands)) return program;
  // Without a node (the expansion of the node itself, checked again), an unpaired probe: nothing else decomposes into one.
  return decomposeProgram(program, (def, types, attrs, node) => (node ? expands(node) : def.name === 'attention_probs' || expandsBeforeFusion(def.name, types, attrs)));
}

/**
 * The program ready for the fused lowering (composites expanded, attention
 * probes paired and each placed after its attention's kernel), its fusion
 * plan, and the probe pairs (probe -> attention).
 */
function planWithProbes(program: Program): { program: Program; plan: FusionPlan; probes: Map<string, string> } {
  const excluded = new Set<string>();
  for (;;) {
    const p = expandBeforeFusion(program, excluded);
    const probes = pairProbes(p);
    const plan = planFusion(p, new Set(probes.keys()));
    const scheduled = scheduleProbes(p, probes, plan.sinks);
    if ('program' in scheduled) return { program: scheduled.program, plan, probes };
    // A probe consumed before its attention's kernel is emitted: expanded instead (the plan of everything else is unchanged).
    for (const b of scheduled.blocked) excluded.add(b);
  }
}

/**
 * Lowers a verified graph program to a kernel program. Movement ops become
 * views folded into index maps. With fusion (the default) the fusion plan
 * decides which values are computed inline and which kernels absorb which
 * epilogues; softmax and layer_norm become row kernels, attention one kernel
 * with its mask folded. Without fusion, composites are decomposed and every
 * core op gets its own kernel.
 */
export function lowerToKernels(program: Program, options: LowerOptions = {}): KernelProgram {
  assertVerified(program);
  const fusion = options.fusion ?? true;
  const { program: p, plan, probes } = fusion ? planWithProbes(program) : { program: decomposeProgram(program), plan: NO_FUSION, probes: new Map<string, string>() };
  const L = new Lowering(plan, options.maxBuffersPerKernel, probes);
  const inputs = p.inputs.map((i) => {
    const b = L.addBuffer(i.name, i.type.dtype, i.type.shape, i.kind === 'parameter' ? 'param' : 'input');
    L.values.set(i.name, { kind: 'view', view: denseView(b, i.type.shape) });
    L.types.set(i.name, i.type);
    return { name: i.name, buffer: b };
  });
  for (const n of p.nodes) L.lowerNode(n);
  const claimed = new Set<number>();
  const outputs = p.outputs.map((o) => {
    const v = L.viewOf(o.value);
    const decl = L.buffers[v.buffer]!;
    if (decl.role === 'temp' && isDense(v) && decl.size === numel(v.shape) && !claimed.has(v.buffer)) {
      claimed.add(v.buffer);
      L.buffers[v.buffer] = { ...decl, role: 'output', shape: [...v.shape] };
      return { name: o.name, buffer: v.buffer };
    }
    const rank = v.shape.length;
    const b = L.addBuffer(`out.${o.name}`, decl.dtype, v.shape, 'output');
    L.beginKernel();
    if (L.nodes.has(o.value)) L.covered.add(o.value);
    L.pushMap('copy', v.shape, [{ buffer: b, map: { offset: 0, strides: stridesOf(v.shape) }, value: L.read(o.value, rank, [...Array(rank).keys()]) }]);
    return { name: o.name, buffer: b };
  });
  const kp: KernelProgram = { name: p.name, buffers: L.buffers, kernels: L.kernels, inputs, outputs };
  assertKernelProgram(kp);
  return kp;
}
