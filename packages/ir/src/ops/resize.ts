import { type Attrs, flag, num, str } from '../attrs.ts';
import { TypeRuleError } from '../errors.ts';
import type { Emitter, OpSpec, OpTable } from '../op-def.ts';
import type { Value } from '../program.ts';
import type { RefTensor } from '../ref-tensor.ts';
import { type TensorType, formatShape, numel, stridesOf } from '../tensor-type.ts';

/**
 * resize: ONNX's Resize (and torch's interpolate) with its output extents
 * known: nearest, linear or cubic interpolation along each axis whose extent
 * or map changes, every coordinate transformation mode and nearest mode,
 * antialias, exclude_outside, and tf_crop_and_resize's region and
 * extrapolation value. Resize is separable: each resized axis is a fixed
 * map from input to output positions, computed as ONNX's reference computes
 * it (onnx/reference/ops/op_resize.py, in float64). Nearest picks one input
 * per output (a gather of constant indices, exact for every value); linear
 * and cubic weigh a few neighbours, written as the dense [out, in] weight
 * matrix of the axis (a matmul along it, and the reference's sum over every
 * input too, so an infinite input gives NaN wherever a zero weight meets it,
 * on every backend). Positions tf_crop_and_resize puts outside the input
 * take extrapolation_value.
 */

type Mode = 'nearest' | 'linear' | 'cubic';
/** The interpolation modes, coordinate transformation modes and nearest modes resize takes (ONNX's names). */
export const RESIZE_MODES = ['nearest', 'linear', 'cubic'] as const;
export const RESIZE_TRANSFORMS = ['half_pixel', 'half_pixel_symmetric', 'pytorch_half_pixel', 'align_corners', 'asymmetric', 'tf_crop_and_resize'] as const;
export const RESIZE_NEAREST_MODES = ['round_prefer_floor', 'round_prefer_ceil', 'floor', 'ceil'] as const;

/** The attributes that shape one axis' map. */
interface AxisRule {
  readonly mode: Mode;
  readonly transform: string;
  readonly nearestMode: string;
  readonly cubicA: number;
  readonly excludeOutside: boolean;
  readonly antialias: boolean;
}

/** The taps' coefficients at `ratio` in (0, 1] (ONNX's _nearest/_linear/_cubic_coeffs and their antialias forms). */
function coefficients(rule: AxisRule, ratio: number, scale: number): number[] {
  if (rule.mode === 'nearest') {
    if (Number.isInteger(ratio)) return [0, 1];
    switch (rule.nearestMode) {
      case 'round_prefer_floor':
        return [ratio <= 0.5 ? 1 : 0, ratio > 0.5 ? 1 : 0];
      case 'round_prefer_ceil':
        return [ratio < 0.5 ? 1 : 0, ratio >= 0.5 ? 1 : 0];
      case 'floor':
        return [1, 0];
      default:
        return [0, 1];
    }
  }
  if (rule.mode === 'linear') {
    if (!rule.antialias) return [1 - ratio, ratio];
    const s = Math.min(scale, 1);
    const start = Math.floor(-1 / s) + 1;
    const taps = Array.from({ length: 2 - 2 * start }, (_, i) => Math.min(Math.max(1 - Math.abs((start + i - ratio) * s), 0), 1));
    return normalised(taps);
  }
  const A = rule.cubicA;
  if (!rule.antialias) {
    const r = ratio;
    return [
      ((A * (r + 1) - 5 * A) * (r + 1) + 8 * A) * (r + 1) - 4 * A,
      ((A + 2) * r - (A + 3)) * r * r + 1,
      ((A + 2) * (1 - r) - (A + 3)) * (1 - r) * (1 - r) + 1,
      ((A * (1 - r + 1) - 5 * A) * (1 - r + 1) + 8 * A) * (1 - r + 1) - 4 * A,
    ];
  }
  const s = Math.min(scale, 1);
  const cubic = (x: number) => {
    const a = Math.abs(x);
    if (a <= 1) return (A + 2) * a ** 3 - (A + 3) * a * a + 1;
    return a < 2 ? A * a ** 3 - 5 * A * a * a + 8 * A * a - 4 * A : 0;
  };
  const start = Math.floor(-2 / s) + 1;
  return normalised(Array.from({ length: 2 - 2 * start }, (_, i) => cubic(s * (start + i - ratio))));
}

const normalised = (c: number[]) => {
  const sum = c.reduce((a, b) => a + b, 0);
  return c.map((x) => x / sum);
};

