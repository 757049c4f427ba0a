/**
 * The pattern step: the decomposed forms exporters write for GELU and
 * attention become the IR's `gelu` and `attention` ops, so an imported
 * model fuses into the same kernels as the DSL's models (the attention
 * kernel, matmul epilogues with gelu). Kept apart from the converters:
 * each converter maps one ONNX node; this step looks across nodes of the
 * finished program. Every rewrite computes the same function; a value a
 * rewritten pattern leaves unused is pruned.
 *
 *   gelu       x * 0.5 * (1 + erf(x / sqrt 2))   (x * (1/sqrt 2) too; the factors in any order), and the
 *              tanh form x * 0.5 * (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))) (GPT-2's gelu_new)
 *   layer_norm (x - mean) / sqrt(mean((x - mean)^2) + eps) * w + b over the last axis (TorchScript before opset 17)
 *   attention  softmax(q k^T * c [+ mask]) v      (q and k may carry the scale each; / c too;
 *                                                  an f32 mask is added, as the IR's attention takes it)
 *              with q, k, v re-read from their sources as reshape -> slice -> transpose (the DSL's heads
 *              split), batch axes merged through another layout ([B*H, T, D] of nn.MultiheadAttention's
 *              [T, B, E] export) split back: the views the attention kernel reads in place
 *   linear     transpose(reshape(x W [+ b])) with the last axis kept -> (transpose(reshape(x))) W [+ b]:
 *              the rows permuted before the product, so what follows (a residual add) fuses into it;
 *              transpose(x) W [+ b] -> transpose(x W [+ b]): the product over x's own rows
 */
import { type Node, type Program, ProgramBuilder, type Value, numel, valueTypes } from '@tessera/ir';
import { prune } from './prune.ts';
import { type StridedView, type SubAxis, stridedView, viewPlan } from './views.ts';

/** The program's definitions and how often each value is read. */
interface Graph {
  readonly defs: ReadonlyMap<string, Node>;
  readonly uses: ReadonlyMap<string, number>;
}

/** A splat constant's value, or undefined. */
function splat(g: Graph, name: string): number | undefined {
  const d = g.defs.get(name);
  if (d?.op !== 'constant') return undefined;
  const v = d.attrs.value as readonly number[];
  return v.every((x) => x === v[0]) ? v[0] : undefined;
}

const near = (a: number | undefined, b: number): boolean => a !== undefined && Math.abs(a - b) <= 1e-6 * Math.abs(b);

/** The node defining `name` when it is read only once (an interior value a pattern may absorb). */
function single(g: Graph, name: string, op?: string): Node | undefined {
  const d = g.defs.get(name);
  return d && (g.uses.get(name) ?? 0) === 1 && (op === undefined || d.op === op) ? d : undefined;
}

/** The leaves of a tree of single-use muls rooted at `name` (the root itself may have any use count). */
function mulLeaves(g: Graph, name: string, root = true): string[] {
  const d = root ? g.defs.get(name) : single(g, name);
  if (d?.op !== 'mul') return [name];
  return d.operands.flatMap((o) => mulLeaves(g, o, false));
}

/** Whether `name` is x^3 (pow(x, 3) or x * x * x). */
function isCube(g: Graph, name: string, x: string): boolean {
  const d = single(g, name);
  if (d?.op === 'pow') return d.operands[0] === x && near(splat(g, d.operands[1]!), 3);
  const leaves = d?.op === 'mul' ? mulLeaves(g, name) : [];
  return leaves.length === 3 && leaves.every((l) => l === x);
}

/** Whether `name` is the argument of GELU's inner function of x: x / sqrt2 (erf), or sqrt(2/pi) (x + 0.044715 x^3) (tanh). */
function geluArgument(g: Graph, name: string, x: string, fn: 'erf' | 'tanh'): boolean {
  const scaled = single(g, name);
  if (!scaled) return false;
  const other = (d: Node, v: string) => d.operands[d.operands[0] === v ? 1 : 0]!;
  if (fn === 'erf') {
    if (!scaled.operands.includes(x)) return false;
    const c = splat(g, other(scaled, x));
    return (scaled.op === 'div' && scaled.operands[0] === x && near(c, Math.SQRT2)) || (scaled.op === 'mul' && near(c, Math.SQRT1_2));
  }
  if (scaled.op !== 'mul') return false;
  const ci = scaled.operands.findIndex((o) => near(splat(g, o), Math.sqrt(2 / Math.PI)));
  const poly = ci < 0 ? undefined : single(g, scaled.operands[1 - ci]!, 'add');
  if (!poly || !poly.operands.includes(x)) return false;
  const cubic = single(g, other(poly, x), 'mul');
  const k = cubic?.operands.findIndex((o) => near(splat(g, o), 0.044715)) ?? -1;
  return k >= 0 && isCube(g, cubic!.operands[1 - k]!, x);
}

