import { describe, expect, it } from 'vitest';
import { ProgramBuilder, decomposeProgram, interpret, parseProgram, tensorType, verify, OpTypeError } from '../src/index.ts';

describe('builder and interpreter', () => {
  it('builds, verifies and runs a small attention program, equal to its decomposition', () => {
    const b = new ProgramBuilder('att');
    const q = b.input('q', tensorType('f32', [2, 3, 4]));
    const k = b.input('k', tensorType('f32', [2, 5, 4]));
    const v = b.input('v', tensorType('f32', [2, 5, 2]));
    const m = b.input('m', tensorType('bool', [3, 5]));
    const o = b.emit('attention', [q, k, v, m]);
    b.output('o', o);
    const p = b.build();
    expect(verify(p)).toEqual([]);
    const rnd = (n: number) => Array.from({ length: n }, (_, i) => Math.sin(i * 1.7));
    const inputs = { q: rnd(24), k: rnd(40), v: rnd(20), m: Array.from({ length: 15 }, (_, i) => (i % 3 ? 1 : 0)) };
    const a = interpret(p, inputs).o!;
    const d = decomposeProgram(p);
    expect(verify(d)).toEqual([]);
    const bb = interpret(d, inputs).o!;
    for (let i = 0; i < a.data.length; i++) expect(a.data[i]).toBeCloseTo(bb.data[i]!, 12);
  });
  it('a decomposition keeps the names of the nodes it does not expand, and names its own nodes apart from them', () => {
    // tril expands into several nodes; with counter names they took '1', '2', ... and renamed the kept node '1' to '1_1'.
    const p = parseProgram('program @p\ninput %x : f32[3,3]\n%0 = tril(%x) : f32[3,3]\n%1 = neg(%0) : f32[3,3]\n%2 = exp(%1) : f32[3,3]\noutput y = %2\n');
    const d = decomposeProgram(p);
    expect(verify(d)).toEqual([]);
    const kept = d.nodes.filter((n) => n.op === 'neg' || n.op === 'exp').map((n) => n.name);
    expect(kept).toEqual(['1', '2']);
    const added = d.nodes.filter((n) => n.op !== 'neg' && n.op !== 'exp').map((n) => n.name);
    expect(added.length).toBeGreaterThan(1);
    expect(added.filter((n) => p.nodes.some((o) => o.name === n))).toEqual([]);
  });
  it('names the op and operand types on a type error', () => {
    const b = new ProgramBuilder();
    const x = b.input('x', tensorType('f32', [2, 3]));
    const y = b.input('y', tensorType('f32', [4, 5]));
    expect(() => b.emit('matmul', [x, y])).toThrow(OpTypeError);
    expect(() => b.emit('matmul', [x, y])).toThrow(/matmul\(f32\[2,3\], f32\[4,5\]\): contraction extents differ/);
  });
  it('treats input and output names that are prototype keys as ordinary names', () => {
    const p = parseProgram('program @p\ninput %constructor : f32[2]\n%y = add(%constructor, %constructor) : f32[2]\noutput __proto__ = %y\n');
    // Not given: an inherited Object.prototype.constructor does not count.
    expect(() => interpret(p, {})).toThrow('missing input(s) for program @p: constructor: f32[2]');
    const out = interpret(p, Object.fromEntries([['constructor', [1, 2]]]));
    expect(Object.keys(out)).toEqual(['__proto__']);
    expect(Array.from(out['__proto__']!.data)).toEqual([2, 4]);
  });
});
