/**
 * Resize (nearest, linear, cubic; every coordinate transformation mode,
 * antialias, axes and keep_aspect_ratio_policy) with its scales or sizes
 * known at import. Resize is separable: each resized axis is a fixed map
 * from input to output positions, computed here once as ONNX's reference
 * computes it (onnx/reference/ops/op_resize.py, in float64). Nearest picks
 * one input per output: a gather with constant indices, exact for every
 * value. Linear and cubic weigh a few neighbours: a matmul with the
 * constant [in, out] weight matrix along the axis (the axis moved last and
 * back by transposes, which lowering reads as views). tf_crop_and_resize's
 * positions outside the input take extrapolation_value through a where.
 */
import { type Converter, type NodeContext, attrFloat, attrInt, attrInts, attrString, axisOf, constInput, constOf, input, scalarOf, unsupported } from '../context.ts';
import { type Val, isEmpty, typeOf } from '../values.ts';

type Mode = 'nearest' | 'linear' | 'cubic';
const MODES: readonly string[] = ['nearest', 'linear', 'cubic'];
const TRANSFORMS: readonly string[] = ['half_pixel', 'half_pixel_symmetric', 'pytorch_half_pixel', 'align_corners', 'asymmetric', 'tf_crop_and_resize'];
const NEAREST_MODES: readonly string[] = ['round_prefer_floor', 'round_prefer_ceil', 'floor', 'ceil'];

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

/** `x` with axis `axis` resized by one axis map. */
function resizeAxis(ctx: NodeContext, x: Val, axis: number, map: ReturnType<typeof axisMap>, rule: AxisRule, extrapolation: number): Val {
  const { e } = ctx;
  const shape = typeOf(x).shape;
  const rank = shape.length;
  const inW = shape[axis]!;
  const outW = map.taps.length;
  let y: Val;
  if (rule.mode === 'nearest') {
    // Exactly one tap has weight 1.
    const picked = map.taps.map((t) => t.find(([, w]) => w === 1)![0]);
    y = e.emit('gather', [x, constOf('i32', [outW], picked)], { axis });
  } else {
    const weights = new Array<number>(inW * outW).fill(0);
    map.taps.forEach((t, o) => t.forEach(([i, w]) => (weights[i * outW + o] += w)));
    const last = rank - 1;
    const perm = Array.from({ length: rank }, (_, a) => (a === axis ? last : a === last ? axis : a));
    const moved = axis === last ? x : e.emit('transpose', [x], { perm });
    const mixed = e.emit('matmul', [moved, constOf('f32', [inW, outW], weights)]);
    y = axis === last ? mixed : e.emit('transpose', [mixed], { perm });
  }
  if (!map.outside.some(Boolean)) return y;
  const maskShape = shape.map((_, a) => (a === axis ? outW : 1));
  return e.emit('where', [constOf('bool', maskShape, map.outside.map(Number)), scalarOf(typeOf(x).dtype, extrapolation), y]);
}

/**
 * An optional input's values, or undefined when it is left out or empty. An
 * f32 initializer (imported as a weight) counts as known: scales and roi
 * shape the program, as shapes do.
 */
function optionalValues(ctx: NodeContext, i: number, what: string): number[] | undefined {
  const v = ctx.inputs[i];
  if (!v || isEmpty(v)) return undefined;
  if (v.kind === 'weight') return Array.from(v.data);
  return Array.from(constInput(ctx, i, what).data);
}

