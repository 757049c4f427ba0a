import type { CompareOp } from '@tessera/ir';
import { type BufferDecl, E, type Expr } from '@tessera/kernel';

/** An attention mask as the kernel takes it: a keep predicate (conjuncts), an additive bias, and a causal bound. */
export interface FoldedMask {
  readonly keep: readonly Expr[];
  readonly bias: readonly Expr[];
  /** Key j is visible only when j <= i + causalOffset. */
  readonly causalOffset?: number;
}

const isConst = (e: Expr, v: number): boolean => e.k === 'const' && (Object.is(e.value, v) || e.value === v);

/** Splits `a and b` (written select(a, b, false)) into its conjuncts. */
export function conjuncts(e: Expr): Expr[] {
  if (e.k === 'select' && e.dtype === 'bool' && isConst(e.b, 0)) return [...conjuncts(e.cond), ...conjuncts(e.a)];
  return [e];
}

/** Splits a sum of f32 terms. */
function terms(e: Expr): Expr[] {
  return e.k === 'binary' && e.op === 'add' ? [...terms(e.a), ...terms(e.b)] : [e];
}

/** Logical not of a bool expression. */
function not(e: Expr): Expr {
  if (e.k === 'compare' && e.op === 'eq' && e.b.k === 'const' && e.b.dtype === 'bool' && e.b.value === 0) return e.a;
  return E.compare('eq', e, E.const('bool', 0));
}

/** A linear form c0 + ci*i + cj*j of an i32 expression over the query and key axes, or undefined. */
function linear(e: Expr, iAxis: number, jAxis: number): { c0: number; ci: number; cj: number } | undefined {
  switch (e.k) {
    case 'const':
      return e.dtype === 'i32' ? { c0: e.value, ci: 0, cj: 0 } : undefined;
    case 'axis':
      return e.axis === iAxis ? { c0: 0, ci: 1, cj: 0 } : e.axis === jAxis ? { c0: 0, ci: 0, cj: 1 } : undefined;
    case 'cast':
      return e.x.dtype === 'i32' && e.dtype === 'i32' ? linear(e.x, iAxis, jAxis) : undefined;
    case 'binary': {
      const a = linear(e.a, iAxis, jAxis);
      const b = linear(e.b, iAxis, jAxis);
      if (!a || !b || e.dtype !== 'i32') return undefined;
      if (e.op === 'add') return { c0: a.c0 + b.c0, ci: a.ci + b.ci, cj: a.cj + b.cj };
      if (e.op === 'sub') return { c0: a.c0 - b.c0, ci: a.ci - b.ci, cj: a.cj - b.cj };
      if (e.op === 'mul' && a.ci === 0 && a.cj === 0) return { c0: a.c0 * b.c0, ci: a.c0 * b.ci, cj: a.c0 * b.cj };
      if (e.op === 'mul' && b.ci === 0 && b.cj === 0) return { c0: a.c0 * b.c0, ci: b.c0 * a.ci, cj: b.c0 * a.cj };
      return undefined;
    }
    default:
      return undefined;
  }
}

const NEGATED: Partial<Record<CompareOp, CompareOp>> = { lt: 'ge', le: 'gt', gt: 'le', ge: 'lt' };

/** If `e` says j <= i + k (in any of its spellings, negations included), k; otherwise undefined. */
export function causalBound(e: Expr, iAxis: number, jAxis: number): number | undefined {
  // not(j > i) is written eq(gt(j, i), false).
  if (e.k === 'compare' && e.op === 'eq' && e.a.k === 'compare' && NEGATED[e.a.op] && isConst(e.b, 0) && e.b.dtype === 'bool') {
    return causalBound({ ...e.a, op: NEGATED[e.a.op]! }, iAxis, jAxis);
  }
  if (e.k !== 'compare' || !['le', 'lt', 'ge', 'gt'].includes(e.op)) return undefined;
  const a = linear(e.a, iAxis, jAxis);
  const b = linear(e.b, iAxis, jAxis);
  if (!a || !b) return undefined;
  // Normalise to d <= 0 or d < 0 with d = lhs - rhs.
  const flip = e.op === 'ge' || e.op === 'gt';
  const d = flip ? { c0: b.c0 - a.c0, ci: b.ci - a.ci, cj: b.cj - a.cj } : { c0: a.c0 - b.c0, ci: a.ci - b.ci, cj: a.cj - b.cj };
  const strict = e.op === 'lt' || e.op === 'gt';
  // j - i + c0 <= 0  <=>  j <= i - c0.
  if (d.cj !== 1 || d.ci !== -1) return undefined;
  return 0 - d.c0 - (strict ? 1 : 0);
}

