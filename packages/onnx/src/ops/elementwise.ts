/**
 * Elementwise ONNX ops: arithmetic, comparisons, logic, activations, casts.
 * Each maps onto the IR's elementwise ops (numpy broadcasting on both sides).
 */
import { type BinaryOp, type CompareOp, type DType, type UnaryOp, formatType } from '@tessera/ir';
import { type Converter, type NodeContext, attrFloat, attrInt, attrString, constInput, input, scalarOf, unsupported } from '../context.ts';
import { computeDType, onnxDTypeName } from '../tensor.ts';
import { type Val, typeOf } from '../values.ts';

/** The operands' common dtype, or an error naming both (ONNX requires them equal). */
function sameDType(ctx: NodeContext, a: Val, b: Val): DType {
  const [ta, tb] = [typeOf(a), typeOf(b)];
  if (ta.dtype !== tb.dtype) unsupported(`operands have types ${formatType(ta)} and ${formatType(tb)}, expected one element type`);
  return ta.dtype;
}

function requireFloat(x: Val, what: string): void {
  const t = typeOf(x);
  if (t.dtype !== 'f32') unsupported(`${what} is ${formatType(t)}; Tessera computes this op on float only`);
}

const unary =
  (op: UnaryOp | 'sigmoid' | 'relu'): Converter =>
  (ctx) =>
    ctx.e.emit(op, [input(ctx, 0)]);

/** Arithmetic and comparisons: two operands of one element type, broadcast. */
const binary =
  (op: BinaryOp | CompareOp): Converter =>
  (ctx) => {
    const [a, b] = [input(ctx, 0, 'A'), input(ctx, 1, 'B')];
    sameDType(ctx, a, b);
    return ctx.e.emit(op, [a, b]);
  };

/** ONNX integer division truncates toward zero; the IR's floor_div rounds down: add 1 where they differ. */
function truncDivI32(ctx: NodeContext, a: Val, b: Val): Val {
  const { e } = ctx;
  const q = e.emit('floor_div', [a, b]);
  const zero = scalarOf('i32', 0);
  const inexact = e.emit('ne', [e.emit('mod', [a, b]), zero]);
  const signsDiffer = e.emit('ne', [e.emit('lt', [a, zero]), e.emit('lt', [b, zero])]);
  const fix = e.emit('mul', [e.emit('cast', [inexact], { to: 'i32' }), e.emit('cast', [signsDiffer], { to: 'i32' })]);
  return e.emit('add', [q, fix]);
}

const div: Converter = (ctx) => {
  const [a, b] = [input(ctx, 0, 'A'), input(ctx, 1, 'B')];
  return sameDType(ctx, a, b) === 'i32' ? truncDivI32(ctx, a, b) : ctx.e.emit('div', [a, b]);
};

const mod: Converter = (ctx) => {
  const [a, b] = [input(ctx, 0, 'A'), input(ctx, 1, 'B')];
  const dtype = sameDType(ctx, a, b);
  const fmod = attrInt(ctx, 'fmod', 0);
  const { e } = ctx;
  if (dtype === 'i32' && fmod === 0) return e.emit('mod', [a, b]);
  if (dtype === 'i32') return e.emit('sub', [a, e.emit('mul', [truncDivI32(ctx, a, b), b])]);
  if (fmod === 0) unsupported("fmod = 0 on floats (numpy's mod; the ONNX spec asks floats for fmod = 1)");
  // C fmod: a - trunc(a / b) * b, trunc(q) = sign(q) * floor(|q|).
  const q = e.emit('div', [a, b]);
  const trunc = e.emit('mul', [e.emit('sign', [q]), e.emit('floor', [e.emit('abs', [q])])]);
  return e.emit('sub', [a, e.emit('mul', [trunc, b])]);
};

const pow: Converter = (ctx) => {
  const [x, y] = [input(ctx, 0, 'X'), input(ctx, 1, 'Y')];
  const { e } = ctx;
  const tx = typeOf(x);
  const asF32 = (v: Val) => (typeOf(v).dtype === 'f32' ? v : e.emit('cast', [v], { to: 'f32' }));
  const r = e.emit('pow', [asF32(x), asF32(y)]);
  return tx.dtype === 'f32' ? r : e.emit('cast', [r], { to: tx.dtype });
};

