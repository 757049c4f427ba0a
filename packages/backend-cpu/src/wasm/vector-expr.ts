/**
 * Expressions as f32x4 code over four consecutive points of one iteration
 * axis (the vectorised axis `va`, whose first lane is in local `j`). f32
 * values are f32x4 (computed in float32), i32 values i32x4, bool values
 * lane masks (all ones or zero). Loads with unit stride on `va` are single
 * v128 loads, stride 0 is a splat, other strides load lane by lane.
 * Sub-expressions that do not depend on `va` are hoisted: computed once
 * before the loop (`hoist`). exp and tanh use the approximations of
 * vmath.ts; log, sin, cos and pow call the scalar imports lane by lane.
 */
import { type DType, byteSize } from '@tessera/ir';
import { type BinaryCode, type CodeTable, type Expr, type LoadExpr, type Store, type UnaryCode, exprChildren, walkExpr } from '@tessera/kernel';
import { type FunctionBuilder, I32, V128, type ValType } from './binary.ts';
import { OP, SIMD } from './opcodes.ts';
import { type Addresser, type ProgramFacts } from './scope.ts';
import { type Push, StackRenderer, stackCode } from './stack-renderer.ts';

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

type Unary = UnaryCode<WasmVectorRenderer, Push, void>;
type Binary = BinaryCode<WasmVectorRenderer, Push, void>;

const { unary: lanes, binary, compare, rounding } = stackCode;
/** A module function v128 -> v128 (vmath.ts, decomposed-functions.ts). */
const vcall =
  (name: 'vexp' | 'vtanh' | 'verf'): Unary =>
  (r, x) => {
    x();
    r.f.call(r.facts.lib[name]);
  };
/** An imported f64 function lane by lane (no f32x4 form). */
const perLaneCall =
  (name: 'log' | 'sin' | 'cos'): Unary =>
  (r, x) => {
    x();
    const v = r.f.local(V128);
    r.f.set(v);
    r.perLane(r.facts.lib[name], v);
  };
/** 1 / (code applied to x): pushes 1 first. */
const reciprocalOf =
  (...code: number[]): Unary =>
  (r, x) => {
    r.f.f32x4(1);
    x();
    for (const c of code) r.f.simd(c);
    r.f.simd(SIMD.f32x4_div);
  };
/** The f32x4 code table: f32 in float32, i32 in i32x4 lanes, bool as lane masks. */
export const WASM_VECTOR_CODE: CodeTable<WasmVectorRenderer, Push, void> = {
  target: 'wasm-simd',
  unary: {
    neg: lanes(SIMD.f32x4_neg, SIMD.i32x4_neg),
    abs: lanes(SIMD.f32x4_abs, SIMD.i32x4_abs),
    exp: vcall('vexp'),
    log: perLaneCall('log'),
    sqrt: lanes(SIMD.f32x4_sqrt),
    rsqrt: reciprocalOf(SIMD.f32x4_sqrt),
    tanh: vcall('vtanh'),
    erf: vcall('verf'),
    sin: perLaneCall('sin'),
    cos: perLaneCall('cos'),
    recip: reciprocalOf(),
    floor: rounding(SIMD.f32x4_floor),
    ceil: rounding(SIMD.f32x4_ceil),
    // f32x4.nearest takes halves to even, as torch.round.
    round: rounding(SIMD.f32x4_nearest),
    sign: (r, x, e) => {
      // (x < 0) - (x > 0) on lane masks (true is -1) is (x > 0) - (x < 0): NaN and -0 give 0, as torch.sign.
      const f = r.f;
      const int = e.dtype === 'i32';
      const v = f.local(V128);
      x();
      f.set(v);
      if (int) f.get(v).i32x4(0).simd(SIMD.i32x4_lt_s).get(v).i32x4(0).simd(SIMD.i32x4_gt_s).simd(SIMD.i32x4_sub);
      else f.get(v).f32x4(0).simd(SIMD.f32x4_lt).get(v).f32x4(0).simd(SIMD.f32x4_gt).simd(SIMD.i32x4_sub).simd(SIMD.f32x4_convert_i32x4_s);
    },
    // Lane masks: x != x, and |x| == inf.
    isnan: (r, x, e) => {
      x();
      if (e.x.dtype === 'i32') return r.dropForFalse();
      const v = r.f.local(V128);
      r.f.tee(v).get(v).simd(SIMD.f32x4_ne);
    },
    isinf: (r, x, e) => {
      x();
      if (e.x.dtype === 'i32') r.dropForFalse();
      else r.f.simd(SIMD.f32x4_abs).f32x4(Infinity).simd(SIMD.f32x4_eq);
    },
  },
  binary: {
    add: binary(SIMD.f32x4_add, SIMD.i32x4_add),
    sub: binary(SIMD.f32x4_sub, SIMD.i32x4_sub),
    mul: binary(SIMD.f32x4_mul, SIMD.i32x4_mul),
    div: binary(SIMD.f32x4_div),
    max: binary(SIMD.f32x4_max, SIMD.i32x4_max_s),
    min: binary(SIMD.f32x4_min, SIMD.i32x4_min_s),
    pow: (r, a, b) => {
      const f = r.f;
      const [v, w] = [f.local(V128), f.local(V128)];
      a();
      b();
      f.set(w).set(v);
      r.perLane(r.facts.lib.pow, v, w);
    },
    // No integer division in wasm SIMD: the module's functions lane by lane.
    floor_div: (r, a, b) => r.perLaneInt(r.facts.lib.floorDiv, a, b),
    mod: (r, a, b) => r.perLaneInt(r.facts.lib.mod, a, b),
  },
  compare: {
    eq: compare(SIMD.f32x4_eq, SIMD.i32x4_eq),
    ne: compare(SIMD.f32x4_ne, SIMD.i32x4_ne),
    lt: compare(SIMD.f32x4_lt, SIMD.i32x4_lt_s),
    le: compare(SIMD.f32x4_le, SIMD.i32x4_le_s),
    gt: compare(SIMD.f32x4_gt, SIMD.i32x4_gt_s),
    ge: compare(SIMD.f32x4_ge, SIMD.i32x4_ge_s),
  },
};

