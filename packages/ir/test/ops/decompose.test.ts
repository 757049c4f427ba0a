import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type Attrs, type OpName, type Program, ProgramBuilder, compositeOps, decomposeProgram, tensorType, verify } from '../../src/index.ts';
import { type Arg, RUNS, arg, argArb, broadcastShapesArb, expectClose, extentArb, f32Arb, inputsOf, magnitude, runProgram, shapeArb, singleOpProgram, uniformArb } from './harness.ts';
import { broadcastShape } from './naive.ts';

const COMPOSITES = new Set(compositeOps().map((d) => d.name));

/**
 * Checks composite == decomposition for one program: the decomposition has no
 * composite op left, verifies, and gives the same outputs (NaN where NaN)
 * within `rtol` relative, with an absolute floor of rtol * scale.
 */
function expectSameAsDecomposition(p: Program, inputs: Record<string, number[]>, rtol = 1e-12, scale = 1): void {
  const d = decomposeProgram(p);
  expect(d.nodes.filter((n) => COMPOSITES.has(n.op)).map((n) => n.op)).toEqual([]);
  expect(verify(d)).toEqual([]);
  expect(d.inputs).toEqual(p.inputs);
  expect(d.outputs.map((o) => o.name)).toEqual(p.outputs.map((o) => o.name));
  for (const o of p.outputs) {
    const want = runProgram(p, inputs, o.name);
    const got = runProgram(d, inputs, o.name);
    expect(got.shape).toEqual(want.shape);
    expectClose(got.data, want.data, `${o.name}: decomposition vs composite`, rtol, scale);
  }
}

/** One composite op applied to operands, checked against its decomposition. */
function check(op: OpName, args: readonly Arg[], attrs: Attrs = {}, rtol = 1e-12, scale = 1): void {
  expectSameAsDecomposition(singleOpProgram(op, args, attrs), inputsOf(args), rtol, scale);
}

/** Query and key values small enough that softmax rows rarely saturate to one-hot. */
const qkArb = uniformArb(-2, 2).map(Math.fround);

/** f32 values with -inf now and then (masked logits). */
const logitArb = fc.oneof({ arbitrary: f32Arb, weight: 8 }, { arbitrary: fc.constant(-Infinity), weight: 1 });

/** Attention operands: broadcast batch axes, a mask of the given kind broadcasting to the scores. */
const attentionCase = (maskKinds: readonly ('none' | 'bool' | 'f32')[], dArb = extentArb()) =>
  fc.tuple(broadcastShapesArb(3, 2), extentArb(), extentArb(), dArb, extentArb(), fc.constantFrom(...maskKinds)).chain(([[bq, bk, bv], tq, tk, d, dv, kind]) => {
    const scores = [...broadcastShape(bq!, bk!, bv!), tq, tk];
    const mask: fc.Arbitrary<Arg | undefined> =
      kind === 'none'
        ? fc.constant(undefined)
        : fc
            .tuple(fc.integer({ min: 0, max: scores.length }), fc.array(fc.boolean(), { minLength: scores.length, maxLength: scores.length }))
            .map(([drop, ones]) => scores.map((e, a) => (ones[a] ? 1 : e)).slice(drop))
            .chain((s) => (kind === 'bool' ? argArb('bool', s) : argArb('f32', s, logitArb)));
    return fc.tuple(argArb('f32', [...bq!, tq, d], qkArb), argArb('f32', [...bk!, tk, d], qkArb), argArb('f32', [...bv!, tk, dv]), mask);
  });

