/**
 * Decoding and encoding an ONNX ModelProto with protobufjs (its light
 * build: the message types come from the JSON descriptor generated from
 * onnx.proto, so nothing parses .proto text at run time and nothing here
 * needs Node).
 */
import protobuf from 'protobufjs/light.js';
import { TesseraError } from '@tessera/ir';
import { ONNX_PROTO_DESCRIPTOR } from './onnx-proto.generated.ts';

/** An int64 field as protobufjs gives it: a number, or a Long when the `long` package is present. */
export type Int64 = number | { toNumber(): number };

/** A protobuf int64 as a JavaScript number (values beyond 2^53 are rounded, which only matters for sentinels like INT64_MAX). */
export function int64(v: Int64 | null | undefined): number {
  if (v === null || v === undefined) return 0;
  return typeof v === 'number' ? v : v.toNumber();
}

/** onnx.StringStringEntryProto. */
export interface StringEntry {
  readonly key: string;
  readonly value: string;
}

/** onnx.TensorProto (the fields the importer reads). */
export interface TensorProto {
  readonly dims: readonly Int64[];
  readonly data_type: number;
  readonly float_data: readonly number[];
  readonly int32_data: readonly number[];
  readonly int64_data: readonly Int64[];
  readonly double_data: readonly number[];
  readonly uint64_data: readonly Int64[];
  readonly string_data: readonly Uint8Array[];
  readonly raw_data: Uint8Array;
  readonly name: string;
  readonly external_data: readonly StringEntry[];
  /** 1: the data is in an external file (external_data says where). */
  readonly data_location: number;
}

/** onnx.AttributeProto. */
export interface AttributeProto {
  readonly name: string;
  readonly type: number;
  readonly f: number;
  readonly i: Int64;
  readonly s: Uint8Array;
  readonly t?: TensorProto | null;
  readonly g?: unknown;
  readonly floats: readonly number[];
  readonly ints: readonly Int64[];
  readonly strings: readonly Uint8Array[];
  readonly ref_attr_name: string;
}

/** onnx.NodeProto. */
export interface NodeProto {
  readonly input: readonly string[];
  readonly output: readonly string[];
  readonly name: string;
  readonly op_type: string;
  readonly domain: string;
  readonly attribute: readonly AttributeProto[];
}

/** onnx.TensorShapeProto.Dimension. */
export interface DimensionProto {
  readonly dim_value?: Int64 | null;
  readonly dim_param?: string | null;
}

/** onnx.TypeProto (tensor types only). */
export interface TypeProto {
  readonly tensor_type?: { readonly elem_type: number; readonly shape?: { readonly dim: readonly DimensionProto[] } | null } | null;
}

/** onnx.ValueInfoProto. */
export interface ValueInfoProto {
  readonly name: string;
  readonly type?: TypeProto | null;
}

/** onnx.GraphProto. */
export interface GraphProto {
  readonly node: readonly NodeProto[];
  readonly name: string;
  readonly initializer: readonly TensorProto[];
  readonly input: readonly ValueInfoProto[];
  readonly output: readonly ValueInfoProto[];
  readonly value_info: readonly ValueInfoProto[];
  readonly sparse_initializer: readonly unknown[];
}

/** onnx.OperatorSetIdProto. */
export interface OpsetId {
  readonly domain: string;
  readonly version: Int64;
}

/** onnx.ModelProto. */
export interface ModelProto {
  readonly ir_version: Int64;
  readonly opset_import: readonly OpsetId[];
  readonly producer_name: string;
  readonly producer_version: string;
  readonly graph?: GraphProto | null;
  readonly functions: readonly unknown[];
}

let root: protobuf.Root | undefined;

/** A message type of onnx.proto. */
function messageType(name: string): protobuf.Type {
  root ??= protobuf.Root.fromJSON(ONNX_PROTO_DESCRIPTOR as protobuf.INamespace);
  return root.lookupType(name);
}

/** Decodes a serialized TensorProto (a `.pb` file of ONNX's test data); bytes that are not one are a TesseraError. */
export function decodeTensor(bytes: Uint8Array, source = '<tensor bytes>'): TensorProto {
  try {
    return messageType('onnx.TensorProto').decode(bytes) as unknown as TensorProto;
  } catch (e) {
    throw new TesseraError(`${source}: not an ONNX TensorProto (${(e as Error).message})`);
  }
}

/** Decodes the bytes of an .onnx file; a file that is not a ModelProto is a TesseraError. */
export function decodeModel(bytes: Uint8Array, source = '<onnx bytes>'): ModelProto {
  let model: ModelProto;
  try {
    model = messageType('onnx.ModelProto').decode(bytes) as unknown as ModelProto;
  } catch (e) {
    throw new TesseraError(`${source}: not an ONNX model (the protobuf does not decode as a ModelProto: ${(e as Error).message})`);
  }
  if (!model.graph) throw new TesseraError(`${source}: not an ONNX model (no graph)`);
  return model;
}

/**
 * A message to encode: any of a decoded message's fields (nested messages
 * likewise), int64 fields as plain numbers (negative ones too), bytes as
 * Uint8Array (not copied until the final buffer).
 */
export type ProtoInit<T> = T extends number | string | Uint8Array | { toNumber(): number }
  ? T
  : T extends readonly (infer E)[]
    ? readonly ProtoInit<E>[]
    : { readonly [K in keyof T]?: ProtoInit<T[K]> | null };

/** Serializes a ModelProto through the same descriptor decodeModel reads (fields in field-number order, repeated scalars unpacked as proto2). */
export function encodeModel(model: ProtoInit<ModelProto>): Uint8Array {
  const type = messageType('onnx.ModelProto');
  return type.encode(type.fromObject(model)).finish();
}
