/**
 * Resize with its scales or sizes known at import, as the registry's resize
 * (whose axis maps follow ONNX's reference): scales or sizes, axes,
 * keep_aspect_ratio_policy and roi resolved here into the output extent,
 * the coordinate scale and the region of every axis.
 */
import { RESIZE_MODES, RESIZE_NEAREST_MODES, RESIZE_TRANSFORMS } from '@tessera/ir';
import { type Converter, type NodeContext, attrFloat, attrInt, attrInts, attrString, axisOf, constInput, input, unsupported } from '../context.ts';
import { isEmpty, typeOf } from '../values.ts';

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
  const transform = attrString(ctx, 'coordinate_transformation_mode', 'half_pixel');
  const nearestMode = attrString(ctx, 'nearest_mode', 'round_prefer_floor');
  for (const [what, v, allowed] of [['mode', mode, RESIZE_MODES], ['coordinate_transformation_mode', transform, RESIZE_TRANSFORMS], ['nearest_mode', nearestMode, RESIZE_NEAREST_MODES]] as const) {
    if (!(allowed as readonly string[]).includes(v)) unsupported(`${what} '${v}'`);
  }
  const antialias = attrInt(ctx, 'antialias', 0) !== 0;
  if (mode === 'nearest' && antialias) unsupported('antialias with mode nearest');
  if (mode === 'nearest' && attrInt(ctx, 'exclude_outside', 0) !== 0) unsupported('exclude_outside with mode nearest');
  if (mode !== 'nearest' && dtype !== 'f32') unsupported(`mode '${mode}' on ${dtype} (Tessera interpolates f32)`);
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
  if (transform === 'tf_crop_and_resize' && roiValues === undefined) unsupported('tf_crop_and_resize needs roi');
  const roiAxes = roiValues?.length === 2 * axes.length ? axes : shape.map((_, a) => a);
  if (roiValues && roiValues.length !== 2 * roiAxes.length) unsupported(`roi has ${roiValues.length} entries, expected ${2 * roiAxes.length}`);
  // The region of every axis: roi's where it gives one, the whole axis elsewhere.
  const region = (a: number, side: 0 | 1) => (roiAxes.includes(a) ? roiValues![side * roiAxes.length + roiAxes.indexOf(a)]! : side);
  const roi = transform === 'tf_crop_and_resize' ? [...shape.map((_, a) => region(a, 0)), ...shape.map((_, a) => region(a, 1))] : [];
  return ctx.e.emit('resize', [x], {
    sizes: out,
    scales: scale,
    mode,
    coordinate_transformation_mode: transform,
    nearest_mode: nearestMode,
    cubic_coeff_a: attrFloat(ctx, 'cubic_coeff_a', -0.75),
    exclude_outside: attrInt(ctx, 'exclude_outside', 0) !== 0,
    antialias,
    roi,
    extrapolation_value: attrFloat(ctx, 'extrapolation_value', 0),
  });
};

/** The converter of Resize. */
export const RESIZE_CONVERTERS: Readonly<Record<string, Converter>> = { Resize: resize };
