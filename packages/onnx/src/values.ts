/**
 * What an ONNX value is while a graph is imported: a constant known at
 * import time (a reference tensor), a weight (an initializer, declared as a
 * parameter of the program when a node first uses it), or a value the
 * program computes. The folding emitter evaluates every op whose operands
 * are all constants with the op's own reference semantics (the registry's
 * `evaluate`, as the interpreter does), so shape arithmetic never reaches
 * the program and the importer has no second implementation of any op.
 */
import { UnsupportedError } from './errors.ts';
import { valueNameOf } from './names.ts';
import { type Attrs, type OpName, type ProgramBuilder, type RefTensor, type SourceLoc, type TensorType, type Value, getOp, typeCheckOp } from '@tessera/ir';

/** A weight: an initializer, bound by name when the program is compiled. */
export interface Weight {
  readonly kind: 'weight';
  /** The parameter's name in the program (the ONNX name, made a valid value name). */
  readonly name: string;
  readonly type: TensorType;
  readonly data: Float32Array | Int32Array | Uint8Array;
}

/** A constant known at import time. */
export interface Const {
  readonly kind: 'const';
  readonly t: RefTensor;
}

/** A value of the program being built. */
export interface Computed {
  readonly kind: 'value';
  readonly v: Value;
}

/** An ONNX value during import. */
export type Val = Const | Weight | Computed;

/** The type of a value. */
export function typeOf(v: Val): TensorType {
  return v.kind === 'const' ? v.t.type : v.kind === 'weight' ? v.type : v.v.type;
}

/** A constant value. */
export const constant = (t: RefTensor): Const => ({ kind: 'const', t });

/**
 * An empty constant: a shape list of no entries (Shape's slice past the
 * rank, a Slice of nothing) exists in exported shape arithmetic even though
 * Tessera's programs have no empty tensors. It may only be reshaped, sliced,
 * cast or concatenated away at import.
 */
export function emptyConst(dtype: TensorType['dtype'], shape: readonly number[]): Const {
  return { kind: 'const', t: { type: { dtype, shape: [...shape] }, data: new Float64Array(0) } };
}

/** Whether a value is a constant with no elements. */
export const isEmpty = (v: Val): boolean => v.kind === 'const' && v.t.data.length === 0;

/**
 * Emits ops into a ProgramBuilder, folding those whose operands are all
 * constants; constants a computed op takes become `constant` nodes (once
 * each), weights become parameters (once each) named as the ONNX
 * initializer.
 */
export class FoldingEmitter {
  private readonly constNodes = new Map<RefTensor, Value>();
  private readonly params = new Map<string, Value>();
  /** Weights declared as parameters, by parameter name. */
  readonly usedWeights = new Map<string, Weight>();
  /** Where emitted nodes come from (set per ONNX node). */
  loc: SourceLoc | undefined;
  /** The ONNX name emitted nodes are named after (the node's first output), made a value name. */
  hint: string | undefined;

  constructor(readonly b: ProgramBuilder) {}

  /** `op(operands) {attrs}`: folded to a constant when every operand is one, else emitted. */
  emit(op: OpName, operands: readonly Val[], attrs: Attrs = {}, name?: string): Val {
    if (operands.every((o) => o.kind === 'const')) {
      if (op === 'cast' && isEmpty(operands[0]!)) return emptyConst(attrs.to as TensorType['dtype'], typeOf(operands[0]!).shape);
      const refs = operands.map((o) => (o as Const).t);
      const { attrs: canonical, type } = typeCheckOp(op, refs.map((r) => r.type), attrs, this.loc);
      return constant(getOp(op).evaluate(refs, canonical, type));
    }
    const hint = name ?? (this.hint === undefined ? undefined : valueNameOf(this.hint));
    const v = this.b.emit(op, operands.map((o) => this.value(o)), attrs, { ...(hint !== undefined ? { name: hint } : {}), ...(this.loc ? { loc: this.loc } : {}) });
    return { kind: 'value', v };
  }

  /** A value of the program for `v`: a constant becomes a `constant` node, a weight a parameter. */
  value(v: Val): Value {
    if (v.kind === 'value') return v.v;
    if (v.kind === 'weight') {
      let p = this.params.get(v.name);
      if (!p) {
        p = this.b.param(v.name, v.type);
        this.params.set(v.name, p);
        this.usedWeights.set(v.name, v);
      }
      return p;
    }
    let c = this.constNodes.get(v.t);
    if (!c && v.t.data.length === 0) throw new UnsupportedError(`a value of shape [${v.t.type.shape.join(',')}] is empty, and Tessera has no empty tensors`);
    if (!c) {
      c = this.b.emit('constant', [], { shape: [...v.t.type.shape], dtype: v.t.type.dtype, value: constantValues(v.t) }, this.loc ? { loc: this.loc } : {});
      this.constNodes.set(v.t, c);
    }
    return c;
  }
}

/** A constant's values for the `constant` op: one value when all are equal (a splat), else all of them. */
function constantValues(t: RefTensor): number[] {
  const d = t.data;
  const first = d[0]!;
  const splat = d.every((x) => Object.is(x, first));
  return splat ? [first] : Array.from(d);
}
