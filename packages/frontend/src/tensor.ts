import { type Attrs, type DType, type OpName, type ReductionOp, type SourceLoc, type TensorType, type Value, TesseraError, formatType, tensorType } from '@tessera/ir';
import { userCallSite } from './call-site.ts';
import { type Tracer, currentTracer, describe, dslError } from './tracer.ts';

/** Where a traced tensor lives: the trace that made it and its SSA value there. */
export interface TensorOrigin {
  readonly tracer: Tracer;
  readonly value: Value;
}

/** One range of a slice, per axis: `[start, stop?, step?]` (negatives count from the end), or null for the whole axis. */
export type SliceRange = readonly [start: number, stop?: number, step?: number] | null;

/** Axes of a reduction: one axis, a list, or undefined for all axes. */
export type Axes = number | readonly number[] | undefined;

function axesList(axes: Axes, rank: number): number[] {
  if (axes === undefined) return [...Array(rank).keys()];
  return typeof axes === 'number' ? [axes] : [...axes];
}

/** Something usable as an op operand: a tensor, or a number that becomes a scalar constant. */
export type Operand = Tensor | number;

/** The dtype a number operand takes: that of the first tensor among `from` (indices into operands), else f32. */
function scalarDType(operands: readonly Operand[], from: readonly number[]): DType {
  for (const i of from) {
    const o = operands[i];
    if (o instanceof Tensor) return o.dtype;
  }
  return 'f32';
}

/** Options of one emitted op. */
export interface EmitOpOptions {
  /** Which operands give their dtype to number operands (default: all, first tensor wins). */
  readonly scalarDTypeFrom?: readonly number[];
  /** A preferred value name for the node. */
  readonly name?: string;
}

/**
 * Emits one IR node in the active trace at the user's call site. Numbers
 * become scalar constants of the other operand's dtype. Type errors from
 * the builder carry the call site, so their message starts with file:line:col.
 * It lives beside Tensor because each needs the other at run time (methods
 * emit ops, emitOp makes Tensors): tracer.ts, which holds the trace state,
 * then needs Tensor only as a type, and the modules form no import cycle.
 */
export function emitOp(op: OpName, operands: readonly Operand[], attrs: Attrs = {}, opts: EmitOpOptions = {}): Tensor {
  const loc = userCallSite();
  const t = currentTracer(op, loc);
  t.lastCallSite = loc ?? t.lastCallSite;
  const from = opts.scalarDTypeFrom ?? operands.map((_, i) => i);
  const dtype = scalarDType(operands, from);
  const values = operands.map((o) => {
    if (o instanceof Tensor) return o.valueIn(t, loc);
    if (typeof o !== 'number') throw new TesseraError(`${op}: operand ${describe(o)} is not a Tensor or a number`, loc);
    return t.builder.emit('constant', [], { shape: [], dtype, value: [o] }, loc ? { loc } : {});
  });
  const v = t.builder.emit(op, values, attrs, { ...(loc ? { loc } : {}), ...(opts.name !== undefined ? { name: opts.name } : {}) });
  return new Tensor(tensorType(v.type.dtype, v.type.shape), { tracer: t, value: v });
}

/**
 * A tensor while tracing: a typed handle on one SSA value of the program
 * being built. Every method emits exactly the IR node(s) it names through
 * the active trace; the builder type-checks each one.
 */
export class Tensor {
  constructor(
    readonly type: TensorType,
    private readonly origin?: TensorOrigin,
  ) {}

  /** Extents, outermost first. */
  get shape(): readonly number[] {
    return this.type.shape;
  }

  /** Element type. */
  get dtype(): DType {
    return this.type.dtype;
  }

  /** Number of axes. */
  get rank(): number {
    return this.type.shape.length;
  }

  /** The SSA value of this tensor in trace `t` (parameters are declared there on first use). */
  valueIn(t: Tracer, loc: SourceLoc | undefined): Value {
    if (!this.origin) throw new TesseraError(`a tensor of type ${formatType(this.type)} has no value in this trace`, loc);
    if (this.origin.tracer !== t) {
      throw new TesseraError(
        `tensor %${this.origin.value.name} (${formatType(this.type)}) belongs to another trace; expected tensors made during this trace() call`,
        loc,
      );
    }
    return this.origin.value;
  }

  toString(): string {
    return `Tensor(${this.origin ? `%${this.origin.value.name}: ` : ''}${formatType(this.type)})`;
  }

