import { type Attrs, type OpName, type Program, ProgramBuilder, type SourceLoc, type Value, getOp, numel, typeCheckOp, typesEqual } from '@tessera/ir';

/**
 * The most elements folding materialises for one value: the constant it
 * makes, and each operand it evaluates (an iota or a splat constant becomes
 * a float64 array first). Anything larger is left to run time: folding it
 * would bloat the program and take compile-time memory without bound (a
 * 30000x30000 iota summed to a scalar took 7 GB).
 */
export const MAX_FOLDED_ELEMENTS = 4096;

/** A node of the program being rebuilt, as the rules see it. */
interface Def {
  readonly op: OpName;
  readonly attrs: Attrs;
  readonly operands: readonly Value[];
}

/** An attribute value as a CSE key: -0 apart from 0 (String(-0) is "0"; a -0 constant is not a 0 one). */
function attrKey(v: unknown): string {
  return Object.is(v, -0) ? '-0' : String(v);
}

/** Rebuilds a program while rules look at what has been emitted so far. */
class Rebuilder {
  readonly b: ProgramBuilder;
  readonly defs = new Map<string, Def>();
  private readonly cse = new Map<string, Value>();

  constructor(name: string) {
    this.b = new ProgramBuilder(name);
  }

  /** Emits a node, or returns an identical one emitted before (CSE). */
  emit(op: OpName, operands: readonly Value[], attrs: Attrs, opts: { name?: string; loc?: SourceLoc } = {}): Value {
    const { attrs: canonical } = typeCheckOp(op, operands.map((o) => o.type), attrs);
    const key = JSON.stringify([op, operands.map((o) => o.name), Object.entries(canonical).map(([k, v]) => [k, Array.isArray(v) ? v.map(attrKey) : attrKey(v)])]);
    const hit = this.cse.get(key);
    if (hit) return hit;
    const v = this.b.emit(op, operands, canonical, opts);
    this.defs.set(v.name, { op, attrs: canonical, operands });
    this.cse.set(key, v);
    return v;
  }

  /** The single value of a constant holding one value everywhere, or undefined. */
  splat(v: Value | undefined): number | undefined {
    const d = v && this.defs.get(v.name);
    if (d?.op !== 'constant') return undefined;
    const values = d.attrs.value as readonly number[];
    return values.every((x) => Object.is(x, values[0])) ? values[0] : undefined;
  }
}

/**
 * Algebraic identities: x*1, 1*x, x+(-0), (-0)+x, x-(+0), x/1 (only when the
 * constant does not broadcast x to a larger shape; x + +0 is not x when x is
 * -0, it is +0), identity transposes, transpose of
 * transpose, reshape of reshape, reshape/broadcast/cast to x's own type, and
 * broadcast of a one-element constant (becomes a splat constant).
 */
function identity(r: Rebuilder, op: string, attrs: Attrs, operands: readonly Value[], result: Value['type']): Value | undefined {
  const [a, b] = operands;
  const keeps = (v: Value | undefined): boolean => v !== undefined && typesEqual(v.type, result);
  switch (op) {
    case 'mul':
      return r.splat(b) === 1 && keeps(a) ? a : r.splat(a) === 1 && keeps(b) ? b : undefined;
    case 'add':
      return Object.is(r.splat(b), -0) && keeps(a) ? a : Object.is(r.splat(a), -0) && keeps(b) ? b : undefined;
    case 'sub':
      return Object.is(r.splat(b), 0) && keeps(a) ? a : undefined;
    case 'div':
      return r.splat(b) === 1 && keeps(a) ? a : undefined;
    case 'cast':
    case 'reshape':
    case 'broadcast_to': {
      if (keeps(a)) return a;
      const inner = r.defs.get(a!.name);
      if (op === 'reshape' && inner?.op === 'reshape') return r.emit('reshape', [inner.operands[0]!], attrs);
      if (op === 'broadcast_to' && numel(a!.type.shape) === 1 && r.splat(a) !== undefined) {
        return r.emit('constant', [], { shape: result.shape, dtype: result.dtype, value: [r.splat(a)!] });
      }
      return undefined;
    }
    case 'transpose': {
      const perm = attrs.perm as readonly number[];
      if (perm.every((p, i) => p === i)) return a;
      const inner = r.defs.get(a!.name);
      if (inner?.op !== 'transpose') return undefined;
      const innerPerm = inner.attrs.perm as readonly number[];
      const composed = perm.map((p) => innerPerm[p]!);
      return composed.every((p, i) => p === i) ? inner.operands[0] : r.emit('transpose', [inner.operands[0]!], { perm: composed });
    }
    default:
      return undefined;
  }
}

