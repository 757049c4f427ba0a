import type { DType } from '@tessera/ir';
import type { Expr, IndexMap, Indirect } from '../expr.ts';
import { ExprRenderer, type LoadExpr } from './renderer.ts';

/** How generated source names iteration axes and named scalars. */
export interface SourceNames {
  axis(a: number): string;
  ref(name: string): string;
}

/**
 * The renderer of source-text targets (JavaScript, WGSL): an expression is a
 * code string, operands are rendered first, and a shared value becomes a
 * named temporary declared in `stmts`, which must be written before the
 * rendered values. A subclass says how its language declares a temporary
 * and writes leaves, select and cast; its code table holds the ops.
 */
export abstract class StringRenderer<N extends SourceNames = SourceNames> extends ExprRenderer<string, string, string> {
  /** Statements that must precede the rendered values (temporaries, gather checks). */
  readonly stmts: string[] = [];
  private temp = 0;

  constructor(
    protected readonly names: N,
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

  protected axis(a: number): string {
    return this.names.axis(a);
  }

  protected ref(name: string): string {
    return this.names.ref(name);
  }

  /**
   * An element of a buffer: the affine offset, plus for a gather the index
   * (kept in a temporary, checked by `checkIndex`) times its stride.
   */
  protected load(e: LoadExpr): string {
    let offset = this.offset(e.map);
    if (e.indirect) {
      const g = this.fresh();
      this.stmts.push(...this.checkIndex(g, this.render(e.indirect.index), e.indirect));
      offset = `${offset} + ${this.int(e.indirect.stride)} * ${g}`;
    }
    return this.element(e.buffer, offset, e.dtype);
  }

  /** The statement declaring temporary `name` of `dtype` as `code`. */
  protected abstract declare(name: string, dtype: DType, code: string): string;
  /** An i32 literal. */
  protected abstract int(v: number): string;
  /** The code of an affine offset. */
  protected abstract offset(map: IndexMap): string;
  /**
   * Statements that declare gather index temporary `g` as `index` and check
   * it: out of range, the target records the fault (thrown after the run)
   * and sets `g` to 0, so row 0 is read instead.
   */
  protected abstract checkIndex(g: string, index: string, indirect: Indirect): string[];
  /** Element `offset` of buffer `buffer` as a value of `dtype` (bool read as true/false). */
  protected abstract element(buffer: number, offset: string, dtype: DType): string;
}

/** Code rules the source-text targets share (the ops both languages write alike). */
export const sourceCode = {
  /** `name(x)`: a builtin or library function of one operand. */
  call:
    (name: string) =>
    (_r: unknown, x: string): string =>
      `${name}(${x})`,
  /** `(a sym b)`: an infix operator or comparison. */
  infix:
    (sym: string) =>
    (_r: unknown, a: string, b: string): string =>
      `(${a} ${sym} ${b})`,
  /** `name(x)`: a helper function, recorded as used. */
  helper:
    (name: string) =>
    (r: Helpers, x: string): string => {
      r.use(name);
      return `${name}(${x})`;
    },
  /** `name(a, b)`: a helper function of two operands, recorded as used. */
  helper2:
    (name: string) =>
    (r: Helpers, a: string, b: string): string => {
      r.use(name);
      return `${name}(${a}, ${b})`;
    },
};

/** What a helper rule needs of its renderer. */
interface Helpers {
  readonly use: (helper: string) => void;
}
