/**
 * Constant folding materialises every operand and its result as arrays at
 * compile time, so it folds nothing larger than MAX_FOLDED_ELEMENTS, in
 * either place, and keeps the op instead: a huge iota reduced to a scalar
 * used to be evaluated whole (7 GB for 30000x30000; a RangeError at
 * 100000x100000).
 */
import { describe, expect, it } from 'vitest';
import { type Program, ProgramBuilder, interpret, tensorType } from '@tessera/ir';
import { MAX_FOLDED_ELEMENTS, canonicalize } from '../src/index.ts';

/** reduce_sum(iota(shape)): a scalar computed from a constant-only tensor of `shape`. */
function reducedIota(shape: readonly number[]): Program {
  const b = new ProgramBuilder('reduced_iota');
  const iota = b.emit('iota', [], { shape, axis: shape.length - 1, dtype: 'f32' });
  b.output('y', b.emit('reduce_sum', [iota], { axes: shape.map((_, i) => i) }));
  return b.build();
}

const ops = (p: Program) => p.nodes.map((n) => n.op);

describe('constant folding stays within MAX_FOLDED_ELEMENTS', () => {
  it('folds a reduction whose operand is at the limit, to the value the interpreter computes', () => {
    const p = reducedIota([64, MAX_FOLDED_ELEMENTS / 64]);
    const folded = canonicalize(p);
    expect(ops(folded)).toEqual(['constant']);
    expect(interpret(folded, {}).y!.data[0]).toBe(interpret(p, {}).y!.data[0]);
  });

  it('keeps the ops when an operand is one element over the limit, though the result is a scalar', () => {
    const p = reducedIota([MAX_FOLDED_ELEMENTS + 1]);
    expect(ops(canonicalize(p))).toEqual(['iota', 'reduce_sum']);
  });

  it('keeps a 100000x100000 iota reduced to a scalar instead of materialising it (it used to end in a RangeError)', () => {
    const p = reducedIota([100_000, 100_000]);
    expect(ops(canonicalize(p))).toEqual(['iota', 'reduce_sum']);
    expect(canonicalize(p).nodes.find((n) => n.op === 'iota')!.type).toEqual(tensorType('f32', [100_000, 100_000]));
  });
});
