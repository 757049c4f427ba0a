/**
 * ONNX element types and TensorProto data: what Tessera computes each in,
 * and the values of a tensor, read from its typed fields, its raw bytes or
 * an external data file.
 */
import { type DType, TesseraError, type TensorType, bfloat16BitsToNumber, halfBitsToNumber, numel } from '@tessera/ir';
import { type TensorProto, decodeTensor, int64 } from './proto.ts';

/** onnx.TensorProto.DataType values by name (the ones with a name in messages). */
export const ONNX_DTYPE_NAMES: Readonly<Record<number, string>> = {
  1: 'float', 2: 'uint8', 3: 'int8', 4: 'uint16', 5: 'int16', 6: 'int32', 7: 'int64', 8: 'string', 9: 'bool',
  10: 'float16', 11: 'double', 12: 'uint32', 13: 'uint64', 14: 'complex64', 15: 'complex128', 16: 'bfloat16',
};

/** The name of an ONNX element type, for messages. */
export function onnxDTypeName(t: number): string {
  return ONNX_DTYPE_NAMES[t] ?? `data type ${t}`;
}

/**
 * The Tessera dtype computing an ONNX element type: float as f32; the
 * integer types as i32 (int64 values are range-checked where they are data,
 * saturated where they are shape sentinels such as INT64_MAX); bool as bool.
 * Undefined for the types Tessera does not compute (double, float16, ...).
 */
export function computeDType(onnx: number): DType | undefined {
  switch (onnx) {
    case 1:
      return 'f32';
    case 2:
    case 3:
    case 4:
    case 5:
    case 6:
    case 7:
    case 12:
      return 'i32';
    case 9:
      return 'bool';
    default:
      return undefined;
  }
}

/** The Tessera dtype holding a constant's values: computeDType, and floats of any width as f32 (constants are data). */
export function constantDType(onnx: number): DType | undefined {
  return onnx === 10 || onnx === 11 || onnx === 16 ? 'f32' : computeDType(onnx);
}

/** Reads the bytes an external data entry names (location relative to the model, offset, length). */
export type ExternalDataReader = (location: string, offset: number, length: number | undefined) => Uint8Array;

/** Where a tensor with external data keeps it, from its external_data entries. */
export function externalDataRef(t: TensorProto): { location: string; offset: number; length: number | undefined } {
  const entry = (k: string) => t.external_data.find((e) => e.key === k)?.value;
  const location = entry('location');
  if (!location) throw new TesseraError(`initializer '${t.name}' has external data without a location`);
  const offset = Number(entry('offset') ?? 0);
  const len = entry('length');
  return { location, offset, length: len === undefined ? undefined : Number(len) };
}

/** The dims of a TensorProto as numbers. */
export function tensorDims(t: TensorProto): number[] {
  return t.dims.map(int64);
}

/** The raw little-endian bytes of a tensor: raw_data, or its external file's slice. */
function rawBytes(t: TensorProto, readExternal: ExternalDataReader | undefined): Uint8Array | undefined {
  if (t.data_location === 1) {
    if (!readExternal) throw new TesseraError(`initializer '${t.name}' keeps its data in an external file, and no reader for external data was given (importOnnx's readExternal; @tessera/onnx/node reads them next to the model file)`);
    const { location, offset, length } = externalDataRef(t);
    return readExternal(location, offset, length);
  }
  return t.raw_data && t.raw_data.length > 0 ? t.raw_data : undefined;
}

/** Element size in raw_data, for the types read from bytes. */
const RAW_SIZE: Readonly<Record<number, number>> = { 1: 4, 2: 1, 3: 1, 4: 2, 5: 2, 6: 4, 7: 8, 9: 1, 10: 2, 11: 8, 12: 4, 13: 8, 16: 2 };

/**
 * The values of a tensor as float64 numbers (integers exact up to 2^53,
 * larger int64 rounded; float16/bfloat16 widened). Throws for types without
 * numbers (string, complex).
 */
