import { type Attrs, str } from '../attrs.ts';
import { type DType, isDType, isFloat, isNumeric } from '../dtype.ts';
import { TypeRuleError } from '../errors.ts';
import { type Emitter, type OpSpec, fixedOperands } from '../op-def.ts';
import type { Value } from '../program.ts';
import { type TensorType, broadcastShapes } from '../tensor-type.ts';
import { broadcastMap, mapElements } from './eval-util.ts';
import { erf, erfDecomposition } from './special.ts';

/** Which dtypes an elementwise op accepts. */
export type DTypeClass = 'float' | 'numeric' | 'any';

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
  /** The op in other ops, for targets without code for it (see OpSpec.decompose). */
  readonly decompose?: (e: Emitter, operands: readonly Value[]) => Value;
}

/** Unary math, one entry per op. Floats are computed in float64. Its keys are the union UnaryOp. */
export const UNARY_OPS = {
  neg: { doc: '-x', dtypes: 'numeric', f: (x) => -x, i32: (x) => -x | 0 },
  abs: { doc: '|x|', dtypes: 'numeric', f: Math.abs, i32: (x) => Math.abs(x) | 0 },
  exp: { doc: 'e^x', dtypes: 'float', f: Math.exp },
  log: { doc: 'natural logarithm (log 0 = -inf, log of a negative = NaN)', dtypes: 'float', f: Math.log },
  sqrt: { doc: 'square root (NaN below 0)', dtypes: 'float', f: Math.sqrt },
  rsqrt: { doc: '1 / sqrt(x)', dtypes: 'float', f: (x) => 1 / Math.sqrt(x) },
  tanh: { doc: 'hyperbolic tangent', dtypes: 'float', f: Math.tanh },
  erf: { doc: 'error function', dtypes: 'float', f: erf, decompose: erfDecomposition },
  sin: { doc: 'sine (radians)', dtypes: 'float', f: Math.sin },
  cos: { doc: 'cosine (radians)', dtypes: 'float', f: Math.cos },
  recip: { doc: '1 / x', dtypes: 'float', f: (x) => 1 / x },
} as const satisfies Readonly<Record<string, UnaryRule>>;

/** The unary math ops (one per entry of UNARY_OPS). */
export type UnaryOp = keyof typeof UNARY_OPS;

