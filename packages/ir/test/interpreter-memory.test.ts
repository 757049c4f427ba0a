import { describe, expect, it } from 'vitest';
import { MAX_INTERPRETER_BYTES, ProgramBuilder, interpret, interpreterPeak, tensorType } from '../src/index.ts';

describe('the interpreter holds each value only until its last use', () => {
  it('counts the peak of values alive at once, inputs from the start and outputs to the end', () => {
    const b = new ProgramBuilder('chain');
    const x = b.input('x', tensorType('f32', [1000]));
    const y = b.emit('exp', [b.emit('neg', [x])]);
    b.output('y', b.emit('abs', [y]));
    const p = b.build();
    // x and neg(x) at the first node; then neg(x) and exp, then exp and abs: never three at once.
    expect(interpreterPeak(p)).toEqual({ bytes: 2 * 8000, at: p.nodes[0]!.name });
    const out = interpret(p, { x: Float32Array.from({ length: 1000 }, (_, i) => i / 1000) });
    expect(out.y!.data[500]).toBeCloseTo(Math.exp(-0.5), 12);
  });

  it('refuses a program whose values would take more than MAX_INTERPRETER_BYTES at once, before allocating', () => {
    const b = new ProgramBuilder('huge');
    const n = Math.floor(MAX_INTERPRETER_BYTES / 8 / 2);
    const x = b.input('x', tensorType('i32', [2]));
    const big = b.emit('iota', [], { shape: [n], axis: 0, dtype: 'f32' });
    const bigger = b.emit('add', [big, b.emit('iota', [], { shape: [n], axis: 0, dtype: 'f32' })]);
    b.output('y', b.emit('reduce_sum', [bigger], { axes: [0] }));
    b.output('x', x);
    expect(() => interpret(b.build(), { x: Int32Array.of(1, 2) })).toThrow(/^program @huge needs 12\.0 GiB of float64 values at once \(at evaluating %\d+\), more than the reference interpreter holds \(8 GiB\)$/);
  });
});
