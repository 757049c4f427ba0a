import type { DType } from '@tessera/ir';
import { Parameter } from './parameter.ts';
import { dslError } from './tracer.ts';

/** A module or parameter registered under an explicit name. */
type Registered = Module | Parameter;

/**
 * Explicit registrations per module, kept outside the instances so a
 * module's own enumerable properties are exactly its user-visible state.
 */
const registrations = new WeakMap<Module, Map<string, Registered>>();

function registered(m: Module): Map<string, Registered> {
  let r = registrations.get(m);
  if (!r) registrations.set(m, (r = new Map()));
  return r;
}

/**
 * Base class of models and layers, as torch.nn.Module. Parameters and
 * child modules are found in the instance's properties (named by property
 * name, in assignment order) or registered with an explicit name, so the
 * hierarchical names match PyTorch's state_dict keys
 * (`encoder.layers.0.self_attn.in_proj_weight`). Subclasses define
 * `forward(...)`.
 */
export class Module {
  /** A new parameter, named later by the property that holds it. */
  protected parameter(shape: readonly number[], opts: { dtype?: DType } = {}): Parameter {
    return new Parameter(shape, opts);
  }

  /** Registers a parameter under `name` (e.g. PyTorch's snake_case name) whatever property holds it; returns it. */
  registerParameter(name: string, p: Parameter): Parameter {
    checkName(name);
    registered(this).set(name, p);
    return p;
  }

  /** Registers a child module under `name` whatever property holds it; returns it. */
  registerModule<M extends Module>(name: string, m: M): M {
    checkName(name);
    registered(this).set(name, m);
    return m;
  }

  /**
   * Direct parameters and children with their names: properties in
   * assignment order (explicitly registered objects under their registered
   * name), then registered objects held by no property.
   */
  namedMembers(): [string, Registered][] {
    const explicit = registered(this);
    const nameOf = new Map<Registered, string>();
    for (const [n, v] of explicit) if (!nameOf.has(v)) nameOf.set(v, n);
    const out: [string, Registered][] = [];
    const seen = new Set<Registered>();
    for (const [key, v] of Object.entries(this)) {
      if (!(v instanceof Parameter || v instanceof Module) || seen.has(v)) continue;
      seen.add(v);
      out.push([nameOf.get(v) ?? key, v]);
    }
    for (const [n, v] of explicit) {
      if (!seen.has(v)) {
        seen.add(v);
        out.push([n, v]);
      }
    }
    return out;
  }

  /** Direct child modules with their names. */
  namedChildren(): [string, Module][] {
    return this.namedMembers().filter((e): e is [string, Module] => e[1] instanceof Module);
  }

  /** This module and every descendant, depth first, with dotted names ('' for this one). */
  *namedModules(prefix = '', seen = new Set<Module>()): Generator<[string, Module]> {
    if (seen.has(this)) return;
    seen.add(this);
    yield [prefix, this];
    for (const [n, c] of this.namedChildren()) yield* c.namedModules(prefix ? `${prefix}.${n}` : n, seen);
  }

  /**
   * Every parameter with its dotted path, in PyTorch's order (a module's own
   * parameters, then its children's). A parameter reachable twice (tied
   * weights) is listed once, under its first name, as named_parameters().
   */
  *namedParameters(): Generator<[string, Parameter]> {
    const seen = new Set<Parameter>();
    for (const [prefix, m] of this.namedModules()) {
      for (const [n, p] of m.namedMembers()) {
        if (!(p instanceof Parameter) || seen.has(p)) continue;
        seen.add(p);
        yield [prefix ? `${prefix}.${n}` : n, p];
      }
    }
  }

  /** Every parameter, in namedParameters() order. */
  parameters(): Parameter[] {
    return [...this.namedParameters()].map(([, p]) => p);
  }
}

function checkName(name: string): void {
  if (!/^[A-Za-z0-9_]+$/.test(name)) dslError(`'${name}' is not a valid module or parameter name (letters, digits and '_')`);
}
