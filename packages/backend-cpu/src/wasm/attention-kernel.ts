/**
 * Attention kernels in wasm as two small matmuls per block of queries,
 * both on the f32x4 micro-kernel, with the scores kept in this thread's
 * scratch (one block at a time: never the whole [.., tq, tk] tensor):
 *
 *   S = Q_blk K^T            (readQ / readK packed like matmul operands)
 *   P = softmax rows of scale * S + bias, masked keys and keys past the
 *       causal bound at probability 0 (f32x4 passes, exp from vmath.ts)
 *   O = P V / l              (readV packed; l the row sums)
 *
 * then the stores (the epilogue of `out`) run along the channels, and the
 * stat stores (attention probes) once per row with its m and l. A row
 * whose keys are all masked has P = 0 and l = 0, so out = 0/0 = NaN, as
 * the graph's softmax gives. Threads split the (batch entry, query block)
 * pairs.
 */
import { numel } from '@tessera/ir';
import type { AttentionKernel } from '@tessera/kernel';
import { F32, type FunctionBuilder, I32, V128 } from './binary.ts';
import { SCRATCH, align64, decompose, forEachChunk, kernelFunction, onlyThreadZero, roundUp, setMin } from './kernel-common.ts';
import { emitRowLoop } from './map-kernel.ts';
import { MATMUL_MR as MR, NR } from './micro-kernel.ts';
import { OP, SIMD } from './opcodes.ts';
import { emitPack, emitPackRaw } from './pack.ts';
import { WasmScalarRenderer, emitScalarStores } from './scalar-expr.ts';
import { Addresser, type AxisSource, type ProgramFacts } from './scope.ts';
import { WasmVectorRenderer, vectorizable } from './vector-expr.ts';


/** Bytes of a block's scores at most (qb x tk floats): they stay in L2. */
const SCORES_BLOCK_BYTES = 256 * 1024;
/** Work items (batch entry, query block) per thread that blocks are made small enough to give, where the batch alone does not. */
const ITEMS_PER_THREAD = 4;

/**
 * Queries per block: as many as the scores' L2 budget allows, since each
 * block packs the whole of K and V again, but split further when the batch
 * entries alone leave threads without work.
 */
function queryBlock(k: AttentionKernel, threads: number, tkPad: number): number {
  const fit = Math.max(MR, Math.floor(SCORES_BLOCK_BYTES / (tkPad * 4)));
  const forThreads = Math.ceil((ITEMS_PER_THREAD * threads) / numel(k.batch));
  const blocks = Math.max(Math.ceil(k.tq / fit), Math.min(forThreads, Math.ceil(k.tq / MR)));
  return roundUp(Math.ceil(k.tq / blocks), MR);
}