/** Where output position y reads from in the input (ONNX's _compute_x_ori), and whether it lies outside (tf_crop_and_resize only). */
function sourceOf(rule: AxisRule, y: number, scale: number, inW: number, outInt: number, roi: readonly [number, number] | undefined): { x: number; outside: boolean } {
  const outW = scale * inW;
  switch (rule.transform) {
    case 'align_corners':
      return { x: outW === 1 ? 0 : (y * (inW - 1)) / (outW - 1), outside: false };
    case 'asymmetric':
      return { x: y / scale, outside: false };
    case 'tf_crop_and_resize': {
      const [a, b] = roi!;
      const x = (outW === 1 ? ((b - a) * (inW - 1)) / 2 : (y * (b - a) * (inW - 1)) / (outW - 1)) + a * (inW - 1);
      return { x, outside: x < 0 || x > inW - 1 };
    }
    case 'pytorch_half_pixel':
      return { x: outW === 1 ? -0.5 : (y + 0.5) / scale - 0.5, outside: false };
    case 'half_pixel_symmetric': {
      const offset = (inW / 2) * (1 - outInt / outW);
      return { x: offset + (y + 0.5) / scale - 0.5, outside: false };
    }
    default:
      return { x: (y + 0.5) / scale - 0.5, outside: false };
  }
}

/** One axis' map: for each output position, its taps (input index, clamped, and weight), and whether it is extrapolated. */
function axisMap(rule: AxisRule, inW: number, outInt: number, scale: number, roi: readonly [number, number] | undefined): { taps: [number, number][][]; outside: boolean[] } {
  const taps: [number, number][][] = [];
  const outside: boolean[] = [];
  for (let y = 0; y < outInt; y++) {
    const src = sourceOf(rule, y, scale, inW, outInt, roi);
    const xi = Math.floor(src.x);
    let coeffs = coefficients(rule, src.x === xi ? 1 : src.x - xi, scale);
    const n = coeffs.length;
    // The n neighbours nearest x (ties to the smaller index), as the reference's edge-padded window.
    const pad = Math.ceil(n / 2);
    const p = Math.floor(src.x + pad);
    const frac = src.x + pad - p;
    const offset = n % 2 === 0 ? (frac === 0 ? -(n / 2) : -(n / 2) + 1) : frac <= 0.5 ? -((n - 1) / 2) : -((n - 1) / 2) + 1;
    const first = p + offset - pad;
    const indices = Array.from({ length: n }, (_, k) => first + k);
    if (rule.excludeOutside) {
      coeffs = coeffs.map((c, k) => (indices[k]! < 0 || indices[k]! >= inW ? 0 : c));
      const sum = coeffs.reduce((a, b) => a + b, 0);
      if (sum !== 0) coeffs = coeffs.map((c) => c / sum);
    }
    taps.push(indices.map((i, k) => [Math.min(Math.max(i, 0), inW - 1), coeffs[k]!]));
    outside.push(src.outside);
  }
  return { taps, outside };
}

/** Checks resize's attributes against x (cheaply: no map is built) and returns each axis' interpolation rule inputs. */
function resizeRule(x: TensorType, attrs: Attrs): { rule: AxisRule; sizes: readonly number[]; scales: readonly number[]; roi: readonly number[] } {
  const sizes = attrs.sizes as readonly number[];
  const rank = x.shape.length;
  if (sizes.length !== rank) throw new TypeRuleError(`attribute sizes has ${sizes.length} entries, expected ${rank} (one per axis of ${formatShape(x.shape)})`);
  if (sizes.some((n) => !(n >= 1))) throw new TypeRuleError(`attribute sizes is [${sizes.join(',')}], expected extents >= 1`);
  const given = attrs.scales as readonly number[];
  if (given.length !== 0 && given.length !== rank) throw new TypeRuleError(`attribute scales has ${given.length} entries, expected ${rank} or none (then output / input extents)`);
  const scales = given.length ? given : sizes.map((n, a) => n / x.shape[a]!);
  // A scale below 1 / extent maps the whole axis into less than one output position (and would make antialias's kernel wider than the input).
  if (scales.some((s, a) => !(s * x.shape[a]! >= 1))) throw new TypeRuleError(`attribute scales is [${given.join(',')}], expected each scale at least 1 / its axis' extent`);
  const roi = attrs.roi as readonly number[];
  const rule: AxisRule = {
    mode: str(attrs, 'mode') as Mode,
    transform: str(attrs, 'coordinate_transformation_mode'),
    nearestMode: str(attrs, 'nearest_mode'),
    cubicA: num(attrs, 'cubic_coeff_a'),
    excludeOutside: flag(attrs, 'exclude_outside'),
    antialias: flag(attrs, 'antialias'),
  };
  if (rule.mode === 'nearest' && rule.antialias) throw new TypeRuleError('antialias needs mode linear or cubic');
  if (rule.mode === 'nearest' && rule.excludeOutside) throw new TypeRuleError('exclude_outside needs mode linear or cubic (nearest picks one input)');
  if (rule.transform === 'tf_crop_and_resize' && roi.length !== 2 * rank) throw new TypeRuleError(`tf_crop_and_resize needs roi of ${2 * rank} entries (the starts, then the ends), got ${roi.length}`);
  return { rule, sizes, scales, roi };
}

