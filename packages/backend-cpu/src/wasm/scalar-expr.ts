/**
 * Scalar expressions as WebAssembly, with the JS backend's numerics: f32
 * values are held in f64 (rounded to f32 only when stored), i32 wraps, bool
 * is an i32 0/1. Transcendentals call the imported Math functions, so this
 * path agrees with the JS backend bit for bit; it is the fallback for
 * everything the f32x4 path does not cover, and the tail of vector loops.
 */
import { type DType, byteSize } from '@tessera/ir';
import { type BinaryCode, type CodeTable, type GatherSite, type LoadExpr, type Store, type UnaryCode } from '@tessera/kernel';
import { FAULT_SLOT_BYTES } from '../gather-fault-slots.ts';
import { F64, type FunctionBuilder, I32, type ValType } from './binary.ts';
import { TID } from './kernel-common.ts';
import { MISC, OP } from './opcodes.ts';
import { type Addresser, type ProgramFacts } from './scope.ts';
import { type Push, StackRenderer, stackCode } from './stack-renderer.ts';

/** The wasm type holding a scalar of `d` in this emitter. */
export function scalarType(d: DType): ValType {
  return d === 'f32' ? F64 : I32;
}

type Unary = UnaryCode<WasmScalarRenderer, Push, void>;
type Binary = BinaryCode<WasmScalarRenderer, Push, void>;

/** An f64 -> f64 function of the runtime library (Math's, imported; erf the module's own). */
const call =
  (name: 'exp' | 'log' | 'sin' | 'cos' | 'tanh' | 'erf'): Unary =>
  (r, x) => {
    x();
    r.f.call(r.facts.lib[name]);
  };
const { unary: unaryOp, binary: binaryOp, compare, rounding } = stackCode;
/** 1 / (code applied to x): pushes 1 first. */
const reciprocalOf =
  (...code: number[]): Unary =>
  (r, x) => {
    r.f.f64(1);
    x();
    r.f.op(...code, OP.f64_div);
  };
/** i32 max/min by select (wasm has none); f64 max/min propagate NaN like Math.max. */
const maxMin =
  (greater: boolean): Binary =>
  (r, a, b, e) => {
    const f = r.f;
    if (e.dtype !== 'i32') {
      a();
      b();
      f.op(greater ? OP.f64_max : OP.f64_min);
      return;
    }
    const [x, y] = [f.local(I32), f.local(I32)];
    a();
    f.set(x);
    b();
    f.set(y);
    f.get(x).get(y).get(x).get(y).op(greater ? OP.i32_gt_s : OP.i32_lt_s, OP.select);
  };
/**
 * The scalar wasm code table, with the JS backend's numerics: f32 in f64,
 * i32 wrapping, transcendentals through the imported Math functions.
 */
