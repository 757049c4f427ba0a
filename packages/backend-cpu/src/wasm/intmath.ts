/**
 * Integer division with Python's rounding (floor_div, mod), emitted as
 * module functions (i32, i32) -> i32 that never trap: wasm's i32.div_s
 * traps on a zero divisor and on -2^31 / -1, where the interpreter says
 * x // 0 = 0, x % 0 = 0 and -2^31 // -1 = -2^31 (wrapping). The scalar path
 * calls them, the f32x4 path lane by lane (wasm SIMD has no integer division).
 */
import { FunctionBuilder as Fn, I32, type ModuleBuilder } from './binary.ts';
import { OP } from './opcodes.ts';

/**
 * Pushes nothing; sets `special` to whether b is 0 or -1, and `d` to the
 * divisor that is safe to divide by (1 in those cases, b otherwise), then
 * `r` to a rem_s d.
 */
function safeRemainder(f: Fn, special: number, d: number, r: number): void {
  const [a, b] = [0, 1];
  // b + 1 <= 1 unsigned: b is -1 or 0.
  f.get(b).i32(1).op(OP.i32_add).i32(1).op(OP.i32_le_u).set(special);
  f.i32(1).get(b).get(special).op(OP.select).set(d);
  f.get(a).get(d).op(OP.i32_rem_s).set(r);
}

/** Pushes whether remainder `r` of divisor `d` needs the floor adjustment: nonzero and of the other sign. */
function needsAdjusting(f: Fn, r: number, d: number): void {
  f.get(r).i32(0).op(OP.i32_ne);
  f.get(r).get(d).op(OP.i32_xor).i32(0).op(OP.i32_lt_s);
  f.op(OP.i32_and);
}

/** a // b rounding toward -inf; 0 for b = 0, -a (wrapping) for b = -1. */
function emitFloorDiv(): Fn {
  const f = new Fn([I32, I32], [I32]);
  const [a, b] = [0, 1];
  const [special, d, r] = [f.local(I32), f.local(I32), f.local(I32)];
  safeRemainder(f, special, d, r);
  // special: b == 0 ? 0 : 0 - a
  f.i32(0);
  f.i32(0).get(a).op(OP.i32_sub);
  f.get(b).op(OP.i32_eqz).op(OP.select);
  // otherwise: (a div_s d) - adjust
  f.get(a).get(d).op(OP.i32_div_s);
  needsAdjusting(f, r, d);
  f.op(OP.i32_sub);
  f.get(special).op(OP.select);
  return f;
}

/** a % b with the sign of b; 0 for b = 0 or -1 (the safe divisor 1 leaves remainder 0). */
function emitMod(): Fn {
  const f = new Fn([I32, I32], [I32]);
  const [special, d, r] = [f.local(I32), f.local(I32), f.local(I32)];
  safeRemainder(f, special, d, r);
  f.get(r);
  f.get(d).i32(0);
  needsAdjusting(f, r, d);
  f.op(OP.select, OP.i32_add);
  return f;
}

/** The integer division functions' indices, each added to the module the first time a kernel asks for it (most programs never divide integers). */
export function intMathOnDemand(m: ModuleBuilder): { readonly floorDiv: number; readonly mod: number } {
  let floorDiv: number | undefined;
  let mod: number | undefined;
  return {
    get floorDiv() {
      return (floorDiv ??= m.addFunc(emitFloorDiv()));
    },
    get mod() {
      return (mod ??= m.addFunc(emitMod()));
    },
  };
}
