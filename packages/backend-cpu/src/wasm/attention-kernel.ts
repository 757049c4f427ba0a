/**
 * Attention kernels in wasm, with the JS emitter's online softmax: per
 * query row (threads split the batch x query rows) q is evaluated once into
 * scratch, then one pass over the visible keys (the causal bound ends the
 * loop, masked keys are skipped) updates the running max m, the normaliser
 * l and the output row (f32, in scratch). The dot products and output-row
 * updates run along the channel axis in f32x4 when readK / readV have a
 * vector form, with scalar tails; the scores, m and l are float64.
 */
import type { AttentionKernel, Expr } from '@tessera/kernel';
import { F64, type FunctionBuilder, I32, V128 } from './binary.ts';
import { SCRATCH, decompose, kernelFunction, onlyThreadZero, splitRange } from './kernel-common.ts';
import { emitRowLoop } from './map-kernel.ts';
import { OP, SIMD } from './opcodes.ts';
import { ScalarEmitter } from './scalar-expr.ts';
import { Addresser, type AxisSource, type ProgramFacts } from './scope.ts';
import { VectorEmitter, vectorizable } from './vector-expr.ts';

const align16 = (x: number) => Math.ceil(x / 16) * 16;

/**
 * Emits `for c in [0, n)`: f32x4 steps while 4 channels remain (when
 * `vector`), then scalar steps; `step4` / `step1` emit one step's work
 * with the channel in local `c`.
 */
function channelLoop(f: FunctionBuilder, c: number, n: number, vector: boolean, step4: () => void, step1: () => void): void {
  f.i32(0).set(c);
  if (vector && n >= 4) {
    f.block((exit) => {
      f.i32(n - 3).get(c).op(OP.i32_le_s).brIf(exit);
      f.loop((top) => {
        step4();
        f.get(c).i32(4).op(OP.i32_add).tee(c).i32(n - 3).op(OP.i32_lt_s).brIf(top);
      });
    });
  }
  f.block((exit) => {
    f.get(c).i32(n).op(OP.i32_ge_s).brIf(exit);
    f.loop((top) => {
      step1();
      f.get(c).i32(1).op(OP.i32_add).tee(c).i32(n).op(OP.i32_lt_s).brIf(top);
    });
  });
}