export const WASM_SCALAR_CODE: CodeTable<WasmScalarRenderer, Push, void> = {
  target: 'wasm',
  unary: {
    neg: (r, x, e) => {
      if (e.dtype === 'i32') r.f.i32(0);
      x();
      r.f.op(e.dtype === 'i32' ? OP.i32_sub : OP.f64_neg);
    },
    abs: (r, x, e) => {
      const f = r.f;
      x();
      if (e.dtype !== 'i32') {
        f.op(OP.f64_abs);
        return;
      }
      // (x ^ s) - s with s = x >> 31: wraps at -2^31 like Math.abs(x) | 0.
      const [t, s] = [f.local(I32), f.local(I32)];
      f.tee(t).i32(31).op(OP.i32_shr_s).set(s);
      f.get(t).get(s).op(OP.i32_xor).get(s).op(OP.i32_sub);
    },
    exp: call('exp'),
    log: call('log'),
    sqrt: unaryOp(OP.f64_sqrt),
    rsqrt: reciprocalOf(OP.f64_sqrt),
    tanh: call('tanh'),
    erf: call('erf'),
    sin: call('sin'),
    cos: call('cos'),
    recip: reciprocalOf(),
    floor: rounding(OP.f64_floor),
    ceil: rounding(OP.f64_ceil),
    // f64.nearest takes halves to even, as torch.round.
    round: rounding(OP.f64_nearest),
    sign: (r, x, e) => {
      // (x > 0) - (x < 0): NaN and -0 give 0, as torch.sign.
      const f = r.f;
      const int = e.dtype === 'i32';
      const t = f.local(int ? I32 : F64);
      x();
      f.set(t);
      if (int) f.get(t).i32(0).op(OP.i32_gt_s).get(t).i32(0).op(OP.i32_lt_s, OP.i32_sub);
      else f.get(t).f64(0).op(OP.f64_gt).get(t).f64(0).op(OP.f64_lt, OP.i32_sub, OP.f64_convert_i32_s);
    },
    // x != x, and |x| == inf: exact in f64 (wasm never assumes x == x).
    isnan: (r, x, e) => {
      x();
      if (e.x.dtype === 'i32') return r.dropForFalse();
      const t = r.f.local(F64);
      r.f.tee(t).get(t).op(OP.f64_ne);
    },
    isinf: (r, x, e) => {
      x();
      if (e.x.dtype === 'i32') r.dropForFalse();
      else r.f.op(OP.f64_abs).f64(Infinity).op(OP.f64_eq);
    },
  },
  binary: {
    add: binaryOp(OP.f64_add, OP.i32_add),
    sub: binaryOp(OP.f64_sub, OP.i32_sub),
    mul: binaryOp(OP.f64_mul, OP.i32_mul),
    div: binaryOp(OP.f64_div),
    max: maxMin(true),
    min: maxMin(false),
    pow: (r, a, b) => {
      a();
      b();
      r.f.call(r.facts.lib.pow);
    },
    floor_div: (r, a, b) => {
      a();
      b();
      r.f.call(r.facts.lib.floorDiv);
    },
    mod: (r, a, b) => {
      a();
      b();
      r.f.call(r.facts.lib.mod);
    },
  },
  compare: {
    eq: compare(OP.f64_eq, OP.i32_eq),
    ne: compare(OP.f64_ne, OP.i32_ne),
    lt: compare(OP.f64_lt, OP.i32_lt_s),
    le: compare(OP.f64_le, OP.i32_le_s),
    gt: compare(OP.f64_gt, OP.i32_gt_s),
    ge: compare(OP.f64_ge, OP.i32_ge_s),
  },
};

/** Renders scalar expressions at one point (the shared renderer with the scalar wasm code table). */
export class WasmScalarRenderer extends StackRenderer {
  protected readonly table = WASM_SCALAR_CODE;

  constructor(
    f: FunctionBuilder,
    facts: ProgramFacts,
    addr: Addresser,
    /** Pushes the value of a named scalar (f64 for f32, i32 otherwise). */
    private readonly refValue: (name: string, dtype: DType) => void,
  ) {
    super(f, facts, addr);
  }

  protected valType(dtype: DType): ValType {
    return scalarType(dtype);
  }

  instr(code: number): void {
    this.f.op(code);
  }

  protected readonly selectCode = OP.select;

  protected constant(dtype: DType, value: number): void {
    if (dtype === 'f32') this.f.f64(value);
    else this.f.i32(dtype === 'bool' ? (value ? 1 : 0) : value);
  }

  protected ref(name: string, dtype: DType): void {
    this.refValue(name, dtype);
  }

  protected load(e: LoadExpr): void {
    const f = this.f;
    this.addr.push(e.buffer, e.map);
    if (e.indirect) {
      const g = f.local(I32);
      this.render(e.indirect.index);
      f.tee(g).i32(e.indirect.extent).op(OP.i32_ge_u);
      const site = e.indirect.site;
      f.if(() => this.recordFault(site, g));
      f.get(g).i32(e.indirect.stride * byteSize(e.dtype)).op(OP.i32_mul, OP.i32_add);
    }
    if (e.dtype === 'f32') f.mem(OP.f32_load, 2).op(OP.f64_promote_f32);
    else if (e.dtype === 'i32') f.mem(OP.i32_load, 2);
    else f.mem(OP.i32_load8_u, 0).i32(0).op(OP.i32_ne);
  }

  protected convert(from: DType, to: DType): void {
    const f = this.f;
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
}

/**
 * Emits the stores at one point: every value first (a store may overwrite
 * what another store at this point reads), then the writes.
 */
export function emitScalarStores(f: FunctionBuilder, ex: WasmScalarRenderer, addr: Addresser, stores: readonly Store[]): void {
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
