import { COMBINERS, GatherIndexError, TesseraError, binaryScalarFn, castValue, combineFn, compareScalarFn, numel, unaryScalarFn } from '@tessera/ir';
import { allocateOrExplain, assertBufferElements, describeBuffer } from './buffer-limits.ts';
import type { Expr } from './expr.ts';
import type { AttentionKernel, Kernel, KernelProgram, MapKernel, MatmulKernel, ReduceKernel, Store } from './kernel.ts';
import { forEachPoint, mapOffset } from './space.ts';
import { windowPoint } from './window.ts';

/**
 * Evaluates a scalar expression at one point, in float64 (bool as 0/1), using
 * the registry's scalar semantics of each op, so that graph interpreter and
 * kernel evaluator share one definition of every op.
 */
export function evalExpr(e: Expr, point: readonly number[], buffers: readonly Float64Array[], refs: ReadonlyMap<string, number>): number {
  switch (e.k) {
    case 'const':
      return e.value;
    case 'axis':
      return point[e.axis]!;
    case 'load': {
      let o = mapOffset(e.map, point);
      if (e.indirect) {
        const i = evalExpr(e.indirect.index, point, buffers, refs);
        // Points run in row-major order, and a lowered gather meets every position, in order, before its leading table axes move:
        // the first bad index met is the one at the least position, as in the interpreter.
        if (!(i >= 0 && i < e.indirect.extent)) throw new GatherIndexError(e.indirect.site, i, mapOffset(e.indirect.site.position, point), e.indirect.extent);
        o += i * e.indirect.stride;
      }
      return buffers[e.buffer]![o]!;
    }
    case 'unary':
      return unaryScalarFn(e.op, e.x.dtype)(evalExpr(e.x, point, buffers, refs));
    case 'binary':
      return binaryScalarFn(e.op, e.dtype)(evalExpr(e.a, point, buffers, refs), evalExpr(e.b, point, buffers, refs));
    case 'compare':
      return compareScalarFn(e.op)(evalExpr(e.a, point, buffers, refs), evalExpr(e.b, point, buffers, refs)) ? 1 : 0;
    case 'select':
      return evalExpr(e.cond, point, buffers, refs) ? evalExpr(e.a, point, buffers, refs) : evalExpr(e.b, point, buffers, refs);
    case 'cast':
      return castValue(evalExpr(e.x, point, buffers, refs), e.dtype);
    case 'ref': {
      const v = refs.get(e.name);
      if (v === undefined) throw new TesseraError(`reference to undefined scalar '${e.name}'`);
      return v;
    }
  }
}

function runStores(stores: readonly Store[], point: readonly number[], buffers: Float64Array[], refs: ReadonlyMap<string, number>): void {
  // All values first: a store may overwrite a buffer another store at this point reads (in-place reuse).
  const values = stores.map((s) => evalExpr(s.value, point, buffers, refs));
  stores.forEach((s, i) => {
    buffers[s.buffer]![mapOffset(s.map, point)] = values[i]!;
  });
}

function evalMap(k: MapKernel, buffers: Float64Array[]): void {
  const refs = new Map<string, number>();
  forEachPoint(k.shape, (p) => runStores(k.stores, p, buffers, refs));
}

function evalReduce(k: ReduceKernel, buffers: Float64Array[]): void {
  const pr = k.shape.length - k.reduceRank;
  const outer = k.shape.slice(0, pr);
  const inner = k.shape.slice(pr);
  const point = new Array<number>(k.shape.length).fill(0);
  const steps = k.stages.map((st) => combineFn(st.combiner, st.dtype));
  forEachPoint(outer, (o) => {
    for (let a = 0; a < pr; a++) point[a] = o[a]!;
    const refs = new Map<string, number>();
    if (k.scan) return scanRow(k, point, buffers, refs, steps);
    k.stages.forEach((stage, s) => {
      let acc: number = COMBINERS[stage.combiner].init;
      forEachPoint(inner, (r) => {
        for (let a = 0; a < r.length; a++) point[pr + a] = r[a]!;
        acc = steps[s]!(acc, evalExpr(stage.value, point, buffers, refs));
      });
      refs.set(stage.name, acc);
    });
    for (let a = pr; a < point.length; a++) point[a] = 0;
    runStores(k.stores, point, buffers, refs);
    if (k.rowStores.length) {
      forEachPoint(inner, (r) => {
        for (let a = 0; a < r.length; a++) point[pr + a] = r[a]!;
        runStores(k.rowStores, point, buffers, refs);
      });
    }
  });
}

/** One row of a scan kernel: at each point the stages fold that point, then the row stores see the running values. */
function scanRow(k: ReduceKernel, point: number[], buffers: Float64Array[], refs: Map<string, number>, steps: readonly ((acc: number, v: number) => number)[]): void {
  const j = k.shape.length - 1;
  for (const stage of k.stages) refs.set(stage.name, COMBINERS[stage.combiner].init);
  for (let i = 0; i < k.shape[j]!; i++) {
    point[j] = i;
    // Stages fold in order: a later stage sees an earlier one's running value with this point folded in.
    k.stages.forEach((stage, s) => refs.set(stage.name, steps[s]!(refs.get(stage.name)!, evalExpr(stage.value, point, buffers, refs))));
    runStores(k.rowStores, point, buffers, refs);
  }
}

