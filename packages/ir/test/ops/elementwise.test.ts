import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BINARY_OP_NAMES, type BinaryOp, COMPARE_OP_NAMES, type DType, OpTypeError, UNARY_OP_NAMES, keysOf } from '../../src/index.ts';
import { RUNS, arg, argArb, boolArb, broadcastShapesArb, expectClose, expectExact, f32SpecialArb, runOp, shapeArb, uniformArb, valueArb } from './harness.ts';
import { compares, f64Binary, f64Unary, i32Ops, naiveCast, naiveMap, nanMax, nanMin } from './naive.ts';

const f32 = (shape: number[], data: number[]) => arg('f32', shape, data);
const i32 = (shape: number[], data: number[]) => arg('i32', shape, data);
const bool = (shape: number[], data: number[]) => arg('bool', shape, data);

describe('unary ops against naive semantics', () => {
  it('covers every registered unary op', () => {
    expect([...UNARY_OP_NAMES].sort()).toEqual(Object.keys(f64Unary).sort());
  });

  for (const op of UNARY_OP_NAMES) {
    it(`f32 ${op}: random shapes and values (NaN, +-inf included)`, () => {
      fc.assert(
        fc.property(shapeArb(0, 3).chain((s) => argArb('f32', s, f32SpecialArb)), (x) => {
          const y = runOp(op, [x]);
          expect(y.dtype).toBe('f32');
          expect(y.shape).toEqual(x.shape);
          expectClose(y.data, x.data.map(f64Unary[op]!), op);
        }),
        { numRuns: 20 },
      );
    });
  }

  it('i32: neg and abs wrap like two\'s complement', () => {
    fc.assert(
      fc.property(fc.constantFrom('neg', 'abs'), shapeArb(0, 3).chain((s) => argArb('i32', s)), (op, x) => {
        const y = runOp(op, [x]);
        expect(y.dtype).toBe('i32');
        expectExact(y.data, x.data.map(i32Ops[op as 'neg' | 'abs']), op);
      }),
      { numRuns: RUNS.medium },
    );
  });

  it('hand-computed values', () => {
    const x = f32([6], [0, 4, -1, -0, Infinity, -Infinity]);
    expectExact(runOp('exp', [x]).data, [1, Math.exp(4), Math.exp(-1), 1, Infinity, 0]);
    expectExact(runOp('log', [x]).data, [-Infinity, Math.log(4), NaN, -Infinity, Infinity, NaN]);
    expectExact(runOp('sqrt', [x]).data, [0, 2, NaN, -0, Infinity, NaN]);
    expectExact(runOp('rsqrt', [x]).data, [Infinity, 0.5, NaN, -Infinity, 0, NaN]);
    expectExact(runOp('recip', [x]).data, [Infinity, 0.25, -1, -Infinity, 0, -0]);
    expectExact(runOp('neg', [x]).data, [-0, -4, 1, 0, -Infinity, Infinity]);
    expectExact(runOp('abs', [x]).data, [0, 4, 1, 0, Infinity, Infinity]);
    expectExact(runOp('tanh', [x]).data, [0, Math.tanh(4), Math.tanh(-1), -0, 1, -1]);
    expectExact(runOp('sin', [f32([2], [0, Math.fround(Math.PI / 2)])]).data, [0, Math.sin(Math.fround(Math.PI / 2))]);
    expectExact(runOp('cos', [f32([1], [0])]).data, [1]);
    expectExact(runOp('erf', [f32([4], [0, Infinity, -Infinity, NaN])]).data, [0, 1, -1, NaN]);
    for (const op of UNARY_OP_NAMES) expectExact(runOp(op, [f32([1], [NaN])]).data, [NaN], `${op}(NaN)`);
    expectClose(runOp('erf', [f32([2], [0.5, -1])]).data, [0.5204998778130465, -0.8427007929497149], 'erf', 1e-15);
    expectExact(runOp('neg', [i32([3], [-2147483648, 2147483647, 0])]).data, [-2147483648, -2147483647, 0]);
    expectExact(runOp('abs', [i32([3], [-2147483648, -5, 7])]).data, [-2147483648, 5, 7]);
  });

  it('rejects dtypes outside each op\'s class', () => {
    expect(() => runOp('exp', [i32([2], [1, 2])])).toThrow(OpTypeError);
    expect(() => runOp('exp', [i32([2], [1, 2])])).toThrow(/exp\(i32\[2\]\).*expected a float dtype/);
    expect(() => runOp('neg', [bool([1], [1])])).toThrow(/expected a numeric dtype/);
  });
});

