/**
 * The matmul micro-kernel: an MR x NR block of C held in f32x4 registers
 * (MR * NR/4 accumulators), updated from packed panels of A (MR values per
 * k step, each broadcast with load32_splat) and B (NR values per k step,
 * NR/4 vector loads): MR*NR/4 multiplies and adds per step, no shuffles.
 * The register block must fit the 15 xmm registers V8 allocates from
 * (MR * NR/4 accumulators + NR/4 B vectors + 1 A splat), or it spills.
 * Where the engine has relaxed SIMD, each multiply and add is one
 * f32x4.relaxed_madd (fused on x64 with FMA3 and on arm64): fewer
 * instructions and one rounding instead of two.
 */
import { FunctionBuilder, I32, type ModuleBuilder, V128 } from './binary.ts';
import { OP, SIMD } from './opcodes.ts';

/** The former register block's rows (4 x 8: 8 accumulators), for the micro-kernel study. */
export const MR = 4;
/** Columns of the register block (two f32x4 vectors of B). */
export const NR = 8;
/**
 * Rows of the register block the matmul and attention kernels use: 6 x 8
 * is 12 accumulators + 2 B vectors + 1 A splat, all 15 registers. Per
 * depth step V8 emits 12 fused multiply-adds in 28 instructions (4 x 8: 8
 * in 22; the rest are the loads, the loop's stack check and the pointers'
 * zero-extensions); the machine retires about the same instructions per
 * second in both and in the ceiling loop, so the larger block is the
 * faster (bench/micro-kernel.ts: 58 against 54 GFLOP/s on one thread).
 */
export const MATMUL_MR = 6;

/**
 * micro(pa, pb, c, ldc, kc, accumulate): C[MR x NR] at byte address c (row
 * stride ldc bytes) = (accumulate ? C : 0) + sum over kc steps of the outer
 * product of the A panel column (MR floats at pa) and B panel row (NR
 * floats at pb).
 *
 * Not unrolled on purpose: V8's TurboFan schedules the loads of unrolled
 * steps early and materialises one base register per memarg offset, which
 * spills; measured on Zen 3, the plain loop runs at 2-3x the unrolled one.
 */
function emitMicro(fma: boolean, shape: MicroShape): FunctionBuilder {
  const { mr: MR, nr: NR, unroll } = shape;
  const f = new FunctionBuilder([I32, I32, I32, I32, I32, I32], []);
  const [pa, pb, c, ldc, kc, accumulate] = [0, 1, 2, 3, 4, 5];
  const NV = NR / 4;
  const acc = Array.from({ length: MR }, () => Array.from({ length: NV }, () => f.local(V128)));
  const b = Array.from({ length: NV }, () => f.local(V128));
  const a = f.local(V128);
  const aq = shape.shuffleA ? Array.from({ length: Math.ceil(MR / 4) }, () => f.local(V128)) : [];
  const rows = Array.from({ length: MR }, () => f.local(I32));
  const end = f.local(I32);
  rows.forEach((r, i) => {
    f.get(c);
    if (i) f.get(ldc).i32(i).op(OP.i32_mul, OP.i32_add);
    f.set(r);
  });
  f.get(accumulate).if(
    () => acc.forEach((row, r) => row.forEach((l, v) => f.get(rows[r]!).simdMem(SIMD.v128_load, 4, v * 16).set(l))),
    () => acc.forEach((row) => row.forEach((l) => f.i32x4(0).set(l))),
  );
  f.get(kc).i32(MR * 4).op(OP.i32_mul).get(pa).op(OP.i32_add).set(end);
  f.block((exit) => {
    f.get(pa).get(end).op(OP.i32_ge_u).brIf(exit);
    f.loop((top) => {
      // kc must be a multiple of `unroll` (the study's panels are; the matmul kernel uses unroll 1).
      for (let u = 0; u < unroll; u++) {
        b.forEach((l, v) => f.get(pb).simdMem(SIMD.v128_load, 4, (u * NR + v * 4) * 4).set(l));
        // With shuffles: A's MR values as v128 loads, each broadcast by a lane shuffle (fewer loads, more shuffles).
        if (shape.shuffleA) aq.forEach((l, q) => f.get(pa).simdMem(SIMD.v128_load, 2, (u * MR + q * 4) * 4).set(l));
        for (let r = 0; r < MR; r++) {
          if (shape.shuffleA) {
            const lane = r % 4;
            f.get(aq[r >> 2]!).get(aq[r >> 2]!).shuffle([0, 1, 2, 3].flatMap(() => [lane * 4, lane * 4 + 1, lane * 4 + 2, lane * 4 + 3])).set(a);
          } else f.get(pa).simdMem(SIMD.v128_load32_splat, 2, (u * MR + r) * 4).set(a);
          for (let v = 0; v < NV; v++) {
            if (fma) f.get(a).get(b[v]!).get(acc[r]![v]!).simd(SIMD.f32x4_relaxed_madd).set(acc[r]![v]!);
            else f.get(acc[r]![v]!).get(a).get(b[v]!).simd(SIMD.f32x4_mul).simd(SIMD.f32x4_add).set(acc[r]![v]!);
          }
        }
      }
      f.get(pa).i32(unroll * MR * 4).op(OP.i32_add).set(pa);
      f.get(pb).i32(unroll * NR * 4).op(OP.i32_add).set(pb);
      f.get(pa).get(end).op(OP.i32_lt_u).brIf(top);
    });
  });
  acc.forEach((row, r) => row.forEach((l, v) => f.get(rows[r]!).get(l).simdMem(SIMD.v128_store, 4, v * 16)));
  return f;
}

/** A register block and k-loop unrolling of the micro-kernel (the kernels' is MATMUL_MR x NR, not unrolled; others are for bench/micro-kernel.ts). */
export interface MicroShape {
  readonly mr: number;
  /** A multiple of 4. */
  readonly nr: number;
  readonly unroll: number;
  /** A's values loaded 4 at a time and broadcast by shuffles rather than by splatting loads. */
  readonly shuffleA?: boolean;
}

/** Adds a micro-kernel of another shape to a module, for the micro-kernel study; returns its function index. */
export function addMicroKernelOfShape(m: ModuleBuilder, fma: boolean, shape: MicroShape): number {
  return m.addFunc(emitMicro(fma, shape));
}

/** Adds the micro-kernel (MATMUL_MR x NR) to a module, with fused multiply-adds when `fma`; returns its function index. */
export function addMicroKernel(m: ModuleBuilder, fma: boolean): number {
  return m.addFunc(emitMicro(fma, { mr: MATMUL_MR, nr: NR, unroll: 1 }));
}