/** The map of each axis that resize changes (undefined where it keeps the axis as it is). */
function axisMaps(x: TensorType, attrs: Attrs): (ReturnType<typeof axisMap> | undefined)[] {
  const { rule, sizes, scales, roi } = resizeRule(x, attrs);
  const rank = x.shape.length;
  return x.shape.map((size, a) => {
    const region: [number, number] | undefined = rule.transform === 'tf_crop_and_resize' ? [roi[a]!, roi[rank + a]!] : undefined;
    if (scales[a] === 1 && sizes[a] === size && (region === undefined || (region[0] === 0 && region[1] === 1))) return undefined;
    return axisMap(rule, size, sizes[a]!, scales[a]!, region);
  });
}

/** One output's weights over the inputs of its axis (its taps added at their clamped inputs), rounded to f32 as the decomposition's constant holds them. */
function weightRow(taps: readonly [number, number][], inW: number): Float64Array {
  const row = new Float64Array(inW);
  for (const [i, w] of taps) row[i] += w;
  return row.map(Math.fround);
}

/**
 * The dense weights of an axis map as the matmul takes them, [in, out]
 * (input-major): each output's column a weightRow, f32, so the reference
 * weighs by the same values as the decomposition (weights summing to 1 in
 * float64 need not in f32, and pow of a negative base tells).
 */
function inputMajorWeights(map: ReturnType<typeof axisMap>, inW: number): number[] {
  const outW = map.taps.length;
  const weights = new Array<number>(inW * outW);
  map.taps.forEach((t, o) => weightRow(t, inW).forEach((w, i) => (weights[i * outW + o] = w)));
  return weights;
}

/** Exactly one tap of a nearest map weighs 1: the input each output picks. */
const picks = (map: ReturnType<typeof axisMap>): number[] => map.taps.map((t) => t.find(([, w]) => w === 1)![0]);

/** extrapolation_value in the data's dtype (ONNX casts it: i32 truncates toward zero, bool is whether it is nonzero). */
function extrapolationIn(dtype: TensorType['dtype'], v: number): number {
  return dtype === 'i32' ? Math.trunc(v) : dtype === 'bool' ? Number(v !== 0) : v;
}

/** The reference: the axes resized one after another, in float64 (a pick for nearest, the dense weighted sum otherwise). */
function resizeRef(x: RefTensor, attrs: Attrs, result: TensorType): RefTensor {
  const maps = axisMaps(x.type, attrs);
  const nearest = str(attrs, 'mode') === 'nearest';
  const extrapolation = extrapolationIn(x.type.dtype, num(attrs, 'extrapolation_value'));
  let shape = [...x.type.shape];
  let data = Float64Array.from(x.data);
  maps.forEach((map, axis) => {
    if (!map) return;
    const inW = shape[axis]!;
    const outW = map.taps.length;
    const outShape = shape.map((d, a) => (a === axis ? outW : d));
    const [inStrides, outStrides] = [stridesOf(shape), stridesOf(outShape)];
    const out = new Float64Array(numel(outShape));
    const rows = nearest ? [] : map.taps.map((t) => weightRow(t, inW));
    const chosen = nearest ? picks(map) : [];
    for (let flat = 0; flat < out.length; flat++) {
      const o = Math.floor(flat / outStrides[axis]!) % outW;
      const base = flat - o * outStrides[axis]!;
      // The same element of the input with the axis index set to i.
      const inBase = Math.floor(base / outStrides[axis]! / outW) * inStrides[axis]! * inW + (base % outStrides[axis]!);
      if (map.outside[o]) out[flat] = extrapolation;
      else if (nearest) out[flat] = data[inBase + chosen[o]! * inStrides[axis]!]!;
      else {
        let s = 0;
        const row = rows[o]!;
        for (let i = 0; i < inW; i++) s += row[i]! * data[inBase + i * inStrides[axis]!]!;
        out[flat] = s;
      }
    }
    shape = outShape;
    data = out;
  });
  return { type: result, data };
}

