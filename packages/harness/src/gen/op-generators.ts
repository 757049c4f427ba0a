import {
  type Attrs,
  BINARY_DTYPES,
  COMPARE_DTYPES,
  type DTypeClass,
  DTYPES,
  type DType,
  type OpDef,
  type OpName,
  UNARY_DTYPES,
  type Value,
  broadcastShapes,
  isBinaryOp,
  isCompareOp,
  isUnaryOp,
  numel,
  shapesEqual,
  tensorType,
  typeCheckOp,
  unaryResultDType,
} from '@tessera/ir';
import { makeRng } from './choices.ts';
import type { ProgramGen } from './context.ts';
import { TAME_LIMIT } from './options.ts';
import { broadcastsTo, growShape, partnerShape, randomExtent, randomFactorShape, randomPermutation, randomShape, tryBroadcast } from './shapes.ts';

/** How to emit one op with operands that fit it, given the generation state. */
export interface OpGenerator {
  /** Needs bool or i32 values (so `floatOnly` programs leave it out). */
  readonly nonFloat?: boolean;
  /** Emits the op (plus any adapters) and returns its result. Never fails for a valid state. */
  readonly generate: (g: ProgramGen, op: OpName) => Value;
}

const L = TAME_LIMIT;

/** An axis attribute: the axis itself, or (sometimes) the same axis counted from the end. */
function axisAttr(g: ProgramGen, axis: number, rank: number): number {
  return g.c.oneIn(3) ? axis - rank : axis;
}

/** Tame mode: operand adapters for unary ops whose domain or growth needs it. */
function tameUnary(g: ProgramGen, op: OpName, x: Value): Value {
  switch (op) {
    // Discontinuous (at integers, at 0, at the f32 range): only operands exact in f32, so every backend sees the same value.
    case 'floor':
    case 'ceil':
    case 'round':
    case 'sign':
    case 'isnan':
    case 'isinf':
      return g.exactify(x);
    case 'log':
    case 'sqrt':
    case 'rsqrt':
    case 'recip':
      return g.positive(x, L - 1);
    case 'exp':
      return g.clamp(x, 4);
    default:
      return x;
  }
}

/** A pool value converted to fit a dtype class. */
function ofClass(g: ProgramGen, v: Value, cls: DTypeClass): Value {
  return cls === 'float' ? g.toFloat(v) : cls === 'numeric' ? g.toNumeric(v) : cls === 'int' ? g.toDType(v, 'i32') : v;
}

/** A one-operand op of a dtype class; `nonFloat` when it needs i32 operands or gives bool. */
function unary(cls: DTypeClass, nonFloat = cls === 'int'): OpGenerator {
  return {
    nonFloat,
    generate(g, op) {
      const x = ofClass(g, g.pick(), cls);
      return g.emit(op, [g.opts.tame ? tameUnary(g, op, x) : x]);
    },
  };
}

/** Tame mode: operand adapters for binary ops (domains of div/pow, growth of add/mul). */
function tameBinary(g: ProgramGen, op: OpName, a: Value, b: Value): [Value, Value] {
  switch (op) {
    case 'add':
    case 'sub':
      return [g.clamp(a, L / 2), g.clamp(b, L / 2)];
    case 'mul':
      return g.clampProduct(a, b, 1, L);
    case 'div':
      return [g.clamp(a, L / 2), g.positive(b, L)];
    case 'pow':
      return [g.positive(a, 3.5), g.clamp(b, 2)];
    default:
      // Comparisons are discontinuous: tame mode compares only values exact in f32.
      return isCompareOp(op) ? [g.exactify(a), g.exactify(b)] : [a, b];
  }
}

function binary(cls: DTypeClass, nonFloat = cls === 'int'): OpGenerator {
  return {
    nonFloat,
    generate(g, op) {
      let a = ofClass(g, g.pick(), cls);
      let b = g.partner([a.type.shape], a.type.dtype);
      if (g.c.flag()) [a, b] = [b, a];
      if (g.opts.tame) [a, b] = tameBinary(g, op, a, b);
      return g.emit(op, [a, b]);
    },
  };
}

const where: OpGenerator = {
  nonFloat: true,
  generate(g) {
    let a = g.pick();
    const cond = g.partner([a.type.shape], 'bool');
    // A scalar branch now and then (where(mask, x, 0)): the lowering folds it into the kernel as a literal.
    let b = g.c.oneIn(3) ? g.scalar(g.fillValue(a.type.dtype), a.type.dtype) : g.partner([a.type.shape, cond.type.shape], a.type.dtype);
    if (g.c.flag()) [a, b] = [b, a];
    return g.emit('where', [cond, a, b]);
  },
};

const clamp: OpGenerator = {
  generate(g) {
    const x = g.toNumeric(g.pick());
    // Bounds in either order (min > max gives max), broadcasting with x and with each other.
    const lo = g.partner([x.type.shape], x.type.dtype);
    const hi = g.partner([x.type.shape, lo.type.shape], x.type.dtype);
    return g.emit('clamp', [x, lo, hi]);
  },
};

