/**
 * Conversions between safetensors tensors and the interpreter's RefTensor.
 * Loading is by the program's declared type: wider or narrower stored
 * dtypes are accepted where the value is kept exactly (F16/BF16 widen to f32,
 * I64 narrows to i32 with a range check, U8 becomes bool).
 */
import type { DType } from '../dtype.ts';
import { type RefTensor } from '../ref-tensor.ts';
import { type TensorType, formatShape, formatType, numel, shapesEqual } from '../tensor-type.ts';
import { type SafetensorsDType, SafetensorsError, type SafetensorsTensor } from './safetensors.ts';

/** Stored dtypes accepted for each IR dtype. */
export const SAFETENSORS_FOR_DTYPE: Readonly<Record<DType, readonly SafetensorsDType[]>> = {
  f32: ['F32', 'F16', 'BF16'],
  i32: ['I32', 'I64'],
  bool: ['BOOL', 'U8'],
};

/** The dtype each IR dtype is written as. */
export const SAFETENSORS_DTYPE_OF: Readonly<Record<DType, SafetensorsDType>> = { f32: 'F32', i32: 'I32', bool: 'BOOL' };

/**
 * Converts stored tensor `name` (from `source`, for messages) to a RefTensor
 * of `type`, or throws naming the tensor, expected type and what was found.
 */
export function safetensorToRef(name: string, t: SafetensorsTensor, type: TensorType, source = '<safetensors>'): RefTensor {
  const fail = (message: string): never => {
    throw new SafetensorsError(source, `tensor '${name}': ${message}`, name);
  };
  if (!shapesEqual(t.shape, type.shape)) fail(`shape ${formatShape(t.shape)} differs from the expected ${formatShape(type.shape)} (${formatType(type)})`);
  const allowed = SAFETENSORS_FOR_DTYPE[type.dtype];
  if (!allowed.includes(t.dtype)) fail(`dtype ${t.dtype} cannot be loaded as ${formatType(type)} (expected ${allowed.join(' or ')})`);
  const n = numel(type.shape);
  const data = new Float64Array(n);
  if (t.dtype === 'I64') {
    const src = t.data as BigInt64Array;
    for (let i = 0; i < n; i++) {
      const v = src[i]!;
      if (v < -2147483648n || v > 2147483647n) fail(`I64 element ${i} is ${v}, outside the i32 range [-2147483648, 2147483647]`);
      data[i] = Number(v);
    }
  } else if (type.dtype === 'bool') {
    const src = t.data as Uint8Array;
    for (let i = 0; i < n; i++) data[i] = src[i] !== 0 ? 1 : 0;
  } else {
    const src = t.data as Float32Array | Int32Array;
    for (let i = 0; i < n; i++) data[i] = src[i]!;
  }
  return { type: { dtype: type.dtype, shape: [...type.shape] }, data };
}

/** Converts a RefTensor to the tensor it is written as: f32 -> F32, i32 -> I32, bool -> BOOL. */
export function refToSafetensor(t: RefTensor): SafetensorsTensor {
  const shape = [...t.type.shape];
  switch (t.type.dtype) {
    case 'f32':
      return { dtype: 'F32', shape, data: Float32Array.from(t.data) };
    case 'i32':
      return { dtype: 'I32', shape, data: Int32Array.from(t.data) };
    case 'bool':
      return { dtype: 'BOOL', shape, data: Uint8Array.from(t.data, (v) => (v !== 0 ? 1 : 0)) };
  }
}
