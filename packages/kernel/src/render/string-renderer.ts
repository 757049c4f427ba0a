import type { DType } from '@tessera/ir';
import type { Expr } from '../expr.ts';
import { ExprRenderer } from './renderer.ts';

/**
 * The renderer of source-text targets (JavaScript, WGSL): an expression is a
 * code string, operands are rendered first, and a shared value becomes a
 * named temporary declared in `stmts`, which must be written before the
 * rendered values. A subclass says how its language declares a temporary
 * and writes leaves, select and cast; its code table holds the ops.
 */
export abstract class StringRenderer extends ExprRenderer<string, string, string> {
  /** Statements that must precede the rendered values (temporaries, gather checks). */
  readonly stmts: string[] = [];
  private temp = 0;

  constructor(
    /** Records a helper function the code calls (emitted once per kernel or shader). */
    readonly use: (helper: string) => void,
    private readonly prefix = 't',
  ) {
    super();
  }

  /** The code of `e` (count every root first). */
  emit(e: Expr): string {
    return this.render(e);
  }

  /** A fresh temporary name. */
  protected fresh(): string {
    return `${this.prefix}${this.temp++}`;
  }

  protected operand(e: Expr): string {
    return this.render(e);
  }

  protected share(code: string, e: Expr): [string, string] {
    const t = this.fresh();
    this.stmts.push(this.declare(t, e.dtype, code));
    return [t, t];
  }

  protected reuse(name: string): string {
    return name;
  }

  /** The statement declaring temporary `name` of `dtype` as `code`. */
  protected abstract declare(name: string, dtype: DType, code: string): string;
}
