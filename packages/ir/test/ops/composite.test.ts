import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ProgramBuilder, interpret, tensorType } from '../../src/index.ts';
import { type Arg, RUNS, arg, argArb, broadcastShapesArb, expectClose, expectExact, extentArb, f32Arb, magnitude, runOp, shapeArb, uniformArb } from './harness.ts';
import { alongAxis, broadcastShape, geluTanh, layerNormRow, naiveAttention, preciseGelu, softmaxRow } from './naive.ts';

/** Query and key values small enough that softmax rows rarely saturate to one-hot. */
const qkArb = uniformArb(-2, 2).map(Math.fround);

/** f32 values with -inf now and then (masked logits). */
const logitArb = fc.oneof({ arbitrary: f32Arb, weight: 8 }, { arbitrary: fc.constant(-Infinity), weight: 1 });

describe('softmax against a naive softmax', () => {
  it('random shapes, any axis, values with -inf', () => {
    const cases = shapeArb(1, 4).chain((shape) =>
      fc.tuple(fc.integer({ min: -shape.length, max: shape.length - 1 }), argArb('f32', shape, logitArb)),
    );
    fc.assert(
      fc.property(cases, ([axis, x]) => {
        const y = runOp('softmax', [x], { axis });
        const want = alongAxis(x, axis < 0 ? axis + x.shape.length : axis, softmaxRow);
        expect(y.shape).toEqual(x.shape);
        expectClose(y.data, want.data, 'softmax');
      }),
      { numRuns: RUNS.cheap },
    );
  });

  it('hand-computed: softmax([0, ln 2]) = [1/3, 2/3]; along axis 0', () => {
    // ln 2 is made inside the program (log of 2) so it is not rounded to f32 at the input.
    const b = new ProgramBuilder();
    const x = b.input('x', tensorType('f32', [2]));
    b.output('y', b.emit('softmax', [b.emit('log', [x])]));
    expectClose([...interpret(b.build(), { x: [1, 2] }).y!.data], [1 / 3, 2 / 3], 'softmax', 1e-15);
    const e = Math.E;
    const y = runOp('softmax', [arg('f32', [2, 2], [1, 2, 3, 3])], { axis: 0 });
    expectClose(y.data, [1 / (1 + e * e), 1 / (1 + e), (e * e) / (1 + e * e), e / (1 + e)], 'softmax axis 0', 1e-15);
    expectExact(runOp('softmax', [arg('f32', [4], [5, 5, 5, 5])]).data, [0.25, 0.25, 0.25, 0.25]);
  });

  it('-inf entries get 0; a row of only -inf is NaN (as PyTorch); NaN poisons its row', () => {
    const x = arg('f32', [3, 3], [0, -Infinity, 0, -Infinity, -Infinity, -Infinity, NaN, 1, 2]);
    expectExact(runOp('softmax', [x]).data, [0.5, 0, 0.5, NaN, NaN, NaN, NaN, NaN, NaN]);
    expectExact(runOp('softmax', [arg('f32', [2], [-Infinity, 7])]).data, [0, 1]);
  });
});