describe('binary ops against naive semantics', () => {
  it('covers every registered binary op', () => {
    expect([...BINARY_OP_NAMES].sort()).toEqual(Object.keys(f64Binary).sort());
  });

  for (const op of BINARY_OP_NAMES) {
    it(`f32 ${op}: broadcast shapes, NaN and infinities`, () => {
      const cases = broadcastShapesArb(2).chain(([sa, sb]) => fc.tuple(argArb('f32', sa!, f32SpecialArb), argArb('f32', sb!, f32SpecialArb)));
      fc.assert(
        fc.property(cases, ([a, b]) => {
          const y = runOp(op, [a, b]);
          const want = naiveMap([a, b], ([p, q]) => f64Binary[op]!(p!, q!));
          expect(y.shape).toEqual(want.shape);
          expect(y.dtype).toBe('f32');
          expectClose(y.data, want.data, op);
        }),
        { numRuns: 40 },
      );
    });
  }

  const i32Binary = { add: i32Ops.add, sub: i32Ops.sub, mul: i32Ops.mul, max: nanMax, min: nanMin };
  for (const op of keysOf(i32Binary)) {
    it(`i32 ${op}: broadcast shapes, exact (add, sub, mul wrap to 32 bits, checked with BigInt)`, () => {
      const cases = broadcastShapesArb(2).chain(([sa, sb]) => fc.tuple(argArb('i32', sa!), argArb('i32', sb!)));
      fc.assert(
        fc.property(cases, ([a, b]) => {
          const y = runOp(op, [a, b]);
          const want = naiveMap([a, b], ([p, q]) => i32Binary[op](p!, q!));
          expect(y.dtype).toBe('i32');
          expect(y.shape).toEqual(want.shape);
          expectExact(y.data, want.data, op);
          for (const v of y.data) expect(Number.isInteger(v) && v >= -2147483648 && v <= 2147483647).toBe(true);
        }),
        { numRuns: 40 },
      );
    });
  }

  it('hand-computed: i32 wrapping', () => {
    const r = (op: BinaryOp, a: number, b: number) => runOp(op, [i32([], [a]), i32([], [b])]).data[0];
    expect(r('add', 2147483647, 1)).toBe(-2147483648);
    expect(r('add', -2147483648, -1)).toBe(2147483647);
    expect(r('sub', -2147483648, 1)).toBe(2147483647);
    expect(r('mul', 65536, 65536)).toBe(0);
    expect(r('mul', 2147483647, 2)).toBe(-2);
    expect(r('mul', 46341, 46341)).toBe(2147488281 - 4294967296); // 46341^2 = 2147488281
    expect(r('mul', -2147483648, -1)).toBe(-2147483648);
    expect(r('max', -2147483648, 2147483647)).toBe(2147483647);
  });

  it('hand-computed: f32 arithmetic, division by zero, pow, NaN propagation', () => {
    const r = (op: BinaryOp, a: number[], b: number[]) => runOp(op, [f32([a.length], a), f32([b.length], b)]).data;
    expectExact(r('add', [1.5, -2, NaN, Infinity], [2.25, 2, 1, -Infinity]), [3.75, 0, NaN, NaN]);
    expectExact(r('sub', [1, -1], [3, -0.5]), [-2, -0.5]);
    expectExact(r('mul', [-3, 0, Infinity], [0.5, -2, 0]), [-1.5, -0, NaN]);
    expectExact(r('div', [1, -1, 0, 3], [0, 0, 0, -4]), [Infinity, -Infinity, NaN, -0.75]);
    expectExact(r('pow', [2, -2, -8, 4, 0], [10, 3, Math.fround(1 / 3), 0.5, 0]), [1024, -8, NaN, 2, 1]);
    expectExact(r('max', [NaN, 1, -Infinity, 2], [1, NaN, 3, -5]), [NaN, NaN, 3, 2]);
    expectExact(r('min', [NaN, 1, -Infinity, 2], [1, NaN, 3, -5]), [NaN, NaN, -Infinity, -5]);
  });

  it('hand-computed: 1-sized axes broadcast in every binary op', () => {
    const a = f32([2, 1], [1, 2]);
    const b = f32([3], [10, 20, 30]);
    const y = runOp('add', [a, b]);
    expect(y.shape).toEqual([2, 3]);
    expectExact(y.data, [11, 21, 31, 12, 22, 32]);
    expectExact(runOp('sub', [a, b]).data, [-9, -19, -29, -8, -18, -28]);
    expectExact(runOp('mul', [a, b]).data, [10, 20, 30, 20, 40, 60]);
    expectExact(runOp('div', [b, a]).data, [10, 20, 30, 5, 10, 15]);
    expectExact(runOp('max', [a, f32([1, 3], [0, 1.5, 3])]).data, [1, 1.5, 3, 2, 2, 3]);
    expectExact(runOp('min', [a, f32([1, 3], [0, 1.5, 3])]).data, [0, 1, 1, 0, 1.5, 2]);
    expectExact(runOp('pow', [a, f32([], [3])]).data, [1, 8]);
    // Both operands broadcast at once: [1,2] x [3,1] -> [3,2].
    expectExact(runOp('add', [i32([1, 2], [1, 2]), i32([3, 1], [10, 20, 30])]).data, [11, 12, 21, 22, 31, 32]);
  });

  it('rejects mixed dtypes, integer div/pow and shapes that do not broadcast', () => {
    expect(() => runOp('add', [f32([2], [1, 2]), i32([2], [1, 2])])).toThrow(/add\(f32\[2\], i32\[2\]\).*same dtype/);
    expect(() => runOp('div', [i32([2], [1, 2]), i32([2], [1, 2])])).toThrow(/expected a float dtype/);
    expect(() => runOp('pow', [i32([1], [1]), i32([1], [1])])).toThrow(OpTypeError);
    expect(() => runOp('add', [f32([2, 3], [1, 2, 3, 4, 5, 6]), f32([4, 3], new Array(12).fill(0))])).toThrow(/do not broadcast/);
    expect(() => runOp('mul', [bool([1], [1]), bool([1], [1])])).toThrow(/numeric/);
  });
});