const logicalXor: OpGenerator = {
  nonFloat: true,
  generate(g) {
    // Any two dtypes: nonzero is true. Tame mode keeps f32 operands exact (the test against 0 is discontinuous).
    let a = g.exactify(g.pick());
    let b = g.exactify(g.partner([a.type.shape], g.c.pick(DTYPES)));
    if (g.c.flag()) [a, b] = [b, a];
    return g.emit('logical_xor', [a, b]);
  },
};

const cast: OpGenerator = {
  generate(g) {
    const to: DType = g.opts.floatOnly ? 'f32' : g.c.pick(DTYPES);
    let x = g.pick();
    if (to !== 'f32' && x.type.dtype === 'f32') x = g.exactify(x);
    return g.emit('cast', [x], { to });
  },
};

/** Whether an op's type rule accepts the given operand types and attributes. */
function accepts(op: OpName, dtypes: readonly DType[], attrs: Record<string, unknown>): boolean {
  try {
    typeCheckOp(op, dtypes.map((d) => tensorType(d, [2])), attrs as never);
    return true;
  } catch {
    return false;
  }
}

/**
 * Tame mode: an f32 operand of an op whose result is not f32 (argmax, any,
 * all) must be exact in f32, as a comparison's: the result jumps where the
 * operand crosses a tie or zero.
 */
function exactIfDiscontinuous(g: ProgramGen, op: OpName, x: Value, attrs: Attrs): Value {
  if (x.type.dtype !== 'f32') return x;
  return typeCheckOp(op, [x.type], attrs).type.dtype === 'f32' ? x : g.exactify(x);
}

/** Any op with `axes` and `keepdims` attributes; its dtype class found by probing the type rule (bool too, for any/all/max/min). */
const reduction: OpGenerator = {
  generate(g, op) {
    let x = g.pick();
    const takesBool = accepts(op, ['bool'], { axes: [0] });
    if (takesBool && !g.opts.floatOnly && g.c.oneIn(3)) x = g.toDType(x, 'bool');
    else if (!takesBool || x.type.dtype !== 'bool') x = accepts(op, ['i32'], { axes: [0] }) ? g.toNumeric(x) : g.toFloat(x);
    x = g.minRank(x, 1);
    const rank = x.type.shape.length;
    let axes = [...Array(rank).keys()].filter(() => g.c.flag());
    if (axes.length === 0) axes = [g.c.int(rank)];
    const count = axes.reduce((n, a) => n * x.type.shape[a]!, 1);
    if (op === 'reduce_sum') x = g.clamp(x, L / count);
    if (op === 'reduce_prod') x = g.clamp(x, L ** (1 / count));
    x = exactIfDiscontinuous(g, op, x, { axes });
    axes = axes.map((a) => axisAttr(g, a, rank));
    if (g.c.flag()) axes.reverse();
    const keep = g.c.int(3);
    return g.emit(op, [x], keep === 0 ? { axes } : { axes, keepdims: keep === 1 });
  },
};

/** Operands of a batched matmul from the pool: a of rank >= 2, b fitted to [..., K, N] (batch axes broadcast), each through `adapt`, then clamped for tame growth. */
function matmulOperands(g: ProgramGen, adapt: (v: Value) => Value = (v) => v): [Value, Value] {
  const a = g.minRank(g.toFloat(g.pick()), 2);
  const sa = a.type.shape;
  const batchA = sa.slice(0, -2);
  const [m, k] = sa.slice(-2) as [number, number];
  const nb = numel(batchA);
  const fitsB = (v: Value): boolean => {
    const s = v.type.shape;
    if (v.type.dtype !== 'f32' || s.length < 2 || s[s.length - 2] !== k) return false;
    const batch = tryBroadcast(batchA, s.slice(0, -2));
    return batch !== undefined && numel(batch) * m * s[s.length - 1]! <= g.budget;
  };
  let b = g.pickWhere(fitsB);
  if (!b || g.c.oneIn(3)) {
    const n = Math.min(randomExtent(g.c), Math.floor(g.budget / (nb * Math.max(m, k))));
    const batchB = partnerShape(g.c, batchA, Math.floor(g.budget / (Math.max(m, k) * n)));
    b = g.fitShape(g.toFloat(g.pick()), [...batchB, k, n]);
  }
  return g.clampProduct(adapt(a), adapt(b), k, L);
}

const matmul: OpGenerator = {
  generate: (g) => g.emit('matmul', matmulOperands(g)),
};

/**
 * matmul_int8: matmul's operands made exact in f32 (quantization rounds to
 * integers, so every backend must see the same values: then every backend
 * computes the same integers), with either activation bound.
 */
const matmulInt8: OpGenerator = {
  generate(g) {
    return g.emit('matmul_int8', matmulOperands(g, (v) => g.exactify(v)), { activation_max: g.c.pick([63, 127]), weight_max: g.c.pick([63, 127]) });
  },
};