describe('layer_norm against a naive layer norm', () => {
  it('random shapes, weights, biases and eps', () => {
    const cases = fc
      .tuple(shapeArb(0, 2), extentArb(6), fc.constantFrom(0, 1e-5, 1e-3, 0.5))
      .chain(([lead, d, eps]) =>
        fc.tuple(argArb('f32', [...lead, d]), argArb('f32', [d]), argArb('f32', [d]), fc.constant(eps)),
      );
    fc.assert(
      fc.property(cases, ([x, w, b, eps]) => {
        const y = runOp('layer_norm', [x, w, b], { eps });
        const want = alongAxis(x, x.shape.length - 1, (row) => layerNormRow(row, w.data, b.data, eps));
        expect(y.shape).toEqual(x.shape);
        const d = x.shape[x.shape.length - 1]!;
        expectClose(y.data, want.data, 'layer_norm', 1e-12, magnitude(w.data, b.data) * Math.sqrt(d));
      }),
      { numRuns: RUNS.cheap },
    );
  });

  it('hand-computed: [1,2,3] with eps 0 is [-sqrt(3/2), 0, sqrt(3/2)]', () => {
    const x = arg('f32', [3], [1, 2, 3]);
    const s = Math.sqrt(1.5); // mean 2, biased variance 2/3, so 1/sqrt(2/3)
    expectClose(runOp('layer_norm', [x, arg('f32', [3], [1, 1, 1]), arg('f32', [3], [0, 0, 0])], { eps: 0 }).data, [-s, 0, s], 'ln', 1e-15);
    expectClose(runOp('layer_norm', [x, arg('f32', [3], [1, 2, 3]), arg('f32', [3], [0, 1, -1])], { eps: 0 }).data, [-s, 1, 3 * s - 1], 'ln', 1e-15);
    // Rows are independent: [[1,3],[5,5]] with eps 0.25: row 0 var 1 -> +-1/sqrt(1.25); row 1 var 0 -> 0.
    const r = 1 / Math.sqrt(1.25);
    expectClose(runOp('layer_norm', [arg('f32', [2, 2], [1, 3, 5, 5]), arg('f32', [2], [1, 1]), arg('f32', [2], [0, 0])], { eps: 0.25 }).data, [-r, r, 0, 0], 'ln', 1e-15);
    // eps 0 and a constant row: 0/0.
    expectExact(runOp('layer_norm', [arg('f32', [2], [4, 4]), arg('f32', [2], [1, 1]), arg('f32', [2], [0, 0])], { eps: 0 }).data, [NaN, NaN]);
  });

  it('errors: weight of the wrong length, negative eps', () => {
    const x = arg('f32', [2, 3], [1, 2, 3, 4, 5, 6]);
    expect(() => runOp('layer_norm', [x, arg('f32', [2], [1, 1]), arg('f32', [3], [0, 0, 0])])).toThrow(/weight has shape \[2\], expected \[3\]/);
    expect(() => runOp('layer_norm', [x, arg('f32', [3], [1, 1, 1]), arg('f32', [3], [0, 0, 0])], { eps: -1 })).toThrow(/must be >= 0/);
  });
});

describe('gelu against precise and formula values', () => {
  it('erf form equals x/2 (1 + erf(x c)), c = f32(1/sqrt 2), computed in BigInt fixed point', () => {
    const x = fc.oneof(uniformArb(-10, 10), fc.double({ min: -10, max: 10, noNaN: true })).map(Math.fround);
    fc.assert(
      fc.property(shapeArb(0, 2).chain((s) => argArb('f32', s, x)), (a) => {
        const y = runOp('gelu', [a]).data;
        expectClose(y, a.data.map((v) => preciseGelu(v)), 'gelu');
        // And it is the true gelu up to the f32 rounding of 1/sqrt 2 (relative 1.7e-8 in the erf argument).
        expectClose(y, a.data.map((v) => preciseGelu(v, true)), 'gelu vs exact constant', 1e-7);
      }),
      { numRuns: RUNS.medium },
    );
  });

  it('tanh form equals its formula', () => {
    fc.assert(
      fc.property(shapeArb(0, 3).chain((s) => argArb('f32', s)), (a) => {
        expectClose(runOp('gelu', [a], { approximate: 'tanh' }).data, a.data.map(geluTanh), 'gelu tanh');
      }),
      { numRuns: RUNS.medium },
    );
  });

  it('hand-computed: gelu(1) ~ Phi(1), gelu(-1) ~ -(1 - Phi(1)), gelu(0) = 0, limits', () => {
    // Phi(1) = 0.841344746068542948585..., 1 - Phi(1) = 0.158655253931457051415...; the op's
    // f32 constant 1/sqrt 2 (0.70710676908493042) moves these by about 4e-9.
    const y = runOp('gelu', [arg('f32', [5], [0, 1, -1, Infinity, -Infinity])]).data;
    expectClose(y.slice(0, 3), [0, 0.8413447460685429, -0.15865525393145705], 'gelu', 1e-8);
    expectClose(y.slice(0, 3), [0, preciseGelu(1), preciseGelu(-1)], 'gelu', 1e-15);
    expectExact(y.slice(3, 4), [Infinity]);
    // -inf * (1 + erf(-inf)) = -inf * 0 = NaN in the formula.
    expectExact(y.slice(4), [NaN]);
    const t = runOp('gelu', [arg('f32', [2], [0, 1])], { approximate: 'tanh' }).data;
    expectClose(t, [0, 0.5 * (1 + Math.tanh(Math.fround(Math.sqrt(2 / Math.PI)) * (1 + Math.fround(0.044715))))], 'gelu tanh', 1e-15);
    expectClose(t, [0, 0.5 * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * 1.044715))], 'gelu tanh', 1e-7);
    expect(() => runOp('gelu', [arg('f32', [1], [1])], { approximate: 'fast' })).toThrow(/expected one of "none", "tanh"/);
  });
});

