import { numel } from '@tessera/ir';
import type { Combiner, ReductionStage } from '@tessera/kernel';
import { WgslRenderer } from './expr.ts';
import { type KernelShader, type ReduceVariant, type ShaderModuleBuilder, type WgslTarget, entryHead, gridFor, kernelBindings } from './module.ts';
import { emitStores } from './stores.ts';
import { type ReduceKernel, nextPow2 } from './util.ts';
import { WgslWriter, decomposeIndex, emitWorkgroupTree, wgslLoopNest } from './writer.ts';

/** Invocations per workgroup of the one-row-per-invocation variant. */
const THREAD_WORKGROUP = 64;

/**
 * Picks the reduction algorithm from the row count P and row length R: short
 * rows are folded by one invocation each; long rows by a workgroup each on a
 * GPU, and on a CPU adapter only when there are too few rows to keep its
 * threads busy (llvmpipe runs a workgroup's invocations as SIMD lanes, where
 * barriers cost more than the strided loads they save).
 */
export function chooseReduceVariant(rows: number, rowLength: number, target: WgslTarget): ReduceVariant {
  if (target.reduce) return target.reduce;
  if (rowLength < 32) return 'thread';
  if (target.cpu) return rows >= 32 ? 'thread' : 'workgroup';
  return 'workgroup';
}

/** Each combiner in WGSL: its start value (an identity of the step) and its step; i32 wraps, f32 max/min propagate NaN (as Math.max). */
const WGSL_FOLD: Readonly<Record<Combiner, { init: (i32: boolean, use: (h: string) => void) => string; step: (acc: string, v: string, i32: boolean, use: (h: string) => void) => string }>> = {
  sum: { init: (i32) => (i32 ? '0i' : '0.0f'), step: (a, v) => `${a} + ${v}` },
  prod: { init: (i32) => (i32 ? '1i' : '1.0f'), step: (a, v) => `${a} * ${v}` },
  max: {
    init: (i32, use) => (i32 ? 'i32(-2147483648)' : (use('inf_f32'), '(-inf_f32())')),
    step: (a, v, i32, use) => (i32 ? `max(${a}, ${v})` : (use('max_nan'), `max_nan(${a}, ${v})`)),
  },
  min: {
    init: (i32, use) => (i32 ? '2147483647i' : (use('inf_f32'), 'inf_f32()')),
    step: (a, v, i32, use) => (i32 ? `min(${a}, ${v})` : (use('min_nan'), `min_nan(${a}, ${v})`)),
  },
};

/** A stage's accumulator start value. */
export function initOf(st: ReductionStage, use: (h: string) => void): string {
  return WGSL_FOLD[st.combiner].init(st.dtype === 'i32', use);
}

/** `acc` combined with `v`. */
export function combineOf(st: ReductionStage, acc: string, v: string, use: (h: string) => void): string {
  return WGSL_FOLD[st.combiner].step(acc, v, st.dtype === 'i32', use);
}

/** Emits the stage's value at the current point and folds it into `acc`. */
export function foldStage(w: WgslWriter, mb: ShaderModuleBuilder, st: ReductionStage, si: number, acc: string): void {
  const ex = new WgslRenderer(mb.names, mb.use, `s${si}_`);
  ex.count(st.value);
  const v = ex.emit(st.value);
  w.line(...ex.stmts, `${acc} = ${combineOf(st, acc, v, mb.use)};`);
}

/**
 * Opens the entry of a reduce or scan kernel over rows `outer` of length R:
 * `row` (one per invocation, or one per workgroup) and its axis values, an
 * invocation past the last row returning (per workgroup in the workgroup
 * variant, so that barriers after it stay valid). Returns the workgroup
 * size and grid.
 */
export function beginRows(w: WgslWriter, mb: ShaderModuleBuilder, variant: ReduceVariant, outer: readonly number[], R: number): { wgSize: number; grid: [number, number, number] } {
  const P = numel(outer);
  if (variant === 'thread') {
    const grid = gridFor(Math.ceil(P / THREAD_WORKGROUP), mb.target.maxWorkgroupsPerDimension);
    w.line(`let row = wg * ${THREAD_WORKGROUP}i + i32(lid);`, `if (row >= ${P}i) { return; }`);
    decomposeIndex(w, 'row', outer, mb.names.axis);
    return { wgSize: THREAD_WORKGROUP, grid };
  }
  const wgSize = Math.min(nextPow2(R), 256, mb.target.maxInvocationsPerWorkgroup);
  const grid = gridFor(P, mb.target.maxWorkgroupsPerDimension);
  // `row` depends only on the workgroup id: the early return is uniform.
  w.line('let row = wg;');
  if (grid[0] * grid[1] !== P) w.line(`if (row >= ${P}i) { return; }`);
  decomposeIndex(w, 'row', outer, mb.names.axis);
  return { wgSize, grid };
}

