import type { Attrs } from './attrs.ts';
import { ProgramBuilder } from './builder.ts';
import type { Emitter, OpDef } from './op-def.ts';
import type { Node, Program, Value } from './program.ts';
import { type OpName, getOp, isComposite, typeCheckOp } from './registry.ts';
import type { TensorType } from './tensor-type.ts';

/**
 * Decides which nodes with a decomposition to expand: from the op, and where
 * that depends on them, its operand types and canonical attributes (and the
 * program's node itself, given for nodes of the program but not for those
 * inside another op's decomposition).
 */
export type ExpandPredicate = (def: OpDef, operands: readonly TensorType[], attrs: Attrs, node?: Node) => boolean;

/**
 * An emitter that expands composite ops (recursively) into their
 * decompositions while forwarding everything else to a builder.
 */
export class DecomposingEmitter implements Emitter {
  constructor(
    private readonly target: ProgramBuilder,
    private readonly shouldExpand: ExpandPredicate = isCompositeDef,
  ) {}

  emit(op: OpName, operands: readonly Value[], attrs: Attrs = {}): Value {
    const def = getOp(op);
    if (def.decompose) {
      const types = operands.map((v) => v.type);
      const { attrs: canonical } = typeCheckOp(op, types, attrs);
      if (this.shouldExpand(def, types, canonical)) return def.decompose(this, operands, canonical);
    }
    return this.target.emit(op, operands, attrs);
  }
}

/** The default choice of what to expand: every composite (a primitive's decomposition is a fallback, used only on request). */
function isCompositeDef(def: OpDef): boolean {
  return isComposite(def.name);
}

/**
 * Rebuilds a program with composite ops replaced by their decompositions
 * (all composites, or the ops `shouldExpand` selects among those with one). Input and output names
 * are kept; value names of untouched nodes are kept too.
 */
export function decomposeProgram(p: Program, shouldExpand: ExpandPredicate = isCompositeDef): Program {
  const b = new ProgramBuilder(p.name);
  // The nodes of a decomposition take names no node of `p` has: kernels and tools map values to graph nodes by name.
  b.reserve(p.nodes.map((n) => n.name));
  const env = new Map<string, Value>();
  for (const i of p.inputs) env.set(i.name, b.declare(i.name, i.type, i.kind, i.loc));
  const expander = new DecomposingEmitter(b, shouldExpand);
  for (const n of p.nodes) {
    const operands = n.operands.map((o) => env.get(o)!);
    const def = getOp(n.op);
    const v = def.decompose && shouldExpand(def, operands.map((o) => o.type), n.attrs, n) ? expander.emit(n.op, operands, n.attrs) : b.emit(n.op, operands, n.attrs, { name: n.name, ...(n.loc ? { loc: n.loc } : {}) });
    env.set(n.name, v);
  }
  for (const o of p.outputs) b.output(o.name, env.get(o.value)!, o.loc);
  return b.build();
}
