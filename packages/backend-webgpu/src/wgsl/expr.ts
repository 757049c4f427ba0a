import { type DType, binaryScalarFn, castValue, compareScalarFn, unaryScalarFn } from '@tessera/ir';
import { type Expr, type IndexMap, walkExpr } from '@tessera/kernel';
import { FAULTS_NAME, type FaultLayout } from './faults.ts';
import { wgslBinary, wgslCast, wgslCompare, wgslConst, wgslStorageType, wgslType, wgslUnary } from './scalar.ts';

/** Names the generated WGSL uses for buffers, axes and scalar refs, and where gathers record faults. */
export interface WgslNames {
  buffer(b: number): string;
  axis(a: number): string;
  ref(name: string): string;
  /** The program's faults buffer (bound as FAULTS_NAME by kernels that gather). */
  readonly faults: FaultLayout;
}

const NO_GATHERS: FaultLayout = { sites: [], slots: new Map(), words: 0 };

/** Buffer `b3`, axis `a0`; refs are numbered by first use, since kernel names need not be WGSL identifiers. */
export function defaultNames(faults: FaultLayout = NO_GATHERS): WgslNames {
  const refs = new Map<string, string>();
  return {
    faults,
    buffer: (b) => `b${b}`,
    axis: (a) => `a${a}`,
    ref: (n) => {
      let r = refs.get(n);
      if (!r) refs.set(n, (r = `r${refs.size}`));
      return r;
    },
  };
}

/** The WGSL (i32) for an affine offset `off + s0*a0 + ...`, zero strides dropped. */
export function wgslOffset(map: IndexMap, names: WgslNames): string {
  const terms: string[] = [];
  if (map.offset !== 0) terms.push(`${map.offset}i`);
  map.strides.forEach((s, a) => {
    if (s === 1) terms.push(names.axis(a));
    else if (s !== 0) terms.push(`${s}i * ${names.axis(a)}`);
  });
  return terms.length ? terms.join(' + ') : '0i';
}

/**
 * Folds a sub-tree of constants into one constant with the interpreter's
 * scalar semantics (so i32 wraps exactly as it does there), or returns
 * undefined. WGSL evaluates constant operands at shader creation and rejects
 * any overflow or non-finite result, which run-time arithmetic allows.
 */
export function foldConst(e: Expr): number | undefined {
  const round = (dtype: DType, v: number) => (dtype === 'f32' ? Math.fround(v) : dtype === 'i32' ? v | 0 : v ? 1 : 0);
  switch (e.k) {
    case 'const':
      return round(e.dtype, e.value);
    case 'unary': {
      const x = foldConst(e.x);
      return x === undefined ? undefined : round(e.dtype, unaryScalarFn(e.op, e.dtype)(x));
    }
    case 'binary': {
      const a = foldConst(e.a);
      const b = a === undefined ? undefined : foldConst(e.b);
      return b === undefined ? undefined : round(e.dtype, binaryScalarFn(e.op, e.dtype)(a!, b));
    }
    case 'compare': {
      const a = foldConst(e.a);
      const b = a === undefined ? undefined : foldConst(e.b);
      return b === undefined ? undefined : compareScalarFn(e.op)(a!, b) ? 1 : 0;
    }
    case 'cast': {
      const x = foldConst(e.x);
      return x === undefined ? undefined : round(e.dtype, castValue(x, e.dtype));
    }
    case 'select': {
      const c = foldConst(e.cond);
      const a = c === undefined ? undefined : foldConst(e.a);
      const b = a === undefined ? undefined : foldConst(e.b);
      return b === undefined ? undefined : c ? a : b;
    }
    default:
      return undefined;
  }
}

/**
 * Emits scalar expressions as WGSL. Sub-expressions used more than once
 * become `let` temporaries (CSE by identity) and gather indices become
 * checked temporaries, so `stmts` must be written before the values.
 *
 * Gathers: WGSL cannot throw, so an index outside [0, extent) is recorded
 * in the faults buffer (see faults.ts; the runtime throws after the run)
 * and row 0 is read instead.
 */
export class WgslExprEmitter {
  readonly stmts: string[] = [];
  private readonly memo = new Map<Expr, string>();
  private readonly uses = new Map<Expr, number>();
  private temp = 0;

  constructor(
    private readonly names: WgslNames,
    private readonly useHelper: (h: string) => void,
    private readonly prefix = 't',
  ) {}

  /** Counts uses of shared sub-expressions; call for every root before emitting. */
  count(e: Expr): void {
    walkExpr(e, (x) => this.uses.set(x, (this.uses.get(x) ?? 0) + 1));
  }

  private fresh(): string {
    return `${this.prefix}${this.temp++}`;
  }

  /** The WGSL expression for `e` (bool as a WGSL bool). */
  emit(e: Expr): string {
    const hit = this.memo.get(e);
    if (hit) return hit;
    const folded = e.k === 'const' || e.k === 'axis' || e.k === 'ref' || e.k === 'load' ? undefined : foldConst(e);
    const code = folded !== undefined ? wgslConst(e.dtype, folded, this.useHelper) : this.emitUncached(e);
    if ((this.uses.get(e) ?? 0) > 1 && folded === undefined && e.k !== 'const' && e.k !== 'axis' && e.k !== 'ref') {
      const t = this.fresh();
      this.stmts.push(`let ${t}: ${wgslType(e.dtype)} = ${code};`);
      this.memo.set(e, t);
      return t;
    }
    return code;
  }

  private emitUncached(e: Expr): string {
    switch (e.k) {
      case 'const':
        return wgslConst(e.dtype, e.value, this.useHelper);
      case 'axis':
        return this.names.axis(e.axis);
      case 'ref':
        return this.names.ref(e.name);
      case 'load': {
        let off = wgslOffset(e.map, this.names);
        if (e.indirect) {
          const { extent, site } = e.indirect;
          const slot = this.names.faults.slots.get(site.node);
          if (!slot) throw new Error(`wgsl emitter: gather %${site.node} has no fault slot`);
          const g = this.fresh();
          this.stmts.push(
            `var ${g} = ${this.emit(e.indirect.index)};`,
            `if (${g} < 0i || ${g} >= ${extent}i) { let ${g}p = u32(${wgslOffset(site.position, this.names)}); atomicMin(&${FAULTS_NAME}[${slot.site}u], ${g}p); atomicStore(&${FAULTS_NAME}[${slot.values}u + ${g}p], bitcast<u32>(${g})); ${g} = 0i; }`,
          );
          off = `${off} + ${e.indirect.stride}i * ${g}`;
        }
        const v = `${this.names.buffer(e.buffer)}[${off}]`;
        return e.dtype === 'bool' ? `(${v} != 0u)` : v;
      }
      case 'unary':
        return wgslUnary(e.op, e.dtype, this.emit(e.x), this.useHelper);
      case 'binary':
        return wgslBinary(e.op, e.dtype, this.emit(e.a), this.emit(e.b), this.useHelper);
      case 'compare':
        return wgslCompare(e.op, this.emit(e.a), this.emit(e.b));
      case 'select':
        return `select(${this.emit(e.b)}, ${this.emit(e.a)}, ${this.emit(e.cond)})`;
      case 'cast':
        return wgslCast(e.x.dtype, e.dtype, this.emit(e.x), this.useHelper);
    }
  }
}

/** The WGSL that stores value `v` of `dtype` into a storage element (bool becomes a u32 0/1). */
export function wgslStoreValue(dtype: DType, v: string): string {
  return dtype === 'bool' ? `select(0u, 1u, ${v})` : v;
}

/** The storage element type of a dtype, re-exported for emitters. */
export { wgslStorageType };
