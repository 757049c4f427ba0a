import { describe, expect, it } from 'vitest';
import { ProgramBuilder, tensorType } from '@tessera/ir';
import { flopsOf } from '../src/index.ts';

describe('flopsOf', () => {
  it('counts the reductions, argmax/argmin, cumsum, logsumexp and log_softmax (hand-computed)', () => {
    const b = new ProgramBuilder('f');
    const x = b.input('x', tensorType('f32', [4, 5]));
    const i = b.input('i', tensorType('i32', [4, 5]));
    for (const op of ['reduce_min', 'reduce_prod', 'reduce_any', 'reduce_all'] as const) b.output(op, b.emit(op, [x], { axes: [1] }));
    b.output('amax', b.emit('argmax', [x], { axis: 0 }));
    b.output('amin', b.emit('argmin', [i], { axis: 1 }));
    b.output('cs', b.emit('cumsum', [x], { axis: 1 }));
    b.output('lse', b.emit('logsumexp', [x], { axes: [0, 1] }));
    b.output('ls', b.emit('log_softmax', [x]));
    // 20 input elements per reduction, argmax, argmin and cumsum (7 ops), 5 per element for logsumexp and log_softmax.
    expect(flopsOf(b.build())).toBe(7 * 20 + 5 * 20 + 5 * 20);
  });
});
