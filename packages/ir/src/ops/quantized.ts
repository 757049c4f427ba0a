/**
 * The int8 contraction (issue 16): `matmul_int8(a, b)` is a matmul whose
 * operands are quantized symmetrically to integers, multiplied exactly in
 * integers and scaled back:
 *
 *   - a is quantized per row (each [..., i, :] of the [..., M, K] operand),
 *     dynamically (from the values it holds when the program runs), to
 *     integers in [-activation_max, activation_max];
 *   - b is quantized per output channel (each [..., :, j] of [..., K, N]) to
 *     integers in [-weight_max, weight_max] (a weight: backends quantize and
 *     pack it once, when it is bound);
 *   - result[..., i, j] = acc * scaleA[..., i] * scaleB[..., j], acc the
 *     exact integer sum over p of qa[..., i, p] * qb[..., p, j].
 *
 * Quantizing a vector v with bound Q (INT8_QUANTIZATION):
 *   1. every value is first rounded to f32, as every backend stores it;
 *   2. scale = f32(max_p |v_p| / Q): the f32 division, correctly rounded;
 *   3. q_p = clamp(roundHalfEven(f32(v_p / scale)), -Q, Q), the division
 *      again the correctly rounded f32 one (so a backend's f32 division and
 *      f32.nearest give the same integers, bit for bit); saturating, though
 *      with that scale |v_p / scale| exceeds Q by rounding at most; a NaN
 *      quotient (0/0 when scale is 0, inf/inf) counts as 0.
 * A row or column holding NaN or an infinity has a scale that is NaN or
 * infinite, and its results are NaN (what acc * scale gives with acc = 0); an
 * all-zero row or column has scale 0 and results 0.
 *
 * Why the bounds are attributes (127 by default, at most 127, so -128 never
 * occurs and the scheme stays symmetric): WebAssembly's relaxed i8 x i7 dot
 * product gives the same answer on every engine only when every lane of its
 * second operand has its top bit clear (x86's pmaddubsw reads it unsigned,
 * arm's sdot signed). The CPU backend feeds it one operand offset by 64,
 * q + 64 in [1, 127], which needs |q| <= 63: weight_max = 63 (or
 * activation_max = 63) lets it use that instruction; with both at 127 it
 * uses `i32x4.dot_i16x8_s` instead. Either way the integer sum is exact:
 * |acc| <= K * activation_max * weight_max must fit an i32 (the type rule).
 */
import { TypeRuleError } from '../errors.ts';
import { num } from '../attrs.ts';
import { type OpSpec, type OpTable, fixedOperands } from '../op-def.ts';
import type { RefTensor } from '../ref-tensor.ts';
import { type TensorType, numel, stridesOf } from '../tensor-type.ts';
import { matmulType } from './contraction.ts';
import { roundHalfEven } from './elementwise.ts';
import { broadcastOffset, forEachIndex } from './eval-util.ts';

/** The largest bound of quantized values: int8 without -128, so the scheme is symmetric. */
export const INT8_WEIGHT_MAX = 127;

/** The bound (of either operand) that lets the CPU backend use relaxed SIMD's i8 x i7 dot product (see the module comment). */
export const INT8_SEVEN_BIT_MAX = 63;

/** The scale of a vector quantized with bound `qmax`, from its largest |value| (already f32): f32(absMax / qmax). */
export function quantScale(absMax: number, qmax: number): number {
  return Math.fround(absMax / qmax);
}

/** The quantized integer of one value (already f32) under `scale` and bound `qmax` (see the module comment). */
export function quantValue(v: number, scale: number, qmax: number): number {
  const q = roundHalfEven(Math.fround(v / scale));
  if (Number.isNaN(q)) return 0;
  return Math.min(qmax, Math.max(-qmax, q));
}

/**
 * Quantizes `n` values of `src` at `offset + t * stride` (t < n) into `out`
 * (n integers) with bound `qmax`; returns the scale. NaN anywhere gives a
 * NaN scale.
 */
export function quantizeVector(src: ArrayLike<number>, offset: number, stride: number, n: number, qmax: number, out: Float64Array): number {
  let absMax = 0;
  for (let t = 0; t < n; t++) {
    const v = Math.abs(Math.fround(src[offset + t * stride]!));
    if (!(v <= absMax)) absMax = Number.isNaN(v) ? NaN : v;
    if (Number.isNaN(absMax)) break;
  }
  const scale = quantScale(absMax, qmax);
  for (let t = 0; t < n; t++) out[t] = quantValue(Math.fround(src[offset + t * stride]!), scale, qmax);
  return scale;
}

