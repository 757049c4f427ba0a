import type { Attrs } from './attrs.ts';
import type { SourceLoc } from './errors.ts';
import type { OpName } from './registry.ts';
import type { TensorType } from './tensor-type.ts';

/** Whether a program input is fed per run (activation) or bound once (parameter: a weight). */
export type InputKind = 'activation' | 'parameter';

/** A named program input. Its name is also its SSA value name. */
export interface ProgramInput {
  readonly name: string;
  readonly type: TensorType;
  readonly kind: InputKind;
  readonly loc?: SourceLoc;
}

/** One SSA definition: `%name = op(%a, %b) {attrs} : type`. */
export interface Node {
  readonly name: string;
  /** A registered op (data read from text or JSON is checked by the parser and the verifier). */
  readonly op: OpName;
  readonly operands: readonly string[];
  readonly attrs: Attrs;
  readonly type: TensorType;
  /** Where the node came from: IR text line, or the user's DSL call site. */
  readonly loc?: SourceLoc;
}

/** A named program output, bound to a value. */
export interface ProgramOutput {
  readonly name: string;
  readonly value: string;
  readonly loc?: SourceLoc;
}

/** A graph program: inputs, nodes in topological SSA order, outputs. Plain data; passes build new ones. */
export interface Program {
  readonly name: string;
  readonly inputs: readonly ProgramInput[];
  readonly nodes: readonly Node[];
  readonly outputs: readonly ProgramOutput[];
}

/** An SSA value handle: its name and type. */
export interface Value {
  readonly name: string;
  readonly type: TensorType;
}

/** Maps every value name (inputs and nodes) to its type. */
export function valueTypes(p: Program): Map<string, TensorType> {
  const m = new Map<string, TensorType>();
  for (const i of p.inputs) m.set(i.name, i.type);
  for (const n of p.nodes) m.set(n.name, n.type);
  return m;
}

/** Value names are `%` followed by letters, digits, `_` and `.` (parameter paths like `blocks.0.attn.qkv`). */
export const VALUE_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.]*$/;

/** Output names are value names that may also have `/` between parts (attention probes: `attn/encoder.layers.0.self_attn`). */
export const OUTPUT_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.]*(\/[A-Za-z0-9_][A-Za-z0-9_.]*)*$/;
