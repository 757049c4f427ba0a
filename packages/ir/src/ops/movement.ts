import { type Attrs, ints, num } from '../attrs.ts';
import { TypeRuleError } from '../errors.ts';
import { IndexRangeError } from '../gather-error.ts';
import { type OpSpec, type OpTable, fixedOperands } from '../op-def.ts';
import type { RefTensor } from '../ref-tensor.ts';
import { type TensorType, broadcastShapes, formatShape, normalizeAxis, numel, shapesEqual, stridesOf, tensorType } from '../tensor-type.ts';
import { checkPerAxis, checkPermutation } from './axes.ts';
import { broadcastOffset, forEachIndex } from './eval-util.ts';

/** Builds a tensor by reading, for each output index, one flat offset of the source. */
function gatherBy(result: TensorType, src: RefTensor, offsetOf: (idx: readonly number[]) => number): RefTensor {
  const data = new Float64Array(numel(result.shape));
  forEachIndex(result.shape, (idx, flat) => {
    data[flat] = src.data[offsetOf(idx)]!;
  });
  return { type: result, data };
}

/** Resolves one -1 in a reshape target from the element count. */
export function resolveReshape(from: readonly number[], to: readonly number[]): number[] {
  const holes = to.filter((d) => d === -1).length;
  if (holes > 1) throw new TypeRuleError(`shape ${formatShape(to)} has more than one -1`);
  if (holes === 0) return [...to];
  const known = numel(to.filter((d) => d !== -1));
  const total = numel(from);
  if (known <= 0 || total % known !== 0) throw new TypeRuleError(`cannot infer the -1 in ${formatShape(to)} from ${total} elements`);
  return to.map((d) => (d === -1 ? total / known : d));
}

const reshapeOp: OpSpec = {
  doc: 'same elements in row-major order, new shape (one -1 is inferred when building)',
  fusion: 'injective',
  operands: fixedOperands('x'),
  attrs: { shape: { kind: 'ints', doc: 'target shape' } },
  canonicalize: ([x], attrs) => ({ ...attrs, shape: resolveReshape(x!.shape, ints(attrs, 'shape')) }),
  inferType([x], attrs) {
    const shape = ints(attrs, 'shape');
    const out = tensorType(x!.dtype, shape);
    if (numel(shape) !== numel(x!.shape)) {
      throw new TypeRuleError(`cannot reshape ${numel(x!.shape)} elements to ${formatShape(shape)} (${numel(shape)} elements)`);
    }
    return out;
  },
  evaluate: ([x], _attrs, result) => ({ type: result, data: x!.data.slice() }),
};

const transposeOp: OpSpec = {
  doc: 'permutes axes: result axis i is operand axis perm[i]',
  fusion: 'injective',
  operands: fixedOperands('x'),
  attrs: { perm: { kind: 'ints', doc: 'permutation of the axes' } },
  inferType([x], attrs) {
    const perm = ints(attrs, 'perm');
    checkPermutation(perm, x!.shape.length);
    return { dtype: x!.dtype, shape: perm.map((p) => x!.shape[p]!) };
  },
  evaluate([x], attrs, result) {
    const perm = ints(attrs, 'perm');
    const strides = stridesOf(x!.type.shape);
    return gatherBy(result, x!, (idx) => idx.reduce((o, v, i) => o + v * strides[perm[i]!]!, 0));
  },
};

/**
 * Resolves the -1 entries of a broadcast target (torch's expand): -1 keeps
 * the operand's extent on that axis (right-aligned), so it may not stand
 * on a new leading axis.
 */
export function resolveExpand(from: readonly number[], to: readonly number[]): number[] {
  const shift = to.length - from.length;
  return to.map((d, a) => {
    if (d !== -1) return d;
    if (a < shift) throw new TypeRuleError(`-1 at axis ${a} of ${formatShape(to)} is a new leading axis, which has no extent to keep`);
    return from[a - shift]!;
  });
}