  // Binary arithmetic (numpy broadcasting; numbers become scalars of this dtype).
  /** this + o */
  add(o: Operand): Tensor {
    return emitOp('add', [this, o]);
  }
  /** this - o */
  sub(o: Operand): Tensor {
    return emitOp('sub', [this, o]);
  }
  /** this * o */
  mul(o: Operand): Tensor {
    return emitOp('mul', [this, o]);
  }
  /** this / o (floats only) */
  div(o: Operand): Tensor {
    return emitOp('div', [this, o]);
  }
  /** this ^ o (floats only) */
  pow(o: Operand): Tensor {
    return emitOp('pow', [this, o]);
  }
  /** Elementwise larger of this and o (torch.maximum). */
  maximum(o: Operand): Tensor {
    return emitOp('max', [this, o]);
  }
  /** Elementwise smaller of this and o (torch.minimum). */
  minimum(o: Operand): Tensor {
    return emitOp('min', [this, o]);
  }

  // Unary math.
  /** -x */
  neg(): Tensor {
    return emitOp('neg', [this]);
  }
  /** |x| */
  abs(): Tensor {
    return emitOp('abs', [this]);
  }
  /** e^x */
  exp(): Tensor {
    return emitOp('exp', [this]);
  }
  /** Natural logarithm. */
  log(): Tensor {
    return emitOp('log', [this]);
  }
  /** Square root. */
  sqrt(): Tensor {
    return emitOp('sqrt', [this]);
  }
  /** 1 / sqrt(x) */
  rsqrt(): Tensor {
    return emitOp('rsqrt', [this]);
  }
  /** Hyperbolic tangent. */
  tanh(): Tensor {
    return emitOp('tanh', [this]);
  }
  /** Error function. */
  erf(): Tensor {
    return emitOp('erf', [this]);
  }
  /** Sine. */
  sin(): Tensor {
    return emitOp('sin', [this]);
  }
  /** Cosine. */
  cos(): Tensor {
    return emitOp('cos', [this]);
  }
  /** 1 / x */
  recip(): Tensor {
    return emitOp('recip', [this]);
  }

  // Rounding, activations and predicates (issue 13), PyTorch's semantics.
  /** Largest integer <= x, as torch.floor (an i32 is unchanged). */
  floor(): Tensor {
    return emitOp('floor', [this]);
  }
  /** Smallest integer >= x, as torch.ceil (an i32 is unchanged). */
  ceil(): Tensor {
    return emitOp('ceil', [this]);
  }
  /** Nearest integer with halves to even, as torch.round (0.5 -> 0, 1.5 -> 2, -2.5 -> -2). */
  round(): Tensor {
    return emitOp('round', [this]);
  }
  /** -1, 0 or 1 by the sign of x, as torch.sign (sign(NaN) = 0). */
  sign(): Tensor {
    return emitOp('sign', [this]);
  }
  /** Whether each element is NaN (a bool tensor), as torch.isnan. */
  isnan(): Tensor {
    return emitOp('isnan', [this]);
  }
  /** Whether each element is +inf or -inf (a bool tensor), as torch.isinf. */
  isinf(): Tensor {
    return emitOp('isinf', [this]);
  }
  /** The logistic sigmoid 1 / (1 + e^-x), as torch.sigmoid. */
  sigmoid(): Tensor {
    return emitOp('sigmoid', [this]);
  }
  /** max(x, 0), as torch.relu (NaN stays NaN). */
  relu(): Tensor {
    return emitOp('relu', [this]);
  }
  /**
   * min(max(x, min), max) elementwise, as torch.clamp: bounds are tensors
   * (broadcast) or numbers; either may be left out (null or undefined), not
   * both. min > max gives max; a NaN bound gives NaN.
   */
  clamp(min?: Operand | null, max?: Operand | null): Tensor {
    if (min == null && max == null) return dslError('clamp: expected a min or a max bound (at least one of them, as torch.clamp)');
    if (max == null) return emitOp('max', [this, min!]);
    if (min == null) return emitOp('min', [this, max]);
    return emitOp('clamp', [this, min, max]);
  }
  /** Integer division rounding toward -inf (Python //), as torch.floor_divide: i32 only; x // 0 is 0. */
  floorDivide(o: Operand): Tensor {
    return emitOp('floor_div', [this, o]);
  }
  /** The remainder of floorDivide, with the divisor's sign (Python %), as torch.remainder: i32 only; x % 0 is 0. */
  remainder(o: Operand): Tensor {
    return emitOp('mod', [this, o]);
  }

