import type { DType } from '@tessera/ir';
import { type Expr, ExprRenderer } from '@tessera/kernel';
import type { FunctionBuilder, ValType } from './binary.ts';
import type { Addresser, ProgramFacts } from './scope.ts';

/** An operand as a wasm code rule takes it: pushes the operand's value when called (once). */
export type Push = () => void;

/**
 * The renderer of the WebAssembly targets (scalar and f32x4): code goes to a
 * function builder's stack, operands are thunks a code rule calls where the
 * value must be pushed (each exactly once), and a shared value is kept in a
 * local (`tee` on first use, `get` after). Every operand is evaluated (no
 * short cuts), so a first-use tee always runs.
 */
export abstract class StackRenderer extends ExprRenderer<Push, void, number> {
  constructor(
    readonly f: FunctionBuilder,
    readonly facts: ProgramFacts,
    readonly addr: Addresser,
  ) {
    super();
  }

  /** Pushes the value of `e` (count every root first). */
  emit(e: Expr): void {
    this.render(e);
  }

  /** The wasm type a value of `dtype` has in this renderer. */
  protected abstract valType(dtype: DType): ValType;

  protected operand(e: Expr): Push {
    return () => this.render(e);
  }

  protected share(_v: void, e: Expr): [void, number] {
    const l = this.f.local(this.valType(e.dtype));
    this.f.tee(l);
    return [undefined, l];
  }

  protected reuse(local: number): void {
    this.f.get(local);
  }

  protected axis(a: number): void {
    this.addr.axis(a);
  }
}
