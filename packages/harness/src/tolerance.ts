import type { DType } from '@tessera/ir';

/**
 * The project's one tolerance policy, used wherever a computed tensor is
 * compared with the reference interpreter (passes, CPU and WebGPU backends).
 *
 * An element `a` matches the expected `e` when
 *
 *     |a - e| <= atol' + rtol' * |e|,   atol' = atol * sqrt(L),  rtol' = rtol * sqrt(L)
 *
 * where L (`reductionLength`, default 1) is the length of the longest sum
 * (reduction, dot product, softmax row) that fed the values. Why sqrt(L):
 * a backend sums in a different order and precision than the float64
 * interpreter, and each addition rounds with an error of about one ulp of
 * the partial sum; those errors have random signs, so they grow like a
 * random walk, about sqrt(L) ulps, not L (the worst case, which would hide
 * real bugs such as one dropped term of a long sum). Special values are
 * exact: NaN matches only NaN, and +-inf matches only the same infinity.
 * i32 and bool results must match exactly (atol = rtol = 0, whatever L).
 */
export interface Tolerance {
  /** Absolute tolerance before scaling. */
  readonly atol: number;
  /** Relative tolerance (a fraction of |expected|) before scaling. */
  readonly rtol: number;
}

/** Options of a comparison: the dtype picks default tolerances; explicit atol/rtol override them. */
export interface CloseOptions {
  readonly atol?: number;
  readonly rtol?: number;
  /** Length of the longest reduction feeding the values (>= 1); tolerances scale by its square root. */
  readonly reductionLength?: number;
  /** Element type of the values (default f32). i32 and bool default to exact comparison. */
  readonly dtype?: DType;
  /** Arithmetic the f32 values were computed in: `f16` (WebGPU's precision 'f16' matmuls) takes F16_TOLERANCE. */
  readonly compute?: 'f32' | 'f16';
  /**
   * A further allowance per element, added to the policy's: how far f32
   * rounding alone may move each value through an ill-conditioned program
   * (`roundingAllowance`). Absent: none.
   */
  readonly allowance?: ArrayLike<number>;
  /**
   * Other expected values, accepted under the policy too: the program
   * evaluated with each op rounded to f32 (`interpretInF32`), where f32 and
   * float64 land on two sides of a rounding boundary. Absent: none.
   */
  readonly alternative?: ArrayLike<number>;
}

/**
 * Defaults for f32 backends against the float64 interpreter: a few f32 ulps
 * (2^-23 ~ 1.2e-7) of headroom per op over a short chain, relative to the
 * value, plus an absolute floor for results that cancel to near 0.
 */
export const F32_TOLERANCE: Tolerance = { atol: 1e-5, rtol: 1e-4 };

/**
 * f32 results of f16 arithmetic (operands rounded to f16, products and
 * partial sums in f16), scaled by sqrt(L) like F32_TOLERANCE. The error is
 * relative to the terms of a sum, not to the result: with the harness's
 * inputs (|x| <= 3, products up to 9) about two f16 unit roundoffs
 * (2^-11 ~ 4.9e-4) of the largest term make the absolute 1e-2 (the f16
 * matmuls measured at most 0.45 of it); F32_TOLERANCE is looser still in
 * f32 roundoffs (about 170).
 */
export const F16_TOLERANCE: Tolerance = { atol: 1e-2, rtol: 5e-3 };

/** Integers and booleans compare exactly. */
export const EXACT_TOLERANCE: Tolerance = { atol: 0, rtol: 0 };

/** The default (unscaled) tolerance of a dtype. */
export function toleranceFor(dtype: DType): Tolerance {
  return dtype === 'f32' ? F32_TOLERANCE : EXACT_TOLERANCE;
}

/** The tolerance actually applied: defaults of the dtype, overrides, then the sqrt(reductionLength) scaling. */
export function effectiveTolerance(options: CloseOptions = {}): Tolerance {
  const base = options.compute === 'f16' && (options.dtype ?? 'f32') === 'f32' ? F16_TOLERANCE : toleranceFor(options.dtype ?? 'f32');
  const exact = options.dtype === 'i32' || options.dtype === 'bool';
  const length = options.reductionLength ?? 1;
  if (!(length >= 1)) throw new Error(`reductionLength ${length} must be >= 1`);
  const scale = Math.sqrt(length);
  // Integer results have no rounding to scale: exact stays exact.
  const atol = exact && options.atol === undefined ? 0 : (options.atol ?? base.atol) * scale;
  const rtol = exact && options.rtol === undefined ? 0 : (options.rtol ?? base.rtol) * scale;
  if (!(atol >= 0) || !(rtol >= 0)) throw new Error(`tolerances must be >= 0, got atol ${atol}, rtol ${rtol}`);
  return { atol, rtol };
}

/** Whether one element matches under an effective tolerance (the policy's element rule). */
export function elementClose(actual: number, expected: number, tol: Tolerance, extra = 0): boolean {
  if (Number.isNaN(expected) || Number.isNaN(actual)) return Number.isNaN(expected) && Number.isNaN(actual);
  if (!Number.isFinite(expected) || !Number.isFinite(actual)) return actual === expected;
  return Math.abs(actual - expected) <= tol.atol + tol.rtol * Math.abs(expected) + extra;
}