/**
 * conv2d on a pool value fitted to [N, C, H, W]: groups 1, 2 or depthwise
 * (implicit GEMM and fused-decomposition lowerings), kernel 1-3, stride,
 * padding and dilation 1-2 each (sometimes left to their defaults), a bias
 * half the time; every tensor within the element budget.
 */
const conv2d: OpGenerator = {
  generate(g) {
    const depthwise = g.c.oneIn(4);
    let G = depthwise ? g.c.range(2, 4) : g.c.pick([1, 1, 2]);
    let cg = depthwise ? 1 : g.c.range(1, 3);
    let og = g.c.range(1, 3);
    let n = g.c.range(1, 2);
    const k = [g.c.range(1, 3), g.c.range(1, 3)];
    const stride = [g.c.range(1, 2), g.c.range(1, 2)];
    const dilation = [g.c.range(1, 2), g.c.range(1, 2)];
    const padding = [g.c.int(3), g.c.int(3)];
    const hw = [g.c.range(1, 7), g.c.range(1, 7)];
    const span = (a: number) => dilation[a]! * (k[a]! - 1) + 1;
    // The padded image at least as large as the kernel's span.
    const fitImage = () => [0, 1].forEach((a) => (hw[a] = Math.max(hw[a]!, span(a) - 2 * padding[a]!)));
    const out = (a: number) => Math.floor((hw[a]! + 2 * padding[a]! - span(a)) / stride[a]!) + 1;
    const sizes = () => [n * cg * G * hw[0]! * hw[1]!, n * og * G * out(0) * out(1), og * G * cg * k[0]! * k[1]!];
    fitImage();
    // Shrink until every tensor fits the element budget (a 1x1 kernel on a 1x1 image always does).
    for (let a = 0; Math.max(...sizes()) > g.budget; a = 1 - a) {
      if (hw[a]! > 1 && hw[a]! + 2 * padding[a]! > span(a)) hw[a]!--;
      else if (og > 1) og--;
      else if (cg > 1) cg--;
      else if (n > 1) n--;
      else if (G > 2 || (G > 1 && !depthwise)) G--;
      else if (k[a]! > 1 || dilation[a]! > 1) [k[a], dilation[a]] = [1, 1];
      else if (padding[a]! > 0) padding[a]!--;
      else if (hw[a]! > 1) hw[a]!--;
      else G = 1;
      fitImage();
    }
    let x = g.fitShape(g.toFloat(g.pick()), [n, cg * G, hw[0]!, hw[1]!]);
    let w = g.fitShape(g.toFloat(g.pick()), [og * G, cg, k[0]!, k[1]!]);
    [x, w] = g.clampProduct(x, w, cg * k[0]! * k[1]!, L / 2);
    const operands = g.c.flag() ? [x, w, g.clamp(g.fitShape(g.toFloat(g.pick()), [og * G]), L / 2)] : [x, w];
    const attrs: Record<string, number | number[]> = {};
    if (G > 1 || g.c.flag()) attrs.groups = G;
    if (stride.some((v) => v > 1) || g.c.flag()) attrs.stride = stride;
    if (padding.some((v) => v > 0) || g.c.flag()) attrs.padding = padding;
    if (dilation.some((v) => v > 1) || g.c.flag()) attrs.dilation = dilation;
    return g.emit('conv2d', operands, attrs);
  },
};

const reshape: OpGenerator = {
  generate(g) {
    const x = g.pick();
    const shape = randomFactorShape(g.c, numel(x.type.shape));
    // One -1 is inferred by the builder: exercise that canonicalisation.
    if (shape.length > 0 && g.c.oneIn(3)) shape[g.c.int(shape.length)] = -1;
    return g.emit('reshape', [x], { shape });
  },
};

const transpose: OpGenerator = {
  generate(g) {
    const x = g.pick();
    return g.emit('transpose', [x], { perm: randomPermutation(g.c, x.type.shape.length) });
  },
};

const broadcastTo: OpGenerator = {
  generate(g) {
    const x = g.pick();
    const shape = growShape(g.c, x.type.shape, g.budget);
    // torch.expand's -1 (keep this axis's extent) is resolved by the builder: exercise that canonicalisation.
    const shift = shape.length - x.type.shape.length;
    if (x.type.shape.length > 0 && g.c.oneIn(3)) shape[shift + g.c.int(x.type.shape.length)] = -1;
    return g.emit('broadcast_to', [x], { shape });
  },
};

/**
 * resize of a pool value of rank 3 or 4 ([N, C, spatial...]): each spatial
 * axis kept, shrunk or grown (extents 1 to 7 within the budget), every mode,
 * coordinate transformation and nearest mode, cubic's a, exclude_outside,
 * antialias, explicit scales, and tf_crop_and_resize's region and
 * extrapolation value.
 */
