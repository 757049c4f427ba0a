/** Tensors from nothing: constants, iota, masks. */
import type { DType } from '@tessera/ir';
import { type Tensor, emitOp } from '../tensor.ts';
import { dslError } from '../tracer.ts';

/** Nested arrays of numbers (or booleans), one level per axis. */
export type NestedNumbers = number | boolean | readonly NestedNumbers[];

/** Options of constant(). */
export interface ConstantOptions {
  /** Element type (default f32). */
  readonly dtype?: DType;
  /** Shape; default the nesting of `value`. A single value is repeated to fill it. */
  readonly shape?: readonly number[];
}

function flattenNested(v: NestedNumbers, shape: number[], depth: number, out: number[]): void {
  if (Array.isArray(v)) {
    if (shape.length === depth) shape.push(v.length);
    else if (shape[depth] !== v.length) dslError(`constant: ragged nested array (axis ${depth} has lengths ${shape[depth]} and ${v.length})`);
    for (const e of v) flattenNested(e as NestedNumbers, shape, depth + 1, out);
  } else {
    if (shape.length !== depth) dslError(`constant: ragged nested array (a number at depth ${depth}, expected arrays to depth ${shape.length})`);
    out.push(Number(v));
  }
}

/** The type of the first element of nested arrays (booleans make a bool constant by default). */
function firstLeaf(v: NestedNumbers | Float32Array | Int32Array): string {
  let x: unknown = v;
  while (Array.isArray(x)) x = x[0];
  return typeof x;
}

/** A literal tensor from a number, nested arrays, or a flat list with an explicit shape. */
export function constant(value: NestedNumbers | Float32Array | Int32Array, opts: ConstantOptions = {}): Tensor {
  let values: number[];
  let shape: number[] = [];
  if (ArrayBuffer.isView(value)) {
    values = Array.from(value);
    shape = [values.length];
  } else {
    values = [];
    flattenNested(value, shape, 0, values);
  }
  const dtype = opts.dtype ?? (firstLeaf(value) === 'boolean' ? 'bool' : 'f32');
  return emitOp('constant', [], { shape: opts.shape ? [...opts.shape] : shape, dtype, value: values });
}

/** A tensor of `shape` filled with `value`. */
export const full = (shape: readonly number[], value: number, dtype: DType = 'f32'): Tensor => constant(value, { shape, dtype });
/** A tensor of zeros. */
export const zeros = (shape: readonly number[], dtype: DType = 'f32'): Tensor => full(shape, 0, dtype);
/** A tensor of ones. */
export const ones = (shape: readonly number[], dtype: DType = 'f32'): Tensor => full(shape, 1, dtype);

/** Each element is its index along `axis`. */
export function iota(shape: readonly number[], axis: number, dtype: DType = 'i32'): Tensor {
  return emitOp('iota', [], { shape: [...shape], axis, dtype });
}

/** 0, 1, ..., n-1. */
export const arange = (n: number, dtype: DType = 'i32'): Tensor => iota([n], 0, dtype);

/**
 * Bool [tq, tk] mask, true where query i may attend to key j (j <= i + tk - tq,
 * so with a cache of past keys the last query sees every key), for ops.attention.
 */
export function causalMask(tq: number, tk = tq): Tensor {
  const rows = iota([tq, tk], 0);
  const cols = iota([tq, tk], 1);
  return tk === tq ? cols.le(rows) : cols.le(rows.add(tk - tq));
}
