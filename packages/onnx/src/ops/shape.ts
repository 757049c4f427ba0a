/**
 * Shape and movement ONNX ops. Their shape operands (Reshape's shape,
 * Slice's starts, Unsqueeze's axes, ...) must be known at import: shape
 * subgraphs (Shape, Gather, Concat, ...) fold to constants before they get
 * here, so a static program carries no shape arithmetic.
 */
import { type DType, broadcastShapes, formatShape, numel } from '@tessera/ir';
import {
  type Converter,
  type NodeContext,
  attrInt,
  attrInts,
  attrTensor,
  axisOf,
  constInput,
  constInts,
  constOf,
  constScalar,
  hasAttr,
  input,
  optionalInts,
  scalarOf,
  tensorConstant,
  unsupported,
} from '../context.ts';
import { attrFloat, attrFloats } from '../context.ts';
import { type Const, type Val, emptyConst, isEmpty, typeOf } from '../values.ts';

/** `x` reshaped (nothing emitted when the shape is already `shape`). */
export function reshape(ctx: NodeContext, x: Val, shape: readonly number[]): Val {
  const from = typeOf(x).shape;
  if (from.length === shape.length && from.every((d, i) => d === shape[i])) return x;
  if (isEmpty(x) && numel(shape) === 0) return emptyConst(typeOf(x).dtype, shape);
  if (numel(from) !== numel(shape)) unsupported(`cannot reshape ${formatShape(from)} (${numel(from)} elements) to ${formatShape(shape)}`);
  return ctx.e.emit('reshape', [x], { shape: [...shape] });
}

/** Indices `n-1, ..., 0` as a constant, for flipping an axis with gather. */
function reversedIndices(n: number): Val {
  return constOf('i32', [n], Array.from({ length: n }, (_, i) => n - 1 - i));
}

/** `x` reversed along `axis` (a gather of reversed indices). */
export function flip(ctx: NodeContext, x: Val, axis: number): Val {
  return ctx.e.emit('gather', [x, reversedIndices(typeOf(x).shape[axis]!)], { axis });
}

const reshapeOp: Converter = (ctx) => {
  const x = input(ctx, 0, 'data');
  const target = constInts(ctx, 1, 'shape');
  const allowZero = attrInt(ctx, 'allowzero', 0);
  const from = typeOf(x).shape;
  const shape = target.map((d, i) => (d === 0 && !allowZero ? from[i]! : d));
  if (shape.includes(0) && !isEmpty(x)) unsupported(`shape ${formatShape(target)} makes an empty tensor, which Tessera does not have`);
  const holes = shape.filter((d) => d === -1).length;
  if (holes > 1) unsupported(`shape ${formatShape(target)} has more than one -1`);
  if (holes === 1) {
    const known = numel(shape.filter((d) => d !== -1));
    shape[shape.indexOf(-1)] = numel(from) / known;
  }
  return reshape(ctx, x, shape);
};

const flatten: Converter = (ctx) => {
  const x = input(ctx, 0);
  const shape = typeOf(x).shape;
  const axis = attrInt(ctx, 'axis', 1);
  const a = axis < 0 ? axis + shape.length : axis;
  if (a < 0 || a > shape.length) unsupported(`axis ${axis} is out of range for rank ${shape.length}`);
  return reshape(ctx, x, [numel(shape.slice(0, a)), numel(shape.slice(a))]);
};

/** Squeeze/Unsqueeze take `axes` as an input from opset 13, as an attribute before. */
function axesOperand(ctx: NodeContext, i: number): number[] | undefined {
  return ctx.inputs[i] ? constInts(ctx, i, 'axes') : attrInts(ctx, 'axes');
}

const squeeze: Converter = (ctx) => {
  const x = input(ctx, 0);
  const shape = typeOf(x).shape;
  const given = axesOperand(ctx, 1);
  const axes = given ? given.map((a) => axisOf(a, shape.length)) : shape.flatMap((d, a) => (d === 1 ? [a] : []));
  for (const a of axes) if (shape[a] !== 1) unsupported(`axis ${a} has extent ${shape[a]}, expected 1 to squeeze it`);
  return reshape(ctx, x, shape.filter((_, a) => !axes.includes(a)));
};