const resize: OpGenerator = {
  generate(g) {
    const x0 = g.pick();
    const mode = g.c.pick(['nearest', 'linear', 'cubic'] as const);
    let x = mode === 'nearest' ? x0 : g.toFloat(x0);
    if (x.type.shape.length < 3 || x.type.shape.length > 4) {
      const target = [g.c.range(1, 2), g.c.range(1, 2), ...Array.from({ length: g.c.range(1, 2) }, () => g.c.range(1, 5))];
      // Within the element budget: the largest extent shrinks first.
      while (numel(target) > g.budget) target[target.indexOf(Math.max(...target))]!--;
      x = g.fitShape(x, target);
    }
    const shape = x.type.shape;
    const sizes = shape.map((d, a) => (a < 2 ? d : g.c.range(1, 7)));
    while (numel(sizes) > g.budget) {
      const a = sizes.indexOf(Math.max(...sizes.slice(2)), 2);
      sizes[a] = Math.max(1, sizes[a]! - 1);
      if (sizes.slice(2).every((d) => d === 1)) break;
    }
    const transform = g.c.pick(['half_pixel', 'half_pixel_symmetric', 'pytorch_half_pixel', 'align_corners', 'asymmetric', 'tf_crop_and_resize'] as const);
    const attrs: Record<string, string | number | boolean | number[]> = { sizes, mode, coordinate_transformation_mode: transform };
    // Explicit scales, at least 1 / the axis' extent (as every scale that gives an output position is).
    if (g.c.flag()) attrs.scales = shape.map((d, a) => (a < 2 ? 1 : g.c.oneIn(2) ? sizes[a]! / d : Math.max(1 / d, g.c.pick([0.5, 0.75, 1.5, 2, 3]))));
    if (mode === 'nearest') attrs.nearest_mode = g.c.pick(['round_prefer_floor', 'round_prefer_ceil', 'floor', 'ceil']);
    if (mode === 'cubic' && g.c.flag()) attrs.cubic_coeff_a = g.c.pick([-0.5, -0.75]);
    if (mode !== 'nearest' && g.c.oneIn(3)) attrs.antialias = true;
    if (mode !== 'nearest' && g.c.oneIn(4)) attrs.exclude_outside = true;
    if (transform === 'tf_crop_and_resize') {
      attrs.roi = [...shape.map((_, a) => (a < 2 ? 0 : g.c.pick([0, 0.1, 0.25, -0.2]))), ...shape.map((_, a) => (a < 2 ? 1 : g.c.pick([1, 0.9, 0.6, 1.3])))];
      attrs.extrapolation_value = g.c.pick([0, -1.5, 2]);
    }
    return g.emit('resize', [x], attrs);
  },
};

/**
 * conv_transpose2d on a pool value fitted to [N, C, H, W]: groups 1 or 2,
 * kernels up to 3, strides and dilations up to 2, padding (both sides, or
 * four apart) and output_padding below the stride, an image small enough
 * that the stuffed input and the output fit the element budget.
 */
const convTranspose2d: OpGenerator = {
  generate(g) {
    const G = g.c.pick([1, 1, 2]);
    let [n, cg, og] = [g.c.range(1, 2), g.c.range(1, 2), g.c.range(1, 2)];
    const k = [g.c.range(1, 3), g.c.range(1, 3)];
    const stride = [g.c.range(1, 2), g.c.range(1, 2)];
    const dilation = [g.c.range(1, 2), g.c.range(1, 2)];
    const hw = [g.c.range(1, 4), g.c.range(1, 4)];
    const reach = (a: number) => dilation[a]! * (k[a]! - 1);
    const outputPadding: number[] = [0, 1].map((a) => (stride[a]! > 1 && g.c.flag() ? 1 : 0));
    const out = (a: number) => (hw[a]! - 1) * stride[a]! + reach(a) + 1 + outputPadding[a]!;
    const sizes = () => [n * cg * G * hw[0]! * hw[1]!, n * og * G * out(0) * out(1), n * cg * G * (out(0) + reach(0)) * (out(1) + reach(1)), cg * G * og * k[0]! * k[1]!];
    for (let a = 0; Math.max(...sizes()) > g.budget; a = 1 - a) {
      if (hw[a]! > 1) hw[a]!--;
      else if (og > 1) og--;
      else if (cg > 1) cg--;
      else if (n > 1) n--;
      else if (k[a]! > 1 || dilation[a]! > 1 || stride[a]! > 1) [k[a], dilation[a], stride[a], outputPadding[a]] = [1, 1, 1, 0];
      else break;
    }
    // At most half the kernel's reach off each side, so the output keeps every input's first position.
    const padding = (g.c.flag() ? [0, 1] : [0, 1, 0, 1]).map((a) => g.c.int(Math.floor(reach(a) / 2) + 1));
    let x = g.fitShape(g.toFloat(g.pick()), [n, cg * G, hw[0]!, hw[1]!]);
    let w = g.fitShape(g.toFloat(g.pick()), [cg * G, og, k[0]!, k[1]!]);
    [x, w] = g.clampProduct(x, w, cg * k[0]! * k[1]!, L / 2);
    const operands = g.c.flag() ? [x, w, g.clamp(g.fitShape(g.toFloat(g.pick()), [og * G]), L / 2)] : [x, w];
    const attrs: Record<string, number | number[]> = { stride, padding, output_padding: outputPadding, dilation };
    if (G > 1 || g.c.flag()) attrs.groups = G;
    return g.emit('conv_transpose2d', operands, attrs);
  },
};