describe('attention against a naive attention', () => {
  type MaskKind = 'none' | 'bool' | 'f32';
  /** q, k, v with broadcast batch axes; a mask broadcasting to the scores; default or explicit scale. */
  const cases = fc
    .tuple(broadcastShapesArb(3, 2), extentArb(), extentArb(), extentArb(), extentArb(), fc.constantFrom<MaskKind>('none', 'bool', 'f32'), fc.option(f32Arb))
    .chain(([[bq, bk, bv], tq, tk, d, dv, maskKind, scale]) => {
      const batch = broadcastShape(bq!, bk!, bv!);
      const scores = [...batch, tq, tk];
      const maskShape = fc
        .tuple(fc.integer({ min: 0, max: scores.length }), fc.array(fc.boolean(), { minLength: scores.length, maxLength: scores.length }))
        .map(([drop, ones]) => scores.map((e, a) => (ones[a] ? 1 : e)).slice(drop));
      const mask: fc.Arbitrary<Arg | undefined> =
        maskKind === 'none'
          ? fc.constant(undefined)
          : maskShape.chain((s) => (maskKind === 'bool' ? argArb('bool', s) : argArb('f32', s, logitArb)));
      return fc.tuple(argArb('f32', [...bq!, tq, d], qkArb), argArb('f32', [...bk!, tk, d], qkArb), argArb('f32', [...bv!, tk, dv]), mask, fc.constant(scale));
    });

  it('random shapes, broadcast batch axes, no / bool / additive masks, default or given scale', () => {
    fc.assert(
      fc.property(cases, ([q, k, v, mask, scale]) => {
        const attrs: Record<string, number> = scale === null ? {} : { scale };
        const y = runOp('attention', mask ? [q, k, v, mask] : [q, k, v], attrs);
        const s = scale ?? 1 / Math.sqrt(q.shape[q.shape.length - 1]!);
        const want = naiveAttention(q, k, v, s, mask ? { ...mask, dtype: mask.dtype as 'bool' | 'f32' } : undefined);
        expect(y.shape).toEqual(want.shape);
        expectClose(y.data, want.data, 'attention', 1e-12, magnitude(v.data));
      }),
      { numRuns: RUNS.cheap },
    );
  });

  it('hand-computed: one query over two keys, with and without masks', () => {
    const q = arg('f32', [1, 2], [1, 0]);
    const k = arg('f32', [2, 2], [1, 0, 0, 1]);
    const v = arg('f32', [2, 2], [1, 2, 3, 4]);
    // Scores [1, 0] (scale 1): p = [e/(1+e), 1/(1+e)].
    const p0 = Math.E / (1 + Math.E);
    const p1 = 1 / (1 + Math.E);
    expectClose(runOp('attention', [q, k, v], { scale: 1 }).data, [p0 + 3 * p1, 2 * p0 + 4 * p1], 'att', 1e-15);
    expectExact(runOp('attention', [q, k, v, arg('bool', [2], [1, 0])], { scale: 1 }).data, [1, 2]);
    expectExact(runOp('attention', [q, k, v, arg('bool', [1, 2], [0, 1])], { scale: 1 }).data, [3, 4]);
    expectExact(runOp('attention', [q, k, v, arg('f32', [2], [0, -Infinity])], { scale: 1 }).data, [1, 2]);
    // Additive mask [0, 1] makes both scores 1: the plain average of the values.
    expectExact(runOp('attention', [q, k, v, arg('f32', [2], [0, 1])], { scale: 1 }).data, [2, 3]);
    // Default scale 1/sqrt(4) = 0.5: scores [2*0.5, 0] = [1, 0] again.
    const q4 = arg('f32', [1, 4], [2, 0, 0, 0]);
    const k4 = arg('f32', [2, 4], [1, 0, 0, 0, 0, 0, 0, 0]);
    expectClose(runOp('attention', [q4, k4, v]).data, [p0 + 3 * p1, 2 * p0 + 4 * p1], 'att default scale', 1e-15);
  });

  it('a query row with every key masked out is NaN (softmax of all -inf)', () => {
    const q = arg('f32', [2, 1], [1, 2]);
    const k = arg('f32', [2, 1], [1, 1]);
    const v = arg('f32', [2, 1], [5, 7]);
    const y = runOp('attention', [q, k, v, arg('bool', [2, 2], [0, 0, 1, 0])], { scale: 1 });
    expectExact(y.data, [NaN, 5]);
  });

  it('errors: head sizes, key/value counts, mask dtype and shape', () => {
    const q = arg('f32', [2, 3], new Array(6).fill(0));
    const k = arg('f32', [4, 3], new Array(12).fill(0));
    const v = arg('f32', [4, 2], new Array(8).fill(0));
    expect(() => runOp('attention', [q, arg('f32', [4, 2], new Array(8).fill(0)), v])).toThrow(/head size 3 but k has 2/);
    expect(() => runOp('attention', [q, k, arg('f32', [3, 2], new Array(6).fill(0))])).toThrow(/4 keys but v has 3 values/);
    expect(() => runOp('attention', [q, k, v, arg('i32', [2, 4], new Array(8).fill(0))])).toThrow(/mask has dtype i32/);
    expect(() => runOp('attention', [q, k, v, arg('bool', [3, 4], new Array(12).fill(1))])).toThrow(/mask has shape \[3,4\]/);
  });
});