/** If a load reads a constant buffer over (i, j) holding exactly the pattern j <= i + k (as `yes`/`no` values), k. */
function triangularConstant(e: Expr, buffers: readonly BufferDecl[], iAxis: number, jAxis: number, tq: number, tk: number, yes: number, no: number): number | undefined {
  if (e.k !== 'load' || e.indirect) return undefined;
  const decl = buffers[e.buffer]!;
  if (decl.role !== 'const' || !decl.data) return undefined;
  if (e.map.strides.some((s, a) => s !== 0 && a !== iAxis && a !== jAxis)) return undefined;
  const at = (i: number, j: number) => {
    const o = e.map.offset + e.map.strides[iAxis]! * i + e.map.strides[jAxis]! * j;
    return decl.data!.length === 1 ? decl.data![0]! : decl.data![o]!;
  };
  // The bound is fixed by row 0: the number of leading visible keys.
  let k = -1;
  while (k + 1 < tk && at(0, k + 1) === yes) k++;
  for (let i = 0; i < tq; i++) for (let j = 0; j < tk; j++) if (at(i, j) !== (j <= i + k ? yes : no)) return undefined;
  return k;
}

/**
 * Folds an attention mask expression (over kernel axes, query axis i and key
 * axis j) into index predicates: additive masks of 0 and -inf become keep
 * predicates, all-zero terms vanish, and every conjunct of the form
 * j <= i + k (iota comparisons, triangular constants) becomes the causal loop
 * bound. What is left stays a keep predicate or an additive bias.
 */
export function foldMask(mask: Expr, buffers: readonly BufferDecl[], iAxis: number, jAxis: number, tq: number, tk: number): FoldedMask {
  const keep: Expr[] = [];
  const bias: Expr[] = [];
  if (mask.dtype === 'bool') keep.push(...conjuncts(mask));
  else {
    for (const t of terms(mask)) {
      if (isConst(t, 0)) continue;
      if (t.k === 'select' && isConst(t.a, 0) && isConst(t.b, -Infinity)) keep.push(...conjuncts(t.cond));
      else if (t.k === 'select' && isConst(t.a, -Infinity) && isConst(t.b, 0)) keep.push(not(t.cond));
      else {
        const k = triangularConstant(t, buffers, iAxis, jAxis, tq, tk, 0, -Infinity);
        if (k !== undefined) keep.push(E.compare('le', E.axis(jAxis), E.binary('add', E.axis(iAxis), E.const('i32', k))));
        else bias.push(t);
      }
    }
  }
  let causalOffset: number | undefined;
  const rest: Expr[] = [];
  for (const c of keep) {
    if (isConst(c, 1)) continue;
    const k = causalBound(c, iAxis, jAxis) ?? triangularConstant(c, buffers, iAxis, jAxis, tq, tk, 1, 0);
    if (k !== undefined) causalOffset = causalOffset === undefined ? k : Math.min(causalOffset, k);
    else rest.push(c);
  }
  return { keep: rest, bias, ...(causalOffset !== undefined ? { causalOffset } : {}) };
}

/** Joins conjuncts back into one predicate (select(a, b, false)). */
export function andAll(es: readonly Expr[]): Expr | undefined {
  return es.reduce<Expr | undefined>((acc, e) => (acc ? E.select(acc, e, E.const('bool', 0)) : e), undefined);
}

/** Joins bias terms into one sum. */
export function sumAll(es: readonly Expr[]): Expr | undefined {
  return es.reduce<Expr | undefined>((acc, e) => (acc ? E.binary('add', acc, e) : e), undefined);
}