const broadcastToOp: OpSpec = {
  doc: 'numpy broadcast of the operand to `shape` (a -1 keeps the operand\'s extent when building, as torch.expand)',
  fusion: 'broadcast',
  operands: fixedOperands('x'),
  attrs: { shape: { kind: 'ints', doc: 'target shape' } },
  canonicalize: ([x], attrs) => ({ ...attrs, shape: resolveExpand(x!.shape, ints(attrs, 'shape')) }),
  inferType([x], attrs) {
    const shape = ints(attrs, 'shape');
    const t = tensorType(x!.dtype, shape);
    if (x!.shape.length > shape.length || !shapesEqual(broadcastShapes(x!.shape, shape), shape)) {
      throw new TypeRuleError(`cannot broadcast ${formatShape(x!.shape)} to ${formatShape(shape)}`);
    }
    return t;
  },
  evaluate([x], _attrs, result) {
    const strides = stridesOf(x!.type.shape);
    return gatherBy(result, x!, (idx) => broadcastOffset(x!.type.shape, strides, idx));
  },
};

/** Number of elements a slice [start, stop) with `step` selects. */
const sliceExtent = (start: number, stop: number, step: number): number => Math.max(0, Math.ceil((stop - start) / step));

const sliceOp: OpSpec = {
  doc: 'elements start, start+step, ... < stop on every axis (negative start/stop count from the end when building)',
  fusion: 'injective',
  operands: fixedOperands('x'),
  attrs: {
    start: { kind: 'ints', doc: 'first index per axis' },
    stop: { kind: 'ints', doc: 'exclusive end per axis' },
    step: { kind: 'ints', doc: 'stride per axis (>= 1)' },
  },
  canonicalize([x], attrs) {
    const shape = x!.shape;
    const fix = (key: string) => {
      const list = ints(attrs, key);
      checkPerAxis(key, list, shape.length);
      return list.map((v, a) => Math.min(shape[a]!, v < 0 ? v + shape[a]! : v));
    };
    return { ...attrs, start: fix('start'), stop: fix('stop') };
  },
  inferType([x], attrs) {
    const [start, stop, step] = ['start', 'stop', 'step'].map((k) => ints(attrs, k));
    const rank = x!.shape.length;
    for (const [k, l] of [['start', start], ['stop', stop], ['step', step]] as const) checkPerAxis(k, l!, rank);
    const shape = x!.shape.map((d, a) => {
      const [s, e, st] = [start![a]!, stop![a]!, step![a]!];
      if (st < 1) throw new TypeRuleError(`step ${st} on axis ${a} must be >= 1`);
      if (s < 0 || s > d || e < 0 || e > d) throw new TypeRuleError(`slice ${s}:${e} on axis ${a} is outside [0, ${d}]`);
      const n = sliceExtent(s, e, st);
      if (n === 0) throw new TypeRuleError(`slice ${s}:${e}:${st} on axis ${a} (extent ${d}) is empty; empty tensors are not allowed`);
      return n;
    });
    return { dtype: x!.dtype, shape };
  },
  evaluate([x], attrs, result) {
    const start = ints(attrs, 'start');
    const step = ints(attrs, 'step');
    const strides = stridesOf(x!.type.shape);
    return gatherBy(result, x!, (idx) => idx.reduce((o, v, a) => o + (start[a]! + v * step[a]!) * strides[a]!, 0));
  },
};

const concatOp: OpSpec = {
  doc: 'joins operands along `axis`; other extents must match',
  fusion: 'injective',
  operands: { names: ['xs...'], min: 1, max: Infinity },
  attrs: { axis: { kind: 'int', doc: 'axis to join along' } },
  canonicalize: (xs, attrs) => ({ ...attrs, axis: normalizeAxis(num(attrs, 'axis'), xs[0]!.shape.length) }),
  inferType(xs, attrs) {
    const first = xs[0]!;
    const axis = normalizeAxis(num(attrs, 'axis'), first.shape.length);
    let total = 0;
    xs.forEach((x, i) => {
      if (x.dtype !== first.dtype) throw new TypeRuleError(`operand ${i} has dtype ${x.dtype}, expected ${first.dtype} like operand 0`);
      const same = x.shape.length === first.shape.length && x.shape.every((d, a) => a === axis || d === first.shape[a]);
      if (!same) throw new TypeRuleError(`operand ${i} has shape ${formatShape(x.shape)}, expected ${formatShape(first.shape)} except on axis ${axis}`);
      total += x.shape[axis]!;
    });
    return { dtype: first.dtype, shape: first.shape.map((d, a) => (a === axis ? total : d)) };
  },
  evaluate(xs, attrs, result) {
    // Row-major, the result is `outer` blocks; each block is every operand's block in turn (its extent on
    // `axis` times the inner size), copied whole: O(elements) whatever the number of operands.
    const axis = num(attrs, 'axis');
    const shape = result.shape;
    const outer = numel(shape.slice(0, axis));
    const inner = numel(shape.slice(axis + 1));
    const data = new Float64Array(numel(shape));
    let at = 0;
    for (let b = 0; b < outer; b++) {
      for (const x of xs) {
        const block = x.type.shape[axis]! * inner;
        data.set(x.data.subarray(b * block, (b + 1) * block), at);
        at += block;
      }
    }
    return { type: result, data };
  },
};

