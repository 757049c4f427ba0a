/**
 * Expressions as f32x4 code over four consecutive points of one iteration
 * axis (the vectorised axis `va`, whose first lane is in local `j`). f32
 * values are f32x4 (computed in float32), i32 values i32x4, bool values
 * lane masks (all ones or zero). Loads with unit stride on `va` are single
 * v128 loads, stride 0 is a splat, other strides load lane by lane.
 * Sub-expressions that do not depend on `va` are hoisted: computed once
 * before the loop (`hoist`). exp, tanh and erf use the approximations of
 * vmath.ts; log, sin, cos and pow call the scalar imports lane by lane.
 */
import type { DType } from '@tessera/ir';
import { type Expr, type Store, walkExpr } from '@tessera/kernel';
import { type FunctionBuilder, I32, V128 } from './binary.ts';
import { OP, SIMD } from './opcodes.ts';
import { type Addresser, type ProgramFacts, elemSize } from './scope.ts';

/** Where the vectorised loop is. */
export interface VectorSite {
  /** The vectorised axis. */
  readonly va: number;
  /** Local holding the axis value of lane 0. */
  readonly j: number;
  /** Pushes the v128 value of a named scalar (its four lanes at this point). */
  readonly ref: (name: string, dtype: DType) => void;
  /** Refs whose value changes along `va` (e.g. `acc` in a matmul epilogue); others are splats, hoisted. */
  readonly variantRefs?: ReadonlySet<string>;
}

/** Whether every node of `e` has an f32x4 form here (gathers do not). */
export function vectorizable(e: Expr): boolean {
  let ok = true;
  walkExpr(e, (x) => {
    if (x.k === 'load' && x.indirect) ok = false;
  });
  return ok;
}

const F_CMP: Record<string, number> = { eq: SIMD.f32x4_eq, ne: SIMD.f32x4_ne, lt: SIMD.f32x4_lt, le: SIMD.f32x4_le, gt: SIMD.f32x4_gt, ge: SIMD.f32x4_ge };
const I_CMP: Record<string, number> = { eq: SIMD.i32x4_eq, ne: SIMD.i32x4_ne, lt: SIMD.i32x4_lt_s, le: SIMD.i32x4_le_s, gt: SIMD.i32x4_gt_s, ge: SIMD.i32x4_ge_s };
const F_BIN: Record<string, number> = { add: SIMD.f32x4_add, sub: SIMD.f32x4_sub, mul: SIMD.f32x4_mul, div: SIMD.f32x4_div, max: SIMD.f32x4_max, min: SIMD.f32x4_min };
const I_BIN: Record<string, number> = { add: SIMD.i32x4_add, sub: SIMD.i32x4_sub, mul: SIMD.i32x4_mul, max: SIMD.i32x4_max_s, min: SIMD.i32x4_min_s };

/** Emits f32x4 code for expressions at one vector step; shared sub-expressions once (CSE by identity). */
export class VectorEmitter {
  private readonly uses = new Map<Expr, number>();
  private readonly memo = new Map<Expr, number>();
  private readonly variance = new Map<Expr, boolean>();

  constructor(
    private readonly f: FunctionBuilder,
    private readonly facts: ProgramFacts,
    private readonly addr: Addresser,
    private readonly site: VectorSite,
  ) {}

  /** Counts uses of shared sub-expressions; call for every root before emitting. */
  count(e: Expr): this {
    walkExpr(e, (x) => this.uses.set(x, (this.uses.get(x) ?? 0) + 1));
    return this;
  }

  /** Whether `e` changes along the vectorised axis. */
  private variant(e: Expr): boolean {
    const hit = this.variance.get(e);
    if (hit !== undefined) return hit;
    let v: boolean;
    switch (e.k) {
      case 'const':
        v = false;
        break;
      case 'axis':
        v = e.axis === this.site.va;
        break;
      case 'ref':
        v = this.site.variantRefs?.has(e.name) ?? false;
        break;
      case 'load':
        v = e.map.strides[this.site.va] !== 0 || (e.indirect !== undefined && this.variant(e.indirect.index));
        break;
      case 'unary':
      case 'cast':
        v = this.variant(e.x);
        break;
      case 'binary':
      case 'compare':
        v = this.variant(e.a) || this.variant(e.b);
        break;
      case 'select':
        v = this.variant(e.cond) || this.variant(e.a) || this.variant(e.b);
        break;
    }
    this.variance.set(e, v);
    return v;
  }