/** With core ops: per resized axis a gather of constant indices (nearest) or a matmul with the constant weight matrix along the axis, and a select of extrapolated positions. */
function resizeDecompose(e: Emitter, [x]: readonly Value[], attrs: Attrs): Value {
  const maps = axisMaps(x!.type, attrs);
  const nearest = str(attrs, 'mode') === 'nearest';
  let y = x!;
  maps.forEach((map, axis) => {
    if (!map) return;
    const shape = y.type.shape;
    const rank = shape.length;
    const inW = shape[axis]!;
    const outW = map.taps.length;
    if (nearest) {
      y = e.emit('gather', [y, e.emit('constant', [], { shape: [outW], dtype: 'i32', value: picks(map) })], { axis });
    } else {
      // The axis moved last, times the [in, out] transposed weights, moved back.
      const last = rank - 1;
      const perm = Array.from({ length: rank }, (_, a) => (a === axis ? last : a === last ? axis : a));
      const moved = axis === last ? y : e.emit('transpose', [y], { perm });
      const mixed = e.emit('matmul', [moved, e.emit('constant', [], { shape: [inW, outW], dtype: 'f32', value: inputMajorWeights(map, inW) })]);
      y = axis === last ? mixed : e.emit('transpose', [mixed], { perm });
    }
    if (map.outside.some(Boolean)) {
      const mask = e.emit('constant', [], { shape: shape.map((_, a) => (a === axis ? outW : 1)), dtype: 'bool', value: map.outside.map(Number) });
      const fill = e.emit('constant', [], { shape: [], dtype: y.type.dtype, value: [extrapolationIn(y.type.dtype, num(attrs, 'extrapolation_value'))] });
      y = e.emit('where', [mask, fill, y]);
    }
  });
  return y;
}

const resizeOp: OpSpec = {
  doc: "resize to `sizes` by nearest, linear or cubic interpolation along each changed axis (ONNX Resize's modes; torch.nn.functional.interpolate)",
  fusion: 'elementwise',
  operands: { names: ['x'], min: 1, max: 1 },
  attrs: {
    sizes: { kind: 'ints', doc: 'the output extent of every axis' },
    scales: { kind: 'floats', default: [], doc: "each axis' scale in the coordinate map (default output / input extent)" },
    mode: { kind: 'enum', values: RESIZE_MODES, default: 'nearest', doc: 'interpolation' },
    coordinate_transformation_mode: { kind: 'enum', values: RESIZE_TRANSFORMS, default: 'half_pixel', doc: 'how an output position maps to the input (ONNX)' },
    nearest_mode: { kind: 'enum', values: RESIZE_NEAREST_MODES, default: 'round_prefer_floor', doc: 'rounding of nearest' },
    cubic_coeff_a: { kind: 'float', default: -0.75, doc: "the cubic kernel's a" },
    exclude_outside: { kind: 'bool', default: false, doc: 'weights of taps outside the input set to 0, the rest renormalised' },
    antialias: { kind: 'bool', default: false, doc: 'widen linear and cubic kernels when downsampling' },
    roi: { kind: 'floats', default: [], doc: "tf_crop_and_resize's region: the starts, then the ends, as fractions of each axis" },
    extrapolation_value: { kind: 'float', default: 0, doc: 'the value of positions tf_crop_and_resize puts outside the input' },
  },
  inferType([x], attrs) {
    if (str(attrs, 'mode') !== 'nearest' && x!.dtype !== 'f32') throw new TypeRuleError(`mode ${str(attrs, 'mode')} interpolates f32, got ${x!.dtype}`);
    resizeRule(x!, attrs);
    return { dtype: x!.dtype, shape: [...(attrs.sizes as readonly number[])] };
  },
  evaluate: ([x], attrs, result) => resizeRef(x!, attrs, result),
  decompose: resizeDecompose,
};

/** Resizing. */
export const RESIZE_OPS = { resize: resizeOp } as const satisfies OpTable;
