/**
 * Matmul kernels in wasm, GotoBLAS-style around the f32x4 micro-kernel:
 * for each MC block of rows and NC block of columns, for each KC slice of
 * the depth, the prologue hooks pack B (readB) and A (readA) into panels in
 * this thread's scratch, and the micro-kernel accumulates MR x NR tiles of
 * C into a scratch block; after the last slice the epilogue (the stores,
 * reading `acc`) runs over the block, vectorised along j.
 *
 * Threads take chunks dynamically (forEachChunk): whole batch entries when
 * there are enough of them, else NR-wide column panels (each chunk packs
 * only its B columns), else MR-row panels.
 *
 * A convolution (a kernel with a window) packs A straight from the image
 * through its window (emitWindowPack): the implicit GEMM.
 *
 * Packed A is kept for reuse when it fits (blocking.packedA): a thread packs
 * the A rows of a batch entry once, at depth slice pc of row block ic, and
 * every later column block, and with a column split every later chunk of
 * the same thread, reads that copy. Packing A afresh for each column block
 * and chunk cost a thread a share of its work that grows with the thread
 * count (each chunk is narrower, A is not).
 */
import { numel } from '@tessera/ir';
import type { MatmulKernel } from '@tessera/kernel';
import { type FunctionBuilder, I32 } from './binary.ts';
import { CHUNKS_PER_THREAD, SCRATCH, align64, decompose, forEachChunk, kernelFunction, onlyThreadZero, roundUp, setMin } from './kernel-common.ts';
import { emitRowLoop } from './map-kernel.ts';
import { MATMUL_MR as MR, NR } from './micro-kernel.ts';
import { OP, SIMD } from './opcodes.ts';
import { emitPack, roundUpTo } from './pack.ts';
import { emitWindowPack } from './window-pack.ts';
import type { AxisSource, ProgramFacts } from './scope.ts';
import { vectorizable } from './vector-expr.ts';

/**
 * Cache blocking limits: KC-deep slices (a B micro-panel, KC*NR*4 = 8 KiB,
 * stays in L1), MC x KC blocks of A (256 KiB at most) in L2, NC columns of
 * B per packed block. Blocks are then evened out (m = 197 is one block of
 * 200 rows, not 192 + 5). B packed when bound is read in its panels, with
 * no block copied into scratch, and takes slices 1024 deep: the C block is
 * loaded and stored once per slice (one thread, m = 197, alternating runs:
 * k = 768 from 47-50 to 50-54 GFLOP/s with one slice instead of three).
 */
export const WASM_MATMUL_BLOCKING = { mc: 256, kc: 256, nc: 2048, packedA: 4 << 20, kcPacked: 1024 } as const;

/**
 * Chunks per thread of a column split: narrow chunks cost little, since A
 * is kept packed (not packed again per chunk) and each chunk packs only its
 * own B columns, and they leave less of a tail at the barrier when one core
 * runs slower (on a 2-vCPU VM, in alternating runs on (197,768,3072), 2
 * threads went from 1.73-1.85x one thread's speed with 4 per thread to
 * 1.91-1.97x with 16; 32 measured about the same as 16).
 */
const COLUMN_CHUNKS_PER_THREAD = 16;

/** Fewest batch entries (else column panels) split into chunks along that axis. */
const MIN_CHUNKS = 8;


/**
 * Scratch layout of one thread for a kernel: packed A (one block, or all of
 * a batch entry's rows when `keepA`), packed B, the C block.
 */
function scratchLayout(k: MatmulKernel, blocking: ProgramFacts['blocking'], packedB: boolean): { pa: number; pb: number; c: number; ldc: number; bytes: number; mc: number; kc: number; nc: number; keepA: boolean } {
  const MC = roundUp(blocking.mc, MR);
  const KC = packedB ? (blocking.kcPacked ?? blocking.kc) : blocking.kc;
  const NC = roundUp(blocking.nc, NR);
  const even = (total: number, max: number, unit: number) => roundUp(Math.ceil(total / Math.ceil(total / max)), unit);
  const mc = even(k.m, MC, MR);
  const kc = Math.min(KC, k.k);
  const nc = even(k.n, NC, NR);
  // Every row block of A at every depth slice: whole MC-row blocks of k.k, the last block rounded up to MR rows.
  const keptA = roundUp(k.m, MR) * k.k * 4;
  const keepA = keptA <= (blocking.packedA ?? 0);
  const pa = 0;
  const pb = align64(pa + (keepA ? keptA : mc * kc * 4));
  const c = align64(pb + (packedB ? 0 : kc * nc * 4));
  return { pa, pb, c, ldc: nc * 4, bytes: align64(c + mc * nc * 4), mc, kc, nc, keepA };
}

/**
 * Emits a matmul kernel; returns the function and its scratch bytes per
 * thread. With `packedB` (the byte address of B's panels, see
 * packed-weights.ts), B is read from there rather than packed.
 */
