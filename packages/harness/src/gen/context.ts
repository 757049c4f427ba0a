import { type Attrs, type DType, type InputKind, type OpName, ProgramBuilder, type TensorType, type Value, formatType, numel, shapesEqual, typeCheckOp } from '@tessera/ir';
import { Choices, makeRng } from './choices.ts';
import { isExactResult, magnitudeBound } from './magnitude.ts';
import type { ResolvedGenOptions } from './options.ts';
import { broadcastsTo, partnerShape, tryBroadcast } from './shapes.ts';

interface ValueInfo {
  /** Upper bound on |element| (tame mode). */
  readonly mag: number;
  /** Whether f32 evaluation gives exactly the float64 value (tame mode). */
  readonly exact: boolean;
}

/**
 * The state of building one random program: the builder, the pool of values
 * later steps may use, and adapters that make any value fit what an op
 * needs (dtype, rank, shape), so generation never fails.
 */
export class ProgramGen {
  readonly b = new ProgramBuilder('random');
  /** Values a step may pick as operands: inputs and the results of earlier steps. */
  readonly pool: Value[] = [];
  private readonly info = new Map<string, ValueInfo>();
  /** The current step's choices. */
  c: Choices = new Choices([]);

  constructor(readonly opts: ResolvedGenOptions) {}

  /** Maximum elements of any value. */
  get budget(): number {
    return this.opts.maxElements;
  }

  /** Declares a program input and adds it to the pool. */
  input(name: string, type: TensorType, kind: InputKind): Value {
    const v = this.b.declare(name, type, kind);
    const mag = type.dtype === 'f32' ? (kind === 'parameter' ? this.opts.paramMax : this.opts.floatMax) : type.dtype === 'i32' ? this.opts.intMax : 1;
    this.info.set(v.name, { mag, exact: true });
    this.pool.push(v);
    return v;
  }

  /** Emits one node, recording its magnitude bound and exactness. */
  emit(op: OpName, operands: readonly Value[], attrs: Attrs = {}): Value {
    const v = this.b.emit(op, operands, attrs);
    if (numel(v.type.shape) > this.budget) {
      throw new Error(`generator bug: ${op} made ${formatType(v.type)}, more than maxElements=${this.budget}`);
    }
    const ins = operands.map((o) => ({ type: o.type, ...this.info.get(o.name)! }));
    const canonical = typeCheckOp(op, operands.map((o) => o.type), attrs).attrs;
    this.info.set(v.name, {
      mag: magnitudeBound(op, ins, canonical, v.type),
      exact: isExactResult({ op, type: v.type }, ins.map((i) => i.exact)),
    });
    return v;
  }

  /** Upper bound on |element| of a value. */
  mag(v: Value): number {
    return this.info.get(v.name)!.mag;
  }

  /** Whether a value is exact in f32. */
  exact(v: Value): boolean {
    return this.info.get(v.name)!.exact;
  }

  /** Any pool value (earlier values are shared: common subexpressions occur). */
  pick(): Value {
    return this.pool[this.c.int(this.pool.length)]!;
  }

  /** A pool value satisfying `pred`, or undefined when none does. */
  pickWhere(pred: (v: Value) => boolean): Value | undefined {
    const ok = this.pool.filter(pred);
    return ok.length ? ok[this.c.int(ok.length)] : undefined;
  }

  /** The value converted to `dtype` (a cast when it differs). */
  toDType(v: Value, dtype: DType): Value {
    if (v.type.dtype === dtype) return v;
    if (dtype !== 'f32' && v.type.dtype === 'f32') v = this.exactify(v);
    return this.emit('cast', [v], { to: dtype });
  }

  /** The value as f32. */
  toFloat(v: Value): Value {
    return this.toDType(v, 'f32');
  }

  /** The value as a numeric dtype (bool is cast to f32 or i32). */
  toNumeric(v: Value): Value {
    if (v.type.dtype !== 'bool') return v;
    return this.toDType(v, this.c.flag() ? 'i32' : 'f32');
  }

  /** In tame mode, a value of the same type that is exact in f32 (the value itself if it is). */
  exactify(v: Value): Value {
    if (!this.opts.tame || this.exact(v)) return v;
    const src = this.pickWhere((p) => p.type.dtype === v.type.dtype && this.exact(p));
    return src ? this.fitShape(src, v.type.shape) : this.constant(v.type.shape, v.type.dtype);
  }

  /** The value reshaped to at least `rank` axes by inserting 1-extents. */
  minRank(v: Value, rank: number): Value {
    if (v.type.shape.length >= rank) return v;
    const shape = [...v.type.shape];
    while (shape.length < rank) {
      if (this.c.flag()) shape.push(1);
      else shape.unshift(1);
    }
    return this.emit('reshape', [v], { shape });
  }

