import type { DType } from '@tessera/ir';
import { type CastExpr, type Expr, ExprRenderer, type SelectExpr } from '@tessera/kernel';
import type { FunctionBuilder, ValType } from './binary.ts';
import { OP } from './opcodes.ts';
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

  /** Emits one arithmetic instruction of this renderer's kind (a core opcode, or a SIMD one). */
  abstract instr(code: number): void;
  /** The instruction that picks the first of two values where the third is true (select, or bitselect on lane masks). */
  protected abstract readonly selectCode: number;

  /** Drops the value on the stack for false: a predicate that never holds for its dtype (isnan of an i32). */
  dropForFalse(): void {
    this.f.op(OP.drop);
    this.constant('bool', 0);
  }

  /** Converts the value on the stack between dtypes, by castValue's rules. */
  protected abstract convert(from: DType, to: DType): void;

  protected cast(e: CastExpr, x: Push): void {
    x();
    if (e.x.dtype !== e.dtype) this.convert(e.x.dtype, e.dtype);
  }

  protected select(_e: SelectExpr, cond: Push, a: Push, b: Push): void {
    a();
    b();
    cond();
    this.instr(this.selectCode);
  }

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

/** What the shared rules need of a renderer. */
interface Instr {
  instr(code: number): void;
}

/** Code rules both wasm tables build alike: instructions after the operands, chosen by dtype. */
export const stackCode = {
  /** The operand, then `float` (f32 values) or `int` (i32). */
  unary:
    (float: number, int?: number) =>
    (r: Instr, x: Push, e: { readonly dtype: DType }): void => {
      x();
      r.instr(e.dtype === 'i32' ? int! : float);
    },
  /** Rounding to an integer: `float` for f32 values; an i32 is its own floor, ceil and round. */
  rounding:
    (float: number) =>
    (r: Instr, x: Push, e: { readonly dtype: DType }): void => {
      x();
      if (e.dtype !== 'i32') r.instr(float);
    },
  /** Both operands, then `float` or `int` by the result's dtype. */
  binary:
    (float: number, int?: number) =>
    (r: Instr, a: Push, b: Push, e: { readonly dtype: DType }): void => {
      a();
      b();
      r.instr(e.dtype === 'i32' ? int! : float);
    },
  /** Both operands, then `float` or `int` by the operands' dtype (bool compares as i32). */
  compare:
    (float: number, int: number) =>
    (r: Instr, a: Push, b: Push, e: { readonly a: { readonly dtype: DType } }): void => {
      a();
      b();
      r.instr(e.a.dtype === 'f32' ? float : int);
    },
};