export function emitMatmulKernel(k: MatmulKernel, facts: ProgramFacts, micro: number, packedB?: number): { fn: FunctionBuilder; scratch: number } {
  const f = kernelFunction();
  const nb = k.batch.length;
  const [AI, AJ, AP] = [nb, nb + 1, nb + 2];
  const batchTotal = numel(k.batch);
  const L = scratchLayout(k, facts.blocking, packedB !== undefined);
  const { mc: MC, kc: KC, nc: NC } = L;
  const [b0, b1, i0, i1, j0, j1] = f.locals(I32, 6);
  const setAll = (lo: number, hi: number, from: number, to: number) => f.i32(from).set(lo).i32(to).set(hi);

  // Chunks of batch entries when there are enough, else of NR-wide column panels (each chunk packs only its B
  // columns), else of MR-row panels; handed out dynamically (forEachChunk). Small products run on thread 0.
  const parallel = batchTotal * k.m * k.n * k.k >= facts.minParallelWork;
  if (!parallel) onlyThreadZero(f);
  setAll(b0, b1, 0, batchTotal);
  setAll(i0, i1, 0, k.m);
  setAll(j0, j1, 0, k.n);
  const split = batchTotal >= MIN_CHUNKS ? { total: batchTotal, grain: 1, lo: b0, hi: b1 } : Math.ceil(k.n / NR) >= MIN_CHUNKS ? { total: k.n, grain: NR, lo: j0, hi: j1 } : { total: k.m, grain: MR, lo: i0, hi: i1 };
  const columnSplit = split.lo === j0;

  const pa = f.local(I32);
  const pb = f.local(I32);
  const cb = f.local(I32);
  f.get(SCRATCH).i32(L.pa).op(OP.i32_add).set(pa);
  f.get(SCRATCH).i32(L.pb).op(OP.i32_add).set(pb);
  f.get(SCRATCH).i32(L.c).op(OP.i32_add).set(cb);
  const bi = f.local(I32);
  const batchLocals = k.batch.map(() => f.local(I32));
  const [ic, jc, pc, mc, nc, kc, ir, jr] = f.locals(I32, 8);
  // paBlock: packed A of block (ic, pc); firstChunk: nothing of A is kept yet; packA: pack A at this column block.
  const [paBlock, firstChunk, packA] = f.locals(I32, 3);
  // Kept A carries over between chunks only when every chunk covers the same batch entry and rows (a column split).
  const sameAcrossChunks = columnSplit && batchTotal === 1;
  f.i32(1).set(firstChunk);
  const axes: (AxisSource | undefined)[] = [...batchLocals.map((local) => ({ local })), undefined, undefined, undefined];

  const blocks = () => {
    f.for(bi, () => f.get(b0), () => f.get(b1), 1, () => {
      decompose(f, bi, k.batch, batchLocals);
      f.for(ic, () => f.get(i0), () => f.get(i1), MC, () => {
        setMin(f, mc, () => f.i32(MC), () => f.get(i1).get(ic).op(OP.i32_sub));
        f.for(jc, () => f.get(j0), () => f.get(j1), NC, () => {
          setMin(f, nc, () => f.i32(NC), () => f.get(j1).get(jc).op(OP.i32_sub));
          if (L.keepA) {
            // The first column block of a row block packs A; with a column split, only in this thread's first chunk.
            f.get(jc).get(j0).op(OP.i32_eq);
            if (sameAcrossChunks) f.get(firstChunk).op(OP.i32_and);
            f.set(packA);
          }
          f.for(pc, () => f.i32(0), () => f.i32(k.k), KC, () => {
            setMin(f, kc, () => f.i32(KC), () => f.i32(k.k).get(pc).op(OP.i32_sub));
            if (L.keepA) {
              // Block (ic, pc) at ((ic - i0) * k + pc * roundUp(mc, MR)) floats: earlier row blocks are MC rows, earlier slices KC deep.
              f.get(pa).get(ic).get(i0).op(OP.i32_sub).i32(k.k).op(OP.i32_mul);
              roundUpTo(f, mc, MR);
              f.get(pc).op(OP.i32_mul, OP.i32_add);
              f.i32(2).op(OP.i32_shl, OP.i32_add).set(paBlock);
            } else f.get(pa).set(paBlock);
            if (packedB === undefined) emitPack(f, facts, { value: k.readB, axes: [...axes.slice(0, nb), { value: 0 }, undefined, undefined], rowAxis: AJ, rowStart: jc, depthAxis: AP, depthStart: pc, rows: nc, kc, dst: pb, width: NR });
            // Packed once: the block's panels start at column jc, depth pc of the whole-depth panels.
            else f.i32(packedB).get(jc).i32(k.k * 4).op(OP.i32_mul, OP.i32_add).get(pc).i32(NR * 4).op(OP.i32_mul, OP.i32_add).set(pb);
            const packBlockOfA = () =>
              k.window
                ? emitWindowPack(f, facts, { value: k.readA, window: k.window, batch: batchLocals.map((local) => ({ local })), rowStart: ic, depthStart: pc, rows: mc, kc, dst: paBlock, width: MR })
                : emitPack(f, facts, { value: k.readA, axes: [...axes.slice(0, nb), undefined, { value: 0 }, undefined], rowAxis: AI, rowStart: ic, depthAxis: AP, depthStart: pc, rows: mc, kc, dst: paBlock, width: MR });
            if (L.keepA) f.get(packA).if(packBlockOfA);
            else packBlockOfA();
            f.for(jr, () => f.i32(0), () => f.get(nc), NR, () => {
              f.for(ir, () => f.i32(0), () => f.get(mc), MR, () => {
                f.get(paBlock).get(ir).get(kc).op(OP.i32_mul).i32(2).op(OP.i32_shl, OP.i32_add);
                if (packedB === undefined) f.get(pb).get(jr).get(kc).op(OP.i32_mul).i32(2).op(OP.i32_shl, OP.i32_add);
                else f.get(pb).get(jr).i32(k.k * 4).op(OP.i32_mul, OP.i32_add);
                f.get(cb).get(ir).i32(L.ldc).op(OP.i32_mul, OP.i32_add).get(jr).i32(2).op(OP.i32_shl, OP.i32_add);
                f.i32(L.ldc);
                f.get(kc);
                f.get(pc);
                f.call(micro);
              });
            });
          });
          // The block's f32 sums, read as they are.
          emitBlockEpilogue(f, facts, k, { batchLocals, ic, mc, jc, nc, cb, ldc: L.ldc }, {
            scalar: (at, j) => {
              at(j);
              f.mem(OP.f32_load, 2).op(OP.f64_promote_f32);
            },
            vector: (at, j) => {
              at(j);
              f.simdMem(SIMD.v128_load, 2);
            },
          });
        });
      });
    });
    f.i32(0).set(firstChunk);
  };
  if (parallel) forEachChunk(f, facts.counter, split.total, split.grain, split.lo, split.hi, blocks, columnSplit ? COLUMN_CHUNKS_PER_THREAD : CHUNKS_PER_THREAD);
  else blocks();
  return { fn: f, scratch: L.bytes };
}