/**
 * max_pool or avg_pool on a pool value fitted to [N, C, spatial...] (1 to 3
 * spatial axes, 2 most often): kernels up to 3, strides up to 3, dilations
 * up to 2, padding (symmetric, or begins and ends apart) at most half the
 * window so that every window holds an input position, ceil mode and (avg)
 * count_include_pad either way; max_pool on i32 sometimes.
 */
const pool: OpGenerator = {
  generate(g, op) {
    const rank = g.c.pick([1, 2, 2, 2, 3]);
    const kernel = Array.from({ length: rank }, () => g.c.range(1, 3));
    const stride = kernel.map(() => g.c.range(1, 3));
    const dilation = kernel.map(() => (g.c.oneIn(3) ? 2 : 1));
    const span = (a: number) => (kernel[a]! - 1) * dilation[a]! + 1;
    const spatial = kernel.map((_, a) => Math.max(span(a), g.c.range(1, 7)));
    let [n, c] = [g.c.range(1, 2), g.c.range(1, 3)];
    // Shrink until the input fits the element budget (a 1-wide window on one position always does).
    while (n * c * numel(spatial) > g.budget) {
      const a = spatial.indexOf(Math.max(...spatial));
      if (c > 1) c--;
      else if (n > 1) n--;
      else if (spatial[a]! > span(a)) spatial[a]!--;
      else if (dilation[a]! > 1) dilation[a] = 1;
      else kernel[a] = spatial[a] = Math.max(1, kernel[a]! - 1);
    }
    // At most half the window on a side, so every window holds an input position.
    const half = kernel.map((_, a) => Math.floor((span(a) - 1) / 2));
    const padding = g.c.flag() ? half.map((h) => g.c.int(h + 1)) : [...half, ...half].map((h) => g.c.int(h + 1));
    const integer = op === 'max_pool' && !g.opts.floatOnly && g.c.oneIn(4);
    const source = g.pick();
    const x = g.fitShape(integer ? g.emit('cast', [source], { to: 'i32' }) : g.toFloat(source), [n, c, ...spatial]);
    const attrs: Record<string, number[] | boolean> = { kernel };
    if (stride.some((v, i) => v !== kernel[i]) || g.c.flag()) attrs.stride = stride;
    if (padding.some((p) => p > 0) || g.c.flag()) attrs.padding = padding;
    if (dilation.some((d) => d > 1) || g.c.flag()) attrs.dilation = dilation;
    if (g.c.flag()) attrs.ceil_mode = true;
    if (op === 'avg_pool' && g.c.flag()) attrs.count_include_pad = false;
    return g.emit(op, [x], attrs);
  },
};

/** tril or triu of a value of rank >= 2, on a diagonal from below the first row to past the last column. */
const triangle: OpGenerator = {
  generate(g, op) {
    const x = g.minRank(g.pick(), 2);
    const [rows, cols] = x.type.shape.slice(-2) as [number, number];
    return g.emit(op, [x], g.c.oneIn(4) ? {} : { diagonal: g.c.range(-rows, cols) });
  },
};

const slice: OpGenerator = {
  generate(g) {
    const x = g.c.oneIn(5) ? g.pick() : g.minRank(g.pick(), 1);
    const start: number[] = [];
    const stop: number[] = [];
    const step: number[] = [];
    for (const d of x.type.shape) {
      const s = g.c.int(d);
      const e = s + 1 + g.c.int(d - s);
      // Negative and past-the-end bounds are resolved (clamped) by the builder.
      start.push(g.c.oneIn(4) ? s - d : s);
      stop.push(e < d && g.c.oneIn(4) ? e - d : e === d && g.c.oneIn(5) ? d + g.c.range(1, 3) : e);
      step.push(1 + (g.c.flag() ? g.c.int(3) : 0));
    }
    return g.emit('slice', [x], { start, stop, step });
  },
};

