import type { DType } from '@tessera/ir';
import type { TensorData } from '@tessera/kernel';

/** Host data in the layout of a storage buffer. */
export type StorageData = Float32Array<ArrayBuffer> | Int32Array<ArrayBuffer> | Uint32Array<ArrayBuffer>;

/**
 * Host values as the bytes a storage buffer holds. bool becomes u32 0/1
 * (WGSL has no 8-bit storage). A view on a SharedArrayBuffer (WebAssembly
 * memory) is copied into a plain buffer first: dawn.node crashes on
 * writeBuffer from shared memory.
 */
export function toStorage(dtype: DType, values: TensorData | readonly number[]): StorageData {
  if (dtype === 'bool') return Uint32Array.from(values as ArrayLike<number>, (v) => (v ? 1 : 0));
  if (Array.isArray(values)) return dtype === 'f32' ? Float32Array.from(values) : Int32Array.from(values);
  const typed = values as Float32Array | Int32Array;
  if (typeof SharedArrayBuffer !== 'undefined' && typed.buffer instanceof SharedArrayBuffer) return typed.slice() as Float32Array<ArrayBuffer> | Int32Array<ArrayBuffer>;
  return typed as Float32Array<ArrayBuffer> | Int32Array<ArrayBuffer>;
}

/** Reads `size` elements of `dtype` out of mapped storage bytes into a new host array (bool as Uint8Array 0/1). */
export function fromStorage(dtype: DType, bytes: ArrayBuffer, size: number): TensorData {
  if (dtype === 'f32') return new Float32Array(bytes, 0, size).slice();
  if (dtype === 'i32') return new Int32Array(bytes, 0, size).slice();
  return Uint8Array.from(new Uint32Array(bytes, 0, size), (v) => (v ? 1 : 0));
}