/** Where a finished C block is: the batch entry's axis locals, rows ic..ic+mc and columns jc..jc+nc (locals), at cb, ldc bytes a row. */
export interface CBlock {
  readonly batchLocals: readonly number[];
  readonly ic: number;
  readonly mc: number;
  readonly jc: number;
  readonly nc: number;
  readonly cb: number;
  readonly ldc: number;
}

/** How an epilogue reads `acc` from the block: `at(j)` pushes the address of the current row's element j (a local). */
export interface AccReader {
  /** Runs once per row (local i) before its stores. */
  readonly row?: (i: number) => void;
  /** Pushes acc(i, j) as f64 (the scalar path). */
  readonly scalar: (at: (j: number) => void, j: number) => void;
  /** Pushes acc(i, j..j+3) as f32x4. */
  readonly vector: (at: (j: number) => void, j: number) => void;
}

/**
 * The stores over a finished C block of a matmul kernel (the f32 one's, or
 * the int8 one's with its own reader), vectorised along j, `acc` read by
 * `acc` from the block.
 */
export function emitBlockEpilogue(f: FunctionBuilder, facts: ProgramFacts, k: MatmulKernel, at: CBlock, acc: AccReader): void {
  const nb = k.batch.length;
  const [i, iEnd, jEnd, crow] = f.locals(I32, 4);
  f.get(at.ic).get(at.mc).op(OP.i32_add).set(iEnd);
  f.get(at.jc).get(at.nc).op(OP.i32_add).set(jEnd);
  const vector = k.stores.every((s) => vectorizable(s.value));
  // crow + j*4 addresses acc(i, j) in the block.
  const accAddress = (j: number) => f.get(crow).get(j).i32(2).op(OP.i32_shl, OP.i32_add);
  f.for(i, () => f.get(at.ic), () => f.get(iEnd), 1, () => {
    f.get(at.cb).get(i).get(at.ic).op(OP.i32_sub).i32(at.ldc).op(OP.i32_mul, OP.i32_add).get(at.jc).i32(2).op(OP.i32_shl, OP.i32_sub).set(crow);
    acc.row?.(i);
    emitRowLoop(f, facts, {
      axes: [...at.batchLocals.map((local) => ({ local })), { local: i }, undefined, { value: 0 }],
      va: nb + 1,
      j0: () => f.get(at.jc),
      j1: jEnd,
      stores: k.stores,
      vector,
      variantRefs: new Set(['acc']),
      scalarRef: (_name, j) => acc.scalar(accAddress, j),
      vectorRef: (_name, j) => acc.vector(accAddress, j),
    });
  });
}