const concat: OpGenerator = {
  generate(g) {
    const x0 = g.minRank(g.pick(), 1);
    const shape = x0.type.shape;
    const rank = shape.length;
    const axis = g.c.int(rank);
    const row = numel(shape) / shape[axis]!;
    const sameBut = (v: Value) => v.type.dtype === x0.type.dtype && v.type.shape.length === rank && v.type.shape.every((d, a) => a === axis || d === shape[a]);
    const parts = [x0];
    let total = shape[axis]!;
    const extra = g.c.int(3) + (g.c.oneIn(4) ? 0 : 1);
    for (let i = 0; i < extra; i++) {
      const existing = g.pickWhere((v) => sameBut(v) && (total + v.type.shape[axis]!) * row <= g.budget);
      const ext = g.c.range(1, 4);
      let part: Value;
      if (existing && g.c.flag()) part = existing;
      else if ((total + ext) * row <= g.budget) part = g.fitShape(g.toDType(g.pick(), x0.type.dtype), shape.map((d, a) => (a === axis ? ext : d)));
      else break;
      parts.push(part);
      total += part.type.shape[axis]!;
    }
    return g.emit('concat', parts, { axis: axisAttr(g, axis, rank) });
  },
};

const pad: OpGenerator = {
  generate(g) {
    const x = g.pick();
    const shape = x.type.shape;
    const low = shape.map(() => (g.c.flag() ? g.c.range(1, 2) : 0));
    const high = shape.map(() => (g.c.flag() ? g.c.range(1, 2) : 0));
    for (let a = 0; a < shape.length && numel(shape.map((d, i) => d + low[i]! + high[i]!)) > g.budget; a++) low[a] = high[a] = 0;
    const attrs: Attrs = g.c.flag() ? { low, high, value: g.fillValue(x.type.dtype) } : { low, high };
    return g.emit('pad', [x], attrs);
  },
};

const gather: OpGenerator = {
  nonFloat: true,
  generate(g) {
    const table = g.minRank(g.pick(), 1);
    const rank = table.type.shape.length;
    const axis = g.c.int(rank);
    const extent = table.type.shape[axis]!;
    const row = numel(table.type.shape) / extent;
    const shape = randomShape(g.c, Math.floor(g.budget / row), 0, 2);
    // Indices come from a constant with in-range values, so evaluation cannot fail.
    const rng = makeRng(g.c.seed());
    const value = Array.from({ length: numel(shape) }, () => Math.floor(rng() * extent));
    const indices = g.emit('constant', [], { shape, dtype: 'i32', value });
    return g.emit('gather', [table, indices], axis === 0 && g.c.flag() ? {} : { axis: axisAttr(g, axis, rank) });
  },
};

const iota: OpGenerator = {
  generate(g) {
    const shape = randomShape(g.c, g.budget, 1, 4);
    const axis = axisAttr(g, g.c.int(shape.length), shape.length);
    const d = g.opts.floatOnly ? 1 : g.c.int(3);
    return g.emit('iota', [], d === 0 ? { shape, axis } : { shape, axis, dtype: d === 1 ? 'f32' : 'i32' });
  },
};

const constant: OpGenerator = {
  generate(g) {
    const dtype: DType = g.opts.floatOnly ? 'f32' : g.c.pick(DTYPES);
    return g.constant(randomShape(g.c, g.budget), dtype);
  },
};

/** softmax and log_softmax: f32 along an axis (the last by default). */
const softmax: OpGenerator = {
  generate(g, op) {
    const x = g.minRank(g.toFloat(g.pick()), 1);
    const rank = x.type.shape.length;
    return g.emit(op, [x], g.c.flag() ? { axis: axisAttr(g, g.c.int(rank), rank) } : {});
  },
};

/** argmax and argmin: f32 or i32 along one axis, keepdims either way. */
const argExtreme: OpGenerator = {
  nonFloat: true,
  generate(g, op) {
    let x = g.minRank(g.toNumeric(g.pick()), 1);
    const rank = x.type.shape.length;
    const attrs = { axis: axisAttr(g, g.c.int(rank), rank), ...(g.c.flag() ? { keepdims: g.c.flag() } : {}) };
    x = exactIfDiscontinuous(g, op, x, attrs);
    return g.emit(op, [x], attrs);
  },
};

/** cumsum: f32 or i32 along one axis (tame: clamped so that every running sum stays in bounds). */
const cumsum: OpGenerator = {
  generate(g, op) {
    let x = g.minRank(g.toNumeric(g.pick()), 1);
    const rank = x.type.shape.length;
    const axis = g.c.int(rank);
    x = g.clamp(x, L / x.type.shape[axis]!);
    return g.emit(op, [x], { axis: axisAttr(g, axis, rank) });
  },
};

/** group_norm on a pool value of rank >= 2 ([N, C, ...]): groups dividing C (instance norm sometimes), weight and bias each half the time. */
const groupNorm: OpGenerator = {
  generate(g) {
    const x = g.minRank(g.toFloat(g.pick()), 2);
    const c = x.type.shape[1]!;
    const divisors = Array.from({ length: c }, (_, i) => i + 1).filter((k) => c % k === 0);
    const groups = g.c.pick(divisors);
    const rowLength = numel(x.type.shape) / (x.type.shape[0]! * groups);
    const w = g.c.flag() ? g.clamp(g.fitShape(g.toFloat(g.pick()), [c]), L / 2 / Math.sqrt(rowLength)) : undefined;
    const b = w && g.c.flag() ? g.clamp(g.fitShape(g.toFloat(g.pick()), [c]), L / 2) : undefined;
    // As layer_norm: tame mode avoids tiny eps.
    const eps = g.opts.tame ? g.c.pick([0.01, 0.1]) : g.c.pick([1e-5, 1e-3, 0.1, 0]);
    return g.emit('group_norm', [x, ...(w ? [w] : []), ...(b ? [b] : [])], g.opts.tame || g.c.flag() ? { groups, eps } : { groups });
  },
};