  /** Computes the largest loop-invariant sub-expressions of `roots` now, into locals (call before the loop). */
  hoist(roots: readonly Expr[]): void {
    const visit = (e: Expr) => {
      if (this.memo.has(e) || e.k === 'const') return;
      if (!this.variant(e)) {
        this.emitUncached(e);
        const l = this.f.local(V128);
        this.f.set(l);
        this.memo.set(e, l);
        return;
      }
      switch (e.k) {
        case 'load':
          if (e.indirect) visit(e.indirect.index);
          return;
        case 'unary':
        case 'cast':
          return visit(e.x);
        case 'binary':
        case 'compare':
          visit(e.a);
          return visit(e.b);
        case 'select':
          visit(e.cond);
          visit(e.a);
          return visit(e.b);
        default:
          return;
      }
    };
    roots.forEach(visit);
  }

  /** Pushes the v128 value of `e`. */
  emit(e: Expr): void {
    const hit = this.memo.get(e);
    if (hit !== undefined) {
      this.f.get(hit);
      return;
    }
    this.emitUncached(e);
    if ((this.uses.get(e) ?? 0) > 1 && e.k !== 'const') {
      const l = this.f.local(V128);
      this.f.tee(l);
      this.memo.set(e, l);
    }
  }

  private emitUncached(e: Expr): void {
    const f = this.f;
    switch (e.k) {
      case 'const':
        if (e.dtype === 'f32') f.f32x4(e.value);
        else f.i32x4(e.dtype === 'bool' ? (e.value ? -1 : 0) : e.value);
        return;
      case 'axis':
        this.addr.axis(e.axis);
        f.simd(SIMD.i32x4_splat);
        if (e.axis === this.site.va) f.i32x4(0, 1, 2, 3).simd(SIMD.i32x4_add);
        return;
      case 'ref':
        this.site.ref(e.name, e.dtype);
        return;
      case 'load':
        return this.load(e);
      case 'unary':
        return this.unary(e.op, e.dtype, e.x);
      case 'binary':
        return this.binary(e.op, e.dtype, e.a, e.b);
      case 'compare':
        this.emit(e.a);
        this.emit(e.b);
        f.simd((e.a.dtype === 'f32' ? F_CMP : I_CMP)[e.op]!);
        return;
      case 'select':
        this.emit(e.a);
        this.emit(e.b);
        this.emit(e.cond);
        f.simd(SIMD.v128_bitselect);
        return;
      case 'cast':
        return this.cast(e.x.dtype, e.dtype, e.x);
    }
  }

  private load(e: Extract<Expr, { k: 'load' }>): void {
    const f = this.f;
    if (e.indirect) throw new Error('wasm emitter: gathers have no vector form (the kernel takes the scalar path)');
    const s = e.map.strides[this.site.va]!;
    const es = elemSize(e.dtype);
    this.addr.push(e.buffer, e.map);
    if (e.dtype === 'bool') {
      if (s === 0) f.mem(OP.i32_load8_u, 0).simd(SIMD.i32x4_splat);
      else if (s === 1) f.simdMem(SIMD.v128_load32_zero, 0).simd(SIMD.i16x8_extend_low_i8x16_u).simd(SIMD.i32x4_extend_low_i16x8_u);
      else {
        const a = f.local(I32);
        f.set(a).i32x4(0);
        for (let l = 0; l < 4; l++) this.laneAddress(a, l * s).mem(OP.i32_load8_u, 0).simdLane(SIMD.i32x4_replace_lane, l);
      }
      f.i32x4(0).simd(SIMD.i32x4_ne);
      return;
    }
    if (s === 0) f.simdMem(SIMD.v128_load32_splat, 2);
    else if (s === 1) f.simdMem(SIMD.v128_load, 2);
    else {
      const a = f.local(I32);
      const t = f.local(V128);
      f.set(a).i32x4(0).set(t);
      for (let l = 0; l < 4; l++) {
        // load32_lane takes [address, vector]; negative strides cannot use the unsigned memarg offset.
        if (s > 0) f.get(a).get(t).simdMem(SIMD.v128_load32_lane, 2, l * s * es).op(l).set(t);
        else this.laneAddress(a, l * s * es).get(t).simdMem(SIMD.v128_load32_lane, 2, 0).op(l).set(t);
      }
      f.get(t);
    }
  }

  /** Pushes local `a` + `delta` bytes; returns the builder for the following memory op. */
  private laneAddress(a: number, delta: number): FunctionBuilder {
    this.f.get(a);
    if (delta !== 0) this.f.i32(delta).op(OP.i32_add);
    return this.f;
  }

  /** Applies an imported f64 function to each lane of the f32x4 in local `v` (and `w` for binary ones). */
  private perLane(fn: number, v: number, w?: number): void {
    const f = this.f;
    f.get(v);
    for (let l = 0; l < 4; l++) {
      f.get(v).simdLane(SIMD.f32x4_extract_lane, l).op(OP.f64_promote_f32);
      if (w !== undefined) f.get(w).simdLane(SIMD.f32x4_extract_lane, l).op(OP.f64_promote_f32);
      f.call(fn).op(OP.f32_demote_f64).simdLane(SIMD.f32x4_replace_lane, l);
    }
  }

