import { type Attrs, num, str } from '../attrs.ts';
import { TypeRuleError } from '../errors.ts';
import { type OpSpec, type OpTable, fixedOperands, scalar } from '../op-def.ts';
import type { Value } from '../program.ts';
import type { RefTensor } from '../ref-tensor.ts';
import { type TensorType, broadcastShapes, formatShape, normalizeAxis, numel, shapesEqual, stridesOf } from '../tensor-type.ts';
import { castValue, checkDType } from './elementwise.ts';
import { broadcastMap, broadcastOffset, forEachIndex, forEachLine, mapElements } from './eval-util.ts';
import { erf } from './special.ts';
import { GROUP_NORM_OPS } from './group-norm.ts';
import { POOLING_OPS } from './pooling.ts';
import { RESIZE_OPS } from './resize.ts';
import { TRIANGLE_OPS } from './triangle.ts';

export { scalar };

/** Throws a TypeRuleError naming `what` unless `t` is f32. */
export function requireF32(t: TensorType, what: string): void {
  if (t.dtype !== 'f32') throw new TypeRuleError(`${what} has dtype ${t.dtype}, expected f32`);
}

/** Applies `fn` to each 1-D row along `axis`, in place on a copy of the data. */
export function mapRows(x: RefTensor, axis: number, result: TensorType, fn: (row: Float64Array) => void): RefTensor {
  const n = x.type.shape[axis]!;
  const data = x.data.slice();
  const row = new Float64Array(n);
  forEachLine(x.type.shape, axis, (base, stride) => {
    for (let j = 0; j < n; j++) row[j] = data[base + j * stride]!;
    fn(row);
    for (let j = 0; j < n; j++) data[base + j * stride] = row[j]!;
  });
  return { type: result, data };
}

/** Stable softmax of one row in place: exp(x - max) / sum. A row of only -inf gives NaN, as in PyTorch. */
export function softmaxRow(row: Float64Array): void {
  let m = -Infinity;
  for (const v of row) m = Math.max(m, v);
  let s = 0;
  for (let j = 0; j < row.length; j++) {
    row[j] = Math.exp(row[j]! - m);
    s += row[j]!;
  }
  for (let j = 0; j < row.length; j++) row[j] = row[j]! / s;
}

/** What softmax-like ops share: one f32 operand x normalised along `axis` (default the last), a result of x's type. */
export const ALONG_AXIS_F32 = {
  fusion: 'reduction',
  operands: fixedOperands('x'),
  attrs: { axis: { kind: 'int', default: -1, doc: 'axis to normalise along' } },
  canonicalize: ([x], attrs) => ({ ...attrs, axis: normalizeAxis(num(attrs, 'axis'), x!.shape.length) }),
  inferType([x], attrs) {
    requireF32(x!, 'operand x');
    normalizeAxis(num(attrs, 'axis'), x!.shape.length);
    return x!;
  },
} satisfies Pick<OpSpec, 'fusion' | 'operands' | 'attrs' | 'canonicalize' | 'inferType'>;

const softmaxOp: OpSpec = {
  doc: 'exp(x - max) / sum(exp(x - max)) along `axis` (numerically stable)',
  ...ALONG_AXIS_F32,
  evaluate: ([x], attrs, result) => mapRows(x!, num(attrs, 'axis'), result, softmaxRow),
  decompose(e, [x], attrs) {
    const axes = [num(attrs, 'axis')];
    const m = e.emit('reduce_max', [x!], { axes, keepdims: true });
    const ex = e.emit('exp', [e.emit('sub', [x!, m])]);
    const s = e.emit('reduce_sum', [ex], { axes, keepdims: true });
    return e.emit('div', [ex, s]);
  },
};

const layerNormOp: OpSpec = {
  doc: '(x - mean) / sqrt(var + eps) * weight + bias over the last axis (biased variance, as PyTorch)',
  fusion: 'reduction',
  operands: fixedOperands('x', 'weight', 'bias'),
  attrs: { eps: { kind: 'float', default: 1e-5, doc: 'added to the variance' } },
  inferType([x, w, b], attrs) {
    for (const [t, what] of [[x, 'operand x'], [w, 'operand weight'], [b, 'operand bias']] as const) requireF32(t!, what);
    if (x!.shape.length < 1) throw new TypeRuleError('operand x is a scalar, expected rank >= 1');
    const d = x!.shape[x!.shape.length - 1]!;
    for (const [t, what] of [[w, 'weight'], [b, 'bias']] as const) {
      if (!shapesEqual(t!.shape, [d])) throw new TypeRuleError(`${what} has shape ${formatShape(t!.shape)}, expected [${d}] (the last axis of x)`);
    }
    if (!(num(attrs, 'eps') >= 0)) throw new TypeRuleError(`eps ${num(attrs, 'eps')} must be >= 0`);
    return x!;
  },
  evaluate([x, w, b], attrs, result) {
    // eps as the f32 the decomposition's constant holds (see the gelu constants).
    const eps = Math.fround(num(attrs, 'eps'));
    return mapRows(x!, x!.type.shape.length - 1, result, (row) => {
      let mean = 0;
      for (const v of row) mean += v;
      mean /= row.length;
      let variance = 0;
      for (const v of row) variance += (v - mean) * (v - mean);
      variance /= row.length;
      const r = 1 / Math.sqrt(variance + eps);
      for (let j = 0; j < row.length; j++) row[j] = (row[j]! - mean) * r * w!.data[j]! + b!.data[j]!;
    });
  },
  decompose(e, [x, w, b], attrs) {
    const axes = [x!.type.shape.length - 1];
    const mean = e.emit('reduce_mean', [x!], { axes, keepdims: true });
    const xc = e.emit('sub', [x!, mean]);
    const variance = e.emit('reduce_mean', [e.emit('mul', [xc, xc])], { axes, keepdims: true });
    const r = e.emit('rsqrt', [e.emit('add', [variance, scalar(e, num(attrs, 'eps'))])]);
    return e.emit('add', [e.emit('mul', [e.emit('mul', [xc, r]), w!]), b!]);
  },
};