const layerNorm: OpGenerator = {
  generate(g) {
    const x = g.minRank(g.toFloat(g.pick()), 1);
    const d = x.type.shape[x.type.shape.length - 1]!;
    const vector = () => {
      const existing = g.pickWhere((v) => v.type.dtype === 'f32' && shapesEqual(v.type.shape, [d]));
      return existing && g.c.flag() ? existing : g.fitShape(g.toFloat(g.pick()), [d]);
    };
    const w = g.clamp(vector(), L / 2 / Math.sqrt(d));
    const b = g.clamp(vector(), L / 2);
    // Tame mode avoids tiny eps: a constant row then divides rounding noise by sqrt(eps).
    const eps = g.opts.tame ? g.c.pick([0.01, 0.1]) : g.c.pick([1e-5, 1e-3, 0.1, 0]);
    return g.emit('layer_norm', [x, w, b], g.opts.tame || g.c.flag() ? { eps } : {});
  },
};

const rmsNorm: OpGenerator = {
  generate(g) {
    const x = g.minRank(g.toFloat(g.pick()), 1);
    const d = x.type.shape[x.type.shape.length - 1]!;
    const existing = g.pickWhere((v) => v.type.dtype === 'f32' && shapesEqual(v.type.shape, [d]));
    const w = g.clamp(existing && g.c.flag() ? existing : g.fitShape(g.toFloat(g.pick()), [d]), L / Math.sqrt(d));
    // Tame mode avoids tiny eps (as layer_norm): an all-zero row would divide rounding noise by sqrt(eps).
    const eps = g.opts.tame ? g.c.pick([0.01, 0.1]) : g.c.pick([1e-6, 1e-5, 0.1, 0]);
    return g.emit('rms_norm', g.c.flag() ? [x, w] : [x], g.opts.tame || g.c.flag() ? { eps } : {});
  },
};

const gelu: OpGenerator = {
  generate(g) {
    const x = g.toFloat(g.pick());
    const form = g.c.int(3);
    return g.emit('gelu', [x], form === 0 ? {} : { approximate: form === 1 ? 'none' : 'tanh' });
  },
};

/** Drops leading axes and sets extents to 1 at random: a shape that broadcasts to `shape`. */
function shrinkShape(g: ProgramGen, shape: readonly number[]): number[] {
  const drop = g.c.oneIn(3) ? g.c.int(shape.length + 1) : 0;
  return shape.slice(drop).map((d) => (g.c.oneIn(3) ? 1 : d));
}

/**
 * Tame mode: a constant bool mask in which every row (last axis) attends
 * somewhere; a fully masked row gives NaN, which would poison every later value.
 */
function attendingMask(g: ProgramGen, shape: readonly number[]): Value {
  const rng = makeRng(g.c.seed());
  const value = Array.from({ length: numel(shape) }, () => (rng() < 0.6 ? 1 : 0));
  const row = shape.length ? shape[shape.length - 1]! : 1;
  for (let r = 0; r < value.length; r += row) {
    if (!value.slice(r, r + row).includes(1)) value[r + Math.floor(rng() * row)] = 1;
  }
  return g.emit('constant', [], { shape: [...shape], dtype: 'bool', value });
}

/** Operands (q, k, v and a mask or none) and attributes of a random attention. */
function attentionOperands(g: ProgramGen): { operands: Value[]; attrs: Attrs } {
  {
    let q = g.minRank(g.toFloat(g.pick()), 2);
    const batchQ = q.type.shape.slice(0, -2);
    const [tq, d] = q.type.shape.slice(-2) as [number, number];
    const nb = numel(batchQ);
    let k: Value;
    let v: Value;
    let batch: number[];
    let tk: number;
    if (g.c.oneIn(4) && nb * tq * tq <= g.budget) {
      // Self-attention: q, k and v are one value.
      k = v = q;
      batch = batchQ;
      tk = tq;
    } else {
      const f = Math.floor(g.budget / (nb * Math.max(tq, d)));
      tk = Math.min(randomExtent(g.c, 5), f);
      let dv = Math.min(randomExtent(g.c, 5), f);
      while (nb * tk * dv > g.budget) if (tk > dv) tk--; else dv--;
      const per = Math.max(tq * tk, tq * dv, tk * d, tk * dv);
      const batchK = partnerShape(g.c, batchQ, Math.floor(g.budget / per));
      const batchV = partnerShape(g.c, broadcastShapes(batchQ, batchK), Math.floor(g.budget / per));
      batch = broadcastShapes(batchQ, batchK, batchV);
      k = g.fitShape(g.toFloat(g.pick()), [...batchK, tk, d]);
      v = g.fitShape(g.toFloat(g.pick()), [...batchV, tk, dv]);
    }
    [q, k] = [g.clamp(q, 4), g.clamp(k, 4)];
    const operands = [q, k, v];
    const scores = [...batch, tq, tk];
    const maskKind = g.c.int(3);
    if (maskKind !== 0) {
      const dtype: DType = maskKind === 1 && !g.opts.floatOnly ? 'bool' : 'f32';
      if (dtype === 'bool' && g.opts.tame) {
        operands.push(attendingMask(g, shrinkShape(g, scores)));
      } else {
        const existing = g.pickWhere((m) => m.type.dtype === dtype && broadcastsTo(m.type.shape, scores));
        operands.push(existing && g.c.flag() ? existing : g.fitShape(g.toDType(g.pick(), dtype), shrinkShape(g, scores)));
      }
    }
    return { operands, attrs: g.c.flag() ? { scale: g.c.pick([0.5, 1, 0.125, 2]) } : {} };
  }
}

