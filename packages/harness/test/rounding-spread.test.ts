import { describe, expect, it } from 'vitest';
import { interpret, parseProgram, toHost } from '@tessera/ir';
import { describeMismatch, interpretInF32, mismatchVsInterpreter, roundingAllowance } from '../src/index.ts';
import { ILL_CONDITIONED, ILL_CONDITIONED_INPUTS } from './ill-conditioned.ts';

const f = Math.fround;

/** The layer norm as an f32 backend computes it: every step rounded to f32 (the mean, the differences, the variance, the scale). */
function layerNormInF32(x: Float32Array, w: Float32Array, eps: number): Float32Array {
  const mean = f(f(x[0]! + x[1]!) / 2);
  const d = Array.from(x, (v) => f(v - mean));
  const variance = f(f(f(d[0]! * d[0]!) + f(d[1]! * d[1]!)) / 2);
  const scale = f(1 / f(Math.sqrt(f(variance + eps))));
  return Float32Array.from(d, (di, i) => f(f(di * scale) * w[i]!));
}

describe('the spread of f32 rounding through a program, added where the policy alone fails', () => {
  it('accepts a correct f32 evaluation of an ill-conditioned program that the policy alone rejects', () => {
    const expected = toHost(interpret(ILL_CONDITIONED, ILL_CONDITIONED_INPUTS).y!);
    const f32 = layerNormInF32(ILL_CONDITIONED_INPUTS.x, ILL_CONDITIONED_INPUTS.w, 0.01);
    // About 2.9e-5 from the float64 value, against 1.6e-5 allowed by the policy at L = 2.
    expect(describeMismatch(f32, expected, { reductionLength: 2 })).toContain('2 of 2 elements differ');
    expect(mismatchVsInterpreter(ILL_CONDITIONED, ILL_CONDITIONED_INPUTS, { y: f32 })).toBeUndefined();
  });

  it('still rejects a wrong result of that program: the bias dropped, eps dropped, or one value off by 1e-3', () => {
    const withBias = { ...ILL_CONDITIONED_INPUTS, b: Float32Array.from([0.25, -0.5]) };
    const f32 = layerNormInF32(withBias.x, withBias.w, 0.01);
    expect(mismatchVsInterpreter(ILL_CONDITIONED, withBias, { y: f32 })).toContain("output 'y': 2 of 2 elements differ");
    expect(mismatchVsInterpreter(ILL_CONDITIONED, ILL_CONDITIONED_INPUTS, { y: layerNormInF32(ILL_CONDITIONED_INPUTS.x, ILL_CONDITIONED_INPUTS.w, 0) })).toContain('2 of 2 elements differ');
    const off = layerNormInF32(ILL_CONDITIONED_INPUTS.x, ILL_CONDITIONED_INPUTS.w, 0.01);
    off[1]! += 1e-3;
    const why = mismatchVsInterpreter(ILL_CONDITIONED, ILL_CONDITIONED_INPUTS, { y: off });
    expect(why).toContain('1 of 2 elements differ');
    expect(why).toContain('+ the spread of f32 rounding through the program at each element');
  });

  it('allows next to nothing where the program is well conditioned', () => {
    const p = parseProgram(`program @well_conditioned
input %a : f32[3,4]
input %b : f32[4,2]
%0 = matmul(%a, %b) : f32[3,2]
%1 = exp(%0) : f32[3,2]
output y = %1
`);
    const inputs = { a: Float32Array.from({ length: 12 }, (_, i) => 0.1 + i / 17), b: Float32Array.from({ length: 8 }, (_, i) => 0.3 + i / 13) };
    const expected = interpret(p, inputs);
    const allowance = roundingAllowance(p, inputs, expected).y!;
    // A few f32 roundings of each value: thousands of times below the policy's rtol of 1e-4 * sqrt(4).
    allowance.forEach((a, i) => expect(a).toBeLessThan(1e-6 * Math.abs(expected.y!.data[i]!)));
    expect(Math.max(...allowance)).toBeGreaterThan(0);
  });

  it('allows nothing where every value is exact in f32 and nothing sums, so a comparison of exact values cannot flip', () => {
    const p = parseProgram(`program @exact
input %x : f32[4]
input %y : f32[4]
%0 = add(%x, %y) : f32[4]
%1 = gt(%0, %y) : bool[4]
%2 = where(%1, %0, %x) : f32[4]
output z = %2
`);
    const inputs = { x: Float32Array.from([0, -1.5, 2, 0.25]), y: Float32Array.from([1, 1.5, -2, 3]) };
    expect([...roundingAllowance(p, inputs, interpret(p, inputs)).z!]).toEqual([0, 0, 0, 0]);
  });

  it('is seeded: the same program and inputs give the same allowance', () => {
    const expected = interpret(ILL_CONDITIONED, ILL_CONDITIONED_INPUTS);
    expect(roundingAllowance(ILL_CONDITIONED, ILL_CONDITIONED_INPUTS, expected).y).toEqual(roundingAllowance(ILL_CONDITIONED, ILL_CONDITIONED_INPUTS, expected).y);
  });
});

