import type { DType } from '@tessera/ir';
import { type BinaryCode, type CodeTable, type CompareCode, DECOMPOSE, type UnaryCode } from '@tessera/kernel';
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

type Unary = UnaryCode<JsRenderer, string, string>;
type Binary = BinaryCode<JsRenderer, string, string>;
type Compare = CompareCode<JsRenderer, string, string>;

/** `Math.NAME(x)`. */
const math =
  (name: string): Unary =>
  (_r, x) =>
    `Math.${name}(${x})`;
/** An infix operator; i32 results wrap to 32 bits with `| 0` when `wrap`. */
const infix =
  (sym: string, wrap = true): Binary =>
  (_r, a, b, e) =>
    wrap && e.dtype === 'i32' ? `((${a} ${sym} ${b}) | 0)` : `(${a} ${sym} ${b})`;
const compare =
  (sym: string): Compare =>
  (_r, a, b) =>
    `(${a} ${sym} ${b})`;

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
    add: infix('+'),
    sub: infix('-'),
    mul: (_r, a, b, e) => (e.dtype === 'i32' ? `Math.imul(${a}, ${b})` : `(${a} * ${b})`),
    div: infix('/', false),
    max: (_r, a, b) => `Math.max(${a}, ${b})`,
    min: (_r, a, b) => `Math.min(${a}, ${b})`,
    // IEEE pow (1^NaN = 1), as the interpreter defines it.
    pow: (r, a, b) => {
      r.use('pow');
      return `pow(${a}, ${b})`;
    },
  },
  compare: { eq: compare('==='), ne: compare('!=='), lt: compare('<'), le: compare('<='), gt: compare('>'), ge: compare('>=') },
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