const attention: OpGenerator = {
  generate(g) {
    const { operands, attrs } = attentionOperands(g);
    return g.emit('attention', operands, attrs);
  },
};

/**
 * An attention probe: an attention, then (usually) the probabilities of
 * that same attention (q, k, mask and scale), as trace's `attentions` adds
 * them, so the lowering pairs the two; sometimes a probe of its own.
 */
const attentionProbs: OpGenerator = {
  generate(g) {
    const { operands, attrs } = attentionOperands(g);
    const [q, k, v, mask] = operands as [Value, Value, Value, Value | undefined];
    if (!g.c.oneIn(4)) g.emit('attention', operands, attrs);
    // The probabilities have q and k's batch axes; a mask made for v's too (broadcast in by v) needs q broadcast to them,
    // within the budget (else the probe goes unmasked).
    const scores = [...broadcastShapes(q.type.shape.slice(0, -2), k.type.shape.slice(0, -2)), q.type.shape.at(-2)!, k.type.shape.at(-2)!];
    if (!mask || broadcastsTo(mask.type.shape, scores)) return g.emit('attention_probs', mask ? [q, k, mask] : [q, k], attrs);
    const full = [...broadcastShapes(scores.slice(0, -2), v.type.shape.slice(0, -2)), ...q.type.shape.slice(-2)];
    if (numel(full) > g.budget || numel([...full.slice(0, -1), scores.at(-1)!]) > g.budget) return g.emit('attention_probs', [q, k], attrs);
    return g.emit('attention_probs', [g.emit('broadcast_to', [q], { shape: full }), k, mask], attrs);
  },
};

const EXPLICIT: Readonly<Record<string, OpGenerator>> = {
  where,
  cast,
  matmul,
  matmul_int8: matmulInt8,
  conv2d,
  conv_transpose2d: convTranspose2d,
  resize,
  reshape,
  transpose,
  broadcast_to: broadcastTo,
  tril: triangle,
  triu: triangle,
  max_pool: pool,
  avg_pool: pool,
  slice,
  concat,
  pad,
  gather,
  iota,
  constant,
  softmax,
  log_softmax: softmax,
  argmax: argExtreme,
  argmin: argExtreme,
  cumsum,
  layer_norm: layerNorm,
  group_norm: groupNorm,
  rms_norm: rmsNorm,
  gelu,
  sigmoid: unary('float'),
  silu: unary('float'),
  relu: unary('numeric'),
  clamp,
  logical_xor: logicalXor,
  attention,
  attention_probs: attentionProbs,
};

/**
 * The generator for an op: an explicit one, or one derived from what the
 * registry says (unary/binary/compare name lists, reductions by their
 * `axes`/`keepdims` schema), so a new op of a known family is covered
 * without code here. Undefined when the op is of an unknown kind.
 */
export function generatorFor(def: OpDef): OpGenerator | undefined {
  const name = def.name;
  if (name in EXPLICIT) return EXPLICIT[name];
  if (isUnaryOp(name)) return unary(UNARY_DTYPES[name], UNARY_DTYPES[name] === 'int' || unaryResultDType(name, 'f32') === 'bool');
  if (isBinaryOp(name)) return binary(BINARY_DTYPES[name]);
  if (isCompareOp(name)) return binary(COMPARE_DTYPES[name], true);
  if ('axes' in def.attrs && 'keepdims' in def.attrs && def.operands.max === 1) {
    // any/all give bool whatever they fold: not for float-only programs.
    const folded = accepts(name, ['f32'], { axes: [0] }) ? typeCheckOp(name, [tensorType('f32', [2])], { axes: [0] }).type.dtype : 'f32';
    return folded === 'f32' ? reduction : { ...reduction, nonFloat: true };
  }
  return undefined;
}
