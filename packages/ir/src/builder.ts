import type { Attrs } from './attrs.ts';
import { type SourceLoc, TesseraError } from './errors.ts';
import type { Emitter } from './op-def.ts';
import { type InputKind, type Node, type Program, type ProgramInput, type ProgramOutput, OUTPUT_NAME, VALUE_NAME, type Value } from './program.ts';
import { type OpName, typeCheckOp } from './registry.ts';
import { type TensorType, formatType, tensorType, typesEqual } from './tensor-type.ts';

/** Options for one emitted node. */
export interface EmitOptions {
  /** Preferred value name; made unique if taken. */
  readonly name?: string;
  /** Source location (the DSL call site, or the IR text line). */
  readonly loc?: SourceLoc;
}

/**
 * Builds a program in SSA order, inferring and checking every node's type as
 * it is added, so an ill-typed program cannot be built.
 */
export class ProgramBuilder implements Emitter {
  private readonly inputs: ProgramInput[] = [];
  private readonly nodes: Node[] = [];
  private readonly outputs: ProgramOutput[] = [];
  private readonly types = new Map<string, TensorType>();
  private counter = 0;
  private readonly reserved = new Set<string>();

  constructor(readonly name = 'main') {}

  /** Declares an activation input (fed on every run). */
  input(name: string, type: TensorType, loc?: SourceLoc): Value {
    return this.declare(name, type, 'activation', loc);
  }

  /** Declares a parameter input (a weight, bound once). */
  param(name: string, type: TensorType, loc?: SourceLoc): Value {
    return this.declare(name, type, 'parameter', loc);
  }

  /** Declares an input of either kind. */
  declare(name: string, type: TensorType, kind: InputKind, loc?: SourceLoc): Value {
    if (!VALUE_NAME.test(name)) throw new TesseraError(`input name '${name}' is not a valid value name (letters, digits, '_' and '.')`, loc);
    if (this.types.has(name)) throw new TesseraError(`input '${name}' is declared twice`, loc);
    const checked = tensorType(type.dtype, type.shape);
    this.inputs.push({ name, type: checked, kind, ...(loc ? { loc } : {}) });
    this.types.set(name, checked);
    return { name, type: checked };
  }

  /** Appends `op(operands) {attrs}`, returning its value. Throws OpTypeError when the types do not fit. */
  emit(op: OpName, operands: readonly Value[], attrs: Attrs = {}, opts: EmitOptions = {}): Value {
    for (const v of operands) {
      const t = this.types.get(v.name);
      if (!t) throw new TesseraError(`${op}: operand %${v.name} is not defined in program @${this.name}`, opts.loc);
      if (!typesEqual(t, v.type)) {
        throw new TesseraError(`${op}: operand %${v.name} is ${formatType(v.type)} here but was defined as ${formatType(t)}`, opts.loc);
      }
    }
    const checked = typeCheckOp(op, operands.map((v) => v.type), attrs, opts.loc);
    const name = this.freshName(opts.name);
    const node: Node = { name, op, operands: operands.map((v) => v.name), attrs: checked.attrs, type: checked.type, ...(opts.loc ? { loc: opts.loc } : {}) };
    this.nodes.push(node);
    this.types.set(name, checked.type);
    return { name, type: checked.type };
  }

  /** Names a value as a program output. */
  output(name: string, value: Value, loc?: SourceLoc): void {
    if (!OUTPUT_NAME.test(name)) throw new TesseraError(`output name '${name}' is not a valid name (letters, digits, '_', '.' and '/')`, loc);
    if (this.outputs.some((o) => o.name === name)) throw new TesseraError(`output '${name}' is declared twice`, loc);
    if (!this.types.has(value.name)) throw new TesseraError(`output '${name}' refers to undefined value %${value.name}`, loc);
    this.outputs.push({ name, value: value.name, ...(loc ? { loc } : {}) });
  }

  /** Whether a value name is already taken. */
  has(name: string): boolean {
    return this.types.has(name);
  }

  /**
   * Keeps `names` for the values that will be emitted with them as hints:
   * made-up names (a counter, or a suffixed hint) avoid them. A pass that
   * rebuilds a program reserves the names of the nodes it keeps, so a value
   * it adds never takes the name of one emitted later.
   */
  reserve(names: Iterable<string>): void {
    for (const n of names) this.reserved.add(n);
  }

  /** A value name not used yet, from a hint (`h`, `h_1`, ...) or a counter (`0`, `1`, ...). */
  freshName(hint?: string): string {
    const taken = (n: string) => this.types.has(n) || this.reserved.has(n);
    if (hint !== undefined) {
      if (!VALUE_NAME.test(hint)) throw new TesseraError(`value name '${hint}' is not valid (letters, digits, '_' and '.')`);
      if (!this.types.has(hint)) return hint;
      for (let i = 1; ; i++) if (!taken(`${hint}_${i}`)) return `${hint}_${i}`;
    }
    while (taken(String(this.counter))) this.counter++;
    return String(this.counter++);
  }

  /** The finished program. */
  build(): Program {
    if (this.outputs.length === 0) throw new TesseraError(`program @${this.name} has no outputs`);
    return { name: this.name, inputs: [...this.inputs], nodes: [...this.nodes], outputs: [...this.outputs] };
  }
}