describe('sigmoid, silu and relu (PyTorch semantics, hand-checked)', () => {
  const x = arg('f32', [7], [0, 2, -2, Infinity, -Infinity, NaN, -0]);

  it('sigmoid = 1 / (1 + e^-x): 1/2 at 0, 1 and 0 at the infinities, NaN stays NaN; symmetric', () => {
    const e2 = Math.exp(-2);
    expectClose(runOp('sigmoid', [x]).data, [0.5, 1 / (1 + e2), e2 / (1 + e2), 1, 0, NaN, 0.5], 'sigmoid', 1e-15);
    fc.assert(
      fc.property(shapeArb(0, 2).chain((s) => argArb('f32', s)), (v) => {
        const pos = runOp('sigmoid', [v]).data;
        const neg = runOp('sigmoid', [arg('f32', v.shape, v.data.map((t) => -t))]).data;
        expectClose(pos.map((p, i) => p + neg[i]!), pos.map(() => 1), 'sigmoid(x) + sigmoid(-x)', 1e-15);
      }),
      { numRuns: RUNS.cheap },
    );
  });

  it('silu = x * sigmoid(x): 0 at 0, x at +inf, NaN at -inf (-inf * 0, as PyTorch)', () => {
    const e2 = Math.exp(-2);
    expectClose(runOp('silu', [x]).data, [0, 2 / (1 + e2), (-2 * e2) / (1 + e2), Infinity, NaN, NaN, -0], 'silu', 1e-15);
  });

  it('relu = max(x, 0): NaN stays NaN; i32 too', () => {
    expectExact(runOp('relu', [x]).data, [0, 2, 0, Infinity, 0, NaN, 0]);
    const y = runOp('relu', [arg('i32', [3], [-2147483648, 0, 7])]);
    expect(y.dtype).toBe('i32');
    expectExact(y.data, [0, 0, 7]);
    expect(() => runOp('sigmoid', [arg('i32', [1], [1])])).toThrow(/expected f32/);
    expect(() => runOp('relu', [arg('bool', [1], [1])])).toThrow(/expected a numeric dtype/);
  });
});

describe('clamp and logical_xor (PyTorch semantics, hand-checked)', () => {
  it('clamp = min(max(x, lo), hi), broadcasting all three; lo > hi gives hi; NaN anywhere gives NaN', () => {
    const x = arg('f32', [2, 3], [-5, 0.5, 5, NaN, -0.25, 3]);
    const y = runOp('clamp', [x, arg('f32', [3], [-1, 0, NaN]), arg('f32', [2, 1], [1, -2])]);
    expect(y.shape).toEqual([2, 3]);
    // Row 1 has hi = -2 below every lo: every element is hi (as torch.clamp with min > max).
    expectExact(y.data, [-1, 0.5, NaN, NaN, -2, NaN]);
    expectExact(runOp('clamp', [arg('i32', [4], [-9, 3, 9, 0]), arg('i32', [], [-1]), arg('i32', [], [4])]).data, [-1, 3, 4, 0]);
    expect(() => runOp('clamp', [arg('f32', [1], [0]), arg('i32', [1], [0]), arg('f32', [1], [1])])).toThrow(/operand min has dtype i32, expected f32 like x/);
  });

  it('logical_xor: exactly one nonzero, any dtypes, NaN counts as nonzero, bool result', () => {
    const y = runOp('logical_xor', [arg('f32', [5], [0, 0, 2.5, NaN, -0]), arg('i32', [5], [0, 3, -1, 0, 0])]);
    expect(y.dtype).toBe('bool');
    expectExact(y.data, [0, 1, 0, 1, 0]);
    expectExact(runOp('logical_xor', [arg('bool', [2, 1], [1, 0]), arg('bool', [2], [1, 0])]).data, [0, 1, 1, 0]);
  });
});
