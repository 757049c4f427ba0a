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

/** Numerical Recipes' erfc fit: erfc(z) = t exp(-z^2 + P(t)), t = 1 / (1 + z/2); coefficients of P, highest power first. */
const ERFC_FIT = [0.17087277, -0.82215223, 1.48851587, -1.13520398, 0.27886807, -0.18628806, 0.09678418, 0.37409196, 1.00002368, -1.26551223];

/**
 * erf's decomposition, the one erf every target without its own computes:
 * Numerical Recipes' Chebyshev fit of erfc (fractional error below 1.2e-7
 * everywhere, so |erf error| < 1.2e-7, inside the f32 tolerance policy),
 * with the sign of x. Written as the JavaScript helper it replaces
 * computed it, term by term.
 */
export function erfDecomposition(e: Emitter, [x]: readonly Value[]): Value {
  const c = (v: number) => scalar(e, v);
  const z = e.emit('abs', [x!]);
  const t = e.emit('div', [c(1), e.emit('add', [c(1), e.emit('mul', [c(0.5), z])])]);
  let p = c(ERFC_FIT[0]!);
  for (const k of ERFC_FIT.slice(1, -1)) p = e.emit('add', [c(k), e.emit('mul', [t, p])]);
  const exponent = e.emit('add', [e.emit('sub', [e.emit('neg', [e.emit('mul', [z, z])]), c(-ERFC_FIT.at(-1)!)]), e.emit('mul', [t, p])]);
  const r = e.emit('mul', [t, e.emit('exp', [exponent])]);
  return e.emit('where', [e.emit('ge', [x!, c(0)]), e.emit('sub', [c(1), r]), e.emit('sub', [r, c(1)])]);
}
