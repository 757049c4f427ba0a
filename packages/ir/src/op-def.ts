import type { AttrSchema, Attrs } from './attrs.ts';
import type { Value } from './program.ts';
import type { OpName } from './registry.ts';
import type { RefTensor } from './ref-tensor.ts';
import type { TensorType } from './tensor-type.ts';

/**
 * Fusion classes, ordered as a lattice (TVM's OpPatternKind): a fused group
 * takes the class of its most demanding member.
 */
export const FUSION_CLASSES = ['elementwise', 'broadcast', 'injective', 'reduction', 'contraction', 'opaque'] as const;
export type FusionClass = (typeof FUSION_CLASSES)[number];

/** Something that can append ops to a program: the builder, or a pass rewriting one. */
export interface Emitter {
  emit(op: OpName, operands: readonly Value[], attrs?: Attrs): Value;
}

/** Emits a scalar f32 constant (decompositions use it for their coefficients). */
export function scalar(e: Emitter, v: number): Value {
  return e.emit('constant', [], { shape: [], dtype: 'f32', value: [v] });
}

/** How many operands an op takes and what they are called in messages and docs. */
export interface OperandSpec {
  readonly names: readonly string[];
  readonly min: number;
  /** Infinity for variadic ops (concat). */
  readonly max: number;
}

/**
 * The single definition of an op: everything the IR, passes and backends need
 * to know about it lives here. Written without its name: an op is an entry
 * `name: spec` of one of the registry's `as const` tables, whose keys make
 * the closed union OpName.
 */
export interface OpSpec {
  /** One line: what the op computes. */
  readonly doc: string;
  readonly fusion: FusionClass;
  readonly operands: OperandSpec;
  readonly attrs: AttrSchema;
  /**
   * Puts validated attributes in canonical form given operand types (negative
   * axes resolved, defaults that depend on shapes filled). Throws TypeRuleError.
   */
  canonicalize?(operands: readonly TensorType[], attrs: Attrs): Attrs;
  /** The type rule. Throws TypeRuleError with "expected ..." when operands or attributes do not fit. */
  inferType(operands: readonly TensorType[], attrs: Attrs): TensorType;
  /** Reference semantics in float64 / exact integers. The oracle: simple over fast. */
  evaluate(operands: readonly RefTensor[], attrs: Attrs, result: TensorType): RefTensor;
  /**
   * The same computation written with other ops. A composite (the
   * COMPOSITE_OPS family) is defined by it; a primitive may have one as the
   * fallback for targets without code for it (legalisation), which may
   * approximate (erf's is a polynomial fit).
   */
  decompose?(e: Emitter, operands: readonly Value[], attrs: Attrs): Value;
}

/** A registered op: its spec under its name. */
export interface OpDef extends OpSpec {
  readonly name: OpName;
}

/** A family of ops, as one `as const` table: op name -> spec. */
export type OpTable = Readonly<Record<string, OpSpec>>;

/** Operand spec for a fixed list of named operands. */
export function fixedOperands(...names: string[]): OperandSpec {
  return { names, min: names.length, max: names.length };
}
