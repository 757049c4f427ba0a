import { type Attrs, str } from '../attrs.ts';
import { type DType, isDType, isFloat, isNumeric } from '../dtype.ts';
import { TypeRuleError } from '../errors.ts';
import { type OpDef, fixedOperands } from '../op-def.ts';
import { type TensorType, broadcastShapes } from '../tensor-type.ts';
import { broadcastMap, mapElements } from './eval-util.ts';
import { erf } from './special.ts';

/** Which dtypes an elementwise op accepts. */
type DTypeClass = 'float' | 'numeric' | 'any';

function checkDType(d: DType, cls: DTypeClass, what: string): void {
  const ok = cls === 'any' || (cls === 'float' ? isFloat(d) : isNumeric(d));
  if (!ok) {
    const want = cls === 'float' ? 'a float dtype (f32)' : 'a numeric dtype (f32 or i32)';
    throw new TypeRuleError(`${what} has dtype ${d}, expected ${want}`);
  }
}

interface UnaryRule {
  readonly doc: string;
  readonly dtypes: DTypeClass;
  readonly f: (x: number) => number;
  /** Integer semantics where it differs (wrapping). */
  readonly i32?: (x: number) => number;
}

/** Unary math, one entry per op. Floats are computed in float64. */
const UNARY: Record<string, UnaryRule> = {
  neg: { doc: '-x', dtypes: 'numeric', f: (x) => -x, i32: (x) => -x | 0 },
  abs: { doc: '|x|', dtypes: 'numeric', f: Math.abs, i32: (x) => Math.abs(x) | 0 },
  exp: { doc: 'e^x', dtypes: 'float', f: Math.exp },
  log: { doc: 'natural logarithm (log 0 = -inf, log of a negative = NaN)', dtypes: 'float', f: Math.log },
  sqrt: { doc: 'square root (NaN below 0)', dtypes: 'float', f: Math.sqrt },
  rsqrt: { doc: '1 / sqrt(x)', dtypes: 'float', f: (x) => 1 / Math.sqrt(x) },
  tanh: { doc: 'hyperbolic tangent', dtypes: 'float', f: Math.tanh },
  erf: { doc: 'error function', dtypes: 'float', f: erf },
  sin: { doc: 'sine (radians)', dtypes: 'float', f: Math.sin },
  cos: { doc: 'cosine (radians)', dtypes: 'float', f: Math.cos },
  recip: { doc: '1 / x', dtypes: 'float', f: (x) => 1 / x },
};

function unaryOp(name: string, rule: UnaryRule): OpDef {
  return {
    name,
    doc: rule.doc,
    fusion: 'elementwise',
    operands: fixedOperands('x'),
    attrs: {},
    inferType([x]) {
      checkDType(x!.dtype, rule.dtypes, 'operand x');
      return x!;
    },
    evaluate([x], _attrs, result) {
      const f = result.dtype === 'i32' && rule.i32 ? rule.i32 : rule.f;
      return mapElements(result, x!, f);
    },
  };
}

interface BinaryRule {
  readonly doc: string;
  readonly dtypes: DTypeClass;
  readonly f: (a: number, b: number) => number;
  readonly i32?: (a: number, b: number) => number;
}

/**
 * pow as C, IEEE 754 and PyTorch define it. JavaScript's Math.pow differs in
 * three cases: pow(1, NaN), pow(1, +-inf) and pow(-1, +-inf) are 1, not NaN.
 */
export function ieeePow(a: number, b: number): number {
  if (a === 1 || (a === -1 && (b === Infinity || b === -Infinity))) return 1;
  return Math.pow(a, b);
}

/**
 * Binary arithmetic with numpy broadcasting; both operands share a dtype.
 * max/min propagate NaN (as torch.maximum). div and pow are float-only: integer
 * division semantics differ between targets, so programs cast explicitly.
 */
const BINARY: Record<string, BinaryRule> = {
  add: { doc: 'a + b', dtypes: 'numeric', f: (a, b) => a + b, i32: (a, b) => (a + b) | 0 },
  sub: { doc: 'a - b', dtypes: 'numeric', f: (a, b) => a - b, i32: (a, b) => (a - b) | 0 },
  mul: { doc: 'a * b', dtypes: 'numeric', f: (a, b) => a * b, i32: Math.imul },
  div: { doc: 'a / b', dtypes: 'float', f: (a, b) => a / b },
  max: { doc: 'larger of a and b (NaN if either is NaN)', dtypes: 'numeric', f: Math.max },
  min: { doc: 'smaller of a and b (NaN if either is NaN)', dtypes: 'numeric', f: Math.min },
  pow: { doc: 'a ^ b (IEEE pow: NaN for a negative base with a fractional exponent; 1 for 1^y and (-1)^inf)', dtypes: 'float', f: ieeePow },
};

function sameDType(a: TensorType, b: TensorType): void {
  if (a.dtype !== b.dtype) throw new TypeRuleError(`operands have dtypes ${a.dtype} and ${b.dtype}, expected the same dtype`);
}

function binaryOp(name: string, rule: BinaryRule): OpDef {
  return {
    name,
    doc: rule.doc,
    fusion: 'broadcast',
    operands: fixedOperands('a', 'b'),
    attrs: {},
    inferType([a, b]) {
      sameDType(a!, b!);
      checkDType(a!.dtype, rule.dtypes, 'operand a');
      return { dtype: a!.dtype, shape: broadcastShapes(a!.shape, b!.shape) };
    },
    evaluate(ops, _attrs, result) {
      const f = result.dtype === 'i32' && rule.i32 ? rule.i32 : rule.f;
      return broadcastMap(result, ops, (xs) => f(xs[0]!, xs[1]!));
    },
  };
}