  private unary(op: string, d: DType, x: Expr): void {
    const f = this.f;
    const lib = this.facts.lib;
    if (d === 'i32') {
      this.emit(x);
      if (op === 'neg') f.simd(SIMD.i32x4_neg);
      else if (op === 'abs') f.simd(SIMD.i32x4_abs);
      else throw new Error(`wasm emitter: no i32 unary op '${op}'`);
      return;
    }
    if (op === 'rsqrt' || op === 'recip') f.f32x4(1);
    this.emit(x);
    switch (op) {
      case 'neg':
        f.simd(SIMD.f32x4_neg);
        return;
      case 'abs':
        f.simd(SIMD.f32x4_abs);
        return;
      case 'sqrt':
        f.simd(SIMD.f32x4_sqrt);
        return;
      case 'rsqrt':
        f.simd(SIMD.f32x4_sqrt).simd(SIMD.f32x4_div);
        return;
      case 'recip':
        f.simd(SIMD.f32x4_div);
        return;
      case 'exp':
        f.call(lib.vexp);
        return;
      case 'tanh':
        f.call(lib.vtanh);
        return;
      case 'erf':
        f.call(lib.verf);
        return;
      case 'log':
      case 'sin':
      case 'cos': {
        const v = f.local(V128);
        f.set(v);
        this.perLane(lib[op], v);
        return;
      }
      default:
        throw new Error(`wasm emitter: no unary op '${op}'`);
    }
  }

  private binary(op: string, d: DType, a: Expr, b: Expr): void {
    const f = this.f;
    this.emit(a);
    this.emit(b);
    const code = (d === 'i32' ? I_BIN : F_BIN)[op];
    if (code !== undefined) {
      f.simd(code);
      return;
    }
    if (op === 'pow' && d === 'f32') {
      const v = f.local(V128);
      const w = f.local(V128);
      f.set(w).set(v);
      this.perLane(this.facts.lib.pow, v, w);
      return;
    }
    throw new Error(`wasm emitter: no ${d} binary op '${op}'`);
  }

  private cast(from: DType, to: DType, x: Expr): void {
    const f = this.f;
    this.emit(x);
    if (from === to) return;
    if (to === 'bool') {
      if (from === 'f32') f.f32x4(0).simd(SIMD.f32x4_ne);
      else f.i32x4(0).simd(SIMD.i32x4_ne);
    } else if (to === 'i32') {
      if (from === 'f32') f.simd(SIMD.i32x4_trunc_sat_f32x4_s);
      else f.i32x4(1).simd(SIMD.v128_and);
    } else if (from === 'bool') f.f32x4(1).simd(SIMD.v128_and);
    else f.simd(SIMD.f32x4_convert_i32x4_s);
  }
}

/** Stores four lanes of each store's value: all values first (stores may alias reads), then the writes. */
export function emitVectorStores(f: FunctionBuilder, ex: VectorEmitter, addr: Addresser, stores: readonly Store[], va: number): void {
  for (const s of stores) ex.count(s.value);
  const locals = stores.map((s) => {
    ex.emit(s.value);
    const l = f.local(V128);
    f.set(l);
    return l;
  });
  stores.forEach((s, i) => {
    const stride = s.map.strides[va]!;
    const v = locals[i]!;
    addr.push(s.buffer, s.map);
    if (s.value.dtype === 'bool') {
      // Masks to bytes 0/1: and 1, narrow twice.
      f.get(v).i32x4(1).simd(SIMD.v128_and).set(v);
      f.get(v).get(v).simd(SIMD.i16x8_narrow_i32x4_u).set(v);
      f.get(v).get(v).simd(SIMD.i8x16_narrow_i16x8_u).set(v);
      if (stride === 1) {
        f.get(v).simdMem(SIMD.v128_store32_lane, 0).op(0);
        return;
      }
      const a = f.local(I32);
      f.set(a);
      for (let l = 0; l < 4; l++) {
        f.get(a);
        if (l * stride !== 0) f.i32(l * stride).op(OP.i32_add);
        f.get(v).simdLane(SIMD.i8x16_extract_lane_u, l).mem(OP.i32_store8, 0);
      }
      return;
    }
    if (stride === 1) {
      f.get(v).simdMem(SIMD.v128_store, 2);
      return;
    }
    const a = f.local(I32);
    f.set(a);
    for (let l = 0; l < 4; l++) {
      f.get(a);
      if (stride > 0) f.get(v).simdMem(SIMD.v128_store32_lane, 2, l * stride * 4).op(l);
      else {
        if (l !== 0) f.i32(l * stride * 4).op(OP.i32_add);
        f.get(v).simdLane(SIMD.i32x4_extract_lane, l).mem(OP.i32_store, 2);
      }
    }
  });
}
