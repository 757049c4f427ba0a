import { TesseraError } from './errors.ts';
import { GatherIndexError, IndexRangeError, describeNode } from './gather-error.ts';
import type { Node, Program } from './program.ts';
import { type HostArray, type RefTensor, fromHost } from './ref-tensor.ts';
import { getOp } from './registry.ts';
import { MAX_ARRAY_ELEMENTS, formatType, numel, typesEqual } from './tensor-type.ts';
import { assertVerified } from './verifier.ts';

/**
 * The most bytes of float64 values the interpreter holds at once (8 GiB): a
 * program that needs more is refused before anything is allocated, rather
 * than running the machine out of memory.
 */
export const MAX_INTERPRETER_BYTES = 2 ** 33;

/**
 * The bytes of values the interpreter holds at once at its peak (each value
 * from its definition, inputs from the start, to its last use; outputs to
 * the end), and the node being evaluated then.
 */
export function interpreterPeak(p: Program): { bytes: number; at?: string } {
  const bytesOf = new Map<string, number>();
  for (const i of p.inputs) bytesOf.set(i.name, numel(i.type.shape) * 8);
  for (const n of p.nodes) bytesOf.set(n.name, numel(n.type.shape) * 8);
  const lastUse = lastUses(p);
  let live = p.inputs.reduce((t, i) => t + bytesOf.get(i.name)!, 0);
  let peak: { bytes: number; at?: string } = { bytes: live };
  p.nodes.forEach((n, i) => {
    live += bytesOf.get(n.name)!;
    if (live > peak.bytes) peak = { bytes: live, at: n.name };
    for (const o of new Set([...n.operands, n.name])) if (lastUse.get(o) === i) live -= bytesOf.get(o)!;
  });
  return peak;
}

/** The index of the last node that reads each value (Infinity for outputs: they are kept to the end). */
function lastUses(p: Program): Map<string, number> {
  const last = new Map<string, number>();
  p.nodes.forEach((n, i) => {
    last.set(n.name, i);
    for (const o of n.operands) last.set(o, i);
  });
  for (const o of p.outputs) last.set(o.value, Infinity);
  return last;
}

/** Input values keyed by input name: reference tensors or host arrays of the right length. */
export type InterpreterInputs = Readonly<Record<string, RefTensor | HostArray>>;

function isRef(v: RefTensor | HostArray): v is RefTensor {
  return typeof v === 'object' && v !== null && 'type' in v && 'data' in v && (v as RefTensor).data instanceof Float64Array;
}

/** Options of `interpret`. */
export interface InterpretOptions {
  /**
   * Wraps each node's evaluation: given the node, its operands and the
   * registry's evaluation, returns the node's value (the harness's estimate
   * of f32 rounding nudges operands and results here). It must not write
   * into the operands or into what `evaluate` returns: a value may share its
   * data with another (a reshape's with its operand's).
   */
  readonly around?: (node: Node, operands: readonly RefTensor[], evaluate: (operands: readonly RefTensor[]) => RefTensor) => RefTensor;
}

/**
 * The reference interpreter, the oracle every pass and backend is checked
 * against: verifies the program, then evaluates each node with its registry
 * semantics (floats in float64, integers exact), dropping each value after
 * its last use. Returns outputs by name. A program whose values would take
 * more than MAX_INTERPRETER_BYTES at once is refused before evaluating.
 */
export function interpret(p: Program, inputs: InterpreterInputs, options: InterpretOptions = {}): Record<string, RefTensor> {
  assertVerified(p);
  const env = new Map<string, RefTensor>();
  // Own keys only: an input named like an Object.prototype member (`constructor`) is not given by the prototype.
  const missing = p.inputs.filter((i) => !Object.hasOwn(inputs, i.name)).map((i) => `${i.name}: ${formatType(i.type)}`);
  if (missing.length) throw new TesseraError(`missing input(s) for program @${p.name}: ${missing.join(', ')}`);
  const known = new Set(p.inputs.map((i) => i.name));
  const extra = Object.keys(inputs).filter((k) => !known.has(k));
  if (extra.length) throw new TesseraError(`unexpected input(s) for program @${p.name}: ${extra.join(', ')} (expected ${[...known].join(', ')})`);
  // Checked before anything is allocated: one value too long for an array, then all the values alive at once.
  for (const n of p.nodes) {
    const elements = numel(n.type.shape);
    if (elements > MAX_ARRAY_ELEMENTS) {
      throw new TesseraError(`%${n.name} = ${n.op}(...): its value ${formatType(n.type)} has ${elements} elements, more than the interpreter holds in one array (${MAX_ARRAY_ELEMENTS})`, n.loc);
    }
  }
  const peak = interpreterPeak(p);
  if (peak.bytes > MAX_INTERPRETER_BYTES) {
    const at = peak.at === undefined ? 'its inputs' : `evaluating %${peak.at}`;
    throw new TesseraError(`program @${p.name} needs ${(peak.bytes / 2 ** 30).toFixed(1)} GiB of float64 values at once (at ${at}), more than the reference interpreter holds (${MAX_INTERPRETER_BYTES / 2 ** 30} GiB)`);
  }
  const lastUse = lastUses(p);

  for (const inp of p.inputs) {
    const v = inputs[inp.name]!;
    if (isRef(v)) {
      if (!typesEqual(v.type, inp.type)) throw new TesseraError(`input '${inp.name}' is ${formatType(v.type)}, expected ${formatType(inp.type)}`);
      env.set(inp.name, v);
    } else {
      env.set(inp.name, fromHost(inp.name, inp.type, v));
    }
  }
  p.nodes.forEach((n, i) => {
    const operands = n.operands.map((o) => env.get(o)!);
    try {
      const evaluate = (xs: readonly RefTensor[]) => getOp(n.op).evaluate(xs, n.attrs, n.type);
      env.set(n.name, options.around ? options.around(n, operands, evaluate) : evaluate(operands));
    } catch (e) {
      if (e instanceof IndexRangeError) throw new GatherIndexError({ node: n.name, operands: n.operands, loc: n.loc }, e.index, e.position, e.extent);
      const msg = e instanceof Error ? e.message : String(e);
      throw new TesseraError(`while evaluating ${describeNode(n.name, n.op, n.operands)}: ${msg}`, n.loc);
    }
    for (const o of [...n.operands, n.name]) if (lastUse.get(o) === i) env.delete(o);
  });
  // fromEntries defines own properties, so an output named `__proto__` is an entry, not the prototype.
  return Object.fromEntries(p.outputs.map((o) => [o.name, env.get(o.value)!]));
}