/** torch.finfo(torch.float32).eps: PyTorch's rms_norm eps when none is given. */
export const F32_EPSILON = 2 ** -23;

const rmsNormOp: OpSpec = {
  doc: 'x / sqrt(mean(x^2) + eps) * weight over the last axis (torch.nn.functional.rms_norm; eps defaults to float32 epsilon)',
  fusion: 'reduction',
  operands: { names: ['x', 'weight?'], min: 1, max: 2 },
  attrs: { eps: { kind: 'float', default: F32_EPSILON, doc: 'added to the mean square' } },
  inferType([x, w], attrs) {
    requireF32(x!, 'operand x');
    if (x!.shape.length < 1) throw new TypeRuleError('operand x is a scalar, expected rank >= 1');
    const d = x!.shape[x!.shape.length - 1]!;
    if (w) {
      requireF32(w, 'operand weight');
      if (!shapesEqual(w.shape, [d])) throw new TypeRuleError(`weight has shape ${formatShape(w.shape)}, expected [${d}] (the last axis of x)`);
    }
    if (!(num(attrs, 'eps') >= 0)) throw new TypeRuleError(`eps ${num(attrs, 'eps')} must be >= 0`);
    return x!;
  },
  evaluate([x, w], attrs, result) {
    const eps = Math.fround(num(attrs, 'eps'));
    return mapRows(x!, x!.type.shape.length - 1, result, (row) => {
      let sq = 0;
      for (const v of row) sq += v * v;
      const r = 1 / Math.sqrt(sq / row.length + eps);
      for (let j = 0; j < row.length; j++) row[j] = row[j]! * r * (w ? w.data[j]! : 1);
    });
  },
  decompose(e, [x, w], attrs) {
    const axes = [x!.type.shape.length - 1];
    const meanSquare = e.emit('reduce_mean', [e.emit('mul', [x!, x!])], { axes, keepdims: true });
    const normed = e.emit('mul', [x!, e.emit('rsqrt', [e.emit('add', [meanSquare, scalar(e, num(attrs, 'eps'))])])]);
    return w ? e.emit('mul', [normed, w]) : normed;
  },
};

// Constants as the f32 values the decomposition's f32 `constant` nodes hold, so a
// composite and its decomposition compute the same function (and match PyTorch's f32 kernels).
const SQRT_2_OVER_PI = Math.fround(Math.sqrt(2 / Math.PI));
const GELU_CUBIC = Math.fround(0.044715);
const SQRT1_2 = Math.fround(Math.SQRT1_2);

const geluOp: OpSpec = {
  doc: 'x * Phi(x): erf form 0.5x(1+erf(x/sqrt2)), or tanh form 0.5x(1+tanh(sqrt(2/pi)(x+0.044715x^3)))',
  fusion: 'elementwise',
  operands: fixedOperands('x'),
  attrs: { approximate: { kind: 'enum', values: ['none', 'tanh'], default: 'none', doc: 'which formula (as torch.nn.GELU)' } },
  inferType([x]) {
    requireF32(x!, 'operand x');
    return x!;
  },
  evaluate([x], attrs, result) {
    const tanhForm = str(attrs, 'approximate') === 'tanh';
    return mapElements(result, x!, (v) =>
      tanhForm ? 0.5 * v * (1 + Math.tanh(SQRT_2_OVER_PI * (v + GELU_CUBIC * v * v * v))) : 0.5 * v * (1 + erf(v * SQRT1_2)),
    );
  },
  decompose(e, [x], attrs) {
    const half = e.emit('mul', [x!, scalar(e, 0.5)]);
    let inner: Value;
    if (str(attrs, 'approximate') === 'tanh') {
      const cube = e.emit('mul', [e.emit('mul', [x!, x!]), x!]);
      const poly = e.emit('add', [x!, e.emit('mul', [cube, scalar(e, GELU_CUBIC)])]);
      inner = e.emit('tanh', [e.emit('mul', [poly, scalar(e, SQRT_2_OVER_PI)])]);
    } else {
      inner = e.emit('erf', [e.emit('mul', [x!, scalar(e, SQRT1_2)])]);
    }
    return e.emit('mul', [half, e.emit('add', [inner, scalar(e, 1)])]);
  },
};