const padOp: OpSpec = {
  doc: 'adds `low[a]` and `high[a]` elements equal to `value` before and after each axis',
  fusion: 'injective',
  operands: fixedOperands('x'),
  attrs: {
    low: { kind: 'ints', doc: 'elements added before, per axis' },
    high: { kind: 'ints', doc: 'elements added after, per axis' },
    value: { kind: 'float', default: 0, doc: 'fill value' },
  },
  inferType([x], attrs: Attrs) {
    const low = ints(attrs, 'low');
    const high = ints(attrs, 'high');
    checkPerAxis('low', low, x!.shape.length);
    checkPerAxis('high', high, x!.shape.length);
    if ([...low, ...high].some((p) => p < 0)) throw new TypeRuleError(`padding must be >= 0, got low [${low.join(',')}] high [${high.join(',')}]`);
    const v = num(attrs, 'value');
    if (x!.dtype === 'i32' && !Number.isInteger(v)) throw new TypeRuleError(`value ${v} is not an integer, expected one for dtype i32`);
    if (x!.dtype === 'bool' && v !== 0 && v !== 1) throw new TypeRuleError(`value ${v} is not 0 or 1, expected one for dtype bool`);
    return { dtype: x!.dtype, shape: x!.shape.map((d, a) => d + low[a]! + high[a]!) };
  },
  evaluate([x], attrs, result) {
    const low = ints(attrs, 'low');
    const value = num(attrs, 'value');
    const shape = x!.type.shape;
    const strides = stridesOf(shape);
    const data = new Float64Array(numel(result.shape));
    forEachIndex(result.shape, (idx, flat) => {
      let o = 0;
      for (let a = 0; a < idx.length; a++) {
        const i = idx[a]! - low[a]!;
        if (i < 0 || i >= shape[a]!) {
          o = -1;
          break;
        }
        o += i * strides[a]!;
      }
      data[flat] = o < 0 ? value : x!.data[o]!;
    });
    return { type: result, data };
  },
};

const gatherOp: OpSpec = {
  doc: 'table rows picked by i32 indices along `axis` (embedding lookup); an index out of range is an error',
  fusion: 'injective',
  operands: fixedOperands('table', 'indices'),
  attrs: { axis: { kind: 'int', default: 0, doc: 'axis of table that indices select along' } },
  canonicalize: ([t], attrs) => ({ ...attrs, axis: normalizeAxis(num(attrs, 'axis'), t!.shape.length) }),
  inferType([t, i], attrs) {
    if (i!.dtype !== 'i32') throw new TypeRuleError(`operand indices has dtype ${i!.dtype}, expected i32`);
    const axis = normalizeAxis(num(attrs, 'axis'), t!.shape.length);
    return { dtype: t!.dtype, shape: [...t!.shape.slice(0, axis), ...i!.shape, ...t!.shape.slice(axis + 1)] };
  },
  evaluate([t, ind], attrs, result) {
    const axis = num(attrs, 'axis');
    const tShape = t!.type.shape;
    const tStrides = stridesOf(tShape);
    const iShape = ind!.type.shape;
    const iStrides = stridesOf(iShape);
    const extent = tShape[axis]!;
    return gatherBy(result, t!, (idx) => {
      let io = 0;
      for (let a = 0; a < iShape.length; a++) io += idx[axis + a]! * iStrides[a]!;
      const row = ind!.data[io]!;
      if (row < 0 || row >= extent) throw new IndexRangeError(row, io, extent);
      let o = row * tStrides[axis]!;
      for (let a = 0; a < axis; a++) o += idx[a]! * tStrides[a]!;
      for (let a = axis + 1; a < tShape.length; a++) o += idx[a - 1 + iShape.length]! * tStrides[a]!;
      return o;
    });
  },
};

/** Movement and indexing ops. */
export const MOVEMENT_OPS = {
  reshape: reshapeOp,
  transpose: transposeOp,
  broadcast_to: broadcastToOp,
  slice: sliceOp,
  concat: concatOp,
  pad: padOp,
  gather: gatherOp,
} as const satisfies OpTable;