/** A variadic op (Sum, Max, Min, Mean) folded pairwise. */
const variadic =
  (op: 'add' | 'max' | 'min', mean = false): Converter =>
  (ctx) => {
    const xs = ctx.inputs.filter((v): v is Val => v !== undefined);
    if (xs.length === 0) unsupported('no inputs');
    let acc = xs[0]!;
    for (const x of xs.slice(1)) {
      sameDType(ctx, acc, x);
      acc = ctx.e.emit(op, [acc, x]);
    }
    return mean ? ctx.e.emit('div', [acc, scalarOf('f32', xs.length)]) : acc;
  };

/** bool and/or: through i32 (min/max of 0/1). */
const logical =
  (op: 'min' | 'max'): Converter =>
  (ctx) => {
    const [a, b] = [input(ctx, 0, 'A'), input(ctx, 1, 'B')];
    const { e } = ctx;
    const i = (v: Val) => e.emit('cast', [v], { to: 'i32' });
    return e.emit('cast', [e.emit(op, [i(a), i(b)])], { to: 'bool' });
  };

const cast: Converter = (ctx) => {
  const to = attrInt(ctx, 'to');
  if (to === undefined) unsupported("attribute 'to' is missing");
  const dtype = computeDType(to);
  if (!dtype) unsupported(`cast to ${onnxDTypeName(to)}: Tessera computes float (f32), the integer types (i32) and bool`);
  const x = input(ctx, 0);
  return typeOf(x).dtype === dtype ? x : ctx.e.emit('cast', [x], { to: dtype });
};

const castLike: Converter = (ctx) => {
  const x = input(ctx, 0);
  const dtype = typeOf(input(ctx, 1, 'target_type')).dtype;
  return typeOf(x).dtype === dtype ? x : ctx.e.emit('cast', [x], { to: dtype });
};

const clip: Converter = (ctx) => {
  let x = input(ctx, 0);
  const [lo, hi] = [ctx.inputs[1], ctx.inputs[2]];
  if (lo) x = ctx.e.emit('max', [x, lo]);
  if (hi) x = ctx.e.emit('min', [x, hi]);
  return x;
};

const where: Converter = (ctx) => {
  const [c, a, b] = [input(ctx, 0, 'condition'), input(ctx, 1, 'X'), input(ctx, 2, 'Y')];
  sameDType(ctx, a, b);
  return ctx.e.emit('where', [c, a, b]);
};

const not: Converter = (ctx) => ctx.e.emit('eq', [input(ctx, 0), scalarOf('bool', 0)]);

const isInf: Converter = (ctx) => {
  const x = input(ctx, 0);
  const [neg, pos] = [attrInt(ctx, 'detect_negative', 1), attrInt(ctx, 'detect_positive', 1)];
  if (neg && pos) return ctx.e.emit('isinf', [x]);
  if (!neg && !pos) return ctx.e.emit('broadcast_to', [scalarOf('bool', 0)], { shape: [...typeOf(x).shape] });
  return ctx.e.emit('eq', [x, scalarOf(typeOf(x).dtype, neg ? -Infinity : Infinity)]);
};

const gelu: Converter = (ctx) => {
  const approximate = attrString(ctx, 'approximate', 'none');
  if (approximate !== 'none' && approximate !== 'tanh') unsupported(`approximate = '${approximate}' (expected 'none' or 'tanh')`);
  const x = input(ctx, 0);
  requireFloat(x, 'X');
  return ctx.e.emit('gelu', [x], { approximate });
};

const leakyRelu: Converter = (ctx) => {
  const x = input(ctx, 0);
  const alpha = attrFloat(ctx, 'alpha', 0.01);
  const { e } = ctx;
  return e.emit('where', [e.emit('lt', [x, scalarOf('f32', 0)]), e.emit('mul', [x, scalarOf('f32', alpha)]), x]);
};

/** PRelu: slope * x where x < 0, else x; the slope (one per channel, or any shape) broadcasts to X. */
const prelu: Converter = (ctx) => {
  const x = input(ctx, 0, 'X');
  const slope = input(ctx, 1, 'slope');
  const { e } = ctx;
  return e.emit('where', [e.emit('lt', [x, scalarOf('f32', 0)]), e.emit('mul', [x, slope]), x]);
};

