import { completeAttrs, type Attrs } from './attrs.ts';
import { OpTypeError, type SourceLoc, TesseraError, TypeRuleError } from './errors.ts';
import type { OpDef } from './op-def.ts';
import { type TensorType, formatType, shapeProblem } from './tensor-type.ts';
import { ELEMENTWISE_OPS } from './ops/elementwise.ts';
import { REDUCTION_OPS } from './ops/reduction.ts';
import { CONTRACTION_OPS } from './ops/contraction.ts';
import { MOVEMENT_OPS } from './ops/movement.ts';
import { SOURCE_OPS } from './ops/source.ts';
import { COMPOSITE_OPS } from './ops/composite.ts';
import { ARG_REDUCTION_OPS } from './ops/arg-reduction.ts';
import { SCAN_OPS } from './ops/scan.ts';
import { LOG_SUM_EXP_OPS } from './ops/log-sum-exp.ts';

const registry = new Map<string, OpDef>();

/** Adds an op definition; each name may be defined once. */
export function registerOp(def: OpDef): void {
  if (registry.has(def.name)) throw new Error(`op '${def.name}' is defined twice`);
  registry.set(def.name, def);
}

for (const def of [...ELEMENTWISE_OPS, ...REDUCTION_OPS, ...CONTRACTION_OPS, ...MOVEMENT_OPS, ...SOURCE_OPS, ...COMPOSITE_OPS]) {
  registerOp(def);
}
for (const def of [...ARG_REDUCTION_OPS, ...SCAN_OPS, ...LOG_SUM_EXP_OPS]) registerOp(def);

/** Looks up an op, or undefined. */
export function findOp(name: string): OpDef | undefined {
  return registry.get(name);
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

/** The names of composite ops (those with a decomposition). */
export function compositeOps(): readonly OpDef[] {
  return allOps().filter((d) => d.decompose !== undefined);
}

/**
 * Checks operand count and attributes, canonicalises attributes and infers
 * the result type. Every failure becomes an OpTypeError naming the op, the
 * operand types and what was expected.
 */
export function typeCheckOp(
  op: string,
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
