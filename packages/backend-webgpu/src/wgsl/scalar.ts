import type { DType } from '@tessera/ir';
import { type BinaryCode, type CodeTable, DECOMPOSE, sourceCode } from '@tessera/kernel';
import type { WgslRenderer } from './expr.ts';

/**
 * WGSL for the scalar ops of the kernel program, and the helper functions
 * they need, each emitted into a shader only when used.
 *
 * Why helpers at all: WGSL (and the drivers behind it) leave several IEEE
 * cases indeterminate that the interpreter defines. Measured on Mesa
 * llvmpipe (Dawn's OpenGL ES backend): max(NaN, 1) = 1, i32(NaN) =
 * -2147483648, i32(1e32) = 2147483520, pow(-2, 3) = NaN. So NaN-propagating
 * max/min, the saturating f32 -> i32 cast and IEEE pow are written out, and
 * NaN tests use the bit pattern (immune to compilers that assume x == x).
 * WGSL also rejects a non-finite const-expression, so NaN and infinities are
 * made from a private variable that is always 0 (a runtime value).
 */
export interface WgslHelper {
  readonly deps: readonly string[];
  readonly code: string;
}

export const WGSL_HELPERS: Readonly<Record<string, WgslHelper>> = {
  zero_u: {
    deps: [],
    code: '// Always 0; a runtime value, so NaN and inf below are not const-expressions (which WGSL rejects).\nvar<private> zero_u: u32;',
  },
  inf_f32: { deps: ['zero_u'], code: 'fn inf_f32() -> f32 { return bitcast<f32>(0x7f800000u + zero_u); }' },
  nan_f32: { deps: ['zero_u'], code: 'fn nan_f32() -> f32 { return bitcast<f32>(0x7fc00000u + zero_u); }' },
  is_nan: { deps: [], code: 'fn is_nan(x: f32) -> bool { return (bitcast<u32>(x) & 0x7fffffffu) > 0x7f800000u; }' },
  is_finite: { deps: [], code: 'fn is_finite(x: f32) -> bool { return (bitcast<u32>(x) & 0x7f800000u) != 0x7f800000u; }' },
  max_nan: {
    deps: ['is_nan', 'nan_f32'],
    code: 'fn max_nan(a: f32, b: f32) -> f32 {\n  if (is_nan(a) || is_nan(b)) { return nan_f32(); }\n  return max(a, b);\n}',
  },
  min_nan: {
    deps: ['is_nan', 'nan_f32'],
    code: 'fn min_nan(a: f32, b: f32) -> f32 {\n  if (is_nan(a) || is_nan(b)) { return nan_f32(); }\n  return min(a, b);\n}',
  },
  f32_to_i32: {
    deps: ['is_nan'],
    // Truncates toward zero, saturates at the i32 range, NaN -> 0 (castValue in the IR). 2147483520 is the largest f32 below 2^31.
    code: 'fn f32_to_i32(x: f32) -> i32 {\n  if (is_nan(x)) { return 0i; }\n  if (x >= 2147483648.0f) { return 2147483647i; }\n  return i32(max(x, -2147483648.0f));\n}',
  },
  f32_to_bool: {
    deps: [],
    // x != 0 by the bits: NaN is true, -0 false, and subnormals stay true on drivers that flush them to zero.
    code: 'fn f32_to_bool(x: f32) -> bool { return (bitcast<u32>(x) << 1u) != 0u; }',
  },
  pow_ieee: {
    deps: ['is_nan', 'is_finite', 'nan_f32', 'inf_f32'],
    // IEEE 754 pow as the interpreter defines it (ieeePow): pow(1, y) = 1, pow(x, 0) = 1, pow(-1, +-inf) = 1,
    // NaN for a negative finite base with a non-integer exponent, the sign of the base kept for odd integer exponents.
    code: `fn pow_ieee(a: f32, b: f32) -> f32 {
  if (a == 1.0f || b == 0.0f) { return 1.0f; }
  if (is_nan(a) || is_nan(b)) { return nan_f32(); }
  let ab = abs(a);
  if (ab == 1.0f && !is_finite(b)) { return 1.0f; }
  // Zero and infinite bases and exponents by the table, not through exp2(b * log2(a)): Mesa rewrites that
  // into its pow, which gave pow(0, -1) = 0 on llvmpipe.
  var r: f32;
  if (ab == 0.0f) { r = select(0.0f, inf_f32(), b < 0.0f); }
  else if (!is_finite(ab)) { r = select(0.0f, inf_f32(), b > 0.0f); }
  else if (!is_finite(b)) { r = select(0.0f, inf_f32(), (ab > 1.0f) == (b > 0.0f)); }
  else { r = exp2(b * log2(ab)); }
  let b_int = is_finite(b) && floor(b) == b;
  if (a < 0.0f && is_finite(a) && is_finite(b) && !b_int) { return nan_f32(); }
  let odd = b_int && abs(b) < 16777216.0f && (i32(b) & 1i) == 1i;
  if (odd && (bitcast<u32>(a) & 0x80000000u) != 0u) { return -r; }
  return r;
}`,
  },
  tanh_f32: {
    deps: ['is_nan'],
    // Bounded first: tanh written as a quotient of exponentials turns inf/inf into NaN for large |x|; at |x| = 10, tanh is 1 in f32.
    // NaN passes around the clamp, which llvmpipe turns into a number.
    code: 'fn tanh_f32(x: f32) -> f32 { return select(tanh(clamp(x, -10.0f, 10.0f)), x, is_nan(x)); }',
  },
};