/** gelu(x) for x * e * 0.5 with e = 1 + erf(x / sqrt2) or 1 + tanh(...): the node's mul tree holds exactly x, e and 0.5. */
function matchGelu(g: Graph, n: Node): { x: string; approximate: 'none' | 'tanh' } | undefined {
  if (n.op !== 'mul') return undefined;
  const leaves = mulLeaves(g, n.name);
  if (leaves.length !== 3) return undefined;
  const half = leaves.findIndex((l) => near(splat(g, l), 0.5));
  if (half < 0) return undefined;
  const [a, b] = leaves.filter((_, i) => i !== half) as [string, string];
  for (const [x, e] of [[a, b], [b, a]] as const) {
    const add = single(g, e, 'add');
    if (!add) continue;
    const one = add.operands.findIndex((o) => near(splat(g, o), 1));
    if (one < 0) continue;
    const inner = single(g, add.operands[1 - one]!);
    if ((inner?.op === 'erf' || inner?.op === 'tanh') && geluArgument(g, inner.operands[0]!, x, inner.op)) return { x, approximate: inner.op === 'erf' ? 'none' : 'tanh' };
  }
  return undefined;
}

/**
 * layer_norm(x, w, b) for the decomposition TorchScript exports before
 * opset 17: (x - mean(x)) / sqrt(mean((x - mean(x))^2) + eps) * w + b over
 * the last axis, w and b rows.
 */
function matchLayerNorm(g: Graph, types: Types, n: Node): { x: string; w: string; b: string; eps: number } | undefined {
  if (n.op !== 'add') return undefined;
  const lastAxisMean = (name: string, of: string) => {
    const d = g.defs.get(name);
    const r = types.get(of)!.shape.length;
    return d?.op === 'reduce_mean' && d.operands[0] === of && d.attrs.keepdims === true && (d.attrs.axes as number[]).join() === String(r - 1);
  };
  for (const i of [0, 1]) {
    const m = single(g, n.operands[i]!, 'mul');
    const b = n.operands[1 - i]!;
    if (!m || types.get(b)!.shape.length !== 1) continue;
    for (const j of [0, 1]) {
      const div = single(g, m.operands[j]!, 'div');
      const w = m.operands[1 - j]!;
      if (!div || types.get(w)!.shape.length !== 1) continue;
      const centred = g.defs.get(div.operands[0]!);
      if (centred?.op !== 'sub' || !lastAxisMean(centred.operands[1]!, centred.operands[0]!)) continue;
      const x = centred.operands[0]!;
      const sqrt = single(g, div.operands[1]!, 'sqrt');
      const plus = sqrt && single(g, sqrt.operands[0]!, 'add');
      if (!plus) continue;
      const k = plus.operands.findIndex((o) => splat(g, o) !== undefined);
      if (k < 0) continue;
      const variance = single(g, plus.operands[1 - k]!);
      const sq = variance?.op === 'reduce_mean' && lastAxisMean(variance.name, variance.operands[0]!) ? single(g, variance.operands[0]!) : undefined;
      const squares = sq && ((sq.op === 'pow' && sq.operands[0] === centred.name && near(splat(g, sq.operands[1]!), 2)) || (sq.op === 'mul' && sq.operands.every((o) => o === centred.name)));
      if (squares) return { x, w, b, eps: splat(g, plus.operands[k]!)! };
    }
  }
  return undefined;
}

/** A value times a splat constant (mul, or div by one): the value and the factor; or the value itself, factor 1. */
function scaledBy(g: Graph, name: string): { v: string; c: number } {
  const d = single(g, name);
  if (d?.op === 'mul') {
    for (const i of [0, 1]) {
      const c = splat(g, d.operands[i]!);
      if (c !== undefined) return { v: d.operands[1 - i]!, c };
    }
  }
  if (d?.op === 'div') {
    const c = splat(g, d.operands[1]!);
    if (c !== undefined) return { v: d.operands[0]!, c: 1 / c };
  }
  return { v: name, c: 1 };
}