/** One element outside the tolerance. */
export interface Mismatch {
  readonly index: number;
  readonly actual: number;
  readonly expected: number;
  /** |actual - expected| (NaN or Infinity when special values differ). */
  readonly diff: number;
  /** atol' + rtol' * |expected|, plus the element's rounding allowance if one was given. */
  readonly allowed: number;
}

/** The outcome of comparing two arrays. */
export interface Comparison {
  readonly ok: boolean;
  /** Set when the lengths differ (then nothing else was compared). */
  readonly lengths?: { readonly actual: number; readonly expected: number };
  readonly tolerance: Tolerance;
  /** Number of elements outside the tolerance. */
  readonly mismatches: number;
  /** The first few mismatches, in index order. */
  readonly first: readonly Mismatch[];
  /** The mismatch furthest outside its allowance (special-value mismatches first). */
  readonly worst?: Mismatch;
}

const FIRST_SHOWN = 5;

/** Compares element by element under the policy, collecting what differs. */
export function compareClose(actual: ArrayLike<number>, expected: ArrayLike<number>, options: CloseOptions = {}): Comparison {
  const tolerance = effectiveTolerance(options);
  if (actual.length !== expected.length) {
    return { ok: false, lengths: { actual: actual.length, expected: expected.length }, tolerance, mismatches: 0, first: [] };
  }
  const first: Mismatch[] = [];
  let mismatches = 0;
  let worst: Mismatch | undefined;
  let worstExcess = -Infinity;
  for (let i = 0; i < expected.length; i++) {
    const a = Number(actual[i]);
    const e = Number(expected[i]);
    const extra = Number(options.allowance?.[i] ?? 0);
    if (elementClose(a, e, tolerance, extra)) continue;
    if (options.alternative && elementClose(a, Number(options.alternative[i]), tolerance)) continue;
    mismatches++;
    const allowed = tolerance.atol + tolerance.rtol * Math.abs(e) + extra;
    const diff = Math.abs(a - e);
    const m: Mismatch = { index: i, actual: a, expected: e, diff, allowed };
    if (first.length < FIRST_SHOWN) first.push(m);
    const excess = Number.isFinite(diff) ? diff / Math.max(allowed, Number.MIN_VALUE) : Infinity;
    if (excess > worstExcess) {
      worstExcess = excess;
      worst = m;
    }
  }
  return { ok: mismatches === 0, tolerance, mismatches, first, ...(worst ? { worst } : {}) };
}

/** True when every element of `actual` matches `expected` under the tolerance policy (and the lengths agree). */
export function allClose(actual: ArrayLike<number>, expected: ArrayLike<number>, options: CloseOptions = {}): boolean {
  return compareClose(actual, expected, options).ok;
}

/** Formats a flat index as a multi-index of `shape`, e.g. `[1,0,2]`. */
export function multiIndex(flat: number, shape: readonly number[]): string {
  const idx = new Array<number>(shape.length);
  for (let a = shape.length - 1; a >= 0; a--) {
    idx[a] = flat % shape[a]!;
    flat = Math.floor(flat / shape[a]!);
  }
  return `[${idx.join(',')}]`;
}

const fmt = (x: number): string => (Number.isFinite(x) ? String(Number(x.toPrecision(8))) : String(x));

/**
 * Says how `actual` differs from `expected` under the policy (lengths, count,
 * the first mismatches with their indices, the worst one, the tolerance
 * used), or undefined when they match. `what` names the tensor; `shape`
 * turns flat indices into multi-indices.
 */
export function describeMismatch(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  options: CloseOptions = {},
  where: { readonly what?: string; readonly shape?: readonly number[] } = {},
): string | undefined {
  const c = compareClose(actual, expected, options);
  if (c.ok) return undefined;
  const name = where.what ?? 'values';
  if (c.lengths) return `${name}: ${c.lengths.actual} elements, expected ${c.lengths.expected}`;
  const at = (m: Mismatch) => (where.shape ? `${multiIndex(m.index, where.shape)} (flat ${m.index})` : `[${m.index}]`);
  const line = (m: Mismatch) => `${at(m)}: actual ${fmt(m.actual)}, expected ${fmt(m.expected)}, |diff| ${fmt(m.diff)} > allowed ${fmt(m.allowed)}`;
  const { atol, rtol } = c.tolerance;
  const len = options.reductionLength ?? 1;
  const spread = options.allowance ? ' + the spread of f32 rounding through the program at each element' : '';
  const alternative = options.alternative ? '; or the same around the program evaluated with each op rounded to f32' : '';
  const policy = `|a - e| <= ${fmt(atol)} + ${fmt(rtol)}*|e|${len > 1 ? ` (scaled by sqrt(${len}))` : ''}${spread}${alternative}; NaN and inf must match exactly`;
  const lines = [`${name}: ${c.mismatches} of ${expected.length} elements differ (${policy})`, ...c.first.map((m) => `  ${line(m)}`)];
  if (c.mismatches > c.first.length) lines.push(`  ... ${c.mismatches - c.first.length} more; worst ${line(c.worst!)}`);
  return lines.join('\n');
}