/** Adds `name` and the helpers it depends on to `into`, dependencies first. */
export function addHelper(name: string, into: Set<string>): void {
  if (into.has(name)) return;
  const h = WGSL_HELPERS[name];
  if (!h) throw new Error(`wgsl: no helper '${name}'`);
  for (const d of h.deps) addHelper(d, into);
  into.add(name);
}

/** The source of the helpers used, in dependency order. */
export function helperSource(used: ReadonlySet<string>): string {
  return [...used].map((h) => WGSL_HELPERS[h]!.code).join('\n');
}

/** The WGSL type of a value of `dtype` in registers. */
export function wgslType(dtype: DType): string {
  return dtype === 'f32' ? 'f32' : dtype === 'i32' ? 'i32' : 'bool';
}

/** The WGSL element type of a storage buffer of `dtype` (WGSL has no 8-bit storage: bool is a u32 0/1). */
export function wgslStorageType(dtype: DType): string {
  return dtype === 'f32' ? 'f32' : dtype === 'i32' ? 'i32' : 'u32';
}

/** A WGSL literal (or NaN/inf helper call) for a constant of `dtype`; f32 values round to f32 first. */
export function wgslConst(dtype: DType, value: number, use: (h: string) => void): string {
  if (dtype === 'bool') return value ? 'true' : 'false';
  if (dtype === 'i32') return value === -2147483648 ? 'i32(-2147483648)' : `${value | 0}i`;
  const v = Math.fround(value);
  if (Number.isNaN(v)) {
    use('nan_f32');
    return 'nan_f32()';
  }
  if (v === Infinity || v === -Infinity) {
    use('inf_f32');
    return v > 0 ? 'inf_f32()' : '(-inf_f32())';
  }
  if (v !== 0 && Math.abs(v) < 1.1754943508222875e-38) {
    // Subnormals by their bits: a decimal literal of one may be rejected as not representable.
    const bits = new Uint32Array(Float32Array.of(v).buffer)[0]!;
    return `bitcast<f32>(0x${bits.toString(16)}u)`;
  }
  const s = Object.is(v, -0) ? '-0.0' : String(v);
  return `${s.startsWith('-') ? `(${s}f)` : `${s}f`}`;
}

type Binary = BinaryCode<WgslRenderer, string, string>;

const { call: builtin, infix, helper, helper2 } = sourceCode;
/** max/min: f32 propagates NaN (drivers differ: llvmpipe gives max(NaN, 1) = 1); i32 is the builtin. */
const nanAware =
  (name: 'max' | 'min'): Binary =>
  (r, a, b, e) =>
    e.dtype === 'f32' ? helper2(`${name}_nan`)(r, a, b) : `${name}(${a}, ${b})`;

/**
 * The WGSL code table. i32 arithmetic wraps at run time in WGSL, as the
 * interpreter's `| 0` does (so -(-2^31) and abs(-2^31) are -2^31).
 */
export const WGSL_CODE: CodeTable<WgslRenderer, string, string> = {
  target: 'wgsl',
  unary: {
    neg: (_r, x) => `(-${x})`,
    abs: builtin('abs'),
    exp: builtin('exp'),
    log: builtin('log'),
    sqrt: builtin('sqrt'),
    // Not inverseSqrt: drivers may use a low-precision reciprocal square root.
    rsqrt: (_r, x) => `(1.0f / sqrt(${x}))`,
    tanh: helper('tanh_f32'),
    erf: DECOMPOSE,
    sin: builtin('sin'),
    cos: builtin('cos'),
    recip: (_r, x) => `(1.0f / ${x})`,
  },
  binary: {
    add: infix('+'),
    sub: infix('-'),
    mul: infix('*'),
    div: infix('/'),
    max: nanAware('max'),
    min: nanAware('min'),
    pow: helper2('pow_ieee'),
  },
  // IEEE: NaN compares unequal, as measured on llvmpipe.
  compare: { eq: infix('=='), ne: infix('!='), lt: infix('<'), le: infix('<='), gt: infix('>'), ge: infix('>=') },
};

/** WGSL for a cast between dtypes (castValue's rules). */
export function wgslCast(from: DType, to: DType, x: string, use: (h: string) => void): string {
  if (from === to) return x;
  if (to === 'bool') {
    if (from === 'i32') return `(${x} != 0i)`;
    use('f32_to_bool');
    return `f32_to_bool(${x})`;
  }
  if (from === 'bool') return to === 'f32' ? `select(0.0f, 1.0f, ${x})` : `select(0i, 1i, ${x})`;
  if (to === 'i32') {
    use('f32_to_i32');
    return `f32_to_i32(${x})`;
  }
  return `f32(${x})`;
}
