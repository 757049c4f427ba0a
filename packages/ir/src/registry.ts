import { completeAttrs, type Attrs } from './attrs.ts';
import { OpTypeError, type SourceLoc, TesseraError, TypeRuleError } from './errors.ts';
import type { OpDef, OpSpec } from './op-def.ts';
import { type TensorType, formatType, shapeProblem } from './tensor-type.ts';
import { ELEMENTWISE_OPS } from './ops/elementwise.ts';
import { REDUCTION_OPS } from './ops/reduction.ts';
import { CONTRACTION_OPS } from './ops/contraction.ts';
import { MOVEMENT_OPS } from './ops/movement.ts';
import { SOURCE_OPS } from './ops/source.ts';
import { COMPOSITE_OPS } from './ops/composite.ts';
import { ATTENTION_OPS } from './ops/attention.ts';
import { ARG_REDUCTION_OPS } from './ops/arg-reduction.ts';
import { SCAN_OPS } from './ops/scan.ts';
import { LOG_SUM_EXP_OPS } from './ops/log-sum-exp.ts';
import { CONVOLUTION_OPS } from './ops/convolution.ts';

/**
 * Every op family's table, in registration order. The single source of op
 * names: OpName is the union of their keys, so every per-op rule outside the
 * IR (lowering, flop counts, each target's code table) can be an exhaustive
 * `Record<OpName, Rule>` (or a Record over one family, as UnaryOp), and a new
 * op fails `tsc` at each place that must say what to do with it.
 */
const REDUCTIONS = { ...REDUCTION_OPS, ...SCAN_OPS } as const;
/** Composites: ops defined by a decomposition into core ops, whatever their fusion class (conv2d is a contraction). */
const COMPOSITES = { ...COMPOSITE_OPS, ...ATTENTION_OPS, ...ARG_REDUCTION_OPS, ...LOG_SUM_EXP_OPS, ...CONVOLUTION_OPS } as const;
const OP_FAMILIES = [ELEMENTWISE_OPS, REDUCTIONS, CONTRACTION_OPS, MOVEMENT_OPS, SOURCE_OPS, COMPOSITES] as const;

/** The name of a registered op. */
export type OpName = ElementwiseOp | ReductionOp | ContractionOp | MovementOp | SourceOp | CompositeOp;

/** The names of each family's ops (for rules that cover a family at once). */
export type ElementwiseOp = keyof typeof ELEMENTWISE_OPS;
export type ReductionOp = keyof typeof REDUCTIONS;
export type ContractionOp = keyof typeof CONTRACTION_OPS;
export type MovementOp = keyof typeof MOVEMENT_OPS;
export type SourceOp = keyof typeof SOURCE_OPS;
export type CompositeOp = keyof typeof COMPOSITES;

const registry = new Map<string, OpDef>();
for (const family of OP_FAMILIES) {
  for (const [name, spec] of Object.entries(family) as [OpName, OpSpec][]) {
    if (registry.has(name)) throw new Error(`op '${name}' is defined twice`);
    registry.set(name, { name, ...spec });
  }
}

/** Looks up an op, or undefined. */
export function findOp(name: string): OpDef | undefined {
  return registry.get(name);
}

/** Whether `name` is a registered op (narrows a string read from text or data to OpName). */
export function isOpName(name: string): name is OpName {
  return registry.has(name);
}

/** Looks up an op, throwing a message that lists the known ops. */
export function getOp(name: string, loc?: SourceLoc): OpDef {
  const def = registry.get(name);
  if (!def) throw new TesseraError(`unknown op '${name}'`, loc);
  return def;
}

/** Every registered op, in registration order. */
export function allOps(): readonly OpDef[] {
  return [...registry.values()];
}

/**
 * The composite ops: defined by a decomposition into other ops (softmax,
 * gelu, argmax, conv2d, ...). A scalar primitive's decomposition (erf's) is
 * only a fallback for targets without code for it, not a definition.
 */
export function compositeOps(): readonly OpDef[] {
  return allOps().filter((d) => isComposite(d.name));
}

/** Whether an op is a composite (see compositeOps). */
export function isComposite(op: OpName): op is CompositeOp {
  return Object.hasOwn(COMPOSITES, op);
}

/**
 * Checks operand count and attributes, canonicalises attributes and infers
 * the result type. Every failure becomes an OpTypeError naming the op, the
 * operand types and what was expected.
 */
export function typeCheckOp(
  op: OpName,
  operands: readonly TensorType[],
  attrs: Attrs,
  loc?: SourceLoc,
): { attrs: Attrs; type: TensorType } {
  const def = getOp(op, loc);
  try {
    const { min, max } = def.operands;
    if (operands.length < min || operands.length > max) {
      const want = min === max ? `${min}` : max === Infinity ? `at least ${min}` : `${min} to ${max}`;
      throw new TypeRuleError(`expected ${want} operand(s) (${def.operands.names.join(', ')}), got ${operands.length}`);
    }
    const full = completeAttrs(def.attrs, attrs);
    const canonical = def.canonicalize ? def.canonicalize(operands, full) : full;
    const type = def.inferType(operands, canonical);
    // Type rules that build a shape by hand (concat, pad, gather, broadcasts) are checked here, once.
    const problem = shapeProblem(type.shape);
    if (problem) throw new TypeRuleError(`the result ${problem}`);
    return { attrs: canonical, type };
  } catch (e) {
    if (e instanceof TypeRuleError) throw new OpTypeError(op, operands.map(formatType), e.message, loc);
    throw e;
  }
}
