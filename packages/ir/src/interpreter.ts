import { TesseraError } from './errors.ts';
import { GatherIndexError, IndexRangeError, describeNode } from './gather-error.ts';
import type { Program } from './program.ts';
import { type HostArray, type RefTensor, fromHost } from './ref-tensor.ts';
import { getOp } from './registry.ts';
import { MAX_ARRAY_ELEMENTS, formatType, numel, typesEqual } from './tensor-type.ts';
import { assertVerified } from './verifier.ts';

/** Input values keyed by input name: reference tensors or host arrays of the right length. */
export type InterpreterInputs = Readonly<Record<string, RefTensor | HostArray>>;

function isRef(v: RefTensor | HostArray): v is RefTensor {
  return typeof v === 'object' && v !== null && 'type' in v && 'data' in v && (v as RefTensor).data instanceof Float64Array;
}

/**
 * The reference interpreter, the oracle every pass and backend is checked
 * against: verifies the program, then evaluates each node with its registry
 * semantics (floats in float64, integers exact). Returns outputs by name.
 */
export function interpret(p: Program, inputs: InterpreterInputs): Record<string, RefTensor> {
  assertVerified(p);
  const env = new Map<string, RefTensor>();
  // Own keys only: an input named like an Object.prototype member (`constructor`) is not given by the prototype.
  const missing = p.inputs.filter((i) => !Object.hasOwn(inputs, i.name)).map((i) => `${i.name}: ${formatType(i.type)}`);
  if (missing.length) throw new TesseraError(`missing input(s) for program @${p.name}: ${missing.join(', ')}`);
  const known = new Set(p.inputs.map((i) => i.name));
  const extra = Object.keys(inputs).filter((k) => !known.has(k));
  if (extra.length) throw new TesseraError(`unexpected input(s) for program @${p.name}: ${extra.join(', ')} (expected ${[...known].join(', ')})`);

  for (const inp of p.inputs) {
    const v = inputs[inp.name]!;
    if (isRef(v)) {
      if (!typesEqual(v.type, inp.type)) throw new TesseraError(`input '${inp.name}' is ${formatType(v.type)}, expected ${formatType(inp.type)}`);
      env.set(inp.name, v);
    } else {
      env.set(inp.name, fromHost(inp.name, inp.type, v));
    }
  }
  for (const n of p.nodes) {
    const operands = n.operands.map((o) => env.get(o)!);
    const elements = numel(n.type.shape);
    if (elements > MAX_ARRAY_ELEMENTS) {
      // Checked before evaluating: a Float64Array this long cannot be allocated (or would take the machine's memory).
      throw new TesseraError(`%${n.name} = ${n.op}(...): its value ${formatType(n.type)} has ${elements} elements, more than the interpreter holds in one array (${MAX_ARRAY_ELEMENTS})`, n.loc);
    }
    try {
      env.set(n.name, getOp(n.op).evaluate(operands, n.attrs, n.type));
    } catch (e) {
      if (e instanceof IndexRangeError) throw new GatherIndexError({ node: n.name, operands: n.operands, loc: n.loc }, e.index, e.position, e.extent);
      const msg = e instanceof Error ? e.message : String(e);
      throw new TesseraError(`while evaluating ${describeNode(n.name, n.op, n.operands)}: ${msg}`, n.loc);
    }
  }
  // fromEntries defines own properties, so an output named `__proto__` is an entry, not the prototype.
  return Object.fromEntries(p.outputs.map((o) => [o.name, env.get(o.value)!]));
}
