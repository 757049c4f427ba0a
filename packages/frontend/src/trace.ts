import { type Program, TesseraError, assertVerified } from '@tessera/ir';
import { Module } from './module.ts';
import type { Parameter } from './parameter.ts';
import { AttentionProbes, type AttentionSelection } from './probes.ts';
import { Tensor } from './tensor.ts';
import { Tracer, describe, withTracer } from './tracer.ts';
import { type InputSpecs, parseTypeSpec } from './type-spec.ts';

/** What forward may return: one tensor (output `output`) or named tensors. */
export type TraceResult = Tensor | Readonly<Record<string, Tensor>>;

/** A model to trace: a module with forward(...), or a plain function of the inputs. */
// `never[]` accepts any forward signature (its inputs are checked at run time against the specs).
export type Traceable = { forward(...inputs: never[]): unknown } | ((...inputs: never[]) => unknown);

/** A module that can be traced: one with a forward method. */
export type TraceableModule = Module & { forward(...inputs: never[]): unknown };

/** Options of trace(). */
export interface TraceOptions {
  /** Program name (default `main`). */
  readonly name?: string;
  /**
   * Attention probes: each attention module's probabilities (every one, or
   * those at the module paths listed) become an extra output
   * `attn/<module path>`, [batch, heads, queries, keys], after forward's own.
   */
  readonly attentions?: AttentionSelection;
}

/**
 * Traces a model into a verified graph program: declares one activation
 * input per spec (in spec order), calls forward with them, and makes every
 * parameter forward used a `param` input named by its path in the model.
 * Inputs are listed activations first, then parameters in the model's order.
 */
export function trace(model: Traceable, inputSpecs: InputSpecs, opts: TraceOptions = {}): Program {
  const paramNames = new Map<Parameter, string>();
  const order: string[] = [];
  if (model instanceof Module) {
    for (const [n, p] of model.namedParameters()) {
      paramNames.set(p, n);
      order.push(n);
    }
  }
  const forward = typeof model === 'function' ? model : model.forward;
  if (typeof forward !== 'function') throw new TesseraError(`cannot trace ${describe(model)}: expected a Module with a forward method, or a function`);

  const tracer = new Tracer(opts.name ?? 'main', paramNames);
  if (opts.attentions !== undefined && opts.attentions !== false) {
    const paths = model instanceof Module ? new Map([...model.namedModules()].map(([path, m]) => [m, path] as const)) : new Map<Module, string>();
    tracer.probes = new AttentionProbes(paths, opts.attentions);
  }
  const b = tracer.builder;
  const inputs = Object.entries(inputSpecs).map(([name, spec]) => {
    const v = b.input(name, parseTypeSpec(spec, `input '${name}'`));
    return new Tensor(v.type, { tracer, value: v });
  });
  const result = withTracer(tracer, () => (forward as (...xs: Tensor[]) => unknown).apply(model, inputs));

  const outputs: [string, unknown][] = result instanceof Tensor ? [['output', result]] : isRecord(result) ? Object.entries(result) : [];
  // Located at forward's last op: the return statement itself is on no stack.
  const at = tracer.lastCallSite;
  if (outputs.length === 0) {
    const what = Array.isArray(result) ? `an array of ${result.length}` : describe(result);
    throw new TesseraError(`forward returned ${what}; expected a Tensor or a record of named Tensors (return { a, b } to name several outputs)`, at);
  }
  for (const [name, t] of outputs) {
    if (!(t instanceof Tensor)) throw new TesseraError(`output '${name}' is ${describe(t)}; expected a Tensor`, at);
    b.output(name, t.valueIn(tracer, undefined));
  }
  tracer.probes?.checkAllFound(at);
  for (const [name, t] of tracer.probes?.outputs ?? []) {
    if (outputs.some(([n]) => n === name)) throw new TesseraError(`output '${name}' of forward has the name of an attention probe; rename it or trace without attentions`, at);
    b.output(name, t.valueIn(tracer, undefined));
  }
  const built = b.build();
  // Parameters are declared on first use; list them in the model's order instead.
  const rank = new Map(order.map((n, i) => [n, i]));
  const acts = built.inputs.filter((i) => i.kind === 'activation');
  const params = built.inputs.filter((i) => i.kind === 'parameter').sort((x, y) => rank.get(x.name)! - rank.get(y.name)!);
  const program: Program = { ...built, inputs: [...acts, ...params] };
  assertVerified(program);
  return program;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && Object.getPrototypeOf(v) === Object.prototype;
}