/** Emits an attention kernel; returns the function and its scratch bytes per thread. */
export function emitAttentionKernel(k: AttentionKernel, facts: ProgramFacts, micro: number, vexp: number): { fn: FunctionBuilder; scratch: number } {
  const f = kernelFunction();
  const nb = k.batch.length;
  const [AI, AJ, AC] = [nb, nb + 1, nb + 2];
  const batchTotal = numel(k.batch);
  const tkPad = roundUp(k.tk, NR);
  const qb = queryBlock(k, facts.threads, tkPad);
  const blocks = Math.ceil(k.tq / qb);
  const KC = facts.blocking.kc;
  const dvPad = roundUp(k.dv, NR);
  const ldS = tkPad * 4;
  const ldO = dvPad * 4;
  // Scratch: packed A, packed B, scores S (then P), output block O, row sums l.
  const kcMax = Math.min(KC, Math.max(k.d, k.tk));
  const offPa = 0;
  const offPb = align64(offPa + qb * kcMax * 4);
  const offS = align64(offPb + kcMax * Math.max(tkPad, dvPad) * 4);
  const offO = align64(offS + qb * ldS);
  const offL = align64(offO + qb * ldO);
  const scratch = align64(offL + qb * 4);

  const [w0, w1] = [f.local(I32), f.local(I32)];
  const parallel = batchTotal * k.tq * k.tk * (k.d + k.dv) >= facts.minParallelWork;
  if (!parallel) onlyThreadZero(f);
  const [pa, pb, S, O, L] = [offPa, offPb, offS, offO, offL].map((off) => {
    const l = f.local(I32);
    f.get(SCRATCH).i32(off).op(OP.i32_add).set(l);
    return l;
  }) as [number, number, number, number, number];
  const [w, bi, blk, ic, mc, pc, kc, ir, jr, zero, tkL, dvL, dL] = f.locals(I32, 13);
  f.i32(0).set(zero).i32(k.tk).set(tkL).i32(k.dv).set(dvL).i32(k.d).set(dL);
  const batchLocals = k.batch.map(() => f.local(I32));
  const batchAxes: AxisSource[] = batchLocals.map((local) => ({ local }));
  /** Micro-kernel calls over an (mc x cols) C block with row stride ld. */
  const microBlock = (cols: number, c: number, ld: number) => {
    f.for(jr, () => f.i32(0), () => f.i32(cols), NR, () => {
      f.for(ir, () => f.i32(0), () => f.get(mc), MR, () => {
        f.get(pa).get(ir).get(kc).op(OP.i32_mul).i32(2).op(OP.i32_shl, OP.i32_add);
        f.get(pb).get(jr).get(kc).op(OP.i32_mul).i32(2).op(OP.i32_shl, OP.i32_add);
        f.get(c).get(ir).i32(ld).op(OP.i32_mul, OP.i32_add).get(jr).i32(2).op(OP.i32_shl, OP.i32_add);
        f.i32(ld).get(kc).get(pc).call(micro);
      });
    });
  };

  const blockLoop = () => {
    f.for(w, () => f.get(w0), () => f.get(w1), 1, () => {
      f.get(w).i32(blocks).op(OP.i32_div_u).set(bi);
      f.get(w).i32(blocks).op(OP.i32_rem_u).set(blk);
      decompose(f, bi, k.batch, batchLocals);
      f.get(blk).i32(qb).op(OP.i32_mul).set(ic);
      setMin(f, mc, () => f.i32(qb), () => f.i32(k.tq).get(ic).op(OP.i32_sub));

      // 1. S = Q_blk K^T over the channels in KC slices.
      f.for(pc, () => f.i32(0), () => f.i32(k.d), KC, () => {
        setMin(f, kc, () => f.i32(KC), () => f.i32(k.d).get(pc).op(OP.i32_sub));
        emitPack(f, facts, { value: k.readK, axes: [...batchAxes, { value: 0 }, undefined, undefined], rowAxis: AJ, rowStart: zero, depthAxis: AC, depthStart: pc, rows: tkL, kc, dst: pb, width: NR });
        emitPack(f, facts, { value: k.readQ, axes: [...batchAxes, undefined, { value: 0 }, undefined], rowAxis: AI, rowStart: ic, depthAxis: AC, depthStart: pc, rows: mc, kc, dst: pa, width: MR });
        microBlock(tkPad, S, ldS);
      });

      // 2. Softmax rows of the block, in place: S -> P, row sums into L.
      emitSoftmaxRows(f, facts, k, { batchAxes, ic, mc, S, L, ldS, tkPad, vexp });

      // 3. O = P V over the keys in KC slices (P is raw scratch memory, contiguous along the keys).
      const pBase = f.local(I32);
      f.for(pc, () => f.i32(0), () => f.i32(k.tk), KC, () => {
        setMin(f, kc, () => f.i32(KC), () => f.i32(k.tk).get(pc).op(OP.i32_sub));
        emitPack(f, facts, { value: k.readV, axes: [...batchAxes, { value: 0 }, undefined, undefined], rowAxis: AC, rowStart: zero, depthAxis: AJ, depthStart: pc, rows: dvL, kc, dst: pb, width: NR });
        f.get(S).get(pc).i32(2).op(OP.i32_shl, OP.i32_add).set(pBase);
        emitPackRaw(f, { base: pBase, rowBytes: ldS, rows: mc, kc, dst: pa, width: MR });
        microBlock(dvPad, O, ldO);
      });

      // 4. The stores: out = O / l along the channels.
      const i = f.local(I32);
      const iEnd = f.local(I32);
      const orow = f.local(I32);
      const lf = f.local(I32);
      const vl = f.local(V128);
      f.get(ic).get(mc).op(OP.i32_add).set(iEnd);
      f.for(i, () => f.get(ic), () => f.get(iEnd), 1, () => {
        f.get(O).get(i).get(ic).op(OP.i32_sub).i32(ldO).op(OP.i32_mul, OP.i32_add).set(orow);
        f.get(L).get(i).get(ic).op(OP.i32_sub).i32(2).op(OP.i32_shl, OP.i32_add).set(lf);
        f.get(lf).simdMem(SIMD.v128_load32_splat, 2).set(vl);
        emitRowLoop(f, facts, {
          axes: [...batchAxes, { local: i }, { value: 0 }, undefined],
          va: AC,
          j0: () => f.i32(0),
          j1: dvL,
          stores: k.stores,
          vector: k.dv >= 4 && k.stores.every((st) => vectorizable(st.value)),
          variantRefs: new Set(['out']),
          scalarRef: (_name, c) => {
            f.get(orow).get(c).i32(2).op(OP.i32_shl, OP.i32_add).mem(OP.f32_load, 2).get(lf).mem(OP.f32_load, 2).op(OP.f32_div, OP.f64_promote_f32);
          },
          vectorRef: (_name, c) => {
            f.get(orow).get(c).i32(2).op(OP.i32_shl, OP.i32_add).simdMem(SIMD.v128_load, 2).get(vl).simd(SIMD.f32x4_div);
          },
        });
      });
    });
  };
  if (parallel) forEachChunk(f, facts.counter, batchTotal * blocks, 1, w0, w1, blockLoop);
  else {
    f.i32(0).set(w0).i32(batchTotal * blocks).set(w1);
    blockLoop();
  }
  return { fn: f, scratch };
}