/**
 * Folds an op whose operands are all constants or iotas into a constant
 * (when it and its operands are small enough, see MAX_FOLDED_ELEMENTS):
 * positional-encoding tables become data. Only f32
 * results are folded: integer index arithmetic and boolean masks stay
 * symbolic, so mask folding sees their iota comparisons (it also recognises
 * triangular constants).
 */
function fold(r: Rebuilder, op: string, attrs: Attrs, operands: readonly Value[], result: Value['type']): Value | undefined {
  if (operands.length === 0 || result.dtype !== 'f32' || numel(result.shape) > MAX_FOLDED_ELEMENTS) return undefined;
  if (operands.some((o) => numel(o.type.shape) > MAX_FOLDED_ELEMENTS)) return undefined;
  const defs = operands.map((o) => r.defs.get(o.name));
  if (!defs.every((d) => d?.op === 'constant' || d?.op === 'iota')) return undefined;
  const refs = defs.map((d, i) => {
    const type = operands[i]!.type;
    if (d!.op === 'iota') return getOp('iota').evaluate([], d!.attrs, type);
    const v = d!.attrs.value as readonly number[];
    return { type, data: Float64Array.from({ length: numel(type.shape) }, (_, j) => (v.length === 1 ? v[0]! : v[j]!)) };
  });
  let data: Float64Array;
  try {
    data = getOp(op).evaluate(refs, attrs, result).data;
  } catch {
    return undefined; // e.g. a gather index out of range: left for run time to report
  }
  const values = Array.from(data, (x) => (result.dtype === 'f32' ? Math.fround(x) : x));
  const splat = values.every((x) => Object.is(x, values[0]));
  return r.emit('constant', [], { shape: result.shape, dtype: result.dtype, value: splat ? [values[0]!] : values });
}

/** Removes nodes that no output depends on. */
export function deadCodeElimination(p: Program): Program {
  const live = new Set(p.outputs.map((o) => o.value));
  for (const n of [...p.nodes].reverse()) if (live.has(n.name)) for (const o of n.operands) live.add(o);
  if (p.nodes.every((n) => live.has(n.name))) return p;
  return { ...p, nodes: p.nodes.filter((n) => live.has(n.name)) };
}

/** One sweep: identities, constant folding and CSE while rebuilding, then DCE. */
function sweep(p: Program): Program {
  const r = new Rebuilder(p.name);
  const env = new Map<string, Value>();
  for (const i of p.inputs) env.set(i.name, r.b.declare(i.name, i.type, i.kind, i.loc));
  for (const n of p.nodes) {
    const operands = n.operands.map((o) => env.get(o)!);
    const replaced = identity(r, n.op, n.attrs, operands, n.type) ?? fold(r, n.op, n.attrs, operands, n.type);
    env.set(n.name, replaced ?? r.emit(n.op, operands, n.attrs, { name: n.name, ...(n.loc ? { loc: n.loc } : {}) }));
  }
  for (const o of p.outputs) r.b.output(o.name, env.get(o.value)!, o.loc);
  return deadCodeElimination(r.b.build());
}

/** Canonicalises until nothing changes (at most a few sweeps): folding, identities, CSE, DCE. */
export function canonicalize(p: Program): Program {
  let current = p;
  for (let i = 0; i < 8; i++) {
    const next = sweep(current);
    if (next.nodes.length === current.nodes.length && next.nodes.every((n, j) => n.op === current.nodes[j]!.op && n.name === current.nodes[j]!.name)) return next;
    current = next;
  }
  return current;
}