const unsqueeze: Converter = (ctx) => {
  const x = input(ctx, 0);
  const shape = typeOf(x).shape;
  const given = axesOperand(ctx, 1);
  if (!given) unsupported('axes are missing');
  const rank = shape.length + given.length;
  const axes = given.map((a) => axisOf(a, rank));
  const out: number[] = [];
  let j = 0;
  for (let a = 0; a < rank; a++) out.push(axes.includes(a) ? 1 : shape[j++]!);
  return reshape(ctx, x, out);
};

const transpose: Converter = (ctx) => {
  const x = input(ctx, 0);
  const rank = typeOf(x).shape.length;
  const perm = attrInts(ctx, 'perm') ?? [...Array(rank).keys()].reverse();
  if (perm.every((p, i) => p === i)) return x;
  return ctx.e.emit('transpose', [x], { perm });
};

const concat: Converter = (ctx) => {
  const xs = ctx.inputs.filter((v): v is Val => v !== undefined);
  const axis = attrInt(ctx, 'axis');
  if (axis === undefined) unsupported("attribute 'axis' is missing");
  // Empty operands (a shape list of no entries) add nothing: leave them out.
  const kept = xs.filter((x) => !isEmpty(x));
  if (kept.length === 0) {
    const first = typeOf(xs[0]!);
    const a = axisOf(axis, first.shape.length);
    return emptyConst(first.dtype, first.shape.map((d, i) => (i === a ? xs.reduce((n, x) => n + typeOf(x).shape[a]!, 0) : d)));
  }
  if (kept.length === 1) return kept[0]!;
  return ctx.e.emit('concat', kept, { axis });
};

/**
 * Slice: per axis, ONNX's clamping of starts and ends; positive steps are
 * one IR slice, an axis with a negative step is a gather of its indices.
 */
const slice: Converter = (ctx) => {
  const x = input(ctx, 0, 'data');
  const shape = typeOf(x).shape;
  const rank = shape.length;
  const starts = constInts(ctx, 1, 'starts');
  const ends = constInts(ctx, 2, 'ends');
  const axes = (optionalInts(ctx, 3, 'axes') ?? starts.map((_, i) => i)).map((a) => axisOf(a, rank));
  const steps = optionalInts(ctx, 4, 'steps') ?? starts.map(() => 1);
  const start = shape.map(() => 0);
  const stop = [...shape];
  const step = shape.map(() => 1);
  const reversed: { axis: number; indices: number[] }[] = [];
  let empty = isEmpty(x);
  axes.forEach((a, i) => {
    const d = shape[a]!;
    const st = steps[i]!;
    if (st === 0) unsupported(`steps[${i}] is 0`);
    let s = starts[i]!;
    let e = ends[i]!;
    if (s < 0) s += d;
    if (e < 0) e += d;
    if (st > 0) {
      s = Math.max(0, Math.min(d, s));
      e = Math.max(0, Math.min(d, e));
      if (e <= s) empty = true;
      [start[a], stop[a], step[a]] = [s, e, st];
    } else {
      s = Math.max(-1, Math.min(d - 1, s));
      e = Math.max(-1, Math.min(d - 1, e));
      const indices: number[] = [];
      for (let k = s; k > e; k += st) indices.push(k);
      if (indices.length === 0) empty = true;
      reversed.push({ axis: a, indices });
    }
  });
  if (empty) {
    // Nothing selected: fine for shape arithmetic at import (a constant), not for a computed tensor.
    if (x.kind !== 'const') unsupported(`the slice of ${formatShape(shape)} is empty, and Tessera has no empty tensors`);
    const out = shape.map((d, a) => {
      const r = reversed.find((v) => v.axis === a);
      return r ? r.indices.length : Math.max(0, Math.ceil((stop[a]! - start[a]!) / step[a]!));
    });
    return emptyConst(typeOf(x).dtype, out);
  }
  let y = x;
  if (shape.some((d, a) => start[a] !== 0 || stop[a] !== d || step[a] !== 1)) y = ctx.e.emit('slice', [y], { start, stop, step });
  for (const r of reversed) y = ctx.e.emit('gather', [y, constOf('i32', [r.indices.length], r.indices)], { axis: r.axis });
  return y;
};