function evalMatmul(k: MatmulKernel, buffers: Float64Array[]): void {
  const nb = k.batch.length;
  const point = new Array<number>(nb + 3).fill(0);
  // A windowed readA is evaluated at the input point of (i, p); 0 in the padding.
  const inputPoint = new Array<number>(nb + 3).fill(0);
  const readA = (): number => {
    if (!k.window) return evalExpr(k.readA, point, buffers, new Map());
    for (let a = 0; a < nb; a++) inputPoint[a] = point[a]!;
    return windowPoint(k.window, point[nb]!, point[nb + 2]!, inputPoint, nb) ? evalExpr(k.readA, inputPoint, buffers, new Map()) : 0;
  };
  forEachPoint([...k.batch, k.m, k.n], (o) => {
    for (let a = 0; a < nb + 2; a++) point[a] = o[a]!;
    let acc = 0;
    for (let p = 0; p < k.k; p++) {
      point[nb + 2] = p;
      acc += readA() * evalExpr(k.readB, point, buffers, new Map());
    }
    point[nb + 2] = 0;
    runStores(k.stores, point, buffers, new Map([['acc', acc]]));
  });
}

/** Attention by definition: scores, masked softmax over keys, weighted sum of values (no online trick: this is the oracle). */
function evalAttention(k: AttentionKernel, buffers: Float64Array[]): void {
  const nb = k.batch.length;
  const [I, J, C] = [nb, nb + 1, nb + 2];
  const point = new Array<number>(nb + 3).fill(0);
  const none = new Map<string, number>();
  const scores = new Float64Array(k.tk);
  forEachPoint([...k.batch, k.tq], (o) => {
    for (let a = 0; a <= nb; a++) point[a] = o[a]!;
    let max = -Infinity;
    for (let j = 0; j < k.tk; j++) {
      point[J] = j;
      point[C] = 0;
      let s = -Infinity;
      const visible = (k.causalOffset === undefined || j <= point[I]! + k.causalOffset) && (!k.keep || evalExpr(k.keep, point, buffers, none) !== 0);
      if (visible) {
        let dot = 0;
        for (let c = 0; c < k.d; c++) {
          point[C] = c;
          dot += evalExpr(k.readQ, point, buffers, none) * evalExpr(k.readK, point, buffers, none);
        }
        point[C] = 0;
        s = dot * k.scale + (k.bias ? evalExpr(k.bias, point, buffers, none) : 0);
      }
      scores[j] = s;
      max = Math.max(max, s);
    }
    // Normalise the probabilities before weighting the values: the graph's softmax-then-matmul order, so both oracles round alike.
    let sum = 0;
    for (let j = 0; j < k.tk; j++) {
      scores[j] = Math.exp(scores[j]! - max);
      sum += scores[j]!;
    }
    if (k.statStores) {
      point[J] = 0;
      point[C] = 0;
      runStores(k.statStores, point, buffers, new Map([['max', max], ['sum', sum]]));
    }
    for (let j = 0; j < k.tk; j++) scores[j] = scores[j]! / sum;
    for (let c = 0; c < k.dv; c++) {
      point[C] = c;
      let acc = 0;
      for (let j = 0; j < k.tk; j++) {
        point[J] = j;
        acc += scores[j]! * evalExpr(k.readV, point, buffers, none);
      }
      point[J] = 0;
      runStores(k.stores, point, buffers, new Map([['out', acc]]));
    }
  });
}

/** Runs one kernel on float64 buffers, element by element. */
export function evaluateKernel(k: Kernel, buffers: Float64Array[]): void {
  switch (k.kind) {
    case 'map':
      return evalMap(k, buffers);
    case 'reduce':
      return evalReduce(k, buffers);
    case 'matmul':
      return evalMatmul(k, buffers);
    case 'attention':
      return evalAttention(k, buffers);
  }
}

/**
 * The kernel evaluator, the second oracle: runs a kernel program element by
 * element in float64. Inputs are keyed by program input name (values in
 * row-major order); returns outputs by name.
 */
export function evaluateKernelProgram(p: KernelProgram, inputs: Readonly<Record<string, ArrayLike<number>>>): Record<string, Float64Array> {
  assertBufferElements(p, 'kernel evaluator');
  const buffers = p.buffers.map((b) => {
    const data = allocateOrExplain('kernel evaluator', `buffer ${describeBuffer(b)}`, b.size * 8, () => new Float64Array(b.size));
    if (b.data) {
      if (b.data.length === 1) data.fill(b.data[0]!);
      else data.set(b.data);
    }
    return data;
  });
  for (const { name, buffer } of p.inputs) {
    const v = Object.hasOwn(inputs, name) ? inputs[name] : undefined;
    if (!v) throw new TesseraError(`missing input '${name}'`);
    const decl = p.buffers[buffer]!;
    if (v.length !== decl.size) throw new TesseraError(`input '${name}' needs ${decl.size} elements, got ${v.length}`);
    buffers[buffer]!.set(Array.from(v, Number));
  }
  for (const k of p.kernels) {
    try {
      evaluateKernel(k, buffers);
    } catch (e) {
      if (e instanceof GatherIndexError) throw e;
      throw new TesseraError(`kernel ${k.name}: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
  return Object.fromEntries(p.outputs.map(({ name, buffer }) => [name, buffers[buffer]!.slice(0, numel(p.buffers[buffer]!.shape))]));
}
