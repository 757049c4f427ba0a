/**
 * Scalar expressions as WebAssembly, with the JS backend's numerics: f32
 * values are held in f64 (rounded to f32 only when stored), i32 wraps, bool
 * is an i32 0/1. Transcendentals call the imported Math functions, so this
 * path agrees with the JS backend bit for bit; it is the fallback for
 * everything the f32x4 path does not cover, and the tail of vector loops.
 */
import type { DType } from '@tessera/ir';
import { type Expr, type GatherSite, type Store, walkExpr } from '@tessera/kernel';
import { FAULT_SLOT_BYTES } from '../gather-fault-slots.ts';
import { F64, type FunctionBuilder, I32, type ValType } from './binary.ts';
import { TID } from './kernel-common.ts';
import { MISC, OP } from './opcodes.ts';
import { type Addresser, type ProgramFacts, elemSize } from './scope.ts';

/** The wasm type holding a scalar of `d` in this emitter. */
export function scalarType(d: DType): ValType {
  return d === 'f32' ? F64 : I32;
}

const F_COMPARE: Record<string, number> = { eq: OP.f64_eq, ne: OP.f64_ne, lt: OP.f64_lt, le: OP.f64_le, gt: OP.f64_gt, ge: OP.f64_ge };
const I_COMPARE: Record<string, number> = { eq: OP.i32_eq, ne: OP.i32_ne, lt: OP.i32_lt_s, le: OP.i32_le_s, gt: OP.i32_gt_s, ge: OP.i32_ge_s };

/** Emits scalar expressions at one point; shared sub-expressions are computed once per emitter (CSE by identity). */
export class ScalarEmitter {
  private readonly uses = new Map<Expr, number>();
  private readonly memo = new Map<Expr, number>();

  constructor(
    private readonly f: FunctionBuilder,
    private readonly facts: ProgramFacts,
    private readonly addr: Addresser,
    /** Pushes the value of a named scalar (f64 for f32, i32 otherwise). */
    private readonly ref: (name: string, dtype: DType) => void,
  ) {}

  /** Counts uses of shared sub-expressions; call for every root before emitting. */
  count(e: Expr): this {
    walkExpr(e, (x) => this.uses.set(x, (this.uses.get(x) ?? 0) + 1));
    return this;
  }

  /** Pushes the value of `e`. Every operand is evaluated (no short cuts), so first-use tees are always executed. */
  emit(e: Expr): void {
    const f = this.f;
    const hit = this.memo.get(e);
    if (hit !== undefined) {
      f.get(hit);
      return;
    }
    this.emitUncached(e);
    if ((this.uses.get(e) ?? 0) > 1 && e.k !== 'const' && e.k !== 'axis' && e.k !== 'ref') {
      const l = f.local(scalarType(e.dtype));
      f.tee(l);
      this.memo.set(e, l);
    }
  }

  private emitUncached(e: Expr): void {
    const f = this.f;
    switch (e.k) {
      case 'const':
        if (e.dtype === 'f32') f.f64(e.value);
        else f.i32(e.dtype === 'bool' ? (e.value ? 1 : 0) : e.value);
        return;
      case 'axis':
        this.addr.axis(e.axis);
        return;
      case 'ref':
        this.ref(e.name, e.dtype);
        return;
      case 'load': {
        this.addr.push(e.buffer, e.map);
        if (e.indirect) {
          const g = f.local(I32);
          this.emit(e.indirect.index);
          f.tee(g).i32(e.indirect.extent).op(OP.i32_ge_u);
          const site = e.indirect.site;
          f.if(() => this.recordFault(site, g));
          f.get(g).i32(e.indirect.stride * elemSize(e.dtype)).op(OP.i32_mul, OP.i32_add);
        }
        if (e.dtype === 'f32') f.mem(OP.f32_load, 2).op(OP.f64_promote_f32);
        else if (e.dtype === 'i32') f.mem(OP.i32_load, 2);
        else f.mem(OP.i32_load8_u, 0).i32(0).op(OP.i32_ne);
        return;
      }
      case 'unary':
        return this.unary(e.op, e.dtype, e.x);
      case 'binary':
        return this.binary(e.op, e.dtype, e.a, e.b);
      case 'compare':
        this.emit(e.a);
        this.emit(e.b);
        f.op((e.a.dtype === 'f32' ? F_COMPARE : I_COMPARE)[e.op]!);
        return;
      case 'select':
        this.emit(e.a);
        this.emit(e.b);
        this.emit(e.cond);
        f.op(OP.select);
        return;
      case 'cast':
        return this.cast(e.x.dtype, e.dtype, e.x);
    }
  }