/** Values that often tie (where lt and le differ), plus the dtype's usual ones. */
const tiesArb = (dt: DType) => fc.oneof(valueArb(dt, true), dt === 'bool' ? boolArb : fc.constantFrom(-1, 0, 1, 2));

describe('comparisons against naive semantics', () => {
  it('covers every registered comparison', () => {
    expect([...COMPARE_OP_NAMES].sort()).toEqual(Object.keys(compares).sort());
  });

  for (const op of COMPARE_OP_NAMES) {
    it(`${op}: f32 and i32 (and bool for eq/ne), broadcast, result is bool`, () => {
      const dtypes: DType[] = op === 'eq' || op === 'ne' ? ['f32', 'i32', 'bool'] : ['f32', 'i32'];
      const cases = fc
        .constantFrom(...dtypes)
        .chain((dt) => broadcastShapesArb(2).chain(([sa, sb]) => fc.tuple(argArb(dt, sa!, tiesArb(dt)), argArb(dt, sb!, tiesArb(dt)))));
      fc.assert(
        fc.property(cases, ([a, b]) => {
          const y = runOp(op, [a, b]);
          const want = naiveMap([a, b], ([p, q]) => (compares[op]!(p!, q!) ? 1 : 0));
          expect(y.dtype).toBe('bool');
          expect(y.shape).toEqual(want.shape);
          expectExact(y.data, want.data, op);
        }),
        { numRuns: 40 },
      );
    });
  }

  it('hand-computed: NaN is unequal to everything, -0 equals 0', () => {
    const a = f32([4], [1, NaN, 3, -0]);
    const b = f32([4], [2, NaN, 3, 0]);
    expectExact(runOp('lt', [a, b]).data, [1, 0, 0, 0]);
    expectExact(runOp('le', [a, b]).data, [1, 0, 1, 1]);
    expectExact(runOp('gt', [a, b]).data, [0, 0, 0, 0]);
    expectExact(runOp('ge', [a, b]).data, [0, 0, 1, 1]);
    expectExact(runOp('eq', [a, b]).data, [0, 0, 1, 1]);
    expectExact(runOp('ne', [a, b]).data, [1, 1, 0, 0]);
    expectExact(runOp('eq', [bool([2, 1], [1, 0]), bool([2], [1, 0])]).data, [1, 0, 0, 1]);
    expect(() => runOp('lt', [bool([1], [1]), bool([1], [0])])).toThrow(OpTypeError);
  });
});

