import { type DType, isDType } from './dtype.ts';
import { TypeRuleError } from './errors.ts';

/** A statically shaped tensor type, printed `f32[2,197,768]` (a scalar is `f32[]`). */
export interface TensorType {
  readonly dtype: DType;
  readonly shape: readonly number[];
}

/**
 * The most elements one host array (a typed array of the interpreter, the
 * kernel evaluator or a CPU target) may have: 2^31 - 1. V8 on a 64-bit host
 * allows more, but not every engine does, and int32 index arithmetic stops
 * there; a larger tensor is a clean error, never a RangeError mid-way.
 */
export const MAX_ARRAY_ELEMENTS = 2 ** 31 - 1;

/**
 * Why `shape` is no valid tensor shape, or undefined: every extent must be
 * a positive integer no larger than 2^53 - 1 (an exact double), and so must
 * the element count, so sizes computed from it are exact.
 */
export function shapeProblem(shape: readonly number[]): string | undefined {
  for (const [i, d] of shape.entries()) {
    // Zero-sized tensors are excluded on purpose: every reduction then has
    // elements, and every kernel has work. Empty slices are rejected early.
    if (!Number.isInteger(d) || d < 1) return `extent ${d} at axis ${i} of shape [${shape.join(',')}] must be a positive integer`;
    if (d > Number.MAX_SAFE_INTEGER) return `extent ${d} at axis ${i} of shape [${shape.join(',')}] is above 2^53 - 1 (extents must be exact integers)`;
  }
  const n = numel(shape);
  // A product above 2^53 - 1 rounds to a double >= 2^53, so this sees every overflow.
  if (n > Number.MAX_SAFE_INTEGER) return `shape [${shape.join(',')}] has ${n} elements, more than 2^53 - 1 (element counts must be exact integers)`;
  return undefined;
}

/** Makes a tensor type, checking the shape (see shapeProblem). */
export function tensorType(dtype: DType, shape: readonly number[]): TensorType {
  if (!isDType(dtype)) throw new TypeRuleError(`unknown dtype '${String(dtype)}'`);
  const problem = shapeProblem(shape);
  if (problem) throw new TypeRuleError(problem);
  return { dtype, shape: [...shape] };
}

/** Prints a tensor type in the IR's notation. */
export function formatType(t: TensorType): string {
  return `${t.dtype}[${t.shape.join(',')}]`;
}

/** Prints a shape as `[2,3]`. */
export function formatShape(shape: readonly number[]): string {
  return `[${shape.join(',')}]`;
}

/** Structural equality of two tensor types. */
export function typesEqual(a: TensorType, b: TensorType): boolean {
  return a.dtype === b.dtype && shapesEqual(a.shape, b.shape);
}

/** Structural equality of two shapes. */
export function shapesEqual(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/** Number of elements of a shape (1 for a scalar). */
export function numel(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** Row-major strides of a dense shape. */
export function stridesOf(shape: readonly number[]): number[] {
  const strides = new Array<number>(shape.length);
  let s = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    strides[i] = s;
    s *= shape[i]!;
  }
  return strides;
}

/** Resolves a possibly negative axis against a rank, or throws naming what it was for. */
export function normalizeAxis(axis: number, rank: number, what = 'axis'): number {
  if (!Number.isInteger(axis) || axis < -rank || axis >= rank) {
    throw new TypeRuleError(`${what} ${axis} is out of range for rank ${rank} (expected ${-rank} <= ${what} < ${rank})`);
  }
  return axis < 0 ? axis + rank : axis;
}

/**
 * Numpy broadcasting of several shapes: align on the right, each extent
 * equal or 1. Throws with the first offending axis.
 */
export function broadcastShapes(...shapes: readonly (readonly number[])[]): number[] {
  const rank = Math.max(0, ...shapes.map((s) => s.length));
  const out = new Array<number>(rank).fill(1);
  for (let i = 0; i < rank; i++) {
    for (const s of shapes) {
      const d = s[s.length - rank + i] ?? 1;
      if (d === 1) continue;
      if (out[i] !== 1 && out[i] !== d) {
        throw new TypeRuleError(
          `shapes ${shapes.map(formatShape).join(' and ')} do not broadcast: axis ${i - rank} has extents ${out[i]} and ${d} (expected equal, or 1)`,
        );
      }
      out[i] = d;
    }
  }
  return out;
}
