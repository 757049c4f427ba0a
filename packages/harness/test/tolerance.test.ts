import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { F32_TOLERANCE, allClose, compareClose, describeMismatch, effectiveTolerance, elementClose } from '../src/index.ts';

/** Runs of each property in this file. */
const NUM_RUNS = 200;

describe('allClose: the tolerance policy |a - e| <= atol + rtol*|e|', () => {
  it('accepts equal values and differences inside atol + rtol*|e|, rejects just outside', () => {
    expect(allClose([1, 2, 3], [1, 2, 3])).toBe(true);
    // atol 1e-5 at e = 0.
    expect(allClose([0.9e-5], [0])).toBe(true);
    expect(allClose([1.1e-5], [0])).toBe(false);
    // At e = 100 the allowance is 1e-5 + 1e-2.
    expect(allClose([100.01], [100])).toBe(true);
    expect(allClose([100.0101], [100])).toBe(false);
    // Relative to the expected value, not the actual one.
    expect(allClose([200], [100])).toBe(false);
  });

  it('uses the documented f32 defaults', () => {
    expect(F32_TOLERANCE).toEqual({ atol: 1e-5, rtol: 1e-4 });
    expect(effectiveTolerance()).toEqual(F32_TOLERANCE);
  });

  it('NaN matches only NaN', () => {
    expect(allClose([NaN], [NaN])).toBe(true);
    expect(allClose([NaN], [1])).toBe(false);
    expect(allClose([1], [NaN])).toBe(false);
    expect(allClose([NaN], [Infinity])).toBe(false);
    expect(allClose([0], [NaN], { atol: 1e300, rtol: 1e300 })).toBe(false);
  });

  it('infinities must match exactly, however large the tolerance', () => {
    expect(allClose([Infinity, -Infinity], [Infinity, -Infinity])).toBe(true);
    expect(allClose([Infinity], [-Infinity])).toBe(false);
    expect(allClose([3.4e38], [Infinity], { rtol: 10 })).toBe(false);
    expect(allClose([Infinity], [3.4e38], { rtol: 10 })).toBe(false);
    expect(elementClose(-Infinity, -Infinity, { atol: 0, rtol: 0 })).toBe(true);
  });

  it('scales atol and rtol by sqrt(reductionLength)', () => {
    // 1.5e-5 at e = 0: beyond atol 1e-5 (L = 1) and 1.414e-5 (L = 2), inside 2e-5 (L = 4).
    expect(allClose([1.5e-5], [0])).toBe(false);
    expect(allClose([1.5e-5], [0], { reductionLength: 2 })).toBe(false);
    expect(allClose([1.5e-5], [0], { reductionLength: 4 })).toBe(true);
    // rtol: e = 1000, diff 0.25; allowance 0.10001 at L = 1, 0.30003 at L = 9.
    expect(allClose([1000.25], [1000])).toBe(false);
    expect(allClose([1000.25], [1000], { reductionLength: 9 })).toBe(true);
    expect(effectiveTolerance({ reductionLength: 16 })).toEqual({ atol: 4e-5, rtol: 4e-4 });
    expect(() => effectiveTolerance({ reductionLength: 0 })).toThrow(/reductionLength 0 must be >= 1/);
  });

  it('is exact for i32 and bool whatever the reduction length', () => {
    expect(allClose([5], [5], { dtype: 'i32' })).toBe(true);
    expect(allClose([5], [6], { dtype: 'i32', reductionLength: 10000 })).toBe(false);
    expect(allClose([1, 0], [1, 1], { dtype: 'bool' })).toBe(false);
    expect(effectiveTolerance({ dtype: 'i32', reductionLength: 100 })).toEqual({ atol: 0, rtol: 0 });
    // An explicit tolerance still applies (a caller's deliberate choice).
    expect(allClose([5], [6], { dtype: 'i32', atol: 1 })).toBe(true);
  });

  it('compares typed arrays of different kinds and rejects different lengths', () => {
    expect(allClose(Float32Array.of(0.1, 0.2), Float64Array.of(0.1, 0.2))).toBe(true);
    expect(allClose(Int32Array.of(1, 2), [1, 2], { dtype: 'i32' })).toBe(true);
    expect(allClose([1, 2], [1, 2, 3])).toBe(false);
    expect(compareClose([1, 2], [1, 2, 3]).lengths).toEqual({ actual: 2, expected: 3 });
  });

  it('property: a value matches itself (NaN and inf included)', () => {
    fc.assert(
      fc.property(fc.array(fc.double()), (xs) => allClose(xs, xs) && allClose(xs, xs, { atol: 0, rtol: 0 })),
      { numRuns: NUM_RUNS },
    );
  });

  it('property: a perturbation within half the allowance passes; one of twice the allowance fails', () => {
    fc.assert(
      fc.property(fc.array(fc.double({ min: -1e6, max: 1e6, noNaN: true }), { minLength: 1 }), fc.integer({ min: 1, max: 4096 }), (xs, len) => {
        const { atol, rtol } = effectiveTolerance({ reductionLength: len });
        const allowed = (e: number) => atol + rtol * Math.abs(e);
        const near = xs.map((e) => e + 0.5 * allowed(e));
        const far = xs.map((e, i) => (i === 0 ? e - 2 * allowed(e) : e));
        return allClose(near, xs, { reductionLength: len }) && !allClose(far, xs, { reductionLength: len });
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it('property: passing at one reduction length implies passing at any longer one', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.double({ noNaN: true }), fc.double({ noNaN: true }))), fc.integer({ min: 1, max: 100 }), fc.integer({ min: 0, max: 100 }), (pairs, l, more) => {
        const a = pairs.map((p) => p[0]);
        const e = pairs.map((p) => p[1]);
        return !allClose(a, e, { reductionLength: l }) || allClose(a, e, { reductionLength: l + more });
      }),
      { numRuns: NUM_RUNS },
    );
  });
});

describe('describeMismatch', () => {
  it('is undefined when the values match', () => {
    expect(describeMismatch([1, NaN], [1, NaN])).toBeUndefined();
  });

  it('counts mismatches, shows multi-indices, the worst one and the tolerance used', () => {
    const expected = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11];
    const actual = expected.map((v, i) => (i % 2 === 1 ? v + 0.5 : v));
    actual[10] = 100;
    const msg = describeMismatch(actual, expected, { reductionLength: 4 }, { what: 'out0', shape: [3, 4] })!;
    expect(msg).toMatch(/^out0: 7 of 12 elements differ/);
    expect(msg).toContain('|a - e| <= 0.00002 + 0.0002*|e| (scaled by sqrt(4))');
    expect(msg).toContain('[0,1] (flat 1): actual 1.5, expected 1');
    expect(msg).toContain('... 2 more; worst [2,2] (flat 10): actual 100, expected 10');
  });

  it('names special-value and length mismatches', () => {
    expect(describeMismatch([NaN], [1])).toContain('actual NaN, expected 1');
    expect(describeMismatch([1], [-Infinity])).toContain('expected -Infinity');
    expect(describeMismatch([1, 2], [1], {}, { what: 'logits' })).toBe('logits: 2 elements, expected 1');
  });
});
