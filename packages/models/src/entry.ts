/**
 * Tracing one method of a model (encode, decode step, ...) as its own
 * program while keeping the model's parameter names.
 */
import { type AttentionSelection, Module, type Tensor, type TraceResult, Parameter, trace, type InputSpecs } from '@tessera/frontend';
import type { Program } from '@tessera/ir';

/** A module whose forward is `fn` and whose members are `model`'s, under the same names. */
class EntryPoint extends Module {
  constructor(private readonly fn: (...xs: Tensor[]) => TraceResult) {
    super();
  }

  forward(...xs: Tensor[]): TraceResult {
    return this.fn(...xs);
  }
}

/**
 * Traces `fn` (a function of the program's inputs that uses `model`'s
 * modules) into a program whose parameters carry `model`'s state_dict names;
 * `attentions` adds attention probes named by the same paths (see trace).
 */
export function traceEntry(model: Module, fn: (...xs: Tensor[]) => TraceResult, inputs: InputSpecs, name: string, attentions: AttentionSelection = false): Program {
  const entry = new EntryPoint(fn);
  // The entry's own field `fn` is not a module or parameter, so only the model's members are registered.
  for (const [n, m] of model.namedMembers()) {
    if (m instanceof Parameter) entry.registerParameter(n, m);
    else entry.registerModule(n, m);
  }
  return trace(entry, inputs, { name, attentions });
}
