/**
 * Einsum, as the moves and matmuls it stands for: a label repeated within
 * one operand takes the diagonal (a gather over the two axes flattened), a
 * label no other operand and not the output has is summed out, and the
 * operands fold left to right, each pair one batched matmul with its
 * labels sorted into batch (in both, needed later), contracted (in both,
 * not needed later) and free ones. The result is transposed to the
 * output's order. An ellipsis stands for the same broadcast axes in every
 * operand (aligned at the right, as numpy's).
 */
import { formatShape, numel } from '@tessera/ir';
import { type Converter, type NodeContext, attrString, constOf, unsupported } from '../context.ts';
import { type Val, typeOf } from '../values.ts';
import { reshape } from './shape.ts';

/** A value with one label per axis. */
interface Labelled {
  readonly v: Val;
  readonly labels: readonly string[];
}

/** The labels of one term: letters, and for `...` the ellipsis labels it covers (the last `count` of `ellipsis`). */
function termLabels(term: string, rank: number, ellipsis: readonly string[]): string[] {
  const [before, after] = term.includes('...') ? term.split('...') : [term, undefined];
  const letters = [...before!, ...(after ?? '')];
  for (const l of letters) if (!/^[a-zA-Z]$/.test(l)) unsupported(`label '${l}' in the equation (expected letters and ...)`);
  if (after === undefined) {
    if (letters.length !== rank) unsupported(`term '${term}' has ${letters.length} labels for an operand of rank ${rank}`);
    return letters;
  }
  const covered = rank - letters.length;
  if (covered < 0) unsupported(`term '${term}' has more labels than its operand's rank ${rank}`);
  return [...before!, ...ellipsis.slice(ellipsis.length - covered), ...after];
}

/** `x` with the axes of `axes` moved to the end, in that order (nothing emitted when they are there). */
function moveLast(ctx: NodeContext, x: Labelled, axes: readonly number[]): Labelled {
  const rest = x.labels.map((_, a) => a).filter((a) => !axes.includes(a));
  const perm = [...rest, ...axes];
  if (perm.every((p, i) => p === i)) return x;
  return { v: ctx.e.emit('transpose', [x.v], { perm }), labels: perm.map((p) => x.labels[p]!) };
}

/** Takes the diagonal of every label repeated within `x`. */
function diagonals(ctx: NodeContext, x: Labelled): Labelled {
  for (;;) {
    const a = x.labels.findIndex((l, i) => x.labels.indexOf(l) !== i);
    if (a < 0) return x;
    const first = x.labels.indexOf(x.labels[a]!);
    const shape = typeOf(x.v).shape;
    const n = shape[first]!;
    if (shape[a] !== n) unsupported(`label '${x.labels[a]}' has extents ${n} and ${shape[a]} in one operand`);
    const moved = moveLast(ctx, x, [first, a]);
    const lead = typeOf(moved.v).shape.slice(0, -2);
    const flat = reshape(ctx, moved.v, [...lead, n * n]);
    const diag = ctx.e.emit('gather', [flat, constOf('i32', [n], Array.from({ length: n }, (_, i) => i * (n + 1)))], { axis: lead.length });
    x = { v: diag, labels: [...moved.labels.slice(0, -2), x.labels[a]!] };
  }
}

/** Sums out the labels of `x` that `keep` does not have. */
function sumOut(ctx: NodeContext, x: Labelled, keep: ReadonlySet<string>): Labelled {
  const axes = x.labels.map((l, a) => (keep.has(l) ? -1 : a)).filter((a) => a >= 0);
  if (axes.length === 0) return x;
  return { v: ctx.e.emit('reduce_sum', [x.v], { axes, keepdims: false }), labels: x.labels.filter((l) => keep.has(l)) };
}

/** The extent of each label over the operands (an extent of 1 broadcasts). */
function extents(ops: readonly Labelled[]): Map<string, number> {
  const size = new Map<string, number>();
  for (const x of ops) {
    typeOf(x.v).shape.forEach((d, a) => {
      const l = x.labels[a]!;
      const known = size.get(l);
      if (known !== undefined && known !== d && known !== 1 && d !== 1) unsupported(`label '${l}' has extents ${known} and ${d}`);
      if (known === undefined || known === 1) size.set(l, d);
    });
  }
  return size;
}

