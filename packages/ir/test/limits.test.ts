/**
 * Sizes the IR can state but not hold: element counts above 2^53 - 1 are a
 * type error at the node that makes them, and the interpreter refuses a
 * tensor larger than one array holds before allocating it, naming the node.
 * Nothing here allocates more than a few bytes: the checks come first.
 */
import { describe, expect, it } from 'vitest';
import { MAX_ARRAY_ELEMENTS, OpTypeError, ProgramBuilder, TesseraError, interpret, parseProgram, tensorType } from '../src/index.ts';

describe('sizes beyond what the IR or the interpreter holds', () => {
  it('tensorType refuses a shape whose element count is above 2^53 - 1', () => {
    expect(() => tensorType('f32', [2 ** 30, 2 ** 30, 2 ** 30])).toThrow(/shape \[1073741824,1073741824,1073741824\] has 1\.2379400392853803e\+27 elements, more than 2\^53 - 1/);
    expect(() => tensorType('f32', [2 ** 26, 2 ** 26])).not.toThrow();
  });

  it('an op whose result has more than 2^53 - 1 elements is a type error naming the op and its operands, at its location', () => {
    const b = new ProgramBuilder('outer');
    const x = b.input('x', tensorType('f32', [2 ** 27, 1]));
    const y = b.input('y', tensorType('f32', [1, 2 ** 27]));
    const loc = { file: 'model.ts', line: 12, col: 5 };
    let error: unknown;
    try {
      b.emit('add', [x, y], {}, { loc });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(OpTypeError);
    expect((error as OpTypeError).loc).toEqual(loc);
    expect(String(error)).toMatch(/model\.ts:12:5: add\(f32\[134217728,1\], f32\[1,134217728\]\): the result shape \[134217728,134217728\] has 18014398509481984 elements, more than 2\^53 - 1/);
  });

  it('the interpreter refuses a value larger than one array holds, naming the node and its line, before allocating it', () => {
    const p = parseProgram(
      ['program @big', '%0 = iota() {shape = [100000, 100000], axis = 1, dtype = f32} : f32[100000,100000]', '%1 = reduce_sum(%0) {axes = [0, 1]} : f32[]', 'output y = %1'].join('\n'),
      'big.tir',
    );
    let error: unknown;
    try {
      interpret(p, {});
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(TesseraError);
    expect(String(error)).toBe(
      `TesseraError: big.tir:2:1: %0 = iota(...): its value f32[100000,100000] has 10000000000 elements, more than the interpreter holds in one array (${MAX_ARRAY_ELEMENTS})`,
    );
  });
});