describe('where against naive semantics', () => {
  it('three-way broadcasting, any value dtype', () => {
    const cases = fc.constantFrom<DType>('f32', 'i32', 'bool').chain((dt) =>
      broadcastShapesArb(3).chain(([sc, sa, sb]) =>
        fc.tuple(argArb('bool', sc!, boolArb), argArb(dt, sa!, valueArb(dt, true)), argArb(dt, sb!, valueArb(dt, true))),
      ),
    );
    fc.assert(
      fc.property(cases, ([c, a, b]) => {
        const y = runOp('where', [c, a, b]);
        const want = naiveMap([c, a, b], ([p, q, r]) => (p ? q! : r!));
        expect(y.dtype).toBe(a.dtype);
        expect(y.shape).toEqual(want.shape);
        expectExact(y.data, want.data, 'where');
      }),
      { numRuns: RUNS.cheap },
    );
  });

  it('hand-computed: 1-sized cond axis and scalar branch', () => {
    const y = runOp('where', [bool([2, 1], [1, 0]), f32([3], [1, 2, 3]), f32([], [9])]);
    expect(y.shape).toEqual([2, 3]);
    expectExact(y.data, [1, 2, 3, 9, 9, 9]);
    const z = runOp('where', [bool([3], [0, 1, 0]), i32([2, 1], [-1, -2]), i32([1, 3], [7, 8, 9])]);
    expect(z.shape).toEqual([2, 3]);
    expectExact(z.data, [7, -1, 9, 7, -2, 9]);
  });

  it('rejects a non-bool cond and mismatched branches', () => {
    expect(() => runOp('where', [i32([1], [1]), f32([1], [1]), f32([1], [2])])).toThrow(/cond has dtype i32, expected bool/);
    expect(() => runOp('where', [bool([1], [1]), f32([1], [1]), i32([1], [2])])).toThrow(OpTypeError);
  });
});

describe('cast against naive semantics', () => {
  const wide = fc.oneof(f32SpecialArb, uniformArb(-5e9, 5e9).map(Math.fround), fc.constantFrom(NaN, Infinity, -Infinity, 2.5, -2.5, -0.5, 3e9, -3e9));
  for (const from of ['f32', 'i32', 'bool'] as const) {
    for (const to of ['f32', 'i32', 'bool'] as const) {
      it(`${from} -> ${to}`, () => {
        fc.assert(
          fc.property(shapeArb(0, 3).chain((shape) => argArb(from, shape, from === 'f32' ? wide.map(Math.fround) : valueArb(from))), (x) => {
            const y = runOp('cast', [x], { to });
            expect(y.dtype).toBe(to);
            expect(y.shape).toEqual(x.shape);
            expectExact(y.data, x.data.map((v) => naiveCast(v, to)), `cast ${from}->${to}`);
          }),
          { numRuns: 20 },
        );
      });
    }
  }

  it('hand-computed: truncation toward zero, saturation, NaN -> 0, x != 0 for bool', () => {
    const x = f32([10], [2.7, -2.7, NaN, 3e9, -3e9, Infinity, -Infinity, -0.5, 2147483520, -2147483648]);
    expectExact(runOp('cast', [x], { to: 'i32' }).data, [2, -2, 0, 2147483647, -2147483648, 2147483647, -2147483648, 0, 2147483520, -2147483648]);
    expectExact(runOp('cast', [f32([6], [0, -0, NaN, 0.1, -2, Infinity])], { to: 'bool' }).data, [0, 0, 1, 1, 1, 1]);
    expectExact(runOp('cast', [i32([4], [0, 5, -1, -2147483648])], { to: 'bool' }).data, [0, 1, 1, 1]);
    expectExact(runOp('cast', [bool([2], [1, 0])], { to: 'f32' }).data, [1, 0]);
    expectExact(runOp('cast', [bool([2], [1, 0])], { to: 'i32' }).data, [1, 0]);
    expectExact(runOp('cast', [i32([2], [-7, 123])], { to: 'f32' }).data, [-7, 123]);
  });
});
