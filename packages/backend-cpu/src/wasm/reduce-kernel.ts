/**
 * Reduce and row kernels in wasm (reductions, softmax, layer_norm): threads
 * split the parallel points; at each one every stage folds its value over
 * the reduced axes (the last one vectorised: f32x4 / i32x4 partial
 * accumulators, then a horizontal fold, plus a scalar tail accumulated as
 * the JS backend does, f32 in float64), then the stores run once and the
 * row stores over the reduced axes (vectorised like a map row, stage
 * results splatted).
 */
import { type DType, numel } from '@tessera/ir';
import type { Combiner, ReduceKernel, ReductionStage } from '@tessera/kernel';
import { F64, type FunctionBuilder, I32, V128 } from './binary.ts';
import { decompose, forEachChunk, kernelFunction, onlyThreadZero } from './kernel-common.ts';
import { emitRowLoop } from './map-kernel.ts';
import { OP, SIMD } from './opcodes.ts';
import { WasmScalarRenderer, emitScalarStores } from './scalar-expr.ts';
import { Addresser, type AxisSource, type ProgramFacts } from './scope.ts';
import { WasmVectorRenderer, vectorizable } from './vector-expr.ts';

/** Named scalars of one parallel point: the scalar local, and a lazily made splat. */
class Refs {
  private readonly scalar = new Map<string, { local: number; dtype: DType }>();
  private readonly splat = new Map<string, number>();

  constructor(private readonly f: FunctionBuilder) {}

  define(name: string, local: number, dtype: DType): void {
    this.scalar.set(name, { local, dtype });
    this.splat.delete(name);
  }

  /** Pushes the scalar (f64 for f32, i32 otherwise). */
  pushScalar = (name: string): void => {
    const s = this.scalar.get(name);
    if (!s) throw new Error(`wasm emitter: stage '${name}' is not computed yet`);
    this.f.get(s.local);
  };

  /** Emits a splat local for every defined ref (call once the stages ran, before vector loops use them). */
  makeSplats(): void {
    for (const [name, s] of this.scalar) {
      const l = this.f.local(V128);
      this.f.get(s.local);
      if (s.dtype === 'f32') this.f.op(OP.f32_demote_f64).simd(SIMD.f32x4_splat);
      else if (s.dtype === 'bool') this.f.i32(0).op(OP.i32_ne).i32(0).op(OP.i32_sub).simd(SIMD.i32x4_splat); // bool as a lane mask
      else this.f.simd(SIMD.i32x4_splat);
      this.f.set(l);
      this.splat.set(name, l);
    }
  }

  pushSplat = (name: string): void => {
    const l = this.splat.get(name);
    if (l === undefined) throw new Error(`wasm emitter: stage '${name}' has no splat here`);
    this.f.get(l);
  };
}

/** Emits `for` loops over axes[k] (extents) around body, each axis value in its local. */
function nest(f: FunctionBuilder, locals: readonly number[], extents: readonly number[], body: () => void, k = 0): void {
  if (k === locals.length) return body();
  f.for(locals[k]!, () => f.i32(0), () => f.i32(extents[k]!), 1, () => nest(f, locals, extents, body, k + 1));
}

/** i32 max/min of the two values on the stack, by a compare and a select. */
function selectBy(f: FunctionBuilder, compare: number): void {
  const x = f.local(I32);
  const y = f.local(I32);
  f.set(y).set(x);
  f.get(x).get(y).get(x).get(y).op(compare, OP.select);
}

/** Each combiner in wasm: start values, and its step on f64 (f32 stages fold in float64, as the JS backend), i32 (wrapping), f32x4 and i32x4. */
const WASM_FOLD: Readonly<Record<Combiner, { f64Init: number; i32Init: number; f64: number; i32: (f: FunctionBuilder) => void; f32x4: number; i32x4: number }>> = {
  sum: { f64Init: 0, i32Init: 0, f64: OP.f64_add, i32: (f) => f.op(OP.i32_add), f32x4: SIMD.f32x4_add, i32x4: SIMD.i32x4_add },
  prod: { f64Init: 1, i32Init: 1, f64: OP.f64_mul, i32: (f) => f.op(OP.i32_mul), f32x4: SIMD.f32x4_mul, i32x4: SIMD.i32x4_mul },
  max: { f64Init: -Infinity, i32Init: -2147483648, f64: OP.f64_max, i32: (f) => selectBy(f, OP.i32_gt_s), f32x4: SIMD.f32x4_max, i32x4: SIMD.i32x4_max_s },
  min: { f64Init: Infinity, i32Init: 2147483647, f64: OP.f64_min, i32: (f) => selectBy(f, OP.i32_lt_s), f32x4: SIMD.f32x4_min, i32x4: SIMD.i32x4_min_s },
};