/** What attention needs: q, k (as [.., Tk, D]), v, the scale, an additive mask; k is `kt` transposed back when it is not a transpose. */
interface AttentionMatch {
  readonly q: string;
  readonly k: string;
  readonly kIsTransposed: boolean;
  readonly v: string;
  readonly scale: number;
  readonly mask?: string;
}

/** Whether a transpose swaps exactly the last two axes. */
function swapsLastTwo(perm: readonly number[]): boolean {
  const r = perm.length;
  return r >= 2 && perm.every((p, i) => (i < r - 2 ? p === i : i === r - 2 ? p === r - 1 : p === r - 2));
}

/** matmul(softmax(scores, last axis), v) with scores = (q * c1) (k^T * c2) * c3 [+ mask]. */
function matchAttention(g: Graph, types: ReadonlyMap<string, { shape: readonly number[]; dtype: string }>, n: Node): AttentionMatch | undefined {
  if (n.op !== 'matmul') return undefined;
  const sm = single(g, n.operands[0]!, 'softmax');
  if (!sm) return undefined;
  const rank = types.get(sm.name)!.shape.length;
  if (sm.attrs.axis !== rank - 1) return undefined;
  let scores = sm.operands[0]!;
  let mask: string | undefined;
  const add = single(g, scores, 'add');
  if (add) {
    // The side that is a (scaled) matmul is the scores; the other is the mask.
    const isScores = (s: string) => single(g, scaledBy(g, s).v, 'matmul') !== undefined;
    const i = isScores(add.operands[0]!) ? 0 : isScores(add.operands[1]!) ? 1 : -1;
    if (i < 0) return undefined;
    scores = add.operands[i]!;
    mask = add.operands[1 - i]!;
    if (types.get(mask)!.dtype !== 'f32') return undefined;
  }
  const outer = scaledBy(g, scores);
  const mm = single(g, outer.v, 'matmul');
  if (!mm) return undefined;
  const qs = scaledBy(g, mm.operands[0]!);
  let kts = scaledBy(g, mm.operands[1]!);
  let k: string;
  let kIsTransposed = false;
  const tr = single(g, kts.v, 'transpose');
  if (tr && swapsLastTwo(tr.attrs.perm as number[])) {
    const inner = scaledBy(g, tr.operands[0]!);
    k = inner.v;
    kts = { v: kts.v, c: kts.c * inner.c };
  } else {
    k = kts.v;
    kIsTransposed = true;
  }
  const [tq, tk] = [types.get(qs.v)!.shape, types.get(k)!.shape];
  if (tq.length < 2 || tk.length < 2) return undefined;
  return { q: qs.v, k, kIsTransposed, v: n.operands[1]!, scale: qs.c * kts.c * outer.c, ...(mask !== undefined ? { mask } : {}) };
}

type Types = ReadonlyMap<string, { shape: readonly number[]; dtype: string }>;

/**
 * q, k and v as strided views of their sources, batch axes split into their
 * sub-axes, when the three agree on the batch sub-axes and their rows and
 * columns are one sub-axis each; undefined when every operand is already
 * its own source (nothing to re-read).
 */
function canonicalOperands(g: Graph, types: Types, names: readonly string[], kIsTransposed: boolean): { view: StridedView; subs: SubAxis[] }[] | undefined {
  const views = names.map((n, i) => {
    const v = types.get(n)!.shape.length >= 3 ? stridedView(g.defs, types, n) : undefined;
    // k given as k^T: its view with the last two axes swapped.
    return v && i === 1 && kIsTransposed ? { ...v, axes: [...v.axes.slice(0, -2), v.axes.at(-1)!, v.axes.at(-2)!] } : v;
  });
  if (views.some((v) => !v) || views.every((v, i) => v!.source === names[i])) return undefined;
  const batch = views.map((v) => v!.axes.slice(0, -2).flat().map((s) => s.extent).join(','));
  if (batch.some((b) => b !== batch[0])) return undefined;
  if (views.some((v) => v!.axes.at(-1)!.length !== 1 || v!.axes.at(-2)!.length !== 1)) return undefined;
  return views.map((v) => ({ view: v!, subs: v!.axes.flat() }));
}

