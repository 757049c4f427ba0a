/**
 * Attention probes in the fused lowering. The attention kernel stays one
 * fused kernel and also stores its softmax statistics (each query row's
 * max score and sum of exp(score - max)); the probe (attention_probs) of
 * the same q, k, mask and scale becomes one small matmul kernel that
 * recomputes the scores q·k of its rows through the attention's own reads
 * and mask, and writes exp(score - max) / sum. Nothing else in the program
 * changes: the fusion plan ignores paired probes as consumers.
 */
import { type Program, shapesEqual, stridesOf } from '@tessera/ir';
import { E, type Expr, type IndexMap, type MatmulKernel, type Store } from '@tessera/kernel';
import { andAll } from './mask-folding.ts';

/** What an attention kernel shares with its probes: its reads, folded mask and scale, and where it stored the statistics. */
export interface ProbeSource {
  readonly batch: readonly number[];
  readonly tq: number;
  readonly tk: number;
  readonly d: number;
  readonly scale: number;
  readonly readQ: Expr;
  readonly readK: Expr;
  readonly keep?: Expr;
  readonly bias?: Expr;
  readonly causalOffset?: number;
  /** The f32 [...batch, tq, 2] buffer of (max, sum) per query row; absent when the attention kernel had no room to bind it (see lowerProbe). */
  readonly stats?: number;
}

/**
 * Pairs each attention_probs node with the first attention of the same q,
 * k and mask operands, scale and batch shape (what trace's `attentions`
 * emits, right after the attention; scheduleProbes puts it in place), leaving out those `excluded`. Returns probe name ->
 * attention name; a probe left out is expanded into its decomposition.
 */
export function pairProbes(p: Program, excluded: ReadonlySet<string> = new Set()): Map<string, string> {
  const pairs = new Map<string, string>();
  const attentions = p.nodes.filter((n) => n.op === 'attention');
  for (const n of p.nodes) {
    if (n.op !== 'attention_probs' || excluded.has(n.name)) continue;
    const [q, k, mask] = n.operands;
    const partner = attentions.find(
      (a) => a.operands[0] === q && a.operands[1] === k && a.operands[3] === mask && a.attrs.scale === n.attrs.scale && shapesEqual(a.type.shape.slice(0, -1), n.type.shape.slice(0, -1)),
    );
    if (partner) pairs.set(n.name, partner.name);
  }
  return pairs;
}

/** The two index maps (max, sum) of a [...batch, tq, 2] statistics buffer over a kernel's [...batch, i, j, c|p] axes. */
export function statMaps(batch: readonly number[], tq: number): [IndexMap, IndexMap] {
  const strides = [...stridesOf([...batch, tq, 2]).slice(0, -1), 0, 0];
  return [
    { offset: 0, strides },
    { offset: 1, strides },
  ];
}

/** The attention kernel's stores of its row statistics into `stats`. */
export function statStores(batch: readonly number[], tq: number, stats: number): Store[] {
  const [max, sum] = statMaps(batch, tq);
  return [
    { buffer: stats, map: max, value: E.ref('f32', 'max') },
    { buffer: stats, map: sum, value: E.ref('f32', 'sum') },
  ];
}

/**
 * The probability at (batch, i, j) of a matmul kernel whose `acc` is q·k:
 * exp(score - max) / sum, a key the mask or the causal bound hides scoring
 * -inf (exactly 0; NaN in a row with no key left, as the graph's softmax).
 */
export function probabilityExpr(src: ProbeSource & { readonly stats: number }): Expr {
  const [max, sum] = statMaps(src.batch, src.tq).map((map) => E.load('f32', src.stats, map)) as [Expr, Expr];
  return E.binary('div', E.unary('exp', E.binary('sub', maskedScoreExpr(src), max)), sum);
}

/** The score at (batch, i, j) of a matmul kernel whose `acc` is q·k: scaled, the bias added, -inf where the mask or the causal bound hides the key. */
export function maskedScoreExpr(src: ProbeSource): Expr {
  const nb = src.batch.length;
  const f = (v: number) => E.const('f32', v);
  let score = E.binary('mul', E.ref('f32', 'acc'), f(src.scale));
  if (src.bias) score = E.binary('add', score, src.bias);
  const causal = src.causalOffset === undefined ? [] : [E.compare('le', E.axis(nb + 1), E.binary('add', E.axis(nb), E.const('i32', src.causalOffset)))];
  const visible = andAll([...(src.keep ? [src.keep] : []), ...causal]);
  return visible ? E.select(visible, score, f(-Infinity)) : score;
}

/** The probe's kernel: scores through the attention's reads (its [.., i, c] and [.., j, c] axes are a matmul's [.., i, p] and [.., p, j]), then `stores`. */
export function probeKernel(name: string, src: ProbeSource, stores: readonly Store[]): MatmulKernel {
  return { kind: 'matmul', name, batch: src.batch, m: src.tq, n: src.tk, k: src.d, readA: src.readQ, readB: src.readK, stores };
}

/**
 * The program with each paired probe moved to just after the node whose
 * lowering emits its attention's kernel (the attention's sink: the end of
 * the epilogue it absorbs), so the statistics exist when the probe's kernel
 * is built. A probe consumed before that point cannot move: those are
 * returned as `blocked` instead (to be expanded).
 */
export function scheduleProbes(p: Program, pairs: ReadonlyMap<string, string>, sinks: ReadonlyMap<string, string>): { program: Program } | { blocked: Set<string> } {
  const index = new Map(p.nodes.map((n, i) => [n.name, i] as const));
  const blocked = new Set<string>();
  const after = new Map<string, string[]>();
  for (const [probe, attention] of pairs) {
    const sink = sinks.get(attention) ?? attention;
    const [from, to] = [index.get(probe)!, index.get(sink)!];
    if (from > to) continue;
    if (p.nodes.slice(from + 1, to + 1).some((n) => n.operands.includes(probe))) blocked.add(probe);
    else after.set(sink, [...(after.get(sink) ?? []), probe]);
  }
  if (blocked.size) return { blocked };
  if (after.size === 0) return { program: p };
  const moved = new Set([...after.values()].flat());
  const byName = new Map(p.nodes.map((n) => [n.name, n] as const));
  const nodes = p.nodes.flatMap((n) => (moved.has(n.name) ? [] : [n, ...(after.get(n.name) ?? []).map((name) => byName.get(name)!)]));
  return { program: { ...p, nodes } };
}