/**
 * round(x * 2.5) and x * 2.5 > 0.5 where the product is a tie in f32 only: 0.2 in f32 (0.200000003) gives 0.5 in f32
 * arithmetic, 0.5000000075 in float64; 1.4 in f32 (1.39999998) gives 3.5 and 3.49999994.
 */
const ON_A_BOUNDARY = parseProgram(`program @on_a_rounding_boundary
input %x : f32[3]
%c = constant() {shape = [], dtype = f32, value = [2.5]} : f32[]
%h = constant() {shape = [], dtype = f32, value = [0.5]} : f32[]
%0 = mul(%x, %c) : f32[3]
%1 = round(%0) : f32[3]
%2 = gt(%0, %h) : bool[3]
output r = %1
output above = %2
`);
const BOUNDARY_INPUTS = { x: Float32Array.from([0.2, 1.4, 1]) };

describe('a discontinuous op on a rounding boundary: the program evaluated in f32 is accepted too', () => {
  it('interpretInF32 rounds every f32 result as f32 arithmetic does, where the float64 interpreter does not', () => {
    expect([...toHost(interpretInF32(ON_A_BOUNDARY, BOUNDARY_INPUTS).r!)]).toEqual([0, 4, 2]);
    expect([...toHost(interpretInF32(ON_A_BOUNDARY, BOUNDARY_INPUTS).above!)]).toEqual([0, 1, 1]);
    expect([...toHost(interpret(ON_A_BOUNDARY, BOUNDARY_INPUTS).r!)]).toEqual([1, 3, 2]);
    expect([...toHost(interpret(ON_A_BOUNDARY, BOUNDARY_INPUTS).above!)]).toEqual([1, 1, 1]);
  });

  it("accepts an f32 backend's answers (PyTorch's in f32: round gives 0 and 4, the comparison false) and the float64 ones, and rejects others", () => {
    const f32 = { r: Float32Array.from([0, 4, 2]), above: Uint8Array.from([0, 1, 1]) };
    expect(mismatchVsInterpreter(ON_A_BOUNDARY, BOUNDARY_INPUTS, f32)).toBeUndefined();
    expect(mismatchVsInterpreter(ON_A_BOUNDARY, BOUNDARY_INPUTS, { r: Float32Array.from([1, 3, 2]), above: Uint8Array.from([1, 1, 1]) })).toBeUndefined();
    const wrongRound = mismatchVsInterpreter(ON_A_BOUNDARY, BOUNDARY_INPUTS, { ...f32, r: Float32Array.from([0, 4, 3]) });
    expect(wrongRound).toContain("output 'r': 1 of 3 elements differ");
    expect(wrongRound).toContain('or the same around the program evaluated with each op rounded to f32');
    expect(mismatchVsInterpreter(ON_A_BOUNDARY, BOUNDARY_INPUTS, { ...f32, above: Uint8Array.from([0, 1, 0]) })).toContain("output 'above': 1 of 3 elements differ");
  });
});
