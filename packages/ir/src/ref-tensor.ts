import type { DType } from './dtype.ts';
import { TesseraError } from './errors.ts';
import { type TensorType, formatType, numel } from './tensor-type.ts';

/**
 * A tensor value in the reference interpreter. Every dtype is held in a
 * Float64Array: floats compute in float64, i32 values are exact integers
 * (wrapped to 32 bits by the ops that can overflow), bool is 0 or 1.
 */
export interface RefTensor {
  readonly type: TensorType;
  readonly data: Float64Array;
}

/** Typed arrays accepted at the program boundary. */
export type HostArray = Float32Array | Float64Array | Int32Array | Uint8Array | BigInt64Array | number[];

/** Makes a reference tensor, checking the element count. */
export function refTensor(type: TensorType, data: Float64Array | readonly number[]): RefTensor {
  const arr = data instanceof Float64Array ? data : Float64Array.from(data);
  if (arr.length !== numel(type.shape)) {
    throw new TesseraError(`tensor of type ${formatType(type)} needs ${numel(type.shape)} elements, got ${arr.length}`);
  }
  return { type, data: arr };
}

/** Converts a host array to a reference tensor of the given type, checking values fit the dtype. */
export function fromHost(name: string, type: TensorType, host: HostArray): RefTensor {
  const n = numel(type.shape);
  if (host.length !== n) {
    throw new TesseraError(`input '${name}' of type ${formatType(type)} needs ${n} elements, got ${host.length}`);
  }
  const data = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const v = Number(host[i]);
    data[i] = coerce(type.dtype, v, name, i);
  }
  return { type, data };
}

function coerce(dtype: DType, v: number, name: string, i: number): number {
  switch (dtype) {
    case 'f32':
      return Math.fround(v);
    case 'i32':
      if (!Number.isInteger(v) || v < -2147483648 || v > 2147483647) {
        throw new TesseraError(`input '${name}' element ${i} is ${v}, which is not an i32`);
      }
      return v;
    case 'bool':
      return v !== 0 ? 1 : 0;
  }
}

/** Converts a reference tensor to the typed array a backend would produce for its dtype. */
export function toHost(t: RefTensor): Float32Array | Int32Array | Uint8Array {
  switch (t.type.dtype) {
    case 'f32':
      return Float32Array.from(t.data);
    case 'i32':
      return Int32Array.from(t.data);
    case 'bool':
      return Uint8Array.from(t.data);
  }
}

/** Wraps a number to a two's-complement 32-bit integer, as i32 arithmetic does. */
export const wrapI32 = (x: number): number => x | 0;