export function tensorValues(t: TensorProto, readExternal?: ExternalDataReader): Float64Array {
  const n = numel(tensorDims(t));
  const dt = t.data_type;
  const raw = rawBytes(t, readExternal);
  const out = new Float64Array(n);
  if (raw) {
    const size = RAW_SIZE[dt];
    if (size === undefined) throw new TesseraError(`tensor '${t.name}' has element type ${onnxDTypeName(dt)}, which Tessera cannot read`);
    if (raw.length < n * size) throw new TesseraError(`tensor '${t.name}' has ${raw.length} bytes of data, expected ${n * size} (${n} x ${onnxDTypeName(dt)})`);
    const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
    for (let i = 0; i < n; i++) out[i] = readRaw(view, dt, i * size);
    return out;
  }
  const field: readonly (number | { toNumber(): number })[] =
    dt === 1 ? t.float_data : dt === 7 ? t.int64_data : dt === 11 ? t.double_data : dt === 12 || dt === 13 ? t.uint64_data : t.int32_data;
  if (field.length !== n && !(n === 0 && field.length === 0)) {
    throw new TesseraError(`tensor '${t.name}' has ${field.length} values, expected ${n} for dims [${tensorDims(t).join(',')}]`);
  }
  for (let i = 0; i < n; i++) {
    const v = int64(field[i]);
    out[i] = dt === 10 ? halfBitsToNumber(v) : dt === 16 ? bfloat16BitsToNumber(v) : v;
  }
  return out;
}

function readRaw(view: DataView, dt: number, at: number): number {
  switch (dt) {
    case 1:
      return view.getFloat32(at, true);
    case 2:
    case 9:
      return view.getUint8(at);
    case 3:
      return view.getInt8(at);
    case 4:
      return view.getUint16(at, true);
    case 5:
      return view.getInt16(at, true);
    case 6:
      return view.getInt32(at, true);
    case 7:
      return Number(view.getBigInt64(at, true));
    case 10:
      return halfBitsToNumber(view.getUint16(at, true));
    case 11:
      return view.getFloat64(at, true);
    case 12:
      return view.getUint32(at, true);
    case 13:
      return Number(view.getBigUint64(at, true));
    case 16:
      return bfloat16BitsToNumber(view.getUint16(at, true));
    default:
      throw new TesseraError(`element type ${onnxDTypeName(dt)} cannot be read`);
  }
}

/**
 * Values stored in a Tessera dtype: f32 rounded, i32 saturated at the i32
 * range (int64 shape sentinels such as INT64_MAX in Slice ends become
 * 2^31 - 1, which clamps the same), bool as 0/1.
 */
export function storeAs(dtype: DType, values: Float64Array): Float64Array {
  const out = new Float64Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    out[i] = dtype === 'f32' ? Math.fround(v) : dtype === 'bool' ? (v !== 0 ? 1 : 0) : Math.max(-2147483648, Math.min(2147483647, Math.trunc(v)));
  }
  return out;
}

/** A float tensor's values as a Float32Array, read straight from its bytes where it has them (weights: no float64 copy). */
export function float32Values(t: TensorProto, readExternal?: ExternalDataReader): Float32Array {
  const raw = t.data_type === 1 ? rawBytes(t, readExternal) : undefined;
  const n = numel(tensorDims(t));
  if (raw) {
    if (raw.length < n * 4) throw new TesseraError(`tensor '${t.name}' has ${raw.length} bytes of data, expected ${n * 4} (${n} x float)`);
    // A copy: raw_data may not be 4-byte aligned, and the model's bytes should not be kept alive by a weight.
    return new Float32Array(new Uint8Array(raw.subarray(0, n * 4)).buffer);
  }
  return Float32Array.from(tensorValues(t, readExternal));
}

/** The Tessera type of a tensor, or undefined when its element type has none. */
export function tensorTypeOf(t: TensorProto): TensorType | undefined {
  const dtype = constantDType(t.data_type);
  return dtype && { dtype, shape: tensorDims(t) };
}

/** A decoded TensorProto: its name, ONNX element type, dims and values (float64). */
export interface OnnxTensor {
  readonly name: string;
  readonly dataType: number;
  readonly dims: readonly number[];
  readonly values: Float64Array;
}

/** Reads a serialized TensorProto (ONNX test data `.pb` files). */
export function readTensorProto(bytes: Uint8Array, source?: string): OnnxTensor {
  const t = decodeTensor(bytes, source);
  return { name: t.name, dataType: t.data_type, dims: tensorDims(t), values: tensorValues(t) };
}
