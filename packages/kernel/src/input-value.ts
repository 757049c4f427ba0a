/**
 * One input value as a run gives it (a typed array, or a tensor: anything
 * with data and dims), checked against the input it is for and turned into
 * the typed array a backend copies in: the same checks and messages on
 * every backend.
 */
import { type DType, TesseraError, formatShape, numel, shapesEqual, stridesOf } from '@tessera/ir';
import type { TensorData } from './backend.ts';
import { ARRAY_FOR, DTYPE_NAMES_TEXT, type HostDType, TENSOR_ARRAYS_TEXT, dimsProblem, dtypeNamed, dtypeOfArray, isTensorLike, typedArrayName } from './host-tensor.ts';

/** A tensor's name, dtype and dims, as an executable describes its inputs and outputs. */
export interface TensorInfo {
  readonly name: string;
  readonly dtype: DType;
  readonly dims: readonly number[];
}

/** An input of an executable: an activation (given to each run) or a parameter (a weight, usually placed once). */
export interface InputInfo extends TensorInfo {
  readonly kind: 'activation' | 'parameter';
}

/** The host dtypes each input dtype takes: i32 also takes i64 (BigInt64Array token ids), narrowed with a range check. */
const ACCEPTED: Readonly<Record<DType, readonly HostDType[]>> = { f32: ['f32'], i32: ['i32', 'i64'], bool: ['bool'] };

const I32_MIN = -2147483648n;
const I32_MAX = 2147483647n;

/** What a value is, for messages: a typed array's kind, `Array`, `null`, or its type. */
export function describeValue(v: unknown): string {
  if (v === null) return 'null';
  const tag = typedArrayName(v);
  if (tag) return tag;
  if (Array.isArray(v)) return 'Array';
  if (typeof v !== 'object') return typeof v;
  const ctor = (Object.getPrototypeOf(v) as { constructor?: { name?: unknown } } | null)?.constructor?.name;
  return typeof ctor === 'string' && ctor ? ctor : 'object';
}

/** `'x' (f32[4,4])`: an input as messages name it. */
export function describeInput(input: TensorInfo): string {
  return `'${input.name}' (${input.dtype}${formatShape(input.dims)})`;
}

// `an Int32Array`, but `a Uint8Array` (said "you").
const article = (arrayName: string) => (arrayName.startsWith('Int') ? 'an' : 'a');

/** What input `input` takes, for messages: `a Float32Array`, `an Int32Array or a BigInt64Array`. */
function arraysTaken(input: TensorInfo): string {
  return ACCEPTED[input.dtype].map((d) => `${article(ARRAY_FOR[d])} ${ARRAY_FOR[d]}`).join(' or ');
}

/** The multi-index of flat element `i` of a row-major tensor of `dims`. */
function position(i: number, dims: readonly number[]): number[] {
  return stridesOf(dims).map((s, axis) => Math.floor(i / s) % dims[axis]!);
}

/** i64 values narrowed to i32, or an error naming the input, the first value out of range and where it is. */
function narrowToI32(input: TensorInfo, src: BigInt64Array): Int32Array {
  const out = new Int32Array(src.length);
  for (let i = 0; i < src.length; i++) {
    const v = src[i]!;
    if (v < I32_MIN || v > I32_MAX) {
      const at = input.dims.length > 1 ? ` (at [${position(i, input.dims).join(',')}])` : '';
      throw new TesseraError(`input '${input.name}': int64 element ${i}${at} is ${v}, outside the i32 range [${I32_MIN}, ${I32_MAX}]`);
    }
    out[i] = Number(v);
  }
  return out;
}

/** The data and dims of a tensor given for `input`, checked in themselves (dims, data, dtype agree); dims undefined for a bare array. */
function unwrap(input: TensorInfo, v: unknown): { data: unknown; dims?: readonly number[] } {
  if (!isTensorLike(v) || typedArrayName(v) !== undefined) return { data: v };
  const problem = dimsProblem(v.dims);
  if (problem) throw new TesseraError(`input '${input.name}': the tensor's ${problem}`);
  const dims = v.dims as readonly number[];
  const dtype = dtypeOfArray(v.data);
  if (dtype === undefined) throw new TesseraError(`input '${input.name}': the tensor's data must be ${TENSOR_ARRAYS_TEXT}, got ${describeValue(v.data)}`);
  if (v.dtype !== undefined) {
    const named = dtypeNamed(v.dtype);
    if (named === undefined) throw new TesseraError(`input '${input.name}': the tensor's dtype ${JSON.stringify(v.dtype)} is none of ${DTYPE_NAMES_TEXT}`);
    if (named !== dtype) throw new TesseraError(`input '${input.name}': the tensor's dtype ${JSON.stringify(v.dtype)} does not match its data, ${article(ARRAY_FOR[dtype])} ${ARRAY_FOR[dtype]} (${dtype})`);
  }
  const length = (v.data as ArrayLike<unknown>).length;
  if (numel(dims) !== length) throw new TesseraError(`input '${input.name}': a tensor of shape ${formatShape(dims)} needs ${numel(dims)} elements, its data has ${length}`);
  return { data: v.data, dims };
}

/**
 * The typed array a backend gets for `input` from the value a run gave:
 * a tensor must have the input's shape and a bare typed array its element
 * count; the data must be the typed array of its dtype (ARRAY_FOR), or a
 * BigInt64Array for i32 (narrowed, range-checked). The caller's array is
 * returned as it is where no narrowing is needed (not copied).
 */
export function inputArray(input: TensorInfo, v: unknown): TensorData {
  const { data, dims } = unwrap(input, v);
  const dtype = dtypeOfArray(data);
  if (dtype === undefined || !ACCEPTED[input.dtype].includes(dtype)) {
    const got = dims ? `a tensor of ${describeValue(data)}` : describeValue(data);
    throw new TesseraError(`input '${input.name}' must be ${arraysTaken(input)} for dtype ${input.dtype} (or a tensor { data, dims } of one), got ${got}`);
  }
  if (dims) {
    if (!shapesEqual(dims, input.dims)) throw new TesseraError(`input '${input.name}' has shape ${formatShape(input.dims)}, got a tensor of shape ${formatShape(dims)}`);
  } else {
    const length = (data as TensorData).length;
    if (length !== numel(input.dims)) throw new TesseraError(`input '${input.name}' of shape ${formatShape(input.dims)} needs ${numel(input.dims)} elements, got ${length}`);
  }
  return dtype === 'i64' ? narrowToI32(input, data as BigInt64Array) : (data as TensorData);
}