  // Comparisons (bool results).
  /** this == o */
  eq(o: Operand): Tensor {
    return emitOp('eq', [this, o]);
  }
  /** this != o */
  ne(o: Operand): Tensor {
    return emitOp('ne', [this, o]);
  }
  /** this < o */
  lt(o: Operand): Tensor {
    return emitOp('lt', [this, o]);
  }
  /** this <= o */
  le(o: Operand): Tensor {
    return emitOp('le', [this, o]);
  }
  /** this > o */
  gt(o: Operand): Tensor {
    return emitOp('gt', [this, o]);
  }
  /** this >= o */
  ge(o: Operand): Tensor {
    return emitOp('ge', [this, o]);
  }

  // Logic on bool tensors (the IR has no logic ops: eq and where express them).
  /** Logical not of a bool tensor. */
  logicalNot(): Tensor {
    return emitOp('eq', [this, 0]);
  }
  /** Logical and of bool tensors. */
  logicalAnd(o: Operand): Tensor {
    return emitOp('where', [this, o, 0], {}, { scalarDTypeFrom: [0, 1] });
  }
  /** Whether exactly one of this and o is nonzero (any dtypes; NaN is nonzero), as torch.logical_xor: a bool tensor. */
  logicalXor(o: Operand): Tensor {
    return emitOp('logical_xor', [this, o]);
  }
  /** Logical or of bool tensors. */
  logicalOr(o: Operand): Tensor {
    return emitOp('where', [this, 1, o], {}, { scalarDTypeFrom: [0, 2] });
  }

  /** Batched matrix product [..., M, K] x [..., K, N]. */
  matmul(o: Tensor): Tensor {
    return emitOp('matmul', [this, o]);
  }

  // Reductions.
  /** Sum over `axes` (all when omitted). */
  sum(axes?: Axes, keepdims = false): Tensor {
    return this.reduce('reduce_sum', axes, keepdims);
  }
  /** Mean over `axes` (all when omitted). */
  mean(axes?: Axes, keepdims = false): Tensor {
    return this.reduce('reduce_mean', axes, keepdims);
  }
  /** Elementwise maximum with a tensor, or the maximum over `axes` (all when omitted). */
  max(other: Tensor): Tensor;
  max(axes?: Axes, keepdims?: boolean): Tensor;
  max(arg?: Tensor | Axes, keepdims = false): Tensor {
    return arg instanceof Tensor ? emitOp('max', [this, arg]) : this.reduce('reduce_max', arg, keepdims);
  }
  /** Elementwise minimum with a tensor, or the minimum over `axes` (all when omitted). */
  min(other: Tensor): Tensor;
  min(axes?: Axes, keepdims?: boolean): Tensor;
  min(arg?: Tensor | Axes, keepdims = false): Tensor {
    return arg instanceof Tensor ? emitOp('min', [this, arg]) : this.reduce('reduce_min', arg, keepdims);
  }
  /** Product over `axes` (all when omitted); bool counts as i32, as PyTorch's integer promotion. */
  prod(axes?: Axes, keepdims = false): Tensor {
    return (this.dtype === 'bool' ? this.cast('i32') : this).reduce('reduce_prod', axes, keepdims);
  }
  /** Whether any element over `axes` (all when omitted) is nonzero (NaN is), as torch.any: a bool tensor. */
  any(axes?: Axes, keepdims = false): Tensor {
    return this.rank === 0 ? this.cast('bool') : this.reduce('reduce_any', axes, keepdims);
  }
  /** Whether every element over `axes` (all when omitted) is nonzero (NaN is), as torch.all: a bool tensor. */
  all(axes?: Axes, keepdims = false): Tensor {
    return this.rank === 0 ? this.cast('bool') : this.reduce('reduce_all', axes, keepdims);
  }
  /** log(sum(exp(x))) over `axes` (all when omitted), numerically stable, as torch.logsumexp; integers become f32. */
  logsumexp(axes?: Axes, keepdims = false): Tensor {
    return (this.dtype === 'f32' ? this : this.cast('f32')).reduce('logsumexp', axes, keepdims);
  }
  /** The index (i32) of the first largest element along `axis` (NaN counts as largest), as torch.argmax; of the flattened tensor when omitted. */
  argmax(axis?: number, keepdims = false): Tensor {
    return this.argExtreme('argmax', axis, keepdims);
  }
  /** The index (i32) of the first smallest element along `axis` (NaN counts as smallest), as torch.argmin; of the flattened tensor when omitted. */
  argmin(axis?: number, keepdims = false): Tensor {
    return this.argExtreme('argmin', axis, keepdims);
  }
  /** The inclusive running sum along `axis`, as torch.cumsum (bool counts as i32; i32 wraps). */
  cumsum(axis: number): Tensor {
    const x = this.dtype === 'bool' ? this.cast('i32') : this;
    // A scalar is its own running sum (PyTorch takes dim 0 or -1 there).
    if (this.rank === 0) return emitOp('cumsum', [x.reshape([1])], { axis: axis === -1 ? 0 : axis }).reshape([]);
    return emitOp('cumsum', [x], { axis });
  }