/** `a` times `b` summed over the labels they share that `later` does not need: one batched matmul. */
function contract(ctx: NodeContext, a: Labelled, b: Labelled, later: ReadonlySet<string>, size: ReadonlyMap<string, number>): Labelled {
  const inB = new Set(b.labels);
  const inA = new Set(a.labels);
  const batch = a.labels.filter((l) => inB.has(l) && later.has(l));
  const summed = a.labels.filter((l) => inB.has(l) && !later.has(l));
  const aFree = a.labels.filter((l) => !inB.has(l));
  const bFree = b.labels.filter((l) => !inA.has(l));
  const extent = (ls: readonly string[]) => ls.map((l) => size.get(l)!);
  // Each operand in [batch, free or summed ...] order, broadcast to the batch's full extents.
  const arrange = (x: Labelled, order: readonly string[], rows: readonly string[], cols: readonly string[]) => {
    const moved = moveLast(ctx, x, order.map((l) => x.labels.indexOf(l)));
    const full = extent(order);
    const v = typeOf(moved.v).shape.some((d, i) => d !== full[i]) ? ctx.e.emit('broadcast_to', [moved.v], { shape: full }) : moved.v;
    return reshape(ctx, v, [numel(extent(batch)), numel(extent(rows)), numel(extent(cols))]);
  };
  const left = arrange(a, [...batch, ...aFree, ...summed], aFree, summed);
  const right = arrange(b, [...batch, ...summed, ...bFree], summed, bFree);
  const product = ctx.e.emit('matmul', [left, right]);
  const labels = [...batch, ...aFree, ...bFree];
  return { v: reshape(ctx, product, extent(labels)), labels };
}

const einsum: Converter = (ctx) => {
  const equation = attrString(ctx, 'equation', '').replace(/\s+/g, '');
  const operands = ctx.inputs.map((v, i) => {
    if (!v) unsupported(`input ${i} is missing`);
    if (typeOf(v).dtype !== 'f32') unsupported(`input ${i} is ${typeOf(v).dtype}; Tessera computes einsum on f32`);
    return v;
  });
  const [lhs, rhs] = equation.includes('->') ? equation.split('->') : [equation, undefined];
  const terms = lhs!.split(',');
  if (terms.length !== operands.length) unsupported(`equation '${equation}' has ${terms.length} terms for ${operands.length} inputs`);
  // The ellipsis stands for as many axes as the operand that has most of them.
  const dots = terms.map((t, i) => (t.includes('...') ? typeOf(operands[i]!).shape.length - t.replace('...', '').length : 0));
  const ellipsis = Array.from({ length: Math.max(0, ...dots) }, (_, i) => `...${i}`);
  const termLists = terms.map((t, i) => termLabels(t, typeOf(operands[i]!).shape.length, ellipsis));
  const ops: Labelled[] = termLists.map((labels, i) => diagonals(ctx, { v: operands[i]!, labels }));
  // Implicit output (numpy's rule): the ellipsis, then the letters that occur once in the equation, in alphabetical order.
  const occurrences = termLists.flat().filter((l) => !l.startsWith('...'));
  const once = [...new Set(occurrences)].filter((l) => occurrences.indexOf(l) === occurrences.lastIndexOf(l)).sort();
  const output = rhs === undefined ? [...(terms.some((t) => t.includes('...')) ? ellipsis : []), ...once] : termLabels(rhs, rhs.replace('...', '').length + (rhs.includes('...') ? ellipsis.length : 0), ellipsis);
  if (new Set(output).size !== output.length) unsupported(`the output '${rhs}' repeats a label`);
  for (const l of output) if (!ops.some((x) => x.labels.includes(l))) unsupported(`output label '${l}' is in no input`);
  const size = extents(ops);
  const needed = (from: number) => new Set([...output, ...ops.slice(from).flatMap((x) => x.labels)]);
  let acc = sumOut(ctx, ops[0]!, needed(1));
  for (let i = 1; i < ops.length; i++) {
    const later = needed(i + 1);
    const b = sumOut(ctx, ops[i]!, new Set([...later, ...acc.labels]));
    acc = sumOut(ctx, acc, new Set([...later, ...b.labels]));
    acc = contract(ctx, acc, b, later, size);
  }
  acc = sumOut(ctx, acc, new Set(output));
  const perm = output.map((l) => acc.labels.indexOf(l));
  const y = perm.every((p, i) => p === i) ? acc.v : ctx.e.emit('transpose', [acc.v], { perm });
  // Ellipsis axes of extent 1 in every operand but broadcast elsewhere end at their full extent.
  const want = output.map((l) => size.get(l)!);
  if (formatShape(typeOf(y).shape) !== formatShape(want)) return ctx.e.emit('broadcast_to', [y], { shape: want });
  return y;
};

/** The converter of Einsum. */
export const EINSUM_CONVERTERS: Readonly<Record<string, Converter>> = { Einsum: einsum };
