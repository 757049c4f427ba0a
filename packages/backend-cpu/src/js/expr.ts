import type { DType } from '@tessera/ir';
import { type CastExpr, type IndexMap, type Indirect, type SelectExpr, StringRenderer } from '@tessera/kernel';
import { JS_CODE, jsCast, jsConst } from './scalar.ts';

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
 * Renders scalar expressions as JavaScript (the shared ExprRenderer with the
 * JS code table): shared sub-expressions become `const` temporaries and
 * gathers checked index temporaries (GATHER_FAULT), so `stmts` must be
 * written before the values.
 */
export class JsRenderer extends StringRenderer<JsNames> {
  protected readonly table = JS_CODE;

  protected declare(name: string, _dtype: DType, code: string): string {
    return `const ${name} = ${code};`;
  }

  protected constant(dtype: DType, value: number): string {
    return jsConst(dtype, value);
  }

  protected int(v: number): string {
    return String(v);
  }

  protected offset(map: IndexMap): string {
    return jsOffset(map, this.names);
  }

  protected checkIndex(g: string, index: string, { extent, site }: Indirect): string[] {
    return [`let ${g} = ${index};`, `if (!(${g} >= 0 && ${g} < ${extent})) ${g} = ${GATHER_FAULT}(${JSON.stringify(site.node)}, ${jsOffset(site.position, this.names)}, ${g});`];
  }

  protected element(buffer: number, offset: string, dtype: DType): string {
    const v = `${this.names.buffer(buffer)}[${offset}]`;
    return dtype === 'bool' ? `(${v} !== 0)` : v;
  }

  protected select(_e: SelectExpr, cond: string, a: string, b: string): string {
    return `(${cond} ? ${a} : ${b})`;
  }

  protected cast(e: CastExpr, x: string): string {
    return jsCast(e.x.dtype, e.dtype, x, this.use);
  }
}

/** The JS that stores value `v` of `dtype` (bool becomes 0/1). */
export function jsStoreValue(dtype: DType, v: string): string {
  return dtype === 'bool' ? `(${v} ? 1 : 0)` : v;
}