/**
 * Per query row i of the block: s_j = scale * S_ij (+ bias), -inf where
 * the key is masked; m = max s over the keys before the causal bound; then
 * P_ij = exp(s_j - m) there and 0 elsewhere (padding columns included, so
 * the second product adds nothing for them); l_i = sum P_ij. A row without
 * a visible key (m = -inf) gets P = 0 and l = 0.
 */
function emitSoftmaxRows(
  f: FunctionBuilder,
  facts: ProgramFacts,
  k: AttentionKernel,
  at: { batchAxes: readonly AxisSource[]; ic: number; mc: number; S: number; L: number; ldS: number; tkPad: number; vexp: number },
): void {
  const nb = k.batch.length;
  const AJ = nb + 1;
  const [i, iEnd, row, j, jEnd, jEnd4, a] = f.locals(I32, 7);
  const [vm, vs, vsum, vmS] = [f.local(V128), f.local(V128), f.local(V128), f.local(V128)];
  const [m, l, t] = [f.local(F32), f.local(F32), f.local(F32)];
  const masks = [...(k.keep ? [k.keep] : []), ...(k.bias ? [k.bias] : [])];
  const noRef = () => {
    throw new Error('wasm emitter: attention masks refer to no scalar');
  };
  f.get(at.ic).get(at.mc).op(OP.i32_add).set(iEnd);
  f.for(i, () => f.get(at.ic), () => f.get(iEnd), 1, () => {
    f.get(at.S).get(i).get(at.ic).op(OP.i32_sub).i32(at.ldS).op(OP.i32_mul, OP.i32_add).set(row);
    if (k.causalOffset === undefined) f.i32(k.tk).set(jEnd);
    else {
      // clamp(i + offset + 1, 0, tk)
      const c = f.local(I32);
      f.get(i).i32(k.causalOffset + 1).op(OP.i32_add).set(c);
      f.i32(k.tk).get(c).get(c).i32(k.tk).op(OP.i32_gt_s, OP.select).set(c);
      f.i32(0).get(c).get(c).i32(0).op(OP.i32_lt_s, OP.select).set(jEnd);
    }
    // Gathers in a mask have no vector form: then the whole row takes the scalar path.
    if (masks.every(vectorizable)) f.get(jEnd).i32(-4).op(OP.i32_and).set(jEnd4);
    else f.i32(0).set(jEnd4);
    const axes: (AxisSource | undefined)[] = [...at.batchAxes, { local: i }, { local: j }, { value: 0 }];
    const addr = new Addresser(f, facts, axes, new Set([...at.batchAxes.keys(), nb]));
    addr.hoist(masks);
    const sAddr = () => f.get(row).get(j).i32(2).op(OP.i32_shl, OP.i32_add).set(a);

    // Pass 1: s = scale * S (+ bias), -inf where not kept; m = max s.
    f.f32x4(-Infinity).set(vm);
    const vex = new WasmVectorRenderer(f, facts, addr, { va: AJ, j, ref: noRef });
    for (const e of masks) vex.count(e);
    vex.hoist(masks);
    f.for(j, () => f.i32(0), () => f.get(jEnd4), 4, () => {
      sAddr();
      f.get(a).simdMem(SIMD.v128_load, 2).f32x4(k.scale).simd(SIMD.f32x4_mul);
      if (k.bias) {
        vex.emit(k.bias);
        f.simd(SIMD.f32x4_add);
      }
      if (k.keep) {
        f.set(vs).get(vs).f32x4(-Infinity);
        vex.emit(k.keep);
        f.simd(SIMD.v128_bitselect);
      }
      f.set(vs);
      f.get(a).get(vs).simdMem(SIMD.v128_store, 2);
      f.get(vm).get(vs).simd(SIMD.f32x4_max).set(vm);
    });
    f.get(vm).simdLane(SIMD.f32x4_extract_lane, 0).set(m);
    for (let lane = 1; lane < 4; lane++) f.get(m).get(vm).simdLane(SIMD.f32x4_extract_lane, lane).op(OP.f32_max).set(m);
    f.for(j, () => f.get(jEnd4), () => f.get(jEnd), 1, () => {
      sAddr();
      const sx = new WasmScalarRenderer(f, facts, addr, noRef);
      for (const e of masks) sx.count(e);
      f.get(a).mem(OP.f32_load, 2).op(OP.f64_promote_f32).f64(k.scale).op(OP.f64_mul);
      if (k.bias) {
        sx.emit(k.bias);
        f.op(OP.f64_add);
      }
      f.op(OP.f32_demote_f64);
      if (k.keep) {
        f.f32(-Infinity);
        sx.emit(k.keep);
        f.op(OP.select);
      }
      f.set(t);
      f.get(a).get(t).mem(OP.f32_store, 2);
      f.get(m).get(t).op(OP.f32_max).set(m);
    });

    // Pass 2: P = exp(s - m) before the bound, l = sum P; no visible key (m = -inf) leaves P = 0, l = 0.
    f.get(m).f32(-Infinity).op(OP.f32_eq);
    f.if(() => f.i32(0).set(jEnd4).i32(0).set(jEnd));
    f.get(m).simd(SIMD.f32x4_splat).set(vmS);
    f.i32x4(0).set(vsum);
    f.for(j, () => f.i32(0), () => f.get(jEnd4), 4, () => {
      sAddr();
      f.get(a).get(a).simdMem(SIMD.v128_load, 2).get(vmS).simd(SIMD.f32x4_sub).call(at.vexp).tee(vs).simdMem(SIMD.v128_store, 2);
      f.get(vsum).get(vs).simd(SIMD.f32x4_add).set(vsum);
    });
    f.get(vsum).simdLane(SIMD.f32x4_extract_lane, 0).set(l);
    for (let lane = 1; lane < 4; lane++) f.get(l).get(vsum).simdLane(SIMD.f32x4_extract_lane, lane).op(OP.f32_add).set(l);
    f.for(j, () => f.get(jEnd4), () => f.get(jEnd), 1, () => {
      sAddr();
      // One lane through the vector exp keeps a single definition of exp for the kernel.
      f.get(a).simdMem(SIMD.v128_load32_splat, 2).get(vmS).simd(SIMD.f32x4_sub).call(at.vexp).simdLane(SIMD.f32x4_extract_lane, 0).set(t);
      f.get(a).get(t).mem(OP.f32_store, 2);
      f.get(l).get(t).op(OP.f32_add).set(l);
    });
    f.for(j, () => f.get(jEnd), () => f.i32(at.tkPad), 1, () => {
      sAddr();
      f.get(a).f32(0).mem(OP.f32_store, 2);
    });
    f.get(at.L).get(i).get(at.ic).op(OP.i32_sub).i32(2).op(OP.i32_shl, OP.i32_add).get(l).mem(OP.f32_store, 2);
    if (k.statStores) {
      // Attention probes: the row's statistics, max (m) and sum (l), stored once per row.
      const statAddr = new Addresser(f, facts, [...at.batchAxes, { local: i }, { value: 0 }, { value: 0 }], new Set([...at.batchAxes.keys(), nb]));
      const stat = new WasmScalarRenderer(f, facts, statAddr, (name) => f.get(name === 'max' ? m : l).op(OP.f64_promote_f32));
      emitScalarStores(f, stat, statAddr, k.statStores);
    }
  });
}