/**
 * Renders expressions as f32x4 code at one vector step (the shared renderer
 * with the f32x4 code table). Sub-expressions that do not change along the
 * vectorised axis can be hoisted: computed once before the loop (`hoist`).
 */
export class WasmVectorRenderer extends StackRenderer {
  protected readonly table = WASM_VECTOR_CODE;
  private readonly variance = new Map<number, boolean>();

  constructor(
    f: FunctionBuilder,
    facts: ProgramFacts,
    addr: Addresser,
    private readonly site: VectorSite,
  ) {
    super(f, facts, addr);
  }

  protected valType(): ValType {
    return V128;
  }

  instr(code: number): void {
    this.f.simd(code);
  }

  protected readonly selectCode = SIMD.v128_bitselect;

  /** Shared values are kept in locals, axes and refs too (a splat or lane vector costs more than a local). */
  protected override shareable(e: Expr): boolean {
    return e.k !== 'const';
  }

  /** Whether `e` changes along the vectorised axis. */
  private variant(e: Expr): boolean {
    const id = this.ids.id(e);
    const hit = this.variance.get(id);
    if (hit !== undefined) return hit;
    let v: boolean;
    if (e.k === 'axis') v = e.axis === this.site.va;
    else if (e.k === 'ref') v = this.site.variantRefs?.has(e.name) ?? false;
    else if (e.k === 'load' && e.map.strides[this.site.va] !== 0) v = true;
    else v = exprChildren(e).some((c) => this.variant(c));
    this.variance.set(id, v);
    return v;
  }

  /** Computes the largest loop-invariant sub-expressions of `roots` now, into locals (call before the loop). */
  hoist(roots: readonly Expr[]): void {
    const visit = (e: Expr) => {
      if (this.memo.has(this.ids.id(e)) || e.k === 'const') return;
      if (!this.variant(e)) {
        this.renderFresh(e);
        const l = this.f.local(V128);
        this.f.set(l);
        this.memo.set(this.ids.id(e), l);
        return;
      }
      exprChildren(e).forEach(visit);
    };
    roots.forEach(visit);
  }

  protected constant(dtype: DType, value: number): void {
    if (dtype === 'f32') this.f.f32x4(value);
    else this.f.i32x4(dtype === 'bool' ? (value ? -1 : 0) : value);
  }

  protected override axis(a: number): void {
    this.addr.axis(a);
    this.f.simd(SIMD.i32x4_splat);
    if (a === this.site.va) this.f.i32x4(0, 1, 2, 3).simd(SIMD.i32x4_add);
  }

  protected ref(name: string, dtype: DType): void {
    this.site.ref(name, dtype);
  }

  protected convert(from: DType, to: DType): void {
    const f = this.f;
    if (to === 'bool') {
      if (from === 'f32') f.f32x4(0).simd(SIMD.f32x4_ne);
      else f.i32x4(0).simd(SIMD.i32x4_ne);
    } else if (to === 'i32') {
      if (from === 'f32') f.simd(SIMD.i32x4_trunc_sat_f32x4_s);
      else f.i32x4(1).simd(SIMD.v128_and);
    } else if (from === 'bool') f.f32x4(1).simd(SIMD.v128_and);
    else f.simd(SIMD.f32x4_convert_i32x4_s);
  }

  protected load(e: LoadExpr): void {
    const f = this.f;
    if (e.indirect) throw new Error('wasm emitter: gathers have no vector form (the kernel takes the scalar path)');
    const s = e.map.strides[this.site.va]!;
    const es = byteSize(e.dtype);
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

  /** Pushes (i32, i32) -> i32 function `fn` applied to the lanes of `a` and `b`. */
  perLaneInt(fn: number, a: Push, b: Push): void {
    const f = this.f;
    const [v, w] = [f.local(V128), f.local(V128)];
    a();
    f.set(v);
    b();
    f.set(w);
    f.get(v);
    for (let l = 0; l < 4; l++) {
      f.get(v).simdLane(SIMD.i32x4_extract_lane, l);
      f.get(w).simdLane(SIMD.i32x4_extract_lane, l);
      f.call(fn).simdLane(SIMD.i32x4_replace_lane, l);
    }
  }

  /** Applies an imported f64 function to each lane of the f32x4 in local `v` (and `w` for binary ones); pushes the result. */
  perLane(fn: number, v: number, w?: number): void {
    const f = this.f;
    f.get(v);
    for (let l = 0; l < 4; l++) {
      f.get(v).simdLane(SIMD.f32x4_extract_lane, l).op(OP.f64_promote_f32);
      if (w !== undefined) f.get(w).simdLane(SIMD.f32x4_extract_lane, l).op(OP.f64_promote_f32);
      f.call(fn).op(OP.f32_demote_f64).simdLane(SIMD.f32x4_replace_lane, l);
    }
  }
}

/** Stores four lanes of each store's value: all values first (stores may alias reads), then the writes. */
export function emitVectorStores(f: FunctionBuilder, ex: WasmVectorRenderer, addr: Addresser, stores: readonly Store[], va: number): void {
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
