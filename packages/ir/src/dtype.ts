/**
 * Element types. `f16` is deliberately absent today: adding it means one more
 * entry here, its byte size, and a storage rule in the backends; the op
 * registry only ever asks `isFloat`.
 */
export type DType = 'f32' | 'i32' | 'bool';

/** Every element type the IR knows, in canonical order. */
export const DTYPES: readonly DType[] = ['f32', 'i32', 'bool'];

/** True when `s` names an element type. */
export function isDType(s: string): s is DType {
  return (DTYPES as readonly string[]).includes(s);
}

/** True for floating-point element types. */
export function isFloat(d: DType): boolean {
  return d === 'f32';
}

/** True for types with arithmetic (floats and integers, not bool). */
export function isNumeric(d: DType): boolean {
  return d === 'f32' || d === 'i32';
}

/** Bytes per element in a backend buffer (bool is stored as one byte). */
export function byteSize(d: DType): number {
  return d === 'bool' ? 1 : 4;
}
