/**
 * The runtime tensor: values in host memory with their dims and dtype, as
 * `run()` takes and returns them. Shaped like onnxruntime-web's and
 * transformers.js's Tensor (`data`, `dims`, plus `dtype`), so their tensors,
 * and plain `{ data, dims }` objects, are accepted as inputs too. Named
 * HostTensor, not Tensor: `Tensor` is the DSL's symbolic (traced) tensor,
 * exported from the same package.
 */
import { type DType, TesseraError, formatShape, numel } from '@tessera/ir';

/** The typed array of each host dtype: the IR's dtypes, and i64 (token ids as PyTorch has them), accepted for i32 inputs. */
export interface TensorArrays {
  f32: Float32Array;
  i32: Int32Array;
  bool: Uint8Array;
  i64: BigInt64Array;
}

/** Element types a host tensor can hold. */
export type HostDType = keyof TensorArrays;

/** Typed arrays a host tensor can hold. */
export type TensorArray = TensorArrays[HostDType];

/** The host dtype of a typed array type. */
export type DTypeOfArray<A extends TensorArray> = A extends Float32Array ? 'f32' : A extends Int32Array ? 'i32' : A extends BigInt64Array ? 'i64' : A extends Uint8Array ? 'bool' : HostDType;

/** The typed array each dtype is held in, by its [[TypedArrayName]]. Checked to cover every IR dtype. */
export const ARRAY_FOR: Readonly<Record<HostDType | DType, string>> = { f32: 'Float32Array', i32: 'Int32Array', bool: 'Uint8Array', i64: 'BigInt64Array' };

/** `a typed array (Float32Array, Int32Array, Uint8Array or BigInt64Array)`: what a tensor's data may be, for messages. */
export const TENSOR_ARRAYS_TEXT = `a typed array (${Object.values(ARRAY_FOR).slice(0, -1).join(', ')} or ${Object.values(ARRAY_FOR).at(-1)!})`;

const DTYPE_OF_ARRAY: ReadonlyMap<string, HostDType> = new Map(Object.entries(ARRAY_FOR).map(([dtype, array]) => [array, dtype as HostDType]));

/** The names a tensor's `dtype` may have: Tessera's, and onnxruntime's and tfjs's for the same types. */
const DTYPE_NAMES: ReadonlyMap<string, HostDType> = new Map([
  ...(Object.keys(ARRAY_FOR) as HostDType[]).map((d) => [d, d] as const),
  ['float32', 'f32'],
  ['int32', 'i32'],
  ['int64', 'i64'],
]);

// The [[TypedArrayName]] of a typed array from any realm (a worker's, a vm context's), undefined for anything else.
const typedArrayTag = Object.getOwnPropertyDescriptor(Object.getPrototypeOf(Int8Array.prototype), Symbol.toStringTag)!.get!;

/** The [[TypedArrayName]] of a typed array (from any realm), undefined for anything else. */
export function typedArrayName(v: unknown): string | undefined {
  return typedArrayTag.call(v) as string | undefined;
}

/** The host dtype of a typed array (Float32Array f32, Int32Array i32, Uint8Array bool, BigInt64Array i64), undefined for any other value. */
export function dtypeOfArray(v: unknown): HostDType | undefined {
  const name = typedArrayName(v);
  return name === undefined ? undefined : DTYPE_OF_ARRAY.get(name);
}

/** Every name a tensor's `dtype` may have, for messages. */
export const DTYPE_NAMES_TEXT = [...DTYPE_NAMES.keys()].join(', ');

/** The dtype a tensor's `dtype` field names (Tessera's names, or float32/int32/int64), undefined for an unknown name. */
export function dtypeNamed(name: unknown): HostDType | undefined {
  return typeof name === 'string' ? DTYPE_NAMES.get(name) : undefined;
}

/** Why `dims` are not a tensor's dims, or undefined: they must be an array of non-negative integers. */
export function dimsProblem(dims: unknown): string | undefined {
  if (!Array.isArray(dims)) return `dims must be an array of non-negative integers, got ${typeof dims === 'object' ? (dims === null ? 'null' : 'an object') : typeof dims}`;
  const bad = dims.findIndex((d) => !Number.isSafeInteger(d) || (d as number) < 0);
  return bad < 0 ? undefined : `dims must be an array of non-negative integers, got ${String(dims[bad])} at axis ${bad}`;
}

/** Anything with data and dims: a HostTensor, a plain object, or onnxruntime-web's and transformers.js's Tensor. */
export interface TensorLike {
  readonly data: TensorArray;
  readonly dims: readonly number[];
  /** Checked against the data's type when given; Tessera's dtype names or float32/int32/int64/bool. */
  readonly dtype?: string;
}

/** Whether a value is an object with `data` and `dims` (which may still be wrong: the input binder checks them). */
export function isTensorLike(v: unknown): v is { readonly data: unknown; readonly dims: unknown; readonly dtype?: unknown } {
  return typeof v === 'object' && v !== null && 'data' in v && 'dims' in v;
}

/**
 * A tensor in host memory: a typed array (not copied) and its dims,
 * row-major; `dtype` follows from the array. `run()` returns these, and
 * takes them (or any TensorLike, or a bare typed array of the right length).
 */
export class HostTensor<D extends HostDType = HostDType> implements TensorLike {
  readonly dtype: D;
  readonly dims: readonly number[];
  readonly data: TensorArrays[D];

  /** Wraps `data` (a Float32Array, Int32Array, Uint8Array for bool, or BigInt64Array) with `dims` (default: one axis of its length). */
  constructor(data: TensorArrays[D], dims: readonly number[] = [data.length]) {
    const dtype = dtypeOfArray(data);
    if (dtype === undefined) throw new TesseraError(`HostTensor: data must be ${TENSOR_ARRAYS_TEXT}, got ${typedArrayName(data) ?? (data === null ? 'null' : typeof data)}`);
    const problem = dimsProblem(dims);
    if (problem) throw new TesseraError(`HostTensor: ${problem}`);
    if (numel(dims) !== data.length) throw new TesseraError(`HostTensor: dims ${formatShape(dims)} need ${numel(dims)} elements, the data has ${data.length}`);
    this.dtype = dtype as D;
    this.dims = Object.freeze([...dims]);
    this.data = data;
  }

  /** The number of elements. */
  get size(): number {
    return this.data.length;
  }

  /** `HostTensor f32[2,3]`: its dtype and dims, for messages and logs. */
  toString(): string {
    return `HostTensor ${this.dtype}${formatShape(this.dims)}`;
  }
}

/** A HostTensor of `data` with `dims` (default: one axis of its length); its dtype follows from the array. */
export function hostTensor<A extends TensorArray>(data: A, dims?: readonly number[]): HostTensor<DTypeOfArray<A>> {
  return new HostTensor<DTypeOfArray<A>>(data as unknown as TensorArrays[DTypeOfArray<A>], dims);
}