/** Emits the reads of a strided view as reshape -> slice -> (reshape) -> transpose of its source, or undefined. */
function emitView(b: ProgramBuilder, source: Value, subs: readonly SubAxis[], offset: number): Value | undefined {
  const plan = viewPlan(subs, offset, numel(source.type.shape));
  if (!plan) return undefined;
  let v = b.emit('reshape', [source], { shape: plan.dims });
  if (plan.start.some((x, i) => x !== 0 || plan.extent[i] !== plan.dims[i])) {
    v = b.emit('slice', [v], { start: plan.start, stop: plan.start.map((x, i) => x + plan.extent[i]!), step: plan.dims.map(() => 1) });
  }
  if (plan.dims.length > subs.length) v = b.emit('reshape', [v], { shape: plan.extent.slice(0, subs.length) });
  return plan.perm.every((p, i) => p === i) ? v : b.emit('transpose', [v], { perm: plan.perm });
}

/** transpose(reshape(add?(matmul(x, W), b))) with W 2-D, the last axis kept and b a row: x's rows moved first. */
function matchLinearTranspose(g: Graph, types: Types, n: Node): { x: string; w: string; bias?: string; shape: number[]; perm: number[] } | undefined {
  if (n.op !== 'transpose') return undefined;
  const perm = n.attrs.perm as number[];
  if (perm.at(-1) !== perm.length - 1) return undefined;
  const rs = single(g, n.operands[0]!, 'reshape');
  if (!rs) return undefined;
  let y = rs.operands[0]!;
  let bias: string | undefined;
  const add = single(g, y, 'add');
  if (add) {
    const i = add.operands.findIndex((o) => single(g, o, 'matmul') !== undefined);
    if (i < 0) return undefined;
    bias = add.operands[1 - i]!;
    if (types.get(bias)!.shape.length !== 1) return undefined;
    y = add.operands[i]!;
  }
  const mm = single(g, y, 'matmul');
  if (!mm || types.get(mm.operands[1]!)!.shape.length !== 2) return undefined;
  const shape = rs.attrs.shape as number[];
  const xShape = types.get(mm.operands[0]!)!.shape;
  if (shape.at(-1) !== types.get(mm.name)!.shape.at(-1)) return undefined;
  return { x: mm.operands[0]!, w: mm.operands[1]!, ...(bias !== undefined ? { bias } : {}), shape: [...shape.slice(0, -1), xShape.at(-1)!], perm };
}

/**
 * Attention over q, k, v re-read as canonical views of their sources (see
 * canonicalOperands); binds the result, reshaped to the matched node's
 * shape, in `bound` and returns true; else false and nothing emitted.
 */
function unmergedAttention(
  b: ProgramBuilder,
  g: Graph,
  types: Types,
  att: AttentionMatch,
  n: Node,
  at: (name: string) => Value,
  opts: { name: string },
): boolean {
  const ops = canonicalOperands(g, types, [att.q, att.k, att.v], att.kIsTransposed);
  if (!ops) return false;
  const plans = ops.map((o) => viewPlan(o.subs, o.view.offset, numel(types.get(o.view.source)!.shape)));
  if (plans.some((pl) => !pl)) return false;
  const [q, k, v] = ops.map((o) => emitView(b, at(o.view.source), o.subs, o.view.offset)!) as [Value, Value, Value];
  const operands = [q, k, v, ...(att.mask !== undefined ? [at(att.mask)] : [])];
  const y = b.emit('attention', operands, { scale: att.scale });
  bound.set(n.name, b.emit('reshape', [y], { shape: [...types.get(n.name)!.shape] }, opts));
  return true;
}

/** Values bound by unmergedAttention (read back by recognisePatterns). */
const bound = new Map<string, Value>();

/**
 * [add(b)](matmul(transpose(x, p), W)) with W 2-D and p keeping the last
 * axis: the product of x's rows, transposed after. A leading transpose
 * otherwise leaves the matmul a batch of row vectors each reading all of W
 * (nn.MultiheadAttention's [T, B, E] in-projection at batch 1).
 */
