import type { DType } from '@tessera/ir';
import { type Expr, type IndexMap, walkExpr } from '@tessera/kernel';
import { jsBinary, jsCast, jsCompare, jsConst, jsUnary } from './scalar.ts';

/** Names the emitted code uses for buffers, axes and scalar refs. */
export interface JsNames {
  buffer(b: number): string;
  axis(a: number): string;
  ref(name: string): string;
}

/** Default names: `b3` for buffer 3, `a0` for axis 0, `r_name` for refs. */
export const DEFAULT_NAMES: JsNames = {
  buffer: (b) => `b${b}`,
  axis: (a) => `a${a}`,
  ref: (n) => `r_${n}`,
};

/**
 * The function generated kernels call on an out-of-range gather index, in
 * scope beside the buffers: `gatherFault(node, position, index)` records it
 * and returns the row to read instead (0).
 */
export const GATHER_FAULT = 'gatherFault';

/** The JS for an affine offset `off + s0*a0 + ...` (zero strides dropped). */
export function jsOffset(map: IndexMap, names: JsNames): string {
  const terms: string[] = [];
  if (map.offset !== 0) terms.push(String(map.offset));
  map.strides.forEach((s, a) => {
    if (s === 1) terms.push(names.axis(a));
    else if (s !== 0) terms.push(`${s} * ${names.axis(a)}`);
  });
  return terms.length ? terms.join(' + ') : '0';
}

/**
 * Emits scalar expressions as JavaScript. Sub-expressions used more than
 * once become `const` temporaries (CSE by identity), and gathers become
 * checked index temporaries (GATHER_FAULT), so `stmts` must be emitted
 * before the values.
 */
export class JsExprEmitter {
  readonly stmts: string[] = [];
  private readonly memo = new Map<Expr, string>();
  private readonly uses = new Map<Expr, number>();
  private temp = 0;

  constructor(
    private readonly names: JsNames,
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

  /** The JS expression for `e` (bool as a JS boolean). */
  emit(e: Expr): string {
    const hit = this.memo.get(e);
    if (hit) return hit;
    const code = this.emitUncached(e);
    if ((this.uses.get(e) ?? 0) > 1 && e.k !== 'const' && e.k !== 'axis' && e.k !== 'ref') {
      const t = this.fresh();
      this.stmts.push(`const ${t} = ${code};`);
      this.memo.set(e, t);
      return t;
    }
    return code;
  }

  private emitUncached(e: Expr): string {
    switch (e.k) {
      case 'const':
        return jsConst(e.dtype, e.value);
      case 'axis':
        return this.names.axis(e.axis);
      case 'ref':
        return this.names.ref(e.name);
      case 'load': {
        let off = jsOffset(e.map, this.names);
        if (e.indirect) {
          const { extent, site } = e.indirect;
          const g = this.fresh();
          this.stmts.push(`let ${g} = ${this.emit(e.indirect.index)};`);
          // Out of range: recorded (the runtime throws after the run) and row 0 read instead.
          this.stmts.push(`if (!(${g} >= 0 && ${g} < ${extent})) ${g} = ${GATHER_FAULT}(${JSON.stringify(site.node)}, ${jsOffset(site.position, this.names)}, ${g});`);
          off = `${off} + ${e.indirect.stride} * ${g}`;
        }
        const v = `${this.names.buffer(e.buffer)}[${off}]`;
        return e.dtype === 'bool' ? `(${v} !== 0)` : v;
      }
      case 'unary':
        return jsUnary(e.op, e.dtype, this.emit(e.x), this.useHelper);
      case 'binary':
        return jsBinary(e.op, e.dtype, this.emit(e.a), this.emit(e.b), this.useHelper);
      case 'compare':
        return jsCompare(e.op, this.emit(e.a), this.emit(e.b));
      case 'select':
        return `(${this.emit(e.cond)} ? ${this.emit(e.a)} : ${this.emit(e.b)})`;
      case 'cast':
        return jsCast(e.x.dtype, e.dtype, this.emit(e.x), this.useHelper);
    }
  }
}

/** The JS that stores value `v` of `dtype` (bool becomes 0/1). */
export function jsStoreValue(dtype: DType, v: string): string {
  return dtype === 'bool' ? `(${v} ? 1 : 0)` : v;
}