/** The shader of a reduce or scan kernel whose body `w` holds. */
export function rowsShader(k: ReduceKernel, mb: ShaderModuleBuilder, label: string, w: WgslWriter, { wgSize, grid }: { wgSize: number; grid: [number, number, number] }): KernelShader {
  const bindings = kernelBindings(k);
  const wgsl = mb.assemble(label, bindings, `${entryHead(wgSize, grid)}\n${w}\n}`);
  return { name: k.name, kind: 'reduce', variant: label, wgsl, bindings, dispatch: grid, workgroupSize: wgSize };
}

/** Reductions and row kernels (softmax, layer_norm): stages fold over the last reduceRank axes, then stores and row stores. */
export function emitReduce(k: ReduceKernel, mb: ShaderModuleBuilder): KernelShader {
  const pr = k.shape.length - k.reduceRank;
  const outer = k.shape.slice(0, pr);
  const inner = k.shape.slice(pr);
  const P = numel(outer);
  const R = numel(inner);
  const variant = chooseReduceVariant(P, R, mb.target);
  const innerAxes = inner.map((extent, i) => ({ axis: pr + i, extent }));
  const zeroInner = (w: WgslWriter) => innerAxes.forEach(({ axis }) => w.line(`let ${mb.names.axis(axis)} = 0i;`));
  const w = new WgslWriter(1);
  const types = new Set(k.stages.map((s) => (s.dtype === 'i32' ? 'i32' : 'f32')));
  const size = beginRows(w, mb, variant, outer, R);
  if (variant === 'thread') {
    k.stages.forEach((st, si) => {
      const acc = `acc${si}`;
      w.line(`var ${acc}: ${st.dtype === 'i32' ? 'i32' : 'f32'} = ${initOf(st, mb.use)};`);
      wgslLoopNest(w, innerAxes, mb.names.axis, () => foldStage(w, mb, st, si, acc));
      w.line(`let ${mb.names.ref(st.name)} = ${acc};`);
    });
    if (k.stores.length) w.block('', () => (zeroInner(w), emitStores(w, mb, k.stores, 'o')));
    if (k.rowStores.length) wgslLoopNest(w, innerAxes, mb.names.axis, () => emitStores(w, mb, k.rowStores, 'w'));
  } else {
    const wgSize = size.wgSize;
    for (const t of types) mb.declare(`var<workgroup> red_${t}: array<${t}, ${wgSize}>;`);
    k.stages.forEach((st, si) => {
      const t = st.dtype === 'i32' ? 'i32' : 'f32';
      const acc = `acc${si}`;
      w.line(`var ${acc}: ${t} = ${initOf(st, mb.use)};`);
      w.block(`for (var rr = i32(lid); rr < ${R}i; rr += ${wgSize}i)`, () => {
        decomposeIndex(w, 'rr', inner, mb.names.axis, pr);
        foldStage(w, mb, st, si, acc);
      });
      w.line(`red_${t}[lid] = ${acc};`, 'workgroupBarrier();');
      emitWorkgroupTree(w, `red_${t}`, wgSize, (a, b) => combineOf(st, a, b, mb.use));
      w.line(`let ${mb.names.ref(st.name)} = red_${t}[0];`, 'workgroupBarrier();');
    });
    if (k.stores.length) w.block('if (lid == 0u)', () => (zeroInner(w), emitStores(w, mb, k.stores, 'o')));
    if (k.rowStores.length) {
      w.block(`for (var rr = i32(lid); rr < ${R}i; rr += ${wgSize}i)`, () => {
        decomposeIndex(w, 'rr', inner, mb.names.axis, pr);
        emitStores(w, mb, k.rowStores, 'w');
      });
    }
  }
  return rowsShader(k, mb, `reduce:${variant}`, w, size);
}
