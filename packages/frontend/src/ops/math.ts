/** Elementwise math, comparisons, logic, reductions and matmul as functions (the Tensor methods, plus number operands first). */
import type { DType } from '@tessera/ir';
import { type Axes, type Operand, type Tensor, emitOp } from '../tensor.ts';
import { full } from './create.ts';

/** a + b */
export const add = (a: Operand, b: Operand): Tensor => emitOp('add', [a, b]);
/** a - b */
export const sub = (a: Operand, b: Operand): Tensor => emitOp('sub', [a, b]);
/** a * b */
export const mul = (a: Operand, b: Operand): Tensor => emitOp('mul', [a, b]);
/** a / b (floats) */
export const div = (a: Operand, b: Operand): Tensor => emitOp('div', [a, b]);
/** a ^ b (floats) */
export const pow = (a: Operand, b: Operand): Tensor => emitOp('pow', [a, b]);
/** Elementwise larger of a and b. */
export const maximum = (a: Operand, b: Operand): Tensor => emitOp('max', [a, b]);
/** Elementwise smaller of a and b. */
export const minimum = (a: Operand, b: Operand): Tensor => emitOp('min', [a, b]);

/** -x */
export const neg = (x: Tensor): Tensor => x.neg();
/** |x| */
export const abs = (x: Tensor): Tensor => x.abs();
/** e^x */
export const exp = (x: Tensor): Tensor => x.exp();
/** Natural logarithm. */
export const log = (x: Tensor): Tensor => x.log();
/** Square root. */
export const sqrt = (x: Tensor): Tensor => x.sqrt();
/** 1 / sqrt(x) */
export const rsqrt = (x: Tensor): Tensor => x.rsqrt();
/** Hyperbolic tangent. */
export const tanh = (x: Tensor): Tensor => x.tanh();
/** Error function. */
export const erf = (x: Tensor): Tensor => x.erf();
/** Sine. */
export const sin = (x: Tensor): Tensor => x.sin();
/** Cosine. */
export const cos = (x: Tensor): Tensor => x.cos();
/** 1 / x */
export const recip = (x: Tensor): Tensor => x.recip();

/** a == b */
export const eq = (a: Operand, b: Operand): Tensor => emitOp('eq', [a, b]);
/** a != b */
export const ne = (a: Operand, b: Operand): Tensor => emitOp('ne', [a, b]);
/** a < b */
export const lt = (a: Operand, b: Operand): Tensor => emitOp('lt', [a, b]);
/** a <= b */
export const le = (a: Operand, b: Operand): Tensor => emitOp('le', [a, b]);
/** a > b */
export const gt = (a: Operand, b: Operand): Tensor => emitOp('gt', [a, b]);
/** a >= b */
export const ge = (a: Operand, b: Operand): Tensor => emitOp('ge', [a, b]);

/** Type categories of PyTorch's promotion: bool < integer < float. */
const CATEGORY: Readonly<Record<DType, number>> = { bool: 0, i32: 1, f32: 2 };
const OF_CATEGORY: readonly DType[] = ['bool', 'i32', 'f32'];

/**
 * The dtype of where's result, as PyTorch promotes its branches: the higher
 * category of the tensors (bool < i32 < f32); a number raises it only past
 * every tensor's (an integer to i32, any other number to f32), and two
 * numbers give i32 if both are integers, else f32.
 */
function whereDType(a: Operand, b: Operand): DType {
  const tensors = [a, b].filter((o): o is Tensor => typeof o !== 'number');
  const numbers = [a, b].filter((o): o is number => typeof o === 'number');
  const tensorCategory = Math.max(-1, ...tensors.map((t) => CATEGORY[t.dtype]));
  const numberCategory = Math.max(-1, ...numbers.map((n) => (Number.isInteger(n) ? 1 : 2)));
  return OF_CATEGORY[Math.max(tensorCategory, numberCategory > tensorCategory ? numberCategory : -1)]!;
}

/**
 * cond ? a : b elementwise (broadcasting), as torch.where: either branch may
 * be a number (`where(mask, x, 0)`), and the branches are promoted to one
 * dtype as PyTorch does (an i32 tensor and 0.5 give f32; a bool tensor and 2 give i32).
 */
