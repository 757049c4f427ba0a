import { type Emitter, scalar } from '../op-def.ts';
import type { Value } from '../program.ts';

/**
 * The error function in float64. |x| < 2: the Maclaurin series (its largest
 * term is about e^(x^2) < 55, so under 2 digits are lost to cancellation);
 * beyond: the classic continued fraction for erfc, evaluated backwards with
 * enough terms to converge at x = 2. Accurate well past
 * float32, which is all the oracle needs.
 */
export function erf(x: number): number {
  if (Number.isNaN(x)) return NaN;
  const ax = Math.abs(x);
  if (ax < 2) {
    // erf(x) = 2/sqrt(pi) * sum_n (-1)^n x^(2n+1) / (n! (2n+1))
    let term = ax;
    let sum = ax;
    const x2 = ax * ax;
    for (let n = 1; n < 200; n++) {
      term *= -x2 / n;
      const add = term / (2 * n + 1);
      sum += add;
      if (Math.abs(add) < 1e-17 * Math.abs(sum)) break;
    }
    const r = (2 / Math.sqrt(Math.PI)) * sum;
    return x < 0 ? -r : r;
  }
  if (ax === Infinity) return Math.sign(x);
  // erfc(x) = exp(-x^2)/sqrt(pi) * 1/(x + (1/2)/(x + 1/(x + (3/2)/(x + ...)))), evaluated backwards.
  let f = ax;
  for (let k = 400; k >= 1; k--) f = ax + k / 2 / f;
  const erfc = Math.exp(-ax * ax) / Math.sqrt(Math.PI) / f;
  const r = 1 - erfc;
  return x < 0 ? -r : r;
}

/**
 * Coefficients of erf(x) ~ x P(x^2) / Q(x^2) on [-4, 4] (the rational
 * approximation of Eigen's and XLA's float erf), highest power first.
 */
const ERF_P = [-2.72614225801306e-10, 2.77068142495902e-8, -2.10102402082508e-6, -5.69250639462346e-5, -7.34990630326855e-4, -2.95459980854025e-3, -1.60960333262415e-2];
const ERF_Q = [-1.45660718464996e-5, -2.13374055278905e-4, -1.68282697438203e-3, -7.37332916720468e-3, -1.42647390514189e-2];
/** Past |x| = 4, erf(x) is +-1 to within 1.6e-8, less than half an f32 step below 1. */
const ERF_CLAMP = 4;

/**
 * erf's decomposition, the one erf every target without its own computes:
 * x P(x^2) / Q(x^2) with x clamped to [-4, 4] and the result to [-1, 1]
 * (max and min pass a NaN through). Absolute error below 7e-8 in float64 and below 4.2e-7 in f32
 * arithmetic on [-6, 6] (Abramowitz & Stegun 7.1.26, used before, had
 * 5.3e-7 in f32 and lost the relative accuracy near 0); two short
 * polynomials and one division, no exp: about half the dependency chain,
 * which is what a GELU epilogue's vector loop waits on.
 */
export function erfDecomposition(e: Emitter, [x]: readonly Value[]): Value {
  const c = (v: number) => scalar(e, v);
  const xc = e.emit('max', [e.emit('min', [x!, c(ERF_CLAMP)]), c(-ERF_CLAMP)]);
  const x2 = e.emit('mul', [xc, xc]);
  const horner = (coeffs: readonly number[]) => coeffs.slice(1).reduce((acc, k) => e.emit('add', [e.emit('mul', [acc, x2]), c(k)]), c(coeffs[0]!));
  // The rational overshoots 1 by up to 5e-8 near |x| = 4: clamped, so that 1 - erf(x) >= 0 as for erf itself.
  const r = e.emit('div', [e.emit('mul', [xc, horner(ERF_P)]), horner(ERF_Q)]);
  return e.emit('max', [e.emit('min', [r, c(1)]), c(-1)]);
}