/** A new accumulator local for a stage, set to its combiner's start value. */
function initAccumulator(f: FunctionBuilder, st: ReductionStage): number {
  const isF = st.dtype === 'f32';
  const acc = f.local(isF ? F64 : I32);
  if (isF) f.f64(WASM_FOLD[st.combiner].f64Init);
  else f.i32(WASM_FOLD[st.combiner].i32Init);
  f.set(acc);
  return acc;
}

/** acc = acc (combined with) the value on the stack, after `f.get(acc)` pushed acc beneath it. */
function foldInto(f: FunctionBuilder, st: ReductionStage, acc: number): void {
  if (st.dtype === 'f32') f.op(WASM_FOLD[st.combiner].f64);
  else WASM_FOLD[st.combiner].i32(f);
  f.set(acc);
}

/**
 * One row of a scan kernel, scalar: at each point of the row every stage
 * folds that point's value into its running accumulator, then the row
 * stores run with the running values (a scan is sequential along its row;
 * rows run in parallel).
 */
function emitScanRow(f: FunctionBuilder, facts: ProgramFacts, k: ReduceKernel, axes: readonly (AxisSource | undefined)[], j: number): void {
  const refs = new Refs(f);
  const accs = k.stages.map((st) => initAccumulator(f, st));
  const rank = k.shape.length;
  const all = [...axes];
  all[rank - 1] = { local: j };
  const addr = new Addresser(f, facts, all, new Set(all.map((_, a) => a).filter((a) => a < rank - 1)));
  addr.hoist(k.stages.map((st) => st.value), k.rowStores);
  f.for(j, () => f.i32(0), () => f.i32(k.shape[rank - 1]!), 1, () => {
    k.stages.forEach((st, i) => {
      const ex = new WasmScalarRenderer(f, facts, addr, refs.pushScalar);
      f.get(accs[i]!);
      ex.count(st.value);
      ex.emit(st.value);
      foldInto(f, st, accs[i]!);
      refs.define(st.name, accs[i]!, st.dtype);
    });
    emitScalarStores(f, new WasmScalarRenderer(f, facts, addr, refs.pushScalar), addr, k.rowStores);
  });
}

/** Emits one stage: folds its value over the reduced axes into a new scalar local. */
function emitStage(
  f: FunctionBuilder,
  facts: ProgramFacts,
  st: ReductionStage,
  axes: readonly (AxisSource | undefined)[],
  reduced: { locals: readonly number[]; extents: readonly number[]; va: number; last: number },
  refs: Refs,
): number {
  const isF = st.dtype === 'f32';
  const rule = WASM_FOLD[st.combiner];
  const acc = initAccumulator(f, st);
  const vector = reduced.last >= 4 && vectorizable(st.value);
  const vacc = vector ? f.local(V128) : -1;
  const fold = (a: number) => foldInto(f, st, a);
  if (vector) {
    if (isF) f.f32x4(rule.f64Init);
    else f.i32x4(rule.i32Init);
    f.set(vacc);
  }
  const all = [...axes];
  reduced.locals.forEach((l, i) => (all[reduced.va - reduced.locals.length + 1 + i] = { local: l }));
  const j = reduced.locals[reduced.locals.length - 1]!;
  const outerSet = new Set(all.map((s, a) => (s && a !== reduced.va ? a : -1)).filter((a) => a >= 0));
  nest(f, reduced.locals.slice(0, -1), reduced.extents.slice(0, -1), () => {
    const addr = new Addresser(f, facts, all, outerSet);
    addr.hoist([st.value]);
    f.i32(0).set(j);
    if (vector) {
      const ex = new WasmVectorRenderer(f, facts, addr, { va: reduced.va, j, ref: refs.pushSplat });
      ex.hoist([st.value]);
      ex.count(st.value);
      f.block((exit) => {
        f.i32(reduced.last - 3).get(j).op(OP.i32_le_s).brIf(exit);
        f.loop((top) => {
          f.get(vacc);
          ex.emit(st.value);
          f.simd(isF ? rule.f32x4 : rule.i32x4);
          f.set(vacc);
          f.get(j).i32(4).op(OP.i32_add).tee(j).i32(reduced.last - 3).op(OP.i32_lt_s).brIf(top);
        });
      });
    }
    f.block((exit) => {
      f.get(j).i32(reduced.last).op(OP.i32_ge_s).brIf(exit);
      f.loop((top) => {
        const ex = new WasmScalarRenderer(f, facts, addr, refs.pushScalar);
        f.get(acc);
        ex.count(st.value);
        ex.emit(st.value);
        fold(acc);
        f.get(j).i32(1).op(OP.i32_add).tee(j).i32(reduced.last).op(OP.i32_lt_s).brIf(top);
      });
    });
  });
  if (vector) {
    for (let lane = 0; lane < 4; lane++) {
      f.get(acc).get(vacc);
      if (isF) f.simdLane(SIMD.f32x4_extract_lane, lane).op(OP.f64_promote_f32);
      else f.simdLane(SIMD.i32x4_extract_lane, lane);
      fold(acc);
    }
  }
  return acc;
}