/** Comparisons give bool; NaN compares unequal to everything (IEEE). eq/ne also take bool. */
const COMPARE: Record<string, { doc: string; f: (a: number, b: number) => boolean; dtypes: DTypeClass }> = {
  eq: { doc: 'a == b', f: (a, b) => a === b, dtypes: 'any' },
  ne: { doc: 'a != b', f: (a, b) => a !== b, dtypes: 'any' },
  lt: { doc: 'a < b', f: (a, b) => a < b, dtypes: 'numeric' },
  le: { doc: 'a <= b', f: (a, b) => a <= b, dtypes: 'numeric' },
  gt: { doc: 'a > b', f: (a, b) => a > b, dtypes: 'numeric' },
  ge: { doc: 'a >= b', f: (a, b) => a >= b, dtypes: 'numeric' },
};

function compareOp(name: string, rule: (typeof COMPARE)[string]): OpDef {
  return {
    name,
    doc: rule.doc,
    fusion: 'broadcast',
    operands: fixedOperands('a', 'b'),
    attrs: {},
    inferType([a, b]) {
      sameDType(a!, b!);
      checkDType(a!.dtype, rule.dtypes, 'operand a');
      return { dtype: 'bool', shape: broadcastShapes(a!.shape, b!.shape) };
    },
    evaluate(ops, _attrs, result) {
      return broadcastMap(result, ops, (xs) => (rule.f(xs[0]!, xs[1]!) ? 1 : 0));
    },
  };
}

const whereOp: OpDef = {
  name: 'where',
  doc: 'cond ? a : b, elementwise with numpy broadcasting of all three',
  fusion: 'broadcast',
  operands: fixedOperands('cond', 'a', 'b'),
  attrs: {},
  inferType([c, a, b]) {
    if (c!.dtype !== 'bool') throw new TypeRuleError(`operand cond has dtype ${c!.dtype}, expected bool`);
    sameDType(a!, b!);
    return { dtype: a!.dtype, shape: broadcastShapes(c!.shape, a!.shape, b!.shape) };
  },
  evaluate(ops, _attrs, result) {
    return broadcastMap(result, ops, (xs) => (xs[0] ? xs[1]! : xs[2]!));
  },
};

/**
 * Converts a value to another dtype. f32 -> i32 truncates toward zero and
 * saturates at the i32 range; NaN becomes 0. Anything -> bool is `x != 0`
 * (NaN is true); bool -> number is 0 or 1.
 */
export function castValue(v: number, to: DType): number {
  switch (to) {
    case 'f32':
      return v;
    case 'bool':
      return v !== 0 ? 1 : 0;
    case 'i32':
      if (Number.isNaN(v)) return 0;
      return Math.max(-2147483648, Math.min(2147483647, Math.trunc(v)));
  }
}

const castOp: OpDef = {
  name: 'cast',
  doc: 'converts elements to dtype `to` (f32->i32 truncates and saturates, NaN->0; ->bool is x != 0)',
  fusion: 'elementwise',
  operands: fixedOperands('x'),
  attrs: { to: { kind: 'dtype', doc: 'target dtype' } },
  inferType([x], attrs: Attrs) {
    const to = str(attrs, 'to');
    if (!isDType(to)) throw new TypeRuleError(`attribute 'to' is ${to}, expected a dtype`);
    return { dtype: to, shape: x!.shape };
  },
  evaluate([x], attrs, result) {
    const to = str(attrs, 'to') as DType;
    return mapElements(result, x!, (v) => castValue(v, to));
  },
};

/** Unary, binary, comparison, select and cast ops. */
export const ELEMENTWISE_OPS: readonly OpDef[] = [
  ...Object.entries(UNARY).map(([n, r]) => unaryOp(n, r)),
  ...Object.entries(BINARY).map(([n, r]) => binaryOp(n, r)),
  ...Object.entries(COMPARE).map(([n, r]) => compareOp(n, r)),
  whereOp,
  castOp,
];

/** Names of the unary math ops, for generators and backends. */
export const UNARY_OP_NAMES = Object.keys(UNARY);
/** Names of the binary arithmetic ops. */
export const BINARY_OP_NAMES = Object.keys(BINARY);
/** Names of the comparison ops. */
export const COMPARE_OP_NAMES = Object.keys(COMPARE);
/** Dtype classes, exposed so generators pick valid operand types. */
export const UNARY_DTYPES: Record<string, DTypeClass> = Object.fromEntries(Object.entries(UNARY).map(([n, r]) => [n, r.dtypes]));
export const BINARY_DTYPES: Record<string, DTypeClass> = Object.fromEntries(Object.entries(BINARY).map(([n, r]) => [n, r.dtypes]));
export const COMPARE_DTYPES: Record<string, DTypeClass> = Object.fromEntries(Object.entries(COMPARE).map(([n, r]) => [n, r.dtypes]));

/** Scalar semantics of a unary op for a dtype (shared with the kernel evaluator, so each op is defined once). */
export function unaryScalarFn(op: string, dtype: DType): (x: number) => number {
  const rule = UNARY[op];
  if (!rule) throw new Error(`'${op}' is not a unary op`);
  return dtype === 'i32' && rule.i32 ? rule.i32 : rule.f;
}

/** Scalar semantics of a binary arithmetic op for a dtype. */
export function binaryScalarFn(op: string, dtype: DType): (a: number, b: number) => number {
  const rule = BINARY[op];
  if (!rule) throw new Error(`'${op}' is not a binary op`);
  return dtype === 'i32' && rule.i32 ? rule.i32 : rule.f;
}

/** Scalar semantics of a comparison. */
export function compareScalarFn(op: string): (a: number, b: number) => boolean {
  const rule = COMPARE[op];
  if (!rule) throw new Error(`'${op}' is not a comparison`);
  return rule.f;
}