  private argExtreme(op: 'argmax' | 'argmin', axis: number | undefined, keepdims: boolean): Tensor {
    // PyTorch's dim=None (and any dim of a scalar): the index into the flattened tensor, kept as all-1 extents with keepdims.
    if (axis !== undefined && this.rank > 0) return emitOp(op, [this], { axis, keepdims });
    const flat = emitOp(op, [this.reshape([-1])], { axis: 0 });
    return keepdims ? flat.reshape(this.shape.map(() => 1)) : flat;
  }

  private reduce(op: ReductionOp | 'logsumexp', axes: Axes, keepdims: boolean): Tensor {
    const list = axesList(axes, this.rank);
    // A scalar has nothing to reduce; the IR rejects empty axis lists.
    if (list.length === 0 && this.rank === 0) return this;
    return emitOp(op, [this], { axes: list, keepdims });
  }

  // Movement.
  /** Same elements, new shape; one extent may be -1 (inferred). */
  reshape(shape: readonly number[]): Tensor;
  reshape(...shape: number[]): Tensor;
  reshape(...args: (number | readonly number[])[]): Tensor {
    const shape = Array.isArray(args[0]) ? (args[0] as readonly number[]) : (args as number[]);
    return emitOp('reshape', [this], { shape: [...shape] });
  }
  /** Permutes axes (result axis i is axis perm[i]), or swaps two axes: transpose(a, b). */
  transpose(perm: readonly number[]): Tensor;
  transpose(a: number, b: number): Tensor;
  transpose(permOrA: readonly number[] | number, b?: number): Tensor {
    const rank = this.rank;
    const fix = (a: number) => (a < 0 ? a + rank : a);
    let perm: number[];
    if (typeof permOrA === 'number') {
      if (b === undefined) return dslError(`transpose(${permOrA}): expected a permutation list or two axes to swap`);
      perm = [...Array(rank).keys()];
      const [i, j] = [fix(permOrA), fix(b)];
      if (i < 0 || i >= rank || j < 0 || j >= rank) return dslError(`transpose(${permOrA}, ${b}): axes out of range for rank ${rank}`);
      [perm[i], perm[j]] = [perm[j]!, perm[i]!];
    } else {
      perm = permOrA.map(fix);
    }
    return emitOp('transpose', [this], { perm });
  }
  /** Permutes axes: permute(perm) is transpose(perm). */
  permute(perm: readonly number[]): Tensor {
    return this.transpose(perm);
  }
  /** Swaps the last two axes (a matrix transpose, batched). */
  get mT(): Tensor {
    if (this.rank < 2) return dslError(`.mT needs rank >= 2, got ${formatType(this.type)}`);
    return this.transpose(-2, -1);
  }
  /** Swaps the last two axes, like .mT. */
  get T(): Tensor {
    if (this.rank < 2) return dslError(`.T needs rank >= 2, got ${formatType(this.type)}`);
    return this.transpose(-2, -1);
  }
  /** Numpy broadcast to `shape`. */
  broadcastTo(shape: readonly number[]): Tensor {
    return emitOp('broadcast_to', [this], { shape: [...shape] });
  }
  /** Broadcast to `sizes`, as torch's expand: -1 keeps this tensor's extent on that axis (x.expand(2, -1, 4)). */
  expand(sizes: readonly number[]): Tensor;
  expand(...sizes: number[]): Tensor;
  expand(...args: (number | readonly number[])[]): Tensor {
    const sizes = Array.isArray(args[0]) ? (args[0] as readonly number[]) : (args as number[]);
    return emitOp('broadcast_to', [this], { shape: [...sizes] });
  }
  /** Broadcast to another tensor's shape, as torch's expand_as. */
  expandAs(other: Tensor): Tensor {
    return this.broadcastTo(other.shape);
  }
  /** The lower triangle of the last two axes (column - row <= diagonal), the rest 0, as torch.tril. */
  tril(diagonal = 0): Tensor {
    return emitOp('tril', [this], { diagonal });
  }
  /** The upper triangle of the last two axes (column - row >= diagonal), the rest 0, as torch.triu. */
  triu(diagonal = 0): Tensor {
    return emitOp('triu', [this], { diagonal });
  }
  /** Inserts an axis of extent 1 at `axis` (-1 appends). */
  unsqueeze(axis: number): Tensor {
    const a = axis < 0 ? axis + this.rank + 1 : axis;
    if (!Number.isInteger(a) || a < 0 || a > this.rank) return dslError(`unsqueeze(${axis}): axis out of range for rank ${this.rank}`);
    return this.reshape([...this.shape.slice(0, a), 1, ...this.shape.slice(a)]);
  }
  /** Removes `axis` (which must have extent 1), or every axis of extent 1. */
  squeeze(axis?: number): Tensor {
    if (axis === undefined) return this.reshape(this.shape.filter((d) => d !== 1));
    const a = axis < 0 ? axis + this.rank : axis;
    if (this.shape[a] !== 1) return dslError(`squeeze(${axis}): axis must exist and have extent 1, shape is [${this.shape.join(',')}]`);
    return this.reshape(this.shape.filter((_, i) => i !== a));
  }
  /** Merges axes start..end (inclusive) into one. */
  flatten(start = 0, end = -1): Tensor {
    const [s, e] = [start < 0 ? start + this.rank : start, end < 0 ? end + this.rank : end];
    if (s < 0 || e >= this.rank || s > e) return dslError(`flatten(${start}, ${end}): axes out of range for rank ${this.rank}`);
    const merged = this.shape.slice(s, e + 1).reduce((a, d) => a * d, 1);
    return this.reshape([...this.shape.slice(0, s), merged, ...this.shape.slice(e + 1)]);
  }
  /**
   * Strided slice. slice(axis, start, stop?, step?) slices one axis;
   * slice([[start, stop?, step?] | null, ...]) slices leading axes (missing ones are whole).
   * The rank is kept; negative start/stop count from the end.
   */
  slice(axis: number, start: number, stop?: number, step?: number): Tensor;
  slice(ranges: readonly SliceRange[]): Tensor;
  slice(arg: number | readonly SliceRange[], start?: number, stop?: number, step = 1): Tensor {
    const rank = this.rank;
    const ranges: SliceRange[] = Array(rank).fill(null);
    if (typeof arg === 'number') {
      const a = arg < 0 ? arg + rank : arg;
      if (a < 0 || a >= rank || start === undefined) return dslError(`slice(${arg}, ...): expected an axis in range for rank ${rank} and a start`);
      ranges[a] = [start, stop, step];
    } else {
      if (arg.length > rank) return dslError(`slice: ${arg.length} ranges for a tensor of rank ${rank}`);
      arg.forEach((r, a) => (ranges[a] = r));
    }
    const attrs = {
      start: ranges.map((r) => r?.[0] ?? 0),
      stop: ranges.map((r, a) => r?.[1] ?? this.shape[a]!),
      step: ranges.map((r) => r?.[2] ?? 1),
    };
    return emitOp('slice', [this], attrs);
  }
  /** The sub-tensor at `index` along `axis`, with that axis removed. */
  select(axis: number, index: number): Tensor {
    const a = axis < 0 ? axis + this.rank : axis;
    const n = this.shape[a];
    if (n === undefined) return dslError(`select(${axis}, ${index}): axis out of range for rank ${this.rank}`);
    const i = index < 0 ? index + n : index;
    if (i < 0 || i >= n) return dslError(`select(${axis}, ${index}): index out of range for extent ${n}`);
    return this.slice(a, i, i + 1).reshape(this.shape.filter((_, j) => j !== a));
  }

  /** Converts elements to another dtype. */
  cast(dtype: DType): Tensor {
    return emitOp('cast', [this], { to: dtype });
  }
  /** softmax along `axis` (default the last). */
  softmax(axis = -1): Tensor {
    return emitOp('softmax', [this], { axis });
  }
  /** log(softmax(x)) along `axis` (default the last), computed stably, as torch.log_softmax. */
  logSoftmax(axis = -1): Tensor {
    return emitOp('log_softmax', [this], { axis });
  }
}
