import type { DType } from '@tessera/ir';

/**
 * Helpers the generated JavaScript may call, emitted into a kernel only when
 * it uses them. erf: Numerical Recipes' erfc Chebyshev fit, fractional error
 * below 1.2e-7 everywhere, so |erf error| < 1.2e-7: within the f32 tolerance
 * policy of the differential tests.
 */
export const JS_HELPERS: Record<string, string> = {
  erf: `function erf(x) {
  const z = Math.abs(x);
  const t = 1 / (1 + 0.5 * z);
  const r = t * Math.exp(-z * z - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))));
  return x >= 0 ? 1 - r : r - 1;
}`,
  pow: `function pow(a, b) {
  return a === 1 || (a === -1 && (b === Infinity || b === -Infinity)) ? 1 : Math.pow(a, b);
}`,
  f2i: `function f2i(x) {
  if (x !== x) return 0;
  return x >= 2147483647 ? 2147483647 : x <= -2147483648 ? -2147483648 : Math.trunc(x);
}`,
};

/** JavaScript for a unary op on an operand expression; `use` records helpers needed. */
export function jsUnary(op: string, dtype: DType, x: string, use: (h: string) => void): string {
  const int = dtype === 'i32';
  switch (op) {
    case 'neg':
      return int ? `(-${x} | 0)` : `(-${x})`;
    case 'abs':
      return int ? `(Math.abs(${x}) | 0)` : `Math.abs(${x})`;
    case 'exp':
    case 'log':
    case 'sqrt':
    case 'tanh':
    case 'sin':
    case 'cos':
      return `Math.${op}(${x})`;
    case 'rsqrt':
      return `(1 / Math.sqrt(${x}))`;
    case 'recip':
      return `(1 / ${x})`;
    case 'erf':
      use('erf');
      return `erf(${x})`;
    default:
      throw new Error(`js emitter: no unary op '${op}'`);
  }
}

/** JavaScript for a binary arithmetic op. i32 results wrap like the interpreter. */
export function jsBinary(op: string, dtype: DType, a: string, b: string, use: (h: string) => void): string {
  const int = dtype === 'i32';
  switch (op) {
    case 'add':
      return int ? `((${a} + ${b}) | 0)` : `(${a} + ${b})`;
    case 'sub':
      return int ? `((${a} - ${b}) | 0)` : `(${a} - ${b})`;
    case 'mul':
      return int ? `Math.imul(${a}, ${b})` : `(${a} * ${b})`;
    case 'div':
      return `(${a} / ${b})`;
    case 'max':
      return `Math.max(${a}, ${b})`;
    case 'min':
      return `Math.min(${a}, ${b})`;
    case 'pow':
      // IEEE pow (1^NaN = 1), as the interpreter defines it.
      use('pow');
      return `pow(${a}, ${b})`;
    default:
      throw new Error(`js emitter: no binary op '${op}'`);
  }
}

const COMPARE_JS: Record<string, string> = { eq: '===', ne: '!==', lt: '<', le: '<=', gt: '>', ge: '>=' };

/** JavaScript for a comparison (a JS boolean). */
export function jsCompare(op: string, a: string, b: string): string {
  const sym = COMPARE_JS[op];
  if (!sym) throw new Error(`js emitter: no comparison '${op}'`);
  return `(${a} ${sym} ${b})`;
}

/** JavaScript for a cast between representations: bool is a JS boolean, numbers are numbers. */
export function jsCast(from: DType, to: DType, x: string, use: (h: string) => void): string {
  if (from === to) return x;
  if (to === 'bool') return `(${x} !== 0)`;
  if (from === 'bool') return `(${x} ? 1 : 0)`;
  if (to === 'i32') {
    use('f2i');
    return `f2i(${x})`;
  }
  return x;
}

/** A JS literal for a constant of a dtype. */
export function jsConst(dtype: DType, v: number): string {
  if (dtype === 'bool') return v ? 'true' : 'false';
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return 'Infinity';
  if (v === -Infinity) return '(-Infinity)';
  // Negative literals are parenthesised so that `-x` of one never reads as `--`.
  return Object.is(v, -0) ? '(-0)' : v < 0 ? `(${v})` : String(v);
}