describe('composite == decomposition', () => {
  it('softmax: random shapes and axes, values with -inf', () => {
    const cases = shapeArb(1, 4).chain((s) => fc.tuple(fc.integer({ min: -s.length, max: s.length - 1 }), argArb('f32', s, logitArb)));
    fc.assert(
      fc.property(cases, ([axis, x]) => check('softmax', [x], { axis })),
      { numRuns: RUNS.medium },
    );
  });

  it('layer_norm: random shapes, weights, biases and eps', () => {
    const cases = fc
      .tuple(shapeArb(0, 2), extentArb(6), fc.constantFrom(0, 1e-5, 1e-6, 2 ** -10, 0.1, 1))
      .chain(([lead, d, eps]) => fc.tuple(argArb('f32', [...lead, d]), argArb('f32', [d]), argArb('f32', [d]), fc.constant(eps)));
    fc.assert(
      fc.property(cases, ([x, w, b, eps]) => check('layer_norm', [x, w, b], { eps }, 1e-12, magnitude(w.data, b.data) * 3)),
      { numRuns: RUNS.medium },
    );
  });

  // A row whose variance is far below eps makes eps matter: composite and decomposition must hold the same eps.
  it('layer_norm: default eps 1e-5 on a low-variance row', () => {
    check('layer_norm', [arg('f32', [2], [1, Math.fround(1.001)]), arg('f32', [2], [1, 1]), arg('f32', [2], [0, 0])]);
  });

  for (const approximate of ['none', 'tanh']) {
    it(`gelu (${approximate}): random shapes and values`, () => {
      fc.assert(
        fc.property(shapeArb(0, 3).chain((s) => argArb('f32', s)), (x) => check('gelu', [x], { approximate }, 1e-12, magnitude(x.data))),
        { numRuns: RUNS.medium },
      );
    });
  }

  it('attention: no mask, bool mask, additive mask, broadcast batch axes, default or given scale', () => {
    fc.assert(
      fc.property(attentionCase(['none', 'bool', 'f32']), fc.option(fc.oneof(f32Arb, uniformArb(-2, 2))), ([q, k, v, mask], scale) => {
        const args = mask ? [q, k, v, mask] : [q, k, v];
        check('attention', args, scale === null ? {} : { scale }, 1e-12, magnitude(v.data));
      }),
      { numRuns: RUNS.medium },
    );
  });

  // Scales f32 cannot hold: the default 1/sqrt(3), and 0.1.
  it('attention: default scale 1/sqrt(3), and scale 0.1', () => {
    const q = arg('f32', [2, 3], [1, -2, 0.5, 3, 1, -1]);
    const k = arg('f32', [2, 3], [0.25, 2, -1, 1, 1, 1]);
    const v = arg('f32', [2, 2], [1, 2, -3, 4]);
    check('attention', [q, k, v], {}, 1e-12, 4);
    check('attention', [q, k, v], { scale: 0.1 }, 1e-12, 4);
  });

  for (const op of ['argmax', 'argmin'] as const) {
    it(`${op}: random shapes and axes, ties, NaN and infinities, f32 and i32, keepdims both ways`, () => {
      const values = fc.oneof(fc.integer({ min: -2, max: 2 }), fc.constantFrom(NaN, Infinity, -Infinity));
      const cases = fc
        .tuple(shapeArb(1, 4), fc.constantFrom('f32', 'i32' as const), fc.boolean())
        .chain(([s, dtype, keepdims]) =>
          fc.tuple(fc.integer({ min: -s.length, max: s.length - 1 }), fc.constant(keepdims), argArb(dtype, s, dtype === 'f32' ? values : fc.integer({ min: -2, max: 2 }))),
        );
      fc.assert(
        fc.property(cases, ([axis, keepdims, x]) => check(op, [x], { axis, keepdims })),
        { numRuns: RUNS.medium },
      );
    });
  }

  it('logsumexp: random shapes, axis lists and keepdims, values with infinities', () => {
    const values = fc.oneof({ arbitrary: f32Arb, weight: 6 }, { arbitrary: fc.constantFrom(Infinity, -Infinity), weight: 1 });
    const cases = shapeArb(1, 4).chain((s) => fc.tuple(fc.shuffledSubarray([...s.keys()], { minLength: 1 }), fc.boolean(), argArb('f32', s, values)));
    fc.assert(
      fc.property(cases, ([axes, keepdims, x]) => check('logsumexp', [x], { axes, keepdims }, 1e-12, magnitude(x.data))),
      { numRuns: RUNS.medium },
    );
  });

  it('log_softmax: random shapes and axes, values with -inf', () => {
    const cases = shapeArb(1, 4).chain((s) => fc.tuple(fc.integer({ min: -s.length, max: s.length - 1 }), argArb('f32', s, logitArb)));
    fc.assert(
      fc.property(cases, ([axis, x]) => check('log_softmax', [x], { axis }, 1e-12, magnitude(x.data))),
      { numRuns: RUNS.medium },
    );
  });

  it('a program chaining every composite decomposes to core ops only and verifies', () => {
    const b = new ProgramBuilder('chain');
    const x = b.input('x', tensorType('f32', [2, 3, 4]));
    const w = b.param('w', tensorType('f32', [4]));
    const bias = b.param('bias', tensorType('f32', [4]));
    const m = b.input('m', tensorType('bool', [3, 3]));
    const h = b.emit('layer_norm', [x, w, bias], { eps: 0.1 });
    const g = b.emit('gelu', [h], { approximate: 'none' });
    const a = b.emit('attention', [g, h, g, m]);
    b.output('y', b.emit('softmax', [a], { axis: 1 }));
    b.output('h', h);
    b.output('ls', b.emit('log_softmax', [a], { axis: 1 }));
    b.output('lse', b.emit('logsumexp', [h], { axes: [0, 2] }));
    b.output('amax', b.emit('argmax', [g], { axis: 2 }));
    b.output('amin', b.emit('argmin', [h], { axis: 0, keepdims: true }));
    const p = b.build();
    const d = decomposeProgram(p);
    expect(verify(d)).toEqual([]);
    expect(d.nodes.some((n) => COMPOSITES.has(n.op))).toBe(false);
    expect(d.nodes.length).toBeGreaterThan(p.nodes.length);
    const inputs = {
      x: Array.from({ length: 24 }, (_, i) => Math.fround(Math.sin(i))),
      w: [1, 0.5, -1, 2],
      bias: [0, 0.25, 0, -0.5],
      m: [1, 0, 1, 1, 1, 0, 0, 0, 1],
    };
    expectSameAsDecomposition(p, inputs, 1e-12, 4);
  });
});