const resize: Converter = (ctx) => {
  const x = input(ctx, 0, 'X');
  const { dtype, shape } = typeOf(x);
  const rank = shape.length;
  const mode = attrString(ctx, 'mode', 'nearest');
  if (!MODES.includes(mode)) unsupported(`mode '${mode}'`);
  const rule: AxisRule = {
    mode: mode as Mode,
    transform: attrString(ctx, 'coordinate_transformation_mode', 'half_pixel'),
    nearestMode: attrString(ctx, 'nearest_mode', 'round_prefer_floor'),
    cubicA: attrFloat(ctx, 'cubic_coeff_a', -0.75),
    excludeOutside: attrInt(ctx, 'exclude_outside', 0) !== 0,
    antialias: attrInt(ctx, 'antialias', 0) !== 0,
  };
  if (!TRANSFORMS.includes(rule.transform)) unsupported(`coordinate_transformation_mode '${rule.transform}'`);
  if (!NEAREST_MODES.includes(rule.nearestMode)) unsupported(`nearest_mode '${rule.nearestMode}'`);
  if (rule.mode === 'nearest' && rule.antialias) unsupported('antialias with mode nearest');
  if (rule.mode !== 'nearest' && dtype !== 'f32') unsupported(`mode '${mode}' on ${dtype} (Tessera interpolates f32)`);
  const axes = (attrInts(ctx, 'axes') ?? shape.map((_, a) => a)).map((a) => axisOf(a, rank, 'axes entry'));
  const roiValues = optionalValues(ctx, 1, 'roi');
  const scales = optionalValues(ctx, 2, 'scales');
  const sizes = optionalValues(ctx, 3, 'sizes');
  if ((scales === undefined) === (sizes === undefined)) unsupported('exactly one of scales and sizes must be given');
  const given = (scales ?? sizes)!;
  if (given.length !== axes.length) unsupported(`${scales ? 'scales' : 'sizes'} has ${given.length} entries for ${axes.length} axes`);
  // Per axis of X: the scale of its coordinate map and its output extent (ONNX's _interpolate_nd).
  const scale = shape.map(() => 1);
  const out = [...shape];
  axes.forEach((a, i) => {
    if (scales) {
      if (!(given[i]! > 0)) unsupported(`scale ${given[i]} on axis ${a} must be positive`);
      scale[a] = given[i]!;
      out[a] = Math.floor(given[i]! * shape[a]!);
    } else {
      out[a] = given[i]!;
      scale[a] = given[i]! / shape[a]!;
    }
  });
  const policy = attrString(ctx, 'keep_aspect_ratio_policy', 'stretch');
  if (sizes && policy !== 'stretch') {
    if (policy !== 'not_larger' && policy !== 'not_smaller') unsupported(`keep_aspect_ratio_policy '${policy}'`);
    const pick = policy === 'not_larger' ? Math.min : Math.max;
    const s = pick(...axes.map((a) => scale[a]!));
    for (const a of axes) {
      scale[a] = s;
      out[a] = Math.floor(s * shape[a]! + 0.5);
    }
  }
  if (out.some((n) => n < 1)) unsupported(`an output extent below 1 (${out.join('x')})`);
  if (rule.transform === 'tf_crop_and_resize' && roiValues === undefined) unsupported('tf_crop_and_resize needs roi');
  const roiAxes = roiValues?.length === 2 * axes.length ? axes : shape.map((_, a) => a);
  if (roiValues && roiValues.length !== 2 * roiAxes.length) unsupported(`roi has ${roiValues.length} entries, expected ${2 * roiAxes.length}`);
  const roiOf = (a: number): [number, number] | undefined => {
    if (!roiValues) return undefined;
    const i = roiAxes.indexOf(a);
    return [roiValues[i]!, roiValues[roiAxes.length + i]!];
  };
  const extrapolation = attrFloat(ctx, 'extrapolation_value', 0);
  let y = x;
  for (const a of axes) {
    const roi = rule.transform === 'tf_crop_and_resize' ? roiOf(a) : undefined;
    const identity = scale[a] === 1 && out[a] === shape[a] && (roi === undefined || (roi[0] === 0 && roi[1] === 1));
    if (identity) continue;
    y = resizeAxis(ctx, y, a, axisMap(rule, shape[a]!, out[a]!, scale[a]!, roi), rule, extrapolation);
  }
  return y;
};

/** The converter of Resize. */
export const RESIZE_CONVERTERS: Readonly<Record<string, Converter>> = { Resize: resize };
