/**
 * What a converter of one ONNX node sees: its inputs as import-time values,
 * its attributes, the opset, the folding emitter; and the errors it raises
 * (the importer adds which node, its op type and opset).
 */
import { type DType, type RefTensor, type TensorType, formatType, refTensor } from '@tessera/ir';
import type { AttributeProto, NodeProto, TensorProto } from './proto.ts';
import { int64 } from './proto.ts';
import { type ExternalDataReader, constantDType, onnxDTypeName, storeAs, tensorDims, tensorValues } from './tensor.ts';
import { type Const, type FoldingEmitter, type Val, constant, typeOf } from './values.ts';

import { UnsupportedError, unsupported } from './errors.ts';

export { UnsupportedError, unsupported };

/** One ONNX node being converted. */
export interface NodeContext {
  readonly node: NodeProto;
  /** The opset of the default domain the model imports. */
  readonly opset: number;
  /** The node's inputs; undefined where an optional input is left out (an empty name). */
  readonly inputs: readonly (Val | undefined)[];
  /** How many outputs the node has (names given, empty or not). */
  readonly outputCount: number;
  /** Whether output `i` is used (named). */
  wants(i: number): boolean;
  readonly e: FoldingEmitter;
  readonly readExternal?: ExternalDataReader;
}

/** A converter: the node's outputs, in order (fewer than it has is fine when the rest are unnamed). */
export type Converter = (ctx: NodeContext) => Val | readonly Val[];

/** Input `i`, which must be given. */
export function input(ctx: NodeContext, i: number, what = `input ${i}`): Val {
  const v = ctx.inputs[i];
  if (!v) unsupported(`${what} is missing`);
  return v;
}

/** Input `i` as a constant, or an UnsupportedError saying it must be known at import time. */
export function constInput(ctx: NodeContext, i: number, what: string): RefTensor {
  const v = input(ctx, i, what);
  if (v.kind !== 'const') unsupported(`${what} (input ${i}, ${formatType(typeOf(v))}) is computed at run time; Tessera needs it constant at import (a dynamic shape)`);
  return v.t;
}

/** Input `i` as a list of integers known at import time (shapes, axes, indices). */
export function constInts(ctx: NodeContext, i: number, what: string): number[] {
  return Array.from(constInput(ctx, i, what).data);
}

/** An optional input's integers, or undefined when it is left out. */
export function optionalInts(ctx: NodeContext, i: number, what: string): number[] | undefined {
  return ctx.inputs[i] ? constInts(ctx, i, what) : undefined;
}

/** A scalar known at import time. */
export function constScalar(ctx: NodeContext, i: number, what: string): number {
  const t = constInput(ctx, i, what);
  if (t.data.length !== 1) unsupported(`${what} has ${t.data.length} elements, expected one`);
  return t.data[0]!;
}

function attribute(ctx: NodeContext, name: string): AttributeProto | undefined {
  const a = ctx.node.attribute.find((x) => x.name === name);
  if (a?.ref_attr_name) unsupported(`attribute '${name}' refers to a function's attribute (${a.ref_attr_name})`);
  return a;
}

/** An int attribute, or `dflt`. */
export function attrInt(ctx: NodeContext, name: string, dflt: number): number;
export function attrInt(ctx: NodeContext, name: string): number | undefined;
export function attrInt(ctx: NodeContext, name: string, dflt?: number): number | undefined {
  const a = attribute(ctx, name);
  return a ? int64(a.i) : dflt;
}

/** A float attribute, or `dflt`. */
export function attrFloat(ctx: NodeContext, name: string, dflt: number): number {
  const a = attribute(ctx, name);
  return a ? a.f : dflt;
}

/** An ints attribute, or undefined. */
export function attrInts(ctx: NodeContext, name: string): number[] | undefined {
  const a = attribute(ctx, name);
  return a ? a.ints.map(int64) : undefined;
}

/** A floats attribute, or undefined. */
export function attrFloats(ctx: NodeContext, name: string): number[] | undefined {
  const a = attribute(ctx, name);
  return a ? [...a.floats] : undefined;
}

/** A string attribute, or `dflt`. */
export function attrString(ctx: NodeContext, name: string, dflt: string): string {
  const a = attribute(ctx, name);
  return a ? new TextDecoder().decode(a.s) : dflt;
}

/** A tensor attribute, or undefined. */
export function attrTensor(ctx: NodeContext, name: string): TensorProto | undefined {
  const a = attribute(ctx, name);
  return a?.t ?? undefined;
}

/** Whether the node has an attribute. */
export function hasAttr(ctx: NodeContext, name: string): boolean {
  return attribute(ctx, name) !== undefined;
}

/** A TensorProto as a constant (its values stored in the Tessera dtype holding them). */
export function tensorConstant(t: TensorProto, readExternal?: ExternalDataReader): Const {
  const dtype = constantDType(t.data_type);
  if (!dtype) unsupported(`tensor '${t.name}' has element type ${onnxDTypeName(t.data_type)}, which Tessera does not compute`);
  const shape = tensorDims(t);
  return constant(refTensor({ dtype, shape }, storeAs(dtype, tensorValues(t, readExternal))));
}

/** A constant of `type` holding `values` (one value is repeated). */
export function constOf(dtype: DType, shape: readonly number[], values: readonly number[]): Const {
  const type: TensorType = { dtype, shape: [...shape] };
  const n = shape.reduce((a, b) => a * b, 1);
  const data = values.length === 1 && n !== 1 ? new Float64Array(n).fill(values[0]!) : Float64Array.from(values);
  return constant(refTensor(type, storeAs(dtype, data)));
}

/** A scalar constant of `dtype`. */
export const scalarOf = (dtype: DType, v: number): Const => constOf(dtype, [], [v]);

/** Normalises a possibly negative axis against `rank`, or an UnsupportedError. */
export function axisOf(axis: number, rank: number, what = 'axis'): number {
  if (!Number.isInteger(axis) || axis < -rank || axis >= rank) unsupported(`${what} ${axis} is out of range for rank ${rank}`);
  return axis < 0 ? axis + rank : axis;
}
