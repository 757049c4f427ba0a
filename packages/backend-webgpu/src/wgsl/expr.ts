import type { DType } from '@tessera/ir';
import { type CastExpr, type IndexMap, type Indirect, type SelectExpr, StringRenderer } from '@tessera/kernel';
import { FAULTS_NAME, type FaultLayout } from './faults.ts';
import { WGSL_CODE, wgslCast, wgslConst, wgslStorageType, wgslType } from './scalar.ts';

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
 * Renders scalar expressions as WGSL (the shared ExprRenderer with the WGSL
 * code table): shared sub-expressions become `let` temporaries and gather
 * indices checked temporaries, so `stmts` must be written before the values.
 * Constant sub-trees are folded (WGSL rejects a const-expression that
 * overflows or is not finite, which run-time arithmetic allows).
 *
 * Gathers: WGSL cannot throw, so an index outside [0, extent) is recorded
 * in the faults buffer (see faults.ts; the runtime throws after the run)
 * and row 0 is read instead.
 */
export class WgslRenderer extends StringRenderer<WgslNames> {
  protected readonly table = WGSL_CODE;

  protected declare(name: string, dtype: DType, code: string): string {
    return `let ${name}: ${wgslType(dtype)} = ${code};`;
  }

  protected constant(dtype: DType, value: number): string {
    return wgslConst(dtype, value, this.use);
  }

  protected int(v: number): string {
    return `${v}i`;
  }

  protected offset(map: IndexMap): string {
    return wgslOffset(map, this.names);
  }

  protected checkIndex(g: string, index: string, { extent, site }: Indirect): string[] {
    const slot = this.names.faults.slots.get(site.node);
    if (!slot) throw new Error(`wgsl emitter: gather %${site.node} has no fault slot`);
    return [
      `var ${g} = ${index};`,
      `if (${g} < 0i || ${g} >= ${extent}i) { let ${g}p = u32(${wgslOffset(site.position, this.names)}); atomicMin(&${FAULTS_NAME}[${slot.site}u], ${g}p); atomicStore(&${FAULTS_NAME}[${slot.values}u + ${g}p], bitcast<u32>(${g})); ${g} = 0i; }`,
    ];
  }

  protected element(buffer: number, offset: string, dtype: DType): string {
    const v = `${this.names.buffer(buffer)}[${offset}]`;
    return dtype === 'bool' ? `(${v} != 0u)` : v;
  }

  protected select(_e: SelectExpr, cond: string, a: string, b: string): string {
    return `select(${b}, ${a}, ${cond})`;
  }

  protected cast(e: CastExpr, x: string): string {
    return wgslCast(e.x.dtype, e.dtype, x, this.use);
  }
}

/** The WGSL that stores value `v` of `dtype` into a storage element (bool becomes a u32 0/1). */
export function wgslStoreValue(dtype: DType, v: string): string {
  return dtype === 'bool' ? `select(0u, 1u, ${v})` : v;
}

/** The storage element type of a dtype, re-exported for emitters. */
export { wgslStorageType };