/** 1 / (1 + e^-x): the reference for sigmoid and silu (sigmoid(-inf) = 0, sigmoid(inf) = 1). */
const logistic = (v: number): number => 1 / (1 + Math.exp(-v));

/** What one-operand f32 activations share: an elementwise map of x of x's type. */
const F32_ACTIVATION = {
  fusion: 'elementwise',
  operands: fixedOperands('x'),
  attrs: {},
  inferType([x]) {
    requireF32(x!, 'operand x');
    return x!;
  },
} satisfies Pick<OpSpec, 'fusion' | 'operands' | 'attrs' | 'inferType'>;

const sigmoidOp: OpSpec = {
  doc: 'logistic sigmoid 1 / (1 + e^-x) (as torch.sigmoid)',
  ...F32_ACTIVATION,
  evaluate: ([x], _attrs, result) => mapElements(result, x!, logistic),
  decompose: (e, [x]) => e.emit('recip', [e.emit('add', [e.emit('exp', [e.emit('neg', [x!])]), scalar(e, 1)])]),
};

const siluOp: OpSpec = {
  doc: 'x * sigmoid(x), the swish (as torch.nn.functional.silu; silu(-inf) is NaN there too)',
  ...F32_ACTIVATION,
  evaluate: ([x], _attrs, result) => mapElements(result, x!, (v) => v * logistic(v)),
  decompose: (e, [x]) => e.emit('mul', [x!, e.emit('sigmoid', [x!])]),
};

const reluOp: OpSpec = {
  doc: 'max(x, 0) (as torch.relu; NaN stays NaN)',
  fusion: 'elementwise',
  operands: fixedOperands('x'),
  attrs: {},
  inferType([x]) {
    checkDType(x!.dtype, 'numeric', 'operand x');
    return x!;
  },
  evaluate: ([x], _attrs, result) => mapElements(result, x!, (v) => Math.max(v, 0)),
  decompose: (e, [x]) => e.emit('max', [x!, e.emit('constant', [], { shape: [], dtype: x!.type.dtype, value: [0] })]),
};

const clampOp: OpSpec = {
  doc: 'min(max(x, min), max), all three broadcast (as torch.clamp: min > max gives max; NaN in any operand gives NaN)',
  fusion: 'broadcast',
  operands: fixedOperands('x', 'min', 'max'),
  attrs: {},
  inferType([x, lo, hi]) {
    checkDType(x!.dtype, 'numeric', 'operand x');
    for (const [t, what] of [[lo!, 'min'], [hi!, 'max']] as const) {
      if (t.dtype !== x!.dtype) throw new TypeRuleError(`operand ${what} has dtype ${t.dtype}, expected ${x!.dtype} like x`);
    }
    return { dtype: x!.dtype, shape: broadcastShapes(x!.shape, lo!.shape, hi!.shape) };
  },
  evaluate: (ops, _attrs, result) => broadcastMap(result, ops, ([v, lo, hi]) => Math.min(Math.max(v!, lo!), hi!)),
  decompose: (e, [x, lo, hi]) => e.emit('min', [e.emit('max', [x!, lo!]), hi!]),
};

const logicalXorOp: OpSpec = {
  doc: 'exactly one of a and b is nonzero (bool; any dtypes, broadcast; NaN counts as nonzero), as torch.logical_xor',
  fusion: 'broadcast',
  operands: fixedOperands('a', 'b'),
  attrs: {},
  inferType: ([a, b]) => ({ dtype: 'bool', shape: broadcastShapes(a!.shape, b!.shape) }),
  evaluate: (ops, _attrs, result) => broadcastMap(result, ops, ([a, b]) => (castValue(a!, 'bool') !== castValue(b!, 'bool') ? 1 : 0)),
  decompose: (e, [a, b]) => e.emit('ne', [e.emit('cast', [a!], { to: 'bool' }), e.emit('cast', [b!], { to: 'bool' })]),
};

/** Composite ops: each has direct reference semantics and a decomposition into core ops. */
export const COMPOSITE_OPS = {
  softmax: softmaxOp,
  layer_norm: layerNormOp,
  rms_norm: rmsNormOp,
  gelu: geluOp,
  sigmoid: sigmoidOp,
  silu: siluOp,
  relu: reluOp,
  clamp: clampOp,
  logical_xor: logicalXorOp,
  ...TRIANGLE_OPS,
  ...POOLING_OPS,
  ...GROUP_NORM_OPS,
  ...RESIZE_OPS,
} as const satisfies OpTable;
