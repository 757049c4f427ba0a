import type { RefTensor } from '../ref-tensor.ts';
import { type TensorType, numel, stridesOf } from '../tensor-type.ts';

/** Visits every multi-index of `shape` in row-major order. The index array is reused between calls. */
export function forEachIndex(shape: readonly number[], fn: (idx: readonly number[], flat: number) => void): void {
  const n = numel(shape);
  const idx = new Array<number>(shape.length).fill(0);
  for (let flat = 0; flat < n; flat++) {
    fn(idx, flat);
    for (let a = shape.length - 1; a >= 0; a--) {
      if (++idx[a]! < shape[a]!) break;
      idx[a] = 0;
    }
  }
}

/**
 * Flat offset into a tensor of `shape` for an output index of higher or equal
 * rank, numpy-broadcast: right-aligned, extent-1 axes read element 0.
 */
export function broadcastOffset(shape: readonly number[], strides: readonly number[], idx: readonly number[]): number {
  const shift = idx.length - shape.length;
  let off = 0;
  for (let a = 0; a < shape.length; a++) {
    if (shape[a] !== 1) off += idx[a + shift]! * strides[a]!;
  }
  return off;
}

/** Computes an output by applying `fn` to the broadcast elements of each operand. */
export function broadcastMap(result: TensorType, operands: readonly RefTensor[], fn: (xs: number[]) => number): RefTensor {
  const data = new Float64Array(numel(result.shape));
  const strides = operands.map((o) => stridesOf(o.type.shape));
  const xs = new Array<number>(operands.length);
  forEachIndex(result.shape, (idx, flat) => {
    for (let i = 0; i < operands.length; i++) {
      xs[i] = operands[i]!.data[broadcastOffset(operands[i]!.type.shape, strides[i]!, idx)]!;
    }
    data[flat] = fn(xs);
  });
  return { type: result, data };
}

/**
 * Calls `fn` for each line of `shape` along `axis`, in row-major order of
 * the other axes: the flat offset of the line's first element, the stride
 * between its elements, and the line's position (the flat index of a
 * reduction's result over `axis`).
 */
export function forEachLine(shape: readonly number[], axis: number, fn: (base: number, stride: number, line: number) => void): void {
  const strides = stridesOf(shape);
  const outer = shape.map((d, a) => (a === axis ? 1 : d));
  forEachIndex(outer, (idx, line) => {
    let base = 0;
    for (let a = 0; a < idx.length; a++) base += idx[a]! * strides[a]!;
    fn(base, strides[axis]!, line);
  });
}

/** Applies `fn` to every element. */
export function mapElements(result: TensorType, x: RefTensor, fn: (v: number) => number): RefTensor {
  const data = new Float64Array(x.data.length);
  for (let i = 0; i < data.length; i++) data[i] = fn(x.data[i]!);
  return { type: result, data };
}
