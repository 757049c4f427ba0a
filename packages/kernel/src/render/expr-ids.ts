import type { Expr } from '../expr.ts';

/**
 * Structural identities of expressions (hash-consing, as jax-js's AluExp and
 * tinygrad's UOp cache): two sub-expressions built apart get the same id
 * exactly when they are the same computation. Each node's key is its own
 * fields plus its children's ids, so a key is short and each node is keyed
 * once (ids are cached per object): linear in the size of the expressions.
 * One instance serves one code-generation scope (a kernel's point, a loop
 * body): ids are small integers, nothing outlives the scope.
 */
export class ExprIds {
  private readonly byObject = new Map<Expr, number>();
  private readonly byKey = new Map<string, number>();

  /** The id of `e`'s structure. */
  id(e: Expr): number {
    const known = this.byObject.get(e);
    if (known !== undefined) return known;
    const key = this.key(e);
    let id = this.byKey.get(key);
    if (id === undefined) {
      id = this.byKey.size;
      this.byKey.set(key, id);
    }
    this.byObject.set(e, id);
    return id;
  }

  private key(e: Expr): string {
    switch (e.k) {
      case 'const':
        // -0 and 0 differ (1 / x tells them apart); NaN is one value.
        return `c${e.dtype}${Object.is(e.value, -0) ? '-0' : e.value}`;
      case 'axis':
        return `a${e.axis}`;
      case 'ref':
        return `r${e.dtype}:${e.name}`;
      case 'load': {
        const ind = e.indirect;
        const indirect = ind ? `|${this.id(ind.index)},${ind.stride},${ind.extent},${ind.site.node}` : '';
        return `l${e.dtype}${e.buffer}@${e.map.offset}:${e.map.strides.join(',')}${indirect}`;
      }
      case 'unary':
        return `u${e.dtype}${e.op}(${this.id(e.x)})`;
      case 'cast':
        return `t${e.dtype}(${this.id(e.x)})`;
      case 'binary':
        return `b${e.dtype}${e.op}(${this.id(e.a)},${this.id(e.b)})`;
      case 'compare':
        return `p${e.op}(${this.id(e.a)},${this.id(e.b)})`;
      case 'select':
        return `s(${this.id(e.cond)},${this.id(e.a)},${this.id(e.b)})`;
    }
  }
}