function matchTransposedInput(g: Graph, types: Types, n: Node): { x: string; w: string; bias?: string; perm: number[] } | undefined {
  let mm: Node | undefined = n.op === 'matmul' ? n : undefined;
  let bias: string | undefined;
  if (n.op === 'add') {
    const i = n.operands.findIndex((o) => single(g, o, 'matmul') !== undefined);
    if (i < 0) return undefined;
    bias = n.operands[1 - i]!;
    if (types.get(bias)!.shape.length !== 1) return undefined;
    mm = single(g, n.operands[i]!, 'matmul');
  }
  if (!mm || types.get(mm.operands[1]!)!.shape.length !== 2) return undefined;
  const tr = single(g, mm.operands[0]!, 'transpose');
  const perm = tr?.attrs.perm as number[] | undefined;
  if (!tr || !perm || perm.at(-1) !== perm.length - 1) return undefined;
  return { x: tr.operands[0]!, w: mm.operands[1]!, ...(bias !== undefined ? { bias } : {}), perm };
}

/** Rewrites the program's GELU, layer norm and attention patterns into `gelu`, `layer_norm` and `attention` ops, and moves transposes around linears. */
export function recognisePatterns(p: Program): Program {
  const defs = new Map(p.nodes.map((n) => [n.name, n]));
  const uses = new Map<string, number>();
  for (const n of p.nodes) for (const o of n.operands) uses.set(o, (uses.get(o) ?? 0) + 1);
  for (const o of p.outputs) uses.set(o.value, (uses.get(o.value) ?? 0) + 1);
  const g: Graph = { defs, uses };
  const types = valueTypes(p);
  const b = new ProgramBuilder(p.name);
  b.reserve(p.nodes.map((n) => n.name));
  const env = new Map<string, Value>();
  for (const i of p.inputs) env.set(i.name, b.declare(i.name, i.type, i.kind, i.loc));
  const at = (name: string) => env.get(name)!;
  let changed = false;
  for (const n of p.nodes) {
    const opts = { name: n.name, ...(n.loc ? { loc: n.loc } : {}) };
    const ln = matchLayerNorm(g, types, n);
    if (ln) {
      env.set(n.name, b.emit('layer_norm', [at(ln.x), at(ln.w), at(ln.b)], { eps: ln.eps }, opts));
      changed = true;
      continue;
    }
    const gelu = matchGelu(g, n);
    const att = gelu === undefined ? matchAttention(g, types, n) : undefined;
    const lin = gelu === undefined && !att ? matchLinearTranspose(g, types, n) : undefined;
    const rows = gelu === undefined && !att && !lin ? matchTransposedInput(g, types, n) : undefined;
    let v: Value;
    if (gelu !== undefined) v = b.emit('gelu', [at(gelu.x)], { approximate: gelu.approximate }, opts);
    else if (rows) {
      const y = b.emit('matmul', [at(rows.x), at(rows.w)]);
      v = b.emit('transpose', [rows.bias !== undefined ? b.emit('add', [y, at(rows.bias)]) : y], { perm: rows.perm }, opts);
    }
    else if (lin) {
      const x = b.emit('transpose', [b.emit('reshape', [at(lin.x)], { shape: lin.shape })], { perm: lin.perm });
      const y = b.emit('matmul', [x, at(lin.w)]);
      v = lin.bias !== undefined ? b.emit('add', [y, at(lin.bias)], {}, opts) : y;
    } else if (att && (att.mask === undefined || types.get(att.mask)!.shape.length <= 2) && unmergedAttention(b, g, types, att, n, at, opts)) {
      v = bound.get(n.name)!;
      bound.delete(n.name);
    } else if (att) {
      let k = at(att.k);
      if (att.kIsTransposed) {
        const r = k.type.shape.length;
        k = b.emit('transpose', [k], { perm: [...Array(r - 2).keys(), r - 1, r - 2] });
      }
      const operands = [at(att.q), k, at(att.v), ...(att.mask !== undefined ? [at(att.mask)] : [])];
      v = b.emit('attention', operands, { scale: att.scale }, opts);
    } else {
      env.set(n.name, b.emit(n.op, n.operands.map(at), n.attrs, opts));
      continue;
    }
    changed = true;
    env.set(n.name, v);
  }
  if (!changed) return p;
  for (const o of p.outputs) b.output(o.name, at(o.value), o.loc);
  return prune(b.build());
}
