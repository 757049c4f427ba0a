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

/** Abramowitz & Stegun 7.1.26: erf(x) = 1 - t P(t) exp(-x^2), t = 1 / (1 + p x) for x >= 0; coefficients of P, highest power first. */
const AS_P = 0.3275911;
const AS_COEFFS = [1.061405429, -1.453152027, 1.421413741, -0.284496736, 0.254829592];

/**
 * erf's decomposition, the one erf every target without its own computes:
 * Abramowitz & Stegun 7.1.26 on |x| (absolute error below 1.5e-7
 * everywhere, inside the f32 tolerance policy) with the sign of x put back;
 * +-1 at +-inf, NaN for NaN. Five coefficients and one exp: cheaper than
 * longer fits, and it runs in every GELU.
 */
export function erfDecomposition(e: Emitter, [x]: readonly Value[]): Value {
  const c = (v: number) => scalar(e, v);
  const z = e.emit('abs', [x!]);
  const t = e.emit('div', [c(1), e.emit('add', [c(1), e.emit('mul', [c(AS_P), z])])]);
  let p = c(AS_COEFFS[0]!);
  for (const k of AS_COEFFS.slice(1)) p = e.emit('add', [c(k), e.emit('mul', [t, p])]);
  const r = e.emit('mul', [e.emit('mul', [t, p]), e.emit('exp', [e.emit('neg', [e.emit('mul', [z, z])])])]);
  const y = e.emit('sub', [c(1), r]);
  return e.emit('where', [e.emit('ge', [x!, c(0)]), y, e.emit('neg', [y])]);
}