function unaryOp(rule: UnaryRule): OpSpec {
  return {
    ...(rule.decompose ? { decompose: rule.decompose } : {}),
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
  /** The op in other ops, for targets without code for it (see OpSpec.decompose). */
  readonly decompose?: (e: Emitter, operands: readonly Value[]) => Value;
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
export const BINARY_OPS = {
  add: { doc: 'a + b', dtypes: 'numeric', f: (a, b) => a + b, i32: (a, b) => (a + b) | 0 },
  sub: { doc: 'a - b', dtypes: 'numeric', f: (a, b) => a - b, i32: (a, b) => (a - b) | 0 },
  mul: { doc: 'a * b', dtypes: 'numeric', f: (a, b) => a * b, i32: Math.imul },
  div: { doc: 'a / b', dtypes: 'float', f: (a, b) => a / b },
  max: { doc: 'larger of a and b (NaN if either is NaN)', dtypes: 'numeric', f: Math.max },
  min: { doc: 'smaller of a and b (NaN if either is NaN)', dtypes: 'numeric', f: Math.min },
  pow: { doc: 'a ^ b (IEEE pow: NaN for a negative base with a fractional exponent; 1 for 1^y and (-1)^inf)', dtypes: 'float', f: ieeePow },
} as const satisfies Readonly<Record<string, BinaryRule>>;

/** The binary arithmetic ops (one per entry of BINARY_OPS). */
export type BinaryOp = keyof typeof BINARY_OPS;

function sameDType(a: TensorType, b: TensorType): void {
  if (a.dtype !== b.dtype) throw new TypeRuleError(`operands have dtypes ${a.dtype} and ${b.dtype}, expected the same dtype`);
}

function binaryOp(rule: BinaryRule): OpSpec {
  return {
    ...(rule.decompose ? { decompose: rule.decompose } : {}),
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

interface CompareRule {
  readonly doc: string;
  readonly f: (a: number, b: number) => boolean;
  readonly dtypes: DTypeClass;
}

/** Comparisons give bool; NaN compares unequal to everything (IEEE). eq/ne also take bool. */
export const COMPARE_OPS = {
  eq: { doc: 'a == b', f: (a, b) => a === b, dtypes: 'any' },
  ne: { doc: 'a != b', f: (a, b) => a !== b, dtypes: 'any' },
  lt: { doc: 'a < b', f: (a, b) => a < b, dtypes: 'numeric' },
  le: { doc: 'a <= b', f: (a, b) => a <= b, dtypes: 'numeric' },
  gt: { doc: 'a > b', f: (a, b) => a > b, dtypes: 'numeric' },
  ge: { doc: 'a >= b', f: (a, b) => a >= b, dtypes: 'numeric' },
} as const satisfies Readonly<Record<string, CompareRule>>;

/** The comparisons (one per entry of COMPARE_OPS). */
export type CompareOp = keyof typeof COMPARE_OPS;

function compareOp(rule: CompareRule): OpSpec {
  return {
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

const whereOp: OpSpec = {
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

const castOp: OpSpec = {
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

/** The keys of a table, typed as its closed union of names. */
export function keysOf<T extends object>(table: T): (keyof T & string)[] {
  return Object.keys(table) as (keyof T & string)[];
}

/** The same spec builder applied to every entry of a table, keeping its keys. */
function specs<K extends string, R>(table: Readonly<Record<K, R>>, make: (rule: R) => OpSpec): Record<K, OpSpec> {
  return Object.fromEntries(keysOf(table).map((k) => [k, make(table[k])])) as Record<K, OpSpec>;
}

/** Unary, binary, comparison, select and cast ops. */
export const ELEMENTWISE_OPS = {
  ...specs(UNARY_OPS, unaryOp),
  ...specs(BINARY_OPS, binaryOp),
  ...specs(COMPARE_OPS, compareOp),
  where: whereOp,
  cast: castOp,
} as const;

/** Names of the unary math ops, for generators and backends. */
export const UNARY_OP_NAMES: readonly UnaryOp[] = keysOf(UNARY_OPS);
/** Names of the binary arithmetic ops. */
export const BINARY_OP_NAMES: readonly BinaryOp[] = keysOf(BINARY_OPS);
/** Names of the comparison ops. */
export const COMPARE_OP_NAMES: readonly CompareOp[] = keysOf(COMPARE_OPS);
/** The keys of a table whose entries have a decomposition. */
type WithDecomposition<T> = { [K in keyof T]: T[K] extends { readonly decompose: unknown } ? K : never }[keyof T];

/** The unary and binary ops with a decomposition: a target's code table may leave them to the legaliser. */
export type DecomposableOp = WithDecomposition<typeof UNARY_OPS> | WithDecomposition<typeof BINARY_OPS>;

/** Whether an op name is a unary math op. */
export function isUnaryOp(op: string): op is UnaryOp {
  return Object.hasOwn(UNARY_OPS, op);
}
/** Whether an op name is a binary arithmetic op. */
export function isBinaryOp(op: string): op is BinaryOp {
  return Object.hasOwn(BINARY_OPS, op);
}
/** Whether an op name is a comparison. */
export function isCompareOp(op: string): op is CompareOp {
  return Object.hasOwn(COMPARE_OPS, op);
}
/** Dtype classes, exposed so generators pick valid operand types. */
export const UNARY_DTYPES: Readonly<Record<UnaryOp, DTypeClass>> = dtypeClasses(UNARY_OPS);
export const BINARY_DTYPES: Readonly<Record<BinaryOp, DTypeClass>> = dtypeClasses(BINARY_OPS);
export const COMPARE_DTYPES: Readonly<Record<CompareOp, DTypeClass>> = dtypeClasses(COMPARE_OPS);

function dtypeClasses<K extends string>(table: Readonly<Record<K, { readonly dtypes: DTypeClass }>>): Record<K, DTypeClass> {
  return Object.fromEntries(keysOf(table).map((k) => [k, table[k].dtypes])) as Record<K, DTypeClass>;
}

/** Scalar semantics of a unary op for a dtype (shared with the kernel evaluator, so each op is defined once). */
export function unaryScalarFn(op: UnaryOp, dtype: DType): (x: number) => number {
  const rule: UnaryRule = UNARY_OPS[op];
  if (!rule) throw new Error(`'${op}' is not a unary op`);
  return dtype === 'i32' && rule.i32 ? rule.i32 : rule.f;
}

/** Scalar semantics of a binary arithmetic op for a dtype. */
export function binaryScalarFn(op: BinaryOp, dtype: DType): (a: number, b: number) => number {
  const rule: BinaryRule = BINARY_OPS[op];
  if (!rule) throw new Error(`'${op}' is not a binary op`);
  return dtype === 'i32' && rule.i32 ? rule.i32 : rule.f;
}

/** Scalar semantics of a comparison. */
export function compareScalarFn(op: CompareOp): (a: number, b: number) => boolean {
  const rule: CompareRule = COMPARE_OPS[op];
  if (!rule) throw new Error(`'${op}' is not a comparison`);
  return rule.f;
}