export function where(cond: Tensor, a: Operand, b: Operand): Tensor {
  const dtype = whereDType(a, b);
  const fit = (o: Operand): Tensor => (typeof o === 'number' ? full([], o, dtype) : o.dtype === dtype ? o : o.cast(dtype));
  return emitOp('where', [cond, fit(a), fit(b)]);
}
/** Logical not of a bool tensor. */
export const logicalNot = (x: Tensor): Tensor => x.logicalNot();
/** Logical and of bool tensors. */
export const logicalAnd = (a: Tensor, b: Tensor): Tensor => a.logicalAnd(b);
/** Whether exactly one of a and b is nonzero (any dtypes), as torch.logical_xor. */
export const logicalXor = (a: Tensor, b: Operand): Tensor => a.logicalXor(b);
/** Logical or of bool tensors. */
export const logicalOr = (a: Tensor, b: Tensor): Tensor => a.logicalOr(b);

/** Converts elements to `dtype`. */
export const cast = (x: Tensor, dtype: DType): Tensor => x.cast(dtype);

/** Batched matrix product. */
export const matmul = (a: Tensor, b: Tensor): Tensor => a.matmul(b);
/**
 * The int8 matmul (the IR's matmul_int8): a quantized per row to integers in
 * [-activationMax, activationMax], b per column to [-weightMax, weightMax], an exact
 * integer product scaled back. `compile(..., { quantize: 'int8' })` writes
 * it for every weight matmul; this is for programs that want it by hand.
 */
export const matmulInt8 = (a: Tensor, b: Tensor, activationMax = 127, weightMax = 127): Tensor => emitOp('matmul_int8', [a, b], { activation_max: activationMax, weight_max: weightMax });

/** Sum over axes (all when omitted). */
export const sum = (x: Tensor, axes?: Axes, keepdims = false): Tensor => x.sum(axes, keepdims);
/** Mean over axes (all when omitted). */
export const mean = (x: Tensor, axes?: Axes, keepdims = false): Tensor => x.mean(axes, keepdims);
/** Maximum over axes (all when omitted). */
export const max = (x: Tensor, axes?: Axes, keepdims = false): Tensor => x.max(axes, keepdims);
/** Minimum over axes (all when omitted). */
export const min = (x: Tensor, axes?: Axes, keepdims = false): Tensor => x.min(axes, keepdims);
/** Product over axes (all when omitted). */
export const prod = (x: Tensor, axes?: Axes, keepdims = false): Tensor => x.prod(axes, keepdims);
/** Whether any element over axes (all when omitted) is nonzero, as torch.any. */
export const any = (x: Tensor, axes?: Axes, keepdims = false): Tensor => x.any(axes, keepdims);
/** Whether every element over axes (all when omitted) is nonzero, as torch.all. */
export const all = (x: Tensor, axes?: Axes, keepdims = false): Tensor => x.all(axes, keepdims);
/** log(sum(exp(x))) over axes (all when omitted), as torch.logsumexp. */
export const logsumexp = (x: Tensor, axes?: Axes, keepdims = false): Tensor => x.logsumexp(axes, keepdims);
/** Index (i32) of the first largest element along `axis` (of the flattened tensor when omitted), as torch.argmax. */
export const argmax = (x: Tensor, axis?: number, keepdims = false): Tensor => x.argmax(axis, keepdims);
/** Index (i32) of the first smallest element along `axis` (of the flattened tensor when omitted), as torch.argmin. */
export const argmin = (x: Tensor, axis?: number, keepdims = false): Tensor => x.argmin(axis, keepdims);
/** Inclusive running sum along `axis`, as torch.cumsum. */
export const cumsum = (x: Tensor, axis: number): Tensor => x.cumsum(axis);

/** Largest integer <= x, as torch.floor. */
export const floor = (x: Tensor): Tensor => x.floor();
/** Smallest integer >= x, as torch.ceil. */
export const ceil = (x: Tensor): Tensor => x.ceil();
/** Nearest integer, halves to even, as torch.round. */
export const round = (x: Tensor): Tensor => x.round();
/** -1, 0 or 1 by sign (NaN gives 0), as torch.sign. */
export const sign = (x: Tensor): Tensor => x.sign();
/** Whether each element is NaN, as torch.isnan. */
export const isnan = (x: Tensor): Tensor => x.isnan();
/** Whether each element is infinite, as torch.isinf. */
export const isinf = (x: Tensor): Tensor => x.isinf();
/** min(max(x, min), max), as torch.clamp (either bound may be null, not both). */
export const clamp = (x: Tensor, min?: Operand | null, max?: Operand | null): Tensor => x.clamp(min, max);
/** Integer a // b rounding toward -inf, as torch.floor_divide (i32; x // 0 = 0). */
export const floorDivide = (a: Tensor, b: Operand): Tensor => a.floorDivide(b);
/** Integer a % b with the sign of b, as torch.remainder (i32; x % 0 = 0). */
export const remainder = (a: Tensor, b: Operand): Tensor => a.remainder(b);
