import { describe, expect, it } from 'vitest';
import { type DType, BINARY_OP_NAMES, COMPARE_OP_NAMES, UNARY_OP_NAMES, erf } from '@tessera/ir';
import {
  type CastExpr,
  type CodeTable,
  DECOMPOSE,
  E,
  type Expr,
  ExprIds,
  type IndexMap,
  type SelectExpr,
  StringRenderer,
  evalExpr,
  legalizeExpr,
  legalizeKernel,
  supportOf,
  walkExpr,
} from '../src/index.ts';

/** A generic source-text target: every op is written `op(a, b)`; erf is left to its decomposition. (Built from the op lists, so it is cast: a real target spells its table out.) */
const TEST_CODE = {
  target: 'test',
  unary: Object.fromEntries(UNARY_OP_NAMES.map((op) => [op, op === 'erf' ? DECOMPOSE : (_r: unknown, x: string) => `${op}(${x})`])),
  binary: Object.fromEntries(BINARY_OP_NAMES.map((op) => [op, (_r: unknown, a: string, b: string) => `${op}(${a}, ${b})`])),
  compare: Object.fromEntries(COMPARE_OP_NAMES.map((op) => [op, (_r: unknown, a: string, b: string) => `${op}(${a}, ${b})`])),
} as unknown as CodeTable<TestRenderer, string, string>;

class TestRenderer extends StringRenderer {
  protected readonly table = TEST_CODE;
  protected declare(name: string, _dtype: DType, code: string): string {
    return `${name} = ${code}`;
  }
  protected constant(_dtype: DType, value: number): string {
    return String(value);
  }
  protected int(v: number): string {
    return String(v);
  }
  protected offset(map: IndexMap): string {
    return String(map.offset);
  }
  protected checkIndex(g: string, index: string): string[] {
    return [`${g} = check(${index})`];
  }
  protected element(buffer: number, offset: string): string {
    return `b${buffer}[${offset}]`;
  }
  protected select(_e: SelectExpr, c: string, a: string, b: string): string {
    return `select(${c}, ${a}, ${b})`;
  }
  protected cast(e: CastExpr, x: string): string {
    return `${e.dtype}(${x})`;
  }
}

function render(...roots: Expr[]): { values: string[]; stmts: string[] } {
  const r = new TestRenderer({ axis: (a) => `a${a}`, ref: (n) => n }, () => {});
  for (const e of roots) r.count(e);
  const values = roots.map((e) => r.emit(e));
  return { values, stmts: r.stmts };
}

const x = () => E.load('f32', 0, { offset: 0, strides: [1] });
const y = () => E.load('f32', 1, { offset: 0, strides: [1] });

describe('the shared expression renderer', () => {
  it('gives structurally equal sub-expressions built apart one id, and different ones different ids', () => {
    const ids = new ExprIds();
    expect(ids.id(E.binary('mul', x(), y()))).toBe(ids.id(E.binary('mul', x(), y())));
    const distinct = [
      E.binary('mul', x(), y()),
      E.binary('mul', y(), x()),
      E.binary('add', x(), y()),
      E.const('f32', 0),
      E.const('f32', -0),
      E.const('i32', 0),
      E.load('f32', 0, { offset: 1, strides: [1] }),
      E.load('f32', 0, { offset: 0, strides: [2] }),
      E.cast('i32', x()),
      E.ref('f32', 'acc'),
      E.axis(0),
    ];
    expect(new Set(distinct.map((e) => ids.id(e))).size).toBe(distinct.length);
  });

  it('computes a sub-expression used twice once, however it was built (by structure, not object identity)', () => {
    // Two separately built mul(x, y): identity-based sharing would compute it twice.
    const { values, stmts } = render(E.binary('add', E.binary('mul', x(), y()), E.binary('mul', x(), y())));
    expect(stmts).toEqual(['t0 = mul(b0[0], b1[0])']);
    expect(values).toEqual(['add(t0, t0)']);
  });

  it('shares across the roots of one point, and keeps operands of a shared node inline', () => {
    const { values, stmts } = render(E.unary('exp', E.binary('mul', x(), y())), E.unary('log', E.binary('mul', x(), y())));
    // x and y are used once each (by the shared mul): no temporaries of their own.
    expect(stmts).toEqual(['t0 = mul(b0[0], b1[0])']);
    expect(values).toEqual(['exp(t0)', 'log(t0)']);
  });

  it('folds constant sub-trees with the interpreter semantics, for every target', () => {
    const big = E.const('i32', 2147483647);
    const { values } = render(
      E.binary('add', E.binary('mul', E.const('f32', 2), E.const('f32', 3)), x()),
      E.binary('add', big, E.const('i32', 1)),
      E.select(E.compare('lt', E.const('f32', 1), E.const('f32', 2)), E.const('f32', 7), E.const('f32', 8)),
    );
    expect(values).toEqual(['add(6, b0[0])', '-2147483648', '7']);
  });

  it('refuses an op its table leaves to the legaliser, naming the target and the op', () => {
    expect(() => render(E.unary('erf', x()))).toThrow("test: no code for op 'erf'; the kernel program was not legalised for this target");
  });
});

describe('the legaliser', () => {
  const supports = supportOf(TEST_CODE);

  it('rewrites ops a target has no code for into their registry decomposition (erf: within 1.5e-7)', () => {
    const e = E.unary('erf', E.load('f32', 0, { offset: 0, strides: [1] }));
    const legal = legalizeExpr(e, supports);
    const ops: string[] = [];
    walkExpr(legal, (n) => 'op' in n && ops.push(n.op));
    expect(ops).not.toContain('erf');
    expect(ops).toContain('div');
    const xs = Array.from({ length: 801 }, (_, i) => -4 + i / 100);
    for (const v of xs) expect(Math.abs(evalExpr(legal, [0], [Float64Array.of(v)], new Map()) - erf(v)), `erf(${v})`).toBeLessThan(1.5e-7);
    expect(() => render(legal)).not.toThrow();
  });

  it('keeps sharing: an operand used by a rewritten op stays one node', () => {
    const shared = E.binary('mul', x(), y());
    const legal = legalizeExpr(E.binary('add', E.unary('erf', shared), shared), supports);
    const muls = new Set<Expr>();
    walkExpr(legal, (n) => n.k === 'binary' && n.op === 'mul' && n.a.k === 'load' && muls.add(n));
    expect(muls.size).toBe(1);
  });

  it('returns the kernel itself when every op has code', () => {
    const k = { kind: 'map' as const, name: 'k', shape: [4], stores: [{ buffer: 1, map: { offset: 0, strides: [1] }, value: E.unary('exp', x()) }] };
    expect(legalizeKernel(k, supports)).toBe(k);
    const withErf = { ...k, stores: [{ ...k.stores[0]!, value: E.unary('erf', x()) }] };
    expect(legalizeKernel(withErf, supports)).not.toBe(withErf);
  });
});
