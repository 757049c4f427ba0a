import type { BinaryOp, CompareOp, DType, DecomposableOp, UnaryOp } from '@tessera/ir';
import { type Expr, exprChildren } from '../expr.ts';
import { ExprIds } from './expr-ids.ts';
import { ConstFolder } from './fold.ts';

/** The expression nodes of each kind, for code rules. */
export type UnaryExpr = Extract<Expr, { k: 'unary' }>;
export type BinaryExpr = Extract<Expr, { k: 'binary' }>;
export type CompareExpr = Extract<Expr, { k: 'compare' }>;
export type LoadExpr = Extract<Expr, { k: 'load' }>;
export type SelectExpr = Extract<Expr, { k: 'select' }>;
export type CastExpr = Extract<Expr, { k: 'cast' }>;

/** The scalar ops of kernel expressions. */
export type ScalarOp = UnaryOp | BinaryOp | CompareOp;

/**
 * A code table's entry for an op the target has no code for: the legaliser
 * (legalize.ts) rewrites the op into its registry decomposition before
 * codegen. Only ops with a decomposition may say so (the type checker holds
 * that).
 */
export const DECOMPOSE = 'decompose';
export type Decompose = typeof DECOMPOSE;

/**
 * Code for one op: given the renderer (R: the target's own, for its helpers
 * and builder), the operands in the target's form (O: code strings, or
 * thunks that push a wasm value) and the node, the target's value (V).
 */
export type UnaryCode<R, O, V> = (r: R, x: O, e: UnaryExpr) => V;
export type BinaryCode<R, O, V> = (r: R, a: O, b: O, e: BinaryExpr) => V;
export type CompareCode<R, O, V> = (r: R, a: O, b: O, e: CompareExpr) => V;

/** An entry of a code table: code, or DECOMPOSE where the op has a decomposition. */
type Entry<P extends string, C> = C | (P extends DecomposableOp ? Decompose : never);

/**
 * A target's code table (tinygrad's code_for_op): one entry per scalar op,
 * exhaustive, so a new op fails `tsc` at every target until each says how
 * it computes it (or that it takes the op's decomposition).
 */
export interface CodeTable<R, O, V> {
  /** The target's name, for messages. */
  readonly target: string;
  readonly unary: { readonly [P in UnaryOp]: Entry<P, UnaryCode<R, O, V>> };
  readonly binary: { readonly [P in BinaryOp]: Entry<P, BinaryCode<R, O, V>> };
  readonly compare: { readonly [P in CompareOp]: Entry<P, CompareCode<R, O, V>> };
}

/** Any target's code table (for what reads only its entries' presence). */
export type AnyCodeTable = CodeTable<never, never, unknown>;

/** Whether a table has code for an op (else the legaliser decomposes it). */
export function hasCode(table: AnyCodeTable, op: ScalarOp): boolean {
  const entry = (table.unary as Record<string, unknown>)[op] ?? (table.binary as Record<string, unknown>)[op] ?? (table.compare as Record<string, unknown>)[op];
  return entry !== undefined && entry !== DECOMPOSE;
}

/**
 * The one expression renderer every target family derives from: dispatch
 * by node kind and through the target's code table, common-subexpression
 * sharing by structure (ExprIds: a sub-expression used twice is computed
 * once, however it was built), and constant folding (ConstFolder). A target
 * supplies its table and how it writes leaves (constants, axes, refs, loads),
 * select and cast, and how a shared value is kept (`share`) and used again
 * (`reuse`). O is an operand as a code rule sees it, V what rendering
 * produces, H what a shared value is kept as (a temporary's name, a local).
 */
export abstract class ExprRenderer<O, V, H> {
  protected readonly ids = new ExprIds();
  protected readonly memo = new Map<number, H>();
  private readonly uses = new Map<number, number>();
  private readonly folder = new ConstFolder();