const split: Converter = (ctx) => {
  const x = input(ctx, 0);
  const shape = typeOf(x).shape;
  const axis = axisOf(attrInt(ctx, 'axis', 0), shape.length);
  const d = shape[axis]!;
  let sizes = optionalInts(ctx, 1, 'split') ?? attrInts(ctx, 'split');
  if (!sizes) {
    const parts = attrInt(ctx, 'num_outputs') ?? ctx.outputCount;
    const chunk = Math.ceil(d / parts);
    sizes = Array.from({ length: parts }, (_, i) => Math.min(chunk, d - i * chunk));
    if (ctx.opset < 18 && d % parts !== 0) unsupported(`axis ${axis} (extent ${d}) does not split evenly into ${parts} outputs`);
  }
  if (sizes.some((s) => s <= 0)) unsupported(`split sizes [${sizes.join(',')}] include an empty part, and Tessera has no empty tensors`);
  if (sizes.reduce((a, b) => a + b, 0) !== d) unsupported(`split sizes [${sizes.join(',')}] do not add up to the extent ${d} of axis ${axis}`);
  let at = 0;
  return sizes.map((s) => {
    const start = shape.map((_, a) => (a === axis ? at : 0));
    const stop = shape.map((e, a) => (a === axis ? at + s : e));
    at += s;
    return ctx.e.emit('slice', [x], { start, stop, step: shape.map(() => 1) });
  });
};

const gather: Converter = (ctx) => {
  const data = input(ctx, 0, 'data');
  let indices = input(ctx, 1, 'indices');
  const shape = typeOf(data).shape;
  const axis = axisOf(attrInt(ctx, 'axis', 0), shape.length);
  if (typeOf(indices).dtype !== 'i32') unsupported(`indices are ${typeOf(indices).dtype}, expected an integer type`);
  // Negative indices count from the end (folded where the indices are known, a select where they are not).
  const { e } = ctx;
  indices = e.emit('where', [e.emit('lt', [indices, scalarOf('i32', 0)]), e.emit('add', [indices, scalarOf('i32', shape[axis]!)]), indices]);
  if (indices.kind === 'const') {
    const run = contiguousRun((indices as Const).t.data);
    // A run of consecutive rows (x[:, 0], q/k/v of a packed projection) is a slice: a view, not a gather kernel.
    if (run && data.kind !== 'const') {
      const it = typeOf(indices).shape;
      const start = shape.map((_, a) => (a === axis ? run.first : 0));
      const stop = shape.map((n, a) => (a === axis ? run.first + run.length : n));
      const sliced = ctx.e.emit('slice', [data], { start, stop, step: shape.map(() => 1) });
      return reshape(ctx, sliced, [...shape.slice(0, axis), ...it, ...shape.slice(axis + 1)]);
    }
  }
  return ctx.e.emit('gather', [data, indices], { axis });
};

/** The first index and length of indices that count up by one (0-d or 1-d), or undefined. */
function contiguousRun(data: Float64Array): { first: number; length: number } | undefined {
  for (let i = 1; i < data.length; i++) if (data[i] !== data[0]! + i) return undefined;
  return data.length > 0 ? { first: data[0]!, length: data.length } : undefined;
}

const expand: Converter = (ctx) => {
  const x = input(ctx, 0);
  const target = constInts(ctx, 1, 'shape');
  const from = typeOf(x).shape;
  let shape: number[];
  try {
    shape = broadcastShapes(from, target);
  } catch {
    unsupported(`cannot broadcast ${formatShape(from)} to ${formatShape(target)}`);
  }
  if (shape.length === from.length && shape.every((d, i) => d === from[i])) return x;
  return ctx.e.emit('broadcast_to', [x], { shape });
};

const tile: Converter = (ctx) => {
  const x = input(ctx, 0);
  const repeats = constInts(ctx, 1, 'repeats');
  const shape = typeOf(x).shape;
  if (repeats.length !== shape.length) unsupported(`repeats has ${repeats.length} entries, expected ${shape.length} (the rank)`);
  if (repeats.every((r) => r === 1)) return x;
  // [d0, d1] -> [1, d0, 1, d1] -> broadcast [r0, d0, r1, d1] -> [r0 d0, r1 d1].
  const spread = reshape(ctx, x, shape.flatMap((d) => [1, d]));
  const wide = ctx.e.emit('broadcast_to', [spread], { shape: shape.flatMap((d, a) => [repeats[a]!, d]) });
  return reshape(ctx, wide, shape.map((d, a) => d * repeats[a]!));
};

const shapeOp: Converter = (ctx) => {
  const shape = typeOf(input(ctx, 0)).shape;
  const r = shape.length;
  const clampEnd = (v: number) => Math.max(0, Math.min(r, v < 0 ? v + r : v));
  const start = clampEnd(attrInt(ctx, 'start', 0));
  const end = clampEnd(attrInt(ctx, 'end', r));
  const dims = shape.slice(start, end);
  if (dims.length === 0) return emptyConst('i32', [0]);
  return constOf('i32', [dims.length], dims);
};

