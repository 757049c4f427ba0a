import { describe, expect, it } from 'vitest';
import { interpret, parseProgram, toHost } from '@tessera/ir';
import { hostTensor } from '@tessera/kernel';
import { mismatchVsInterpreter } from '../src/index.ts';

const P = parseProgram(`program @p
input %x : f32[2,2]
%y = mul(%x, %x) : f32[2,2]
%c = cast(%y) {to = i32} : i32[2,2]
output y = %y
output c = %c
`);
const X = Float32Array.from([1, -2, 3, 0.5]);

describe("mismatchVsInterpreter on run()'s tensors", () => {
  const ref = interpret(P, { x: X });
  const y = toHost(ref.y!);
  const c = toHost(ref.c!);

  it('passes tensors of the right values, dtype and dims, and bare values as before', () => {
    expect(mismatchVsInterpreter(P, { x: X }, { y: hostTensor(y as Float32Array, [2, 2]), c: hostTensor(c as Int32Array, [2, 2]) })).toBeUndefined();
    expect(mismatchVsInterpreter(P, { x: X }, { y, c })).toBeUndefined();
  });

  it('names an output whose dims or dtype differ from the interpreter\'s, even with the right values', () => {
    expect(mismatchVsInterpreter(P, { x: X }, { y: hostTensor(y as Float32Array, [4]), c: hostTensor(c as Int32Array, [2, 2]) })).toBe("output 'y' is f32[4], expected f32[2,2]");
    expect(mismatchVsInterpreter(P, { x: X }, { y: hostTensor(y as Float32Array, [2, 2]), c: hostTensor(Float32Array.from(c), [2, 2]) })).toBe("output 'c' is f32[2,2], expected i32[2,2]");
    expect(mismatchVsInterpreter(P, { x: X }, { y })).toBe("output 'c' is missing");
  });
});
