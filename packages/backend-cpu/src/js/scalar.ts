import type { DType } from '@tessera/ir';
import { type BinaryCode, type CodeTable, DECOMPOSE, sourceCode } from '@tessera/kernel';
import type { JsRenderer } from './expr.ts';

/**
 * Helpers the generated JavaScript may call, emitted into a kernel only when
 * it uses them.
 */
export const JS_HELPERS: Record<string, string> = {
  pow: `function pow(a, b) {
  return a === 1 || (a === -1 && (b === Infinity || b === -Infinity)) ? 1 : Math.pow(a, b);
}`,
  f2i: `function f2i(x) {
  if (x !== x) return 0;
  return x >= 2147483647 ? 2147483647 : x <= -2147483648 ? -2147483648 : Math.trunc(x);
}`,
};

type Binary = BinaryCode<JsRenderer, string, string>;

const { call, infix, helper2 } = sourceCode;
/** `Math.NAME(x)`. */
const math = (name: string) => call(`Math.${name}`);
/** An infix operator whose i32 result wraps to 32 bits (`| 0`). */
const wrapping =
  (sym: string): Binary =>
  (r, a, b, e) =>
    e.dtype === 'i32' ? `(${infix(sym)(r, a, b)} | 0)` : infix(sym)(r, a, b);

/**
 * The JavaScript code table. Values are JS numbers (f32 kept in float64,
 * rounded when stored), bool is a JS boolean; i32 results wrap like the
 * interpreter's `| 0`.
 */
export const JS_CODE: CodeTable<JsRenderer, string, string> = {
  target: 'js',
  unary: {
    neg: (_r, x, e) => (e.dtype === 'i32' ? `(-${x} | 0)` : `(-${x})`),
    abs: (_r, x, e) => (e.dtype === 'i32' ? `(Math.abs(${x}) | 0)` : `Math.abs(${x})`),
    exp: math('exp'),
    log: math('log'),
    sqrt: math('sqrt'),
    rsqrt: (_r, x) => `(1 / Math.sqrt(${x}))`,
    tanh: math('tanh'),
    erf: DECOMPOSE,
    sin: math('sin'),
    cos: math('cos'),
    recip: (_r, x) => `(1 / ${x})`,
  },
  binary: {
    add: wrapping('+'),
    sub: wrapping('-'),
    mul: (_r, a, b, e) => (e.dtype === 'i32' ? `Math.imul(${a}, ${b})` : `(${a} * ${b})`),
    div: infix('/'),
    max: (_r, a, b) => `Math.max(${a}, ${b})`,
    min: (_r, a, b) => `Math.min(${a}, ${b})`,
    // IEEE pow (1^NaN = 1), as the interpreter defines it.
    pow: helper2('pow'),
  },
  compare: { eq: infix('==='), ne: infix('!=='), lt: infix('<'), le: infix('<='), gt: infix('>'), ge: infix('>=') },
};

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