/** max(0, min(1, alpha x + beta)). */
function hardSigmoidOf(ctx: NodeContext, x: Val, alpha: number, beta: number): Val {
  const { e } = ctx;
  const lin = e.emit('add', [e.emit('mul', [x, scalarOf('f32', alpha)]), scalarOf('f32', beta)]);
  return e.emit('max', [e.emit('min', [lin, scalarOf('f32', 1)]), scalarOf('f32', 0)]);
}

const hardSigmoid: Converter = (ctx) => hardSigmoidOf(ctx, input(ctx, 0), attrFloat(ctx, 'alpha', 0.2), attrFloat(ctx, 'beta', 0.5));
const hardSwish: Converter = (ctx) => ctx.e.emit('mul', [input(ctx, 0), hardSigmoidOf(ctx, input(ctx, 0), 1 / 6, 0.5)]);

const softplus: Converter = (ctx) => ctx.e.emit('log', [ctx.e.emit('add', [ctx.e.emit('exp', [input(ctx, 0)]), scalarOf('f32', 1)])]);
const softsign: Converter = (ctx) => ctx.e.emit('div', [input(ctx, 0), ctx.e.emit('add', [ctx.e.emit('abs', [input(ctx, 0)]), scalarOf('f32', 1)])]);

/** alpha (e^x - 1) below 0, x above, times gamma (Elu: gamma 1; Selu: its constants). */
function expLinear(ctx: NodeContext, alpha: number, gamma: number): Val {
  const { e } = ctx;
  const x = input(ctx, 0);
  const neg = e.emit('mul', [e.emit('sub', [e.emit('exp', [x]), scalarOf('f32', 1)]), scalarOf('f32', alpha)]);
  const r = e.emit('where', [e.emit('lt', [x, scalarOf('f32', 0)]), neg, x]);
  return gamma === 1 ? r : e.emit('mul', [r, scalarOf('f32', gamma)]);
}

const dropout: Converter = (ctx) => {
  const training = ctx.inputs[2];
  if (training) {
    const t = constInput(ctx, 2, 'training_mode');
    if (t.data[0]) unsupported('training_mode = true (Tessera runs inference: dropout is the identity)');
  }
  const x = input(ctx, 0);
  if (!ctx.wants(1)) return [x];
  return [x, ctx.e.emit('broadcast_to', [scalarOf('bool', 1)], { shape: [...typeOf(x).shape] })];
};

/** The elementwise converters, by ONNX op type. */
export const ELEMENTWISE_CONVERTERS: Readonly<Record<string, Converter>> = {
  Add: binary('add'),
  Sub: binary('sub'),
  Mul: binary('mul'),
  Div: div,
  Mod: mod,
  Pow: pow,
  Max: variadic('max'),
  Min: variadic('min'),
  Sum: variadic('add'),
  Mean: variadic('add', true),
  Equal: binary('eq'),
  Less: binary('lt'),
  LessOrEqual: binary('le'),
  Greater: binary('gt'),
  GreaterOrEqual: binary('ge'),
  And: logical('min'),
  Or: logical('max'),
  Xor: (ctx) => ctx.e.emit('logical_xor', [input(ctx, 0), input(ctx, 1)]),
  Not: not,
  Where: where,
  Neg: unary('neg'),
  Abs: unary('abs'),
  Sqrt: unary('sqrt'),
  Reciprocal: unary('recip'),
  Exp: unary('exp'),
  Log: unary('log'),
  Erf: unary('erf'),
  Tanh: unary('tanh'),
  Sin: unary('sin'),
  Cos: unary('cos'),
  Floor: unary('floor'),
  Ceil: unary('ceil'),
  Round: unary('round'),
  Sign: unary('sign'),
  IsNaN: unary('isnan'),
  IsInf: isInf,
  Sigmoid: unary('sigmoid'),
  Relu: unary('relu'),
  Gelu: gelu,
  LeakyRelu: leakyRelu,
  PRelu: prelu,
  HardSigmoid: hardSigmoid,
  HardSwish: hardSwish,
  Softplus: softplus,
  Softsign: softsign,
  Elu: (ctx) => expLinear(ctx, attrFloat(ctx, 'alpha', 1), 1),
  Selu: (ctx) => expLinear(ctx, attrFloat(ctx, 'alpha', 1.67326319217681884765625), attrFloat(ctx, 'gamma', 1.05070102214813232421875)),
  Clip: clip,
  Cast: cast,
  CastLike: castLike,
  Identity: (ctx) => input(ctx, 0),
  Dropout: dropout,
};