const size: Converter = (ctx) => scalarOf('i32', numel(typeOf(input(ctx, 0)).shape));

const constantOfShape: Converter = (ctx) => {
  const shape = constInts(ctx, 0, 'input');
  const value = attrTensor(ctx, 'value');
  const v = value ? tensorConstant(value, ctx.readExternal).t : scalarOf('f32', 0).t;
  if (v.data.length !== 1) unsupported(`value has ${v.data.length} elements, expected one`);
  if (shape.some((d) => d === 0)) unsupported(`shape ${formatShape(shape)} is empty, and Tessera has no empty tensors`);
  return ctx.e.emit('broadcast_to', [constOf(v.type.dtype, [], [v.data[0]!])], { shape });
};

const constantOp: Converter = (ctx) => {
  const t = attrTensor(ctx, 'value');
  if (t) return tensorConstant(t, ctx.readExternal);
  if (hasAttr(ctx, 'value_float')) return scalarOf('f32', attrFloat(ctx, 'value_float', 0));
  if (hasAttr(ctx, 'value_int')) return scalarOf('i32', attrInt(ctx, 'value_int', 0));
  const floats = attrFloats(ctx, 'value_floats');
  if (floats) return constOf('f32', [floats.length], floats);
  const ints = attrInts(ctx, 'value_ints');
  if (ints) return constOf('i32', [ints.length], ints);
  return unsupported('a Constant with no value, value_float(s) or value_int(s) (sparse and string constants are not supported)');
};

const range: Converter = (ctx) => {
  const start = constInput(ctx, 0, 'start');
  const limit = constScalar(ctx, 1, 'limit');
  const delta = constScalar(ctx, 2, 'delta');
  const s = start.data[0]!;
  const n = Math.max(Math.ceil((limit - s) / delta), 0);
  if (n === 0) unsupported(`range(${s}, ${limit}, ${delta}) is empty, and Tessera has no empty tensors`);
  const dtype: DType = start.type.dtype;
  const { e } = ctx;
  const iota = e.emit('iota', [], { shape: [n], axis: 0, dtype });
  return e.emit('add', [e.emit('mul', [iota, scalarOf(dtype, delta)]), scalarOf(dtype, s)]);
};

const trilu: Converter = (ctx) => {
  const x = input(ctx, 0);
  const k = ctx.inputs[1] ? constScalar(ctx, 1, 'k') : 0;
  return ctx.e.emit(attrInt(ctx, 'upper', 1) ? 'triu' : 'tril', [x], { diagonal: k });
};

const pad: Converter = (ctx) => {
  const x = input(ctx, 0, 'data');
  const mode = new TextDecoder().decode(ctx.node.attribute.find((a) => a.name === 'mode')?.s ?? new Uint8Array());
  if (mode && mode !== 'constant') unsupported(`mode = '${mode}' (Tessera pads with a constant only)`);
  const rank = typeOf(x).shape.length;
  const pads = constInts(ctx, 1, 'pads');
  const value = ctx.inputs[2] ? constScalar(ctx, 2, 'constant_value') : 0;
  const axes = (optionalInts(ctx, 3, 'axes') ?? [...Array(rank).keys()]).map((a) => axisOf(a, rank));
  const low = Array(rank).fill(0);
  const high = Array(rank).fill(0);
  axes.forEach((a, i) => {
    low[a] = pads[i]!;
    high[a] = pads[i + axes.length]!;
  });
  if ([...low, ...high].some((p) => p < 0)) unsupported(`negative pads [${pads.join(',')}] (cropping) are not supported`);
  if ([...low, ...high].every((p) => p === 0)) return x;
  return ctx.e.emit('pad', [x], { low, high, value });
};

/** The shape and movement converters, by ONNX op type. */
export const SHAPE_CONVERTERS: Readonly<Record<string, Converter>> = {
  Reshape: reshapeOp,
  Flatten: flatten,
  Squeeze: squeeze,
  Unsqueeze: unsqueeze,
  Transpose: transpose,
  Concat: concat,
  Slice: slice,
  Split: split,
  Gather: gather,
  Expand: expand,
  Tile: tile,
  Shape: shapeOp,
  Size: size,
  ConstantOfShape: constantOfShape,
  Constant: constantOp,
  Range: range,
  Trilu: trilu,
  Pad: pad,
};