  /**
   * The cold path of a gather whose index (local `g`) is out of range: keeps
   * (position, index) in this thread's slot of the site when the position is
   * the least so far (see GatherFaultSlots), then reads row 0 instead.
   */
  private recordFault(site: GatherSite, g: number): void {
    const f = this.f;
    const { base, threadBytes, sites } = this.facts.faults;
    const slot = f.local(I32);
    const pos = f.local(I32);
    f.get(TID).i32(threadBytes).op(OP.i32_mul).i32(base + sites.get(site.node)! * FAULT_SLOT_BYTES).op(OP.i32_add).set(slot);
    f.i32(site.position.offset);
    site.position.strides.forEach((s, a) => {
      if (s === 0) return;
      this.addr.axis(a);
      f.i32(s).op(OP.i32_mul, OP.i32_add);
    });
    f.tee(pos).get(slot).mem(OP.i32_load, 2).op(OP.i32_lt_u);
    f.if(() => {
      f.get(slot).get(pos).mem(OP.i32_store, 2);
      f.get(slot).get(g).mem(OP.i32_store, 2, 4);
    });
    f.i32(0).set(g);
  }

  private unary(op: string, d: DType, x: Expr): void {
    const f = this.f;
    const lib = this.facts.lib;
    if (d === 'i32') {
      this.emit(x);
      const t = f.local(I32);
      if (op === 'neg') {
        f.set(t).i32(0).get(t).op(OP.i32_sub);
        return;
      }
      if (op === 'abs') {
        // (x ^ s) - s with s = x >> 31: wraps at -2^31 like Math.abs(x) | 0.
        const s = f.local(I32);
        f.tee(t).i32(31).op(OP.i32_shr_s).set(s);
        f.get(t).get(s).op(OP.i32_xor).get(s).op(OP.i32_sub);
        return;
      }
      throw new Error(`wasm emitter: no i32 unary op '${op}'`);
    }
    if (op === 'rsqrt' || op === 'recip') f.f64(1);
    this.emit(x);
    switch (op) {
      case 'neg':
        f.op(OP.f64_neg);
        return;
      case 'abs':
        f.op(OP.f64_abs);
        return;
      case 'sqrt':
        f.op(OP.f64_sqrt);
        return;
      case 'rsqrt':
        f.op(OP.f64_sqrt, OP.f64_div);
        return;
      case 'recip':
        f.op(OP.f64_div);
        return;
      case 'exp':
      case 'log':
      case 'sin':
      case 'cos':
      case 'tanh':
      case 'erf':
        f.call(lib[op]);
        return;
      default:
        throw new Error(`wasm emitter: no unary op '${op}'`);
    }
  }

  private binary(op: string, d: DType, a: Expr, b: Expr): void {
    const f = this.f;
    if (d === 'i32' && (op === 'max' || op === 'min')) {
      const x = f.local(I32);
      const y = f.local(I32);
      this.emit(a);
      f.set(x);
      this.emit(b);
      f.set(y);
      f.get(x).get(y).get(x).get(y).op(op === 'max' ? OP.i32_gt_s : OP.i32_lt_s, OP.select);
      return;
    }
    this.emit(a);
    this.emit(b);
    const int = d === 'i32';
    const code: Record<string, number | undefined> = int
      ? { add: OP.i32_add, sub: OP.i32_sub, mul: OP.i32_mul }
      : { add: OP.f64_add, sub: OP.f64_sub, mul: OP.f64_mul, div: OP.f64_div, max: OP.f64_max, min: OP.f64_min };
    const c = code[op];
    if (c !== undefined) {
      f.op(c);
      return;
    }
    if (op === 'pow' && !int) {
      f.call(this.facts.lib.pow);
      return;
    }
    throw new Error(`wasm emitter: no ${d} binary op '${op}'`);
  }

  private cast(from: DType, to: DType, x: Expr): void {
    const f = this.f;
    this.emit(x);
    if (from === to) return;
    if (to === 'bool') {
      if (from === 'f32') f.f64(0).op(OP.f64_ne);
      else f.i32(0).op(OP.i32_ne);
      return;
    }
    if (to === 'i32') {
      // Saturating truncation, NaN -> 0: exactly castValue's rule.
      if (from === 'f32') f.misc(MISC.i32_trunc_sat_f64_s);
      return;
    }
    f.op(from === 'bool' ? OP.f64_convert_i32_u : OP.f64_convert_i32_s);
  }
}

/**
 * Emits the stores at one point: every value first (a store may overwrite
 * what another store at this point reads), then the writes.
 */
export function emitScalarStores(f: FunctionBuilder, ex: ScalarEmitter, addr: Addresser, stores: readonly Store[]): void {
  for (const s of stores) ex.count(s.value);
  const locals = stores.map((s) => {
    ex.emit(s.value);
    const l = f.local(scalarType(s.value.dtype));
    f.set(l);
    return l;
  });
  stores.forEach((s, i) => {
    addr.push(s.buffer, s.map);
    f.get(locals[i]!);
    if (s.value.dtype === 'f32') f.op(OP.f32_demote_f64).mem(OP.f32_store, 2);
    else if (s.value.dtype === 'i32') f.mem(OP.i32_store, 2);
    else f.mem(OP.i32_store8, 0);
  });
}