/** Emits a reduce kernel as a wasm function (tid, nt, scratch). */
export function emitReduceKernel(k: ReduceKernel, facts: ProgramFacts): FunctionBuilder {
  const f = kernelFunction();
  const rank = k.shape.length;
  const pr = rank - k.reduceRank;
  const outerExtents = k.shape.slice(0, pr);
  const innerExtents = k.shape.slice(pr);
  const rows = numel(outerExtents);
  const work = rows * numel(innerExtents) * Math.max(1, k.stages.length + (k.rowStores.length ? 1 : 0));
  const r0 = f.local(I32);
  const r1 = f.local(I32);
  const parallel = work >= facts.minParallelWork;
  if (!parallel) onlyThreadZero(f);
  const r = f.local(I32);
  const outerLocals = outerExtents.map(() => f.local(I32));
  const innerLocals = innerExtents.map(() => f.local(I32));
  const axes: (AxisSource | undefined)[] = [...outerLocals.map((local) => ({ local })), ...innerExtents.map(() => undefined)];
  const reduced = { locals: innerLocals, extents: innerExtents, va: rank - 1, last: innerExtents[innerExtents.length - 1]! };
  const rowLoop = () => {
    f.for(r, () => f.get(r0), () => f.get(r1), 1, () => {
      decompose(f, r, outerExtents, outerLocals);
      if (k.scan) return emitScanRow(f, facts, k, axes, innerLocals[0]!);
      const refs = new Refs(f);
      for (const st of k.stages) {
        if (st.dtype !== 'f32' && st.dtype !== 'i32') throw new Error(`wasm emitter: ${st.dtype} reduction stage '${st.name}'`);
        refs.define(st.name, emitStage(f, facts, st, axes, reduced, refs), st.dtype);
        if (k.stages.some((s) => s !== st && vectorizable(s.value)) || k.rowStores.length) refs.makeSplats();
      }
      if (k.stores.length) {
        const atZero: (AxisSource | undefined)[] = [...axes.slice(0, pr), ...innerExtents.map(() => ({ value: 0 }))];
        const addr = new Addresser(f, facts, atZero);
        emitScalarStores(f, new WasmScalarRenderer(f, facts, addr, refs.pushScalar), addr, k.stores);
      }
      if (k.rowStores.length) {
        const vector = reduced.last >= 4 && k.rowStores.every((s) => vectorizable(s.value));
        nest(f, innerLocals.slice(0, -1), innerExtents.slice(0, -1), () => {
          const rowAxes = [...axes];
          innerLocals.slice(0, -1).forEach((l, i) => (rowAxes[pr + i] = { local: l }));
          emitRowLoop(f, facts, {
            axes: rowAxes,
            va: rank - 1,
            j0: () => f.i32(0),
            j1: constLocal(f, reduced.last),
            stores: k.rowStores,
            vector,
            scalarRef: refs.pushScalar,
            vectorRef: refs.pushSplat,
          });
        });
      }
    });
  };
  if (parallel) forEachChunk(f, facts.counter, rows, 1, r0, r1, rowLoop);
  else {
    f.i32(0).set(r0).i32(rows).set(r1);
    rowLoop();
  }
  return f;
}

/** A local holding a constant (row loops take their end as a local). */
function constLocal(f: FunctionBuilder, v: number): number {
  const l = f.local(I32);
  f.i32(v).set(l);
  return l;
}