  /**
   * A value of exactly `target` shape made from `v`: broadcast when possible,
   * reshape when the element counts agree, otherwise flatten and slice (with
   * a step) to fewer elements or pad/tile to more.
   */
  fitShape(v: Value, target: readonly number[]): Value {
    const s = v.type.shape;
    if (shapesEqual(s, target)) return v;
    const n = numel(s);
    const m = numel(target);
    if (broadcastsTo(s, target) && (n !== m || this.c.flag())) return this.emit('broadcast_to', [v], { shape: [...target] });
    if (n === m) return this.emit('reshape', [v], { shape: [...target] });
    let flat = s.length === 1 ? v : this.emit('reshape', [v], { shape: [n] });
    if (n > m) {
      const step = 1 + this.c.int(Math.min(Math.floor(n / m), 3));
      const start = this.c.int(n - (m - 1) * step);
      flat = this.emit('slice', [flat], { start: [start], stop: [start + (m - 1) * step + 1], step: [step] });
    } else if ((m <= 2 * n && this.c.flag()) || Math.ceil(m / n) * n > this.budget) {
      // Padding only when it adds at most as much as there is: mostly-fill values test little.
      const low = this.c.int(m - n + 1);
      flat = this.emit('pad', [flat], { low: [low], high: [m - n - low], value: this.fillValue(v.type.dtype) });
    } else {
      const k = Math.ceil(m / n);
      const tiled = this.emit('broadcast_to', [this.emit('reshape', [flat], { shape: [1, n] })], { shape: [k, n] });
      flat = this.emit('slice', [this.emit('reshape', [tiled], { shape: [k * n] })], { start: [0], stop: [m], step: [1] });
    }
    return target.length === 1 ? flat : this.emit('reshape', [flat], { shape: [...target] });
  }

  /**
   * A value of `dtype` whose shape broadcasts with all of `shapes`, the
   * broadcast staying within the element budget: a fitting pool value when
   * one is picked, else a pool value adapted to a partner shape.
   */
  partner(shapes: readonly (readonly number[])[], dtype: DType): Value {
    const cand = this.toDType(this.pick(), dtype);
    const out = tryBroadcast(...shapes, cand.type.shape);
    if (out && numel(out) <= this.budget && !this.c.oneIn(4)) return cand;
    const base = shapes.length ? tryBroadcast(...shapes)! : [];
    return this.fitShape(cand, partnerShape(this.c, base, this.budget));
  }

  /** A fill value for pad: 0 most often, sometimes another value of the dtype (-inf outside tame mode). */
  fillValue(dtype: DType): number {
    if (dtype === 'bool') return this.c.int(2);
    if (dtype === 'i32') return this.c.range(-3, 3);
    const values = this.opts.tame ? [0, 1, -1.5, 0.25] : [0, 1, -1.5, 0.25, -Infinity];
    return this.c.pick(values);
  }

  /** A constant of the given type with random values (drawn from one seed so big tensors stay cheap). */
  constant(shape: readonly number[], dtype: DType): Value {
    const rng = makeRng(this.c.seed());
    const count = this.c.oneIn(4) ? 1 : numel(shape);
    const value = Array.from({ length: count }, () => randomElement(rng, dtype));
    if (dtype === 'f32' && !this.opts.tame && this.c.oneIn(8)) value[this.c.int(count)] = this.c.pick([Infinity, -Infinity, NaN]);
    // The dtype attribute defaults to f32; leave it out sometimes so defaults are exercised.
    const omitDtype = dtype === 'f32' && this.c.oneIn(3);
    return this.emit('constant', [], { shape: [...shape], ...(omitDtype ? {} : { dtype }), value });
  }

  /** A scalar constant. */
  scalar(value: number, dtype: DType): Value {
    return this.emit('constant', [], { shape: [], dtype, value: [value] });
  }

  /** Tame mode: the value clamped to [-limit, limit] when its bound exceeds the limit. */
  clamp(v: Value, limit: number): Value {
    if (!this.opts.tame || this.mag(v) <= limit || v.type.dtype === 'bool') return v;
    // Round the bound down to what the dtype holds, so the recorded bound stays true.
    const c = v.type.dtype === 'i32' ? Math.floor(limit) : roundDownF32(limit);
    const lo = this.emit('max', [v, this.scalar(c === 0 ? 0 : -c, v.type.dtype)]);
    const out = this.emit('min', [lo, this.scalar(c, v.type.dtype)]);
    // The generic max/min bound would keep |v|'s bound; a clamp is tighter.
    this.info.set(out.name, { mag: c, exact: this.exact(out) });
    return out;
  }

  /** Tame mode: |v| + 0.5 (clamped first), a safe operand for log, sqrt, recip, div and pow. */
  positive(v: Value, limit: number): Value {
    if (!this.opts.tame) return v;
    return this.emit('add', [this.emit('abs', [this.clamp(v, limit)]), this.scalar(0.5, v.type.dtype)]);
  }

  /** Tame mode: clamps a and b so that |a| * |b| * k stays within `limit`. */
  clampProduct(a: Value, b: Value, k: number, limit: number): [Value, Value] {
    if (!this.opts.tame || this.mag(a) * this.mag(b) * k <= limit) return [a, b];
    const a2 = this.clamp(a, Math.sqrt(limit / k));
    return [a2, this.clamp(b, limit / k / Math.max(this.mag(a2), 1e-9))];
  }
}

/** The largest f32 not above x (x >= 0). */
function roundDownF32(x: number): number {
  const f = Math.fround(x);
  return f <= x ? f : Math.fround(x * (1 - 2 ** -20));
}

/** One random element of a dtype: f32 in [-3, 3] rounded to f32 (sometimes 0), small i32, 0/1. */
function randomElement(rng: () => number, dtype: DType): number {
  const r = rng();
  if (dtype === 'bool') return r < 0.5 ? 0 : 1;
  if (dtype === 'i32') return Math.floor(r * 9) - 4;
  return r < 0.1 ? 0 : Math.fround(rng() * 6 - 3);
}