/** The dequantized result of an exact integer sum: acc * scaleA * scaleB, NaN when either scale is not finite. */
export function dequantize(acc: number, scaleA: number, scaleB: number): number {
  return Number.isFinite(scaleA) && Number.isFinite(scaleB) ? acc * scaleA * scaleB : NaN;
}

/** Result type of matmul_int8: matmul's, with the integer sum bounded by an i32. */
function matmulInt8Type(a: TensorType, b: TensorType, activationMax: number, weightMax: number): TensorType {
  for (const [name, v] of [['activation_max', activationMax], ['weight_max', weightMax]] as const) {
    if (!(v >= 1 && v <= INT8_WEIGHT_MAX)) throw new TypeRuleError(`attribute '${name}' must be in 1..${INT8_WEIGHT_MAX}, got ${v}`);
  }
  const type = matmulType(a, b);
  const k = a.shape.at(-1)!;
  const bound = k * activationMax * weightMax;
  if (bound > 2 ** 31 - 1) {
    throw new TypeRuleError(`contraction extent K=${k} is too long for an exact i32 sum (K * ${activationMax} * ${weightMax} = ${bound} > 2^31 - 1): at most ${Math.floor((2 ** 31 - 1) / (activationMax * weightMax))}`);
  }
  return type;
}

/** The reference: quantize each row of a and column of b (float64 / exact integers, per the module comment). */
function matmulInt8Ref(a: RefTensor, b: RefTensor, result: TensorType, activationMax: number, weightMax: number): RefTensor {
  const batch = result.shape.slice(0, -2);
  const [m, n] = result.shape.slice(-2) as [number, number];
  const k = a.type.shape.at(-1)!;
  const aBatch = a.type.shape.slice(0, -2);
  const bBatch = b.type.shape.slice(0, -2);
  const aStrides = stridesOf(aBatch);
  const bStrides = stridesOf(bBatch);
  const data = new Float64Array(numel(result.shape));
  const qa = new Float64Array(m * k);
  const qb = new Float64Array(k * n);
  const sa = new Float64Array(m);
  const sb = new Float64Array(n);
  const row = new Float64Array(k);
  forEachIndex(batch, (idx, flat) => {
    const ao = broadcastOffset(aBatch, aStrides, idx) * m * k;
    const bo = broadcastOffset(bBatch, bStrides, idx) * k * n;
    for (let i = 0; i < m; i++) {
      sa[i] = quantizeVector(a.data, ao + i * k, 1, k, activationMax, row);
      qa.set(row, i * k);
    }
    for (let j = 0; j < n; j++) {
      sb[j] = quantizeVector(b.data, bo + j, n, k, weightMax, row);
      for (let p = 0; p < k; p++) qb[p * n + j] = row[p]!;
    }
    const oo = flat * m * n;
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        let acc = 0;
        for (let p = 0; p < k; p++) acc += qa[i * k + p]! * qb[p * n + j]!;
        data[oo + i * n + j] = dequantize(acc, sa[i]!, sb[j]!);
      }
    }
  });
  return { type: result, data };
}

const matmulInt8Op: OpSpec = {
  doc: 'int8 matmul [..., M, K] x [..., K, N] -> [..., M, N]: a quantized per row (bound activation_max), b per column (bound weight_max), symmetric, round half to even, exact integer sum, scaled back (see ops/quantized.ts)',
  fusion: 'contraction',
  operands: fixedOperands('a', 'b'),
  attrs: {
    activation_max: { kind: 'int', default: 127, doc: "bound of a's quantized values (1..127; 63 allows relaxed SIMD's i8 x i7 dot product)" },
    weight_max: { kind: 'int', default: 127, doc: "bound of b's quantized values (1..127; 63 allows relaxed SIMD's i8 x i7 dot product)" },
  },
  inferType: ([a, b], attrs) => matmulInt8Type(a!, b!, num(attrs, 'activation_max'), num(attrs, 'weight_max')),
  evaluate: ([a, b], attrs, result) => matmulInt8Ref(a!, b!, result, num(attrs, 'activation_max'), num(attrs, 'weight_max')),
};

/** Quantized contractions. */
export const QUANTIZED_OPS = {
  matmul_int8: matmulInt8Op,
} as const satisfies OpTable;