/** Emits an attention kernel; returns the function and its scratch bytes per thread. */
export function emitAttentionKernel(k: AttentionKernel, facts: ProgramFacts, exp: number): { fn: FunctionBuilder; scratch: number } {
  const f = kernelFunction();
  const nb = k.batch.length;
  const [AJ, AC] = [nb + 1, nb + 2];
  const batchTotal = k.batch.reduce((a, b) => a * b, 1);
  const rows = batchTotal * k.tq;
  const qOff = 0;
  const oOff = align16(k.d * 4);
  const scratch = oOff + align16(k.dv * 4);
  const r0 = f.local(I32);
  const r1 = f.local(I32);
  if (rows * k.tk * (k.d + k.dv) < facts.minParallelWork) {
    onlyThreadZero(f);
    f.i32(0).set(r0).i32(rows).set(r1);
  } else splitRange(f, rows, r0, r1);
  const qrow = f.local(I32);
  const orow = f.local(I32);
  f.get(SCRATCH).i32(qOff).op(OP.i32_add).set(qrow);
  f.get(SCRATCH).i32(oOff).op(OP.i32_add).set(orow);
  const r = f.local(I32);
  const rowLocals = [...k.batch, k.tq].map(() => f.local(I32));
  const [i, j, c] = [rowLocals[nb]!, f.local(I32), f.local(I32)];
  const [m, l, s, corr, p] = [0, 0, 0, 0, 0].map(() => f.local(F64)) as [number, number, number, number, number];
  const jEnd = f.local(I32);
  const axesAt = (jSrc: AxisSource, cSrc: AxisSource): (AxisSource | undefined)[] => [...rowLocals.map((local) => ({ local })), jSrc, cSrc];
  const noRef = (name: string) => {
    throw new Error(`wasm emitter: attention operand refers to '${name}'`);
  };
  const scalarValue = (e: Expr, addr: Addresser) => {
    const ex = new ScalarEmitter(f, facts, addr, noRef);
    ex.count(e);
    ex.emit(e);
  };
  const vecK = vectorizable(k.readK);
  const vecV = vectorizable(k.readV);

  f.for(r, () => f.get(r0), () => f.get(r1), 1, () => {
    decompose(f, r, [...k.batch, k.tq], rowLocals);
    // q row into scratch (f32).
    {
      const addr = new Addresser(f, facts, axesAt({ value: 0 }, { local: c }));
      f.for(c, () => f.i32(0), () => f.i32(k.d), 1, () => {
        f.get(qrow).get(c).i32(2).op(OP.i32_shl, OP.i32_add);
        scalarValue(k.readQ, addr);
        f.op(OP.f32_demote_f64).mem(OP.f32_store, 2);
      });
    }
    // orow = 0, m = -inf, l = 0
    f.for(c, () => f.i32(0), () => f.i32(k.dv), 1, () => f.get(orow).get(c).i32(2).op(OP.i32_shl, OP.i32_add).f32(0).mem(OP.f32_store, 2));
    f.f64(-Infinity).set(m).f64(0).set(l);
    if (k.causalOffset === undefined) f.i32(k.tk).set(jEnd);
    else {
      // min(tk, i + offset + 1), and not below 0
      const t = f.local(I32);
      f.get(i).i32(k.causalOffset + 1).op(OP.i32_add).set(t);
      f.i32(k.tk).get(t).get(t).i32(k.tk).op(OP.i32_gt_s, OP.select).set(t);
      f.i32(0).get(t).get(t).i32(0).op(OP.i32_lt_s, OP.select).set(jEnd);
    }
    f.for(j, () => f.i32(0), () => f.get(jEnd), 1, () => {
      f.block((skip) => {
        const maskAddr = new Addresser(f, facts, axesAt({ local: j }, { value: 0 }));
        if (k.keep) {
          scalarValue(k.keep, maskAddr);
          f.op(OP.i32_eqz).brIf(skip);
        }
        // s = scale * q.k (+ bias)
        const kAxes = axesAt({ local: j }, { local: c });
        const kAddr = new Addresser(f, facts, kAxes, new Set([...rowLocals.keys(), AJ]));
        kAddr.hoist([k.readK, k.readV]);
        const vacc = f.local(V128);
        f.f64(0).set(s);
        f.i32x4(0).set(vacc);
        const kv = vecK ? new VectorEmitter(f, facts, kAddr, { va: AC, j: c, ref: noRef }) : undefined;
        channelLoop(
          f,
          c,
          k.d,
          vecK,
          () => {
            f.get(vacc).get(qrow).get(c).i32(2).op(OP.i32_shl, OP.i32_add).simdMem(SIMD.v128_load, 2);
            kv!.emit(k.readK);
            f.simd(SIMD.f32x4_mul).simd(SIMD.f32x4_add).set(vacc);
          },
          () => {
            f.get(s).get(qrow).get(c).i32(2).op(OP.i32_shl, OP.i32_add).mem(OP.f32_load, 2).op(OP.f64_promote_f32);
            scalarValue(k.readK, kAddr);
            f.op(OP.f64_mul, OP.f64_add).set(s);
          },
        );
        if (vecK && k.d >= 4) for (let lane = 0; lane < 4; lane++) f.get(s).get(vacc).simdLane(SIMD.f32x4_extract_lane, lane).op(OP.f64_promote_f32, OP.f64_add).set(s);
        f.get(s).f64(k.scale).op(OP.f64_mul);
        if (k.bias) {
          scalarValue(k.bias, maskAddr);
          f.op(OP.f64_add);
        }
        f.set(s);
        // A key at -inf adds nothing; skipping it keeps exp(-inf - -inf) = NaN out of rows that still have visible keys.
        f.get(s).f64(-Infinity).op(OP.f64_eq).brIf(skip);
        f.get(s).get(m).op(OP.f64_gt);
        f.if(() => {
          // New max: rescale l and the output row by exp(m - s).
          f.get(m).get(s).op(OP.f64_sub).call(exp).set(corr);
          f.get(l).get(corr).op(OP.f64_mul).set(l);
          const vc = f.local(V128);
          f.get(corr).op(OP.f32_demote_f64).simd(SIMD.f32x4_splat).set(vc);
          const at = f.local(I32);
          const oAddr = () => f.get(orow).get(c).i32(2).op(OP.i32_shl, OP.i32_add).tee(at);
          channelLoop(
            f,
            c,
            k.dv,
            true,
            () => {
              oAddr();
              f.get(at).simdMem(SIMD.v128_load, 2).get(vc).simd(SIMD.f32x4_mul).simdMem(SIMD.v128_store, 2);
            },
            () => {
              oAddr();
              f.get(at).mem(OP.f32_load, 2).op(OP.f64_promote_f32).get(corr).op(OP.f64_mul, OP.f32_demote_f64).mem(OP.f32_store, 2);
            },
          );
          f.get(s).set(m);
        });
        // p = exp(s - m); l += p; orow += p * v_j
        f.get(s).get(m).op(OP.f64_sub).call(exp).set(p);
        f.get(l).get(p).op(OP.f64_add).set(l);
        const vp = f.local(V128);
        f.get(p).op(OP.f32_demote_f64).simd(SIMD.f32x4_splat).set(vp);
        const at = f.local(I32);
        const oAddr = () => f.get(orow).get(c).i32(2).op(OP.i32_shl, OP.i32_add).tee(at);
        const vv = vecV ? new VectorEmitter(f, facts, kAddr, { va: AC, j: c, ref: noRef }) : undefined;
        channelLoop(
          f,
          c,
          k.dv,
          vecV,
          () => {
            oAddr();
            f.get(at).simdMem(SIMD.v128_load, 2).get(vp);
            vv!.emit(k.readV);
            f.simd(SIMD.f32x4_mul).simd(SIMD.f32x4_add).simdMem(SIMD.v128_store, 2);
          },
          () => {
            oAddr();
            f.get(at).mem(OP.f32_load, 2).op(OP.f64_promote_f32).get(p);
            scalarValue(k.readV, kAddr);
            f.op(OP.f64_mul, OP.f64_add, OP.f32_demote_f64).mem(OP.f32_store, 2);
          },
        );
      });
    });
    // The stores, with out = orow / l (NaN when every key was masked: 0 / 0).
    const vl = f.local(V128);
    f.get(l).op(OP.f32_demote_f64).simd(SIMD.f32x4_splat).set(vl);
    const dvEnd = f.local(I32);
    f.i32(k.dv).set(dvEnd);
    emitRowLoop(f, facts, {
      axes: axesAt({ value: 0 }, { value: 0 }),
      va: AC,
      j0: () => f.i32(0),
      j1: dvEnd,
      stores: k.stores,
      vector: k.dv >= 4 && k.stores.every((st) => vectorizable(st.value)),
      variantRefs: new Set(['out']),
      scalarRef: (_name, cc) => {
        f.get(orow).get(cc).i32(2).op(OP.i32_shl, OP.i32_add).mem(OP.f32_load, 2).op(OP.f64_promote_f32).get(l).op(OP.f64_div);
      },
      vectorRef: (_name, cc) => {
        f.get(orow).get(cc).i32(2).op(OP.i32_shl, OP.i32_add).simdMem(SIMD.v128_load, 2).get(vl).simd(SIMD.f32x4_div);
      },
    });
  });
  return { fn: f, scratch };
}