  protected abstract readonly table: CodeTable<this, O, V>;

  /** Counts the uses of each sub-expression; call for every root before rendering. */
  count(e: Expr): this {
    const id = this.ids.id(e);
    const n = this.uses.get(id) ?? 0;
    this.uses.set(id, n + 1);
    // A node's operands are used once by it, however often it is used: descend on its first use only.
    if (n === 0) for (const c of exprChildren(e)) this.count(c);
    return this;
  }

  /** How many times a sub-expression is used by the counted roots. */
  protected usesOf(e: Expr): number {
    return this.uses.get(this.ids.id(e)) ?? 0;
  }

  /** Renders `e`: a shared value reused, a constant sub-tree folded, otherwise the node's code. */
  render(e: Expr): V {
    const id = this.ids.id(e);
    const kept = this.memo.get(id);
    if (kept !== undefined) return this.reuse(kept, e);
    const folded = this.foldable(e) ? this.folder.value(e) : undefined;
    const v = folded !== undefined ? this.constant(e.dtype, folded) : this.dispatch(e);
    if (folded === undefined && (this.uses.get(id) ?? 0) > 1 && this.shareable(e)) {
      const [value, handle] = this.share(v, e);
      this.memo.set(id, handle);
      return value;
    }
    return v;
  }

  /** Renders `e` once more without sharing (the value of a hoisted sub-expression): folded if constant. */
  protected renderFresh(e: Expr): V {
    const folded = this.foldable(e) ? this.folder.value(e) : undefined;
    return folded !== undefined ? this.constant(e.dtype, folded) : this.dispatch(e);
  }

  /** The node's own code, its operands rendered through `operand`. */
  protected dispatch(e: Expr): V {
    switch (e.k) {
      case 'const':
        return this.constant(e.dtype, e.value);
      case 'axis':
        return this.axis(e.axis);
      case 'ref':
        return this.ref(e.name, e.dtype);
      case 'load':
        return this.load(e);
      case 'unary':
        return this.code(this.table.unary[e.op], e.op)(this, this.operand(e.x), e);
      case 'binary':
        return this.code(this.table.binary[e.op], e.op)(this, this.operand(e.a), this.operand(e.b), e);
      case 'compare':
        return this.code(this.table.compare[e.op], e.op)(this, this.operand(e.a), this.operand(e.b), e);
      case 'select':
        return this.select(e, this.operand(e.cond), this.operand(e.a), this.operand(e.b));
      case 'cast':
        return this.cast(e, this.operand(e.x));
    }
  }

  private code<C>(entry: C | Decompose, op: ScalarOp): C {
    if (entry === DECOMPOSE) throw new Error(`${this.table.target}: no code for op '${op}'; the kernel program was not legalised for this target (legalizeKernelProgram)`);
    return entry;
  }

  /** Operations worth folding (leaves are already as simple as they get). */
  private foldable(e: Expr): boolean {
    return e.k !== 'const' && e.k !== 'axis' && e.k !== 'ref' && e.k !== 'load';
  }

  /** Whether a value used more than once is kept (default: everything but leaves that cost nothing to write again). */
  protected shareable(e: Expr): boolean {
    return e.k !== 'const' && e.k !== 'axis' && e.k !== 'ref';
  }

  /** An operand as code rules take it. */
  protected abstract operand(e: Expr): O;
  /** Keeps a value used again: returns what stands for it now and its handle. */
  protected abstract share(v: V, e: Expr): [V, H];
  /** A kept value, used again. */
  protected abstract reuse(h: H, e: Expr): V;
  protected abstract constant(dtype: DType, value: number): V;
  protected abstract axis(axis: number): V;
  protected abstract ref(name: string, dtype: DType): V;
  protected abstract load(e: LoadExpr): V;
  protected abstract select(e: SelectExpr, cond: O, a: O, b: O): V;
  protected abstract cast(e: CastExpr, x: O): V;
}
