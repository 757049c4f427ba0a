import { type SourceLoc, type Value, ProgramBuilder, TesseraError } from '@tessera/ir';
import { userCallSite } from './call-site.ts';
import type { Parameter } from './parameter.ts';
import type { AttentionProbes } from './probes.ts';

/**
 * The state of one trace() call: the program being built and the mapping
 * from parameters (known by their path in the model) to program inputs,
 * which are declared the first time forward uses them.
 */
export class Tracer {
  readonly builder: ProgramBuilder;
  private readonly paramValues = new Map<Parameter, Value>();
  /** The user's source position of the latest op traced: where an error found after forward returns is nearest to. */
  lastCallSite: SourceLoc | undefined;
  /** The attention probabilities this trace adds as outputs (trace's `attentions`), if any. */
  probes: AttentionProbes | undefined;

  constructor(
    name: string,
    private readonly paramNames: ReadonlyMap<Parameter, string>,
  ) {
    this.builder = new ProgramBuilder(name);
  }

  /** The program input for a parameter, declared on first use under its path in the model. */
  paramValue(p: Parameter, loc: SourceLoc | undefined): Value {
    const known = this.paramValues.get(p);
    if (known) return known;
    const name = this.paramNames.get(p);
    if (name === undefined) {
      const made = p.createdAt ? ` (created at ${p.createdAt.file}:${p.createdAt.line}:${p.createdAt.col})` : '';
      throw new TesseraError(
        `a parameter of type ${p.dtype}[${p.shape.join(',')}]${made} is used but is not registered in the traced model; ` +
          'expected it in a property of the model or of one of its modules (lists of modules belong in nn.ModuleList)',
        loc,
      );
    }
    const v = this.builder.param(name, p.type, p.createdAt);
    this.paramValues.set(p, v);
    return v;
  }

  /** Names of the parameters forward used, in the order they were first used. */
  usedParameterNames(): Set<string> {
    return new Set([...this.paramValues.values()].map((v) => v.name));
  }
}

const active: Tracer[] = [];

/** Runs `fn` with `t` as the active trace (traces nest: the innermost is active). */
export function withTracer<T>(t: Tracer, fn: () => T): T {
  active.push(t);
  try {
    return fn();
  } finally {
    active.pop();
  }
}

/** The active trace, or a located error saying that tensor ops only work while tracing. */
export function currentTracer(op: string, loc: SourceLoc | undefined): Tracer {
  const t = active[active.length - 1];
  if (!t) throw new TesseraError(`${op}: tensor operations only work while tracing (inside forward, called by trace())`, loc);
  return t;
}

/** A short description of a value that is not an operand, for messages. */
export function describe(v: unknown): string {
  if (v === null || v === undefined) return String(v);
  if (typeof v === 'function') return `a function (${v.name || 'anonymous'})`;
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'object') return `an object (${(v as object).constructor?.name ?? 'Object'})`;
  return `${typeof v} ${String(v)}`;
}

/** Throws a TesseraError located at the user's call site: for DSL misuse found before any node is built. */
export function dslError(message: string): never {
  throw new TesseraError(message, userCallSite());
}
