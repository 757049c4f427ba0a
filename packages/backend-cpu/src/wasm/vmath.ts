/**
 * f32x4 approximations of exp and tanh, emitted as module functions
 * (v128 -> v128). Error bounds, measured against float64 Math.* over a dense
 * grid and asserted by test/wasm-math.test.ts:
 *
 * - exp: Cody-Waite reduction x = n ln2 + r, |r| <= ln2/2, Cephes' degree-7
 *   polynomial for e^r, scaled by 2^h * 2^(n-h) so the result overflows to
 *   +inf and underflows to subnormals and 0 where float32 does. Relative
 *   error < 2e-7 on [-87, 88.7]; +inf above 88.73, 0 at -inf, NaN for NaN.
 * - tanh: Cephes' odd polynomial for |x| < 0.625, 1 - 2 / (exp(2|x|) + 1)
 *   above, with the sign of x. Relative error < 2e-7; +-1 at +-inf.
 *
 * All far inside the f32 tolerance policy (atol 1e-5, rtol 1e-4).
 */
import { type FunctionBuilder, FunctionBuilder as Fn, I32, ModuleBuilder, V128 } from './binary.ts';
import { OP, SIMD } from './opcodes.ts';

const LOG2E = 1.44269504088896341;
const LN2_HI = 0.693359375;
const LN2_LO = -2.12194440e-4;
const EXP_POLY = [1.9875691500e-4, 1.3981999507e-3, 8.3334519073e-3, 4.1665795894e-2, 1.6666665459e-1, 5.0000001201e-1];

/** Horner: pushes ((c0 * z + c1) * z + ...) for the z in local `z`. */
function horner(f: FunctionBuilder, z: number, coeffs: readonly number[]): void {
  f.f32x4(coeffs[0]!);
  for (const c of coeffs.slice(1)) f.get(z).simd(SIMD.f32x4_mul).f32x4(c).simd(SIMD.f32x4_add);
}

/** exp on f32x4 (see the file comment for its error bound). */
function emitExp(): Fn {
  const f = new Fn([V128], [V128]);
  const x = 0;
  const n = f.local(V128);
  const r = f.local(V128);
  const r2 = f.local(V128);
  // Clamp, then n = round(x log2 e). pmax(x, lo) = x < lo ? lo : x and pmin likewise pass a NaN x through, as
  // max/min do, and are one instruction each on x64 (max/min are about seven, for their NaN and -0 rules).
  f.get(x).f32x4(-104).simd(SIMD.f32x4_pmax).f32x4(88.75).simd(SIMD.f32x4_pmin).set(x);
  f.get(x).f32x4(LOG2E).simd(SIMD.f32x4_mul).simd(SIMD.f32x4_nearest).set(n);
  f.get(x).get(n).f32x4(LN2_HI).simd(SIMD.f32x4_mul).simd(SIMD.f32x4_sub);
  f.get(n).f32x4(LN2_LO).simd(SIMD.f32x4_mul).simd(SIMD.f32x4_sub).set(r);
  f.get(r).get(r).simd(SIMD.f32x4_mul).set(r2);
  // p = poly(r) * r^2 + r + 1
  horner(f, r, EXP_POLY);
  f.get(r2).simd(SIMD.f32x4_mul).get(r).simd(SIMD.f32x4_add).f32x4(1).simd(SIMD.f32x4_add);
  // * 2^n as 2^h * 2^(n-h), h = n >> 1: each factor's exponent stays in range, so the
  // products overflow to inf and underflow to subnormals/0 as float32 does.
  const ni = f.local(V128);
  const h = f.local(V128);
  f.get(n).simd(SIMD.i32x4_trunc_sat_f32x4_s).tee(ni).i32(1).simd(SIMD.i32x4_shr_s).set(h);
  f.get(h).i32x4(127).simd(SIMD.i32x4_add).i32(23).simd(SIMD.i32x4_shl).simd(SIMD.f32x4_mul);
  f.get(ni).get(h).simd(SIMD.i32x4_sub).i32x4(127).simd(SIMD.i32x4_add).i32(23).simd(SIMD.i32x4_shl).simd(SIMD.f32x4_mul);
  return f;
}

const TANH_POLY = [-5.70498872745e-3, 2.06390887954e-2, -5.37397155531e-2, 1.33314422036e-1, -3.33332819422e-1];

/** tanh on f32x4, calling `exp` (function index). Odd: computed on |x|, the sign of x put back last (tanh(-0) = -0). */
function emitTanh(exp: number): Fn {
  const f = new Fn([V128], [V128]);
  const x = 0;
  const a = f.local(V128);
  const z = f.local(V128);
  const big = f.local(V128);
  f.get(x).simd(SIMD.f32x4_abs).set(a);
  // small: a + a z P(z), z = a^2
  f.get(a).get(a).simd(SIMD.f32x4_mul).set(z);
  horner(f, z, TANH_POLY);
  f.get(z).simd(SIMD.f32x4_mul).get(a).simd(SIMD.f32x4_mul).get(a).simd(SIMD.f32x4_add);
  // large: 1 - 2 / (exp(2a) + 1)
  f.f32x4(1).f32x4(2);
  f.get(a).get(a).simd(SIMD.f32x4_add).call(exp).f32x4(1).simd(SIMD.f32x4_add);
  f.simd(SIMD.f32x4_div).simd(SIMD.f32x4_sub).set(big);
  // a < 0.625 ? small : large (small is on the stack), then the sign of x
  f.get(big).get(a).f32x4(0.625).simd(SIMD.f32x4_lt).simd(SIMD.v128_bitselect);
  f.get(x).i32x4(-0x80000000).simd(SIMD.v128_and).simd(SIMD.v128_or);
  return f;
}

/** Adds the vector math functions to a module; returns their function indices. */
export function addVectorMath(m: ModuleBuilder): { vexp: number; vtanh: number } {
  const vexp = m.addFunc(emitExp());
  const vtanh = m.addFunc(emitTanh(vexp));
  return { vexp, vtanh };
}

/** A standalone module exporting each function over a memory, for tests: vexp(ptr, n) maps n floats (n a multiple of 4) in place. */
export function vectorMathTestModule(): Uint8Array<ArrayBuffer> {
  const m = new ModuleBuilder();
  m.importMemory('env', 'memory', 1, undefined, false);
  const lib = addVectorMath(m);
  for (const [name, idx] of Object.entries(lib)) {
    const f = new Fn([I32, I32], []);
    const i = f.local(I32);
    f.for(i, () => f.i32(0), () => f.get(1), 4, () => {
      f.get(0).get(i).i32(2).op(OP.i32_shl).op(OP.i32_add);
      f.get(0).get(i).i32(2).op(OP.i32_shl).op(OP.i32_add).simdMem(SIMD.v128_load, 2).call(idx);
      f.simdMem(SIMD.v128_store, 2);
    });
    m.addFunc(f, name);
  }
  return m.encode();
}
