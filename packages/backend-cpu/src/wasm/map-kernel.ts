/**
 * Map kernels in wasm: axes are collapsed first (collapse.ts), then the
 * space is rows (all axes but the last) times the last axis. Threads split
 * the rows, or, when there are fewer rows than threads, the last axis in
 * multiples of 4. Each row runs an f32x4 loop over the last axis (when
 * every value has a vector form) and a scalar tail.
 */
import { numel } from '@tessera/ir';
import type { MapKernel, Store } from '@tessera/kernel';
import { type FunctionBuilder, I32 } from './binary.ts';
import { collapseMapKernel } from './collapse.ts';
import { decompose, forEachChunk, kernelFunction, onlyThreadZero } from './kernel-common.ts';
import { OP } from './opcodes.ts';
import { WasmScalarRenderer, emitScalarStores } from './scalar-expr.ts';
import { Addresser, type AxisSource, type ProgramFacts } from './scope.ts';
import { WasmVectorRenderer, emitVectorStores, vectorizable } from './vector-expr.ts';

/** Fewest rows split by rows; fewer are split along the last axis instead. */
const MIN_ROW_CHUNKS = 16;

/**
 * Emits, at the current row, the loop `for j in [j0, j1)` over axis `va`
 * running `stores`: f32x4 steps while 4 points remain (if `vector`), then
 * scalar steps. `axes` gives every other axis's value; `refs` pushes named
 * scalars (scalar path: f64/i32; vector path: splats).
 */
export function emitRowLoop(
  f: FunctionBuilder,
  facts: ProgramFacts,
  opts: {
    readonly axes: readonly (AxisSource | undefined)[];
    readonly va: number;
    readonly j0: () => void;
    readonly j1: number;
    readonly stores: readonly Store[];
    readonly vector: boolean;
    /** Push a named scalar at the current point (`j` is the local holding the va value). */
    readonly scalarRef?: (name: string, j: number) => void;
    readonly vectorRef?: (name: string, j: number) => void;
    /** Refs that change along va (never hoisted). */
    readonly variantRefs?: ReadonlySet<string>;
  },
): void {
  const j = f.local(I32);
  const axes = [...opts.axes];
  axes[opts.va] = { local: j };
  const outer = new Set(opts.axes.map((s, a) => (s && a !== opts.va ? a : -1)).filter((a) => a >= 0));
  const addr = new Addresser(f, facts, axes, outer);
  addr.hoist(
    opts.stores.map((s) => s.value),
    opts.stores,
  );
  const noRef = (name: string) => {
    throw new Error(`wasm emitter: no scalar named '${name}' here`);
  };
  opts.j0();
  f.set(j);
  if (opts.vector) {
    const vref = opts.vectorRef;
    const ex = new WasmVectorRenderer(f, facts, addr, { va: opts.va, j, ref: vref ? (n) => vref(n, j) : noRef, ...(opts.variantRefs ? { variantRefs: opts.variantRefs } : {}) });
    ex.hoist(opts.stores.map((s) => s.value));
    const last = f.local(I32);
    f.get(opts.j1).i32(3).op(OP.i32_sub).set(last);
    f.block((exit) => {
      f.get(j).get(last).op(OP.i32_ge_s).brIf(exit);
      f.loop((top) => {
        emitVectorStores(f, ex, addr, opts.stores, opts.va);
        f.get(j).i32(4).op(OP.i32_add).tee(j).get(last).op(OP.i32_lt_s).brIf(top);
      });
    });
  }
  f.block((exit) => {
    f.get(j).get(opts.j1).op(OP.i32_ge_s).brIf(exit);
    f.loop((top) => {
      const sref = opts.scalarRef;
      const ex = new WasmScalarRenderer(f, facts, addr, sref ? (n) => sref(n, j) : noRef);
      emitScalarStores(f, ex, addr, opts.stores);
      f.get(j).i32(1).op(OP.i32_add).tee(j).get(opts.j1).op(OP.i32_lt_s).brIf(top);
    });
  });
}

/** Emits a map kernel as a wasm function (tid, nt, scratch). */
export function emitMapKernel(kernel: MapKernel, facts: ProgramFacts): FunctionBuilder {
  const k = collapseMapKernel(kernel);
  const f = kernelFunction();
  const rank = k.shape.length;
  const inner = k.shape[rank - 1]!;
  const outerExtents = k.shape.slice(0, rank - 1);
  const rows = numel(outerExtents);
  const total = rows * inner;
  const r0 = f.local(I32);
  const r1 = f.local(I32);
  const j0 = f.local(I32);
  const j1 = f.local(I32);
  const vector = inner >= 4 && k.stores.every((s) => vectorizable(s.value));
  const parallel = total >= facts.minParallelWork;
  if (!parallel) onlyThreadZero(f);
  const r = f.local(I32);
  const axisLocals = outerExtents.map(() => f.local(I32));
  const rowLoop = () => {
    f.for(
      r,
      () => f.get(r0),
      () => f.get(r1),
      1,
      () => {
        decompose(f, r, outerExtents, axisLocals);
        emitRowLoop(f, facts, {
          axes: [...axisLocals.map((local) => ({ local })), undefined],
          va: rank - 1,
          j0: () => f.get(j0),
          j1,
          stores: k.stores,
          vector,
        });
      },
    );
  };
  if (!parallel) {
    f.i32(0).set(r0).i32(rows).set(r1).i32(0).set(j0).i32(inner).set(j1);
    rowLoop();
  } else if (rows >= MIN_ROW_CHUNKS) {
    // Chunks of rows; too few rows to share: chunks of the last axis (multiples of 4, the vector width).
    f.i32(0).set(j0).i32(inner).set(j1);
    forEachChunk(f, facts.counter, rows, 1, r0, r1, rowLoop);
  } else {
    f.i32(0).set(r0).i32(rows).set(r1);
    forEachChunk(f, facts.counter, inner, 4, j0, j1, rowLoop);
  }
  return f;
}
