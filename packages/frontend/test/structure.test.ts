import { describe, expect, it } from 'vitest';
import { type Tensor, ops, trace } from '../src/index.ts';
import { run } from './helpers.ts';

describe('expand, tril, triu and where with numbers', () => {
  it('x.expand(2, -1, 4): -1 keeps the extent; expandAs takes another tensor\'s shape', () => {
    const p = trace((x: Tensor) => x.expand(2, -1, 4), { x: 'f32[3,1]' });
    expect(p.nodes.map((n) => [n.op, n.attrs.shape])).toEqual([['broadcast_to', [2, 3, 4]]]);
    expect(run(p, { x: [1, 2, 3] }).slice(0, 8)).toEqual([1, 1, 1, 1, 2, 2, 2, 2]);
    expect(trace((x: Tensor, y: Tensor) => ops.expand(x, [-1, 5]).add(x.expandAs(y)), { x: 'f32[2,1]', y: 'f32[2,5]' }).nodes.at(-1)!.type.shape).toEqual([2, 5]);
    expect(() => trace((x: Tensor) => x.expand(-1, 3), { x: 'f32[3]' })).toThrow(/structure\.test\.ts:\d+:\d+.*-1 at axis 0 of \[-1,3\] is a new leading axis/);
  });

  it('tril and triu (methods and functions) with a diagonal offset', () => {
    const m = [1, 2, 3, 4, 5, 6];
    expect(run(trace((x: Tensor) => x.tril(), { x: 'f32[2,3]' }), { x: m })).toEqual([1, 0, 0, 4, 5, 0]);
    expect(run(trace((x: Tensor) => ops.triu(x, 1), { x: 'f32[2,3]' }), { x: m })).toEqual([0, 2, 3, 0, 0, 6]);
    expect(run(trace((x: Tensor) => ops.tril(x, -1), { x: 'i32[2,3]' }), { x: m })).toEqual([0, 0, 0, 4, 0, 0]);
  });

  it('where takes numbers for either branch and promotes as PyTorch does', () => {
    const where = (spec: string, f: (c: Tensor, x: Tensor) => Tensor) => trace(f, { c: 'bool[3]', x: spec });
    const cond = [1, 0, 1];
    const floats = where('f32[3]', (c, x) => ops.where(c, x, 0));
    expect(run(floats, { c: cond, x: [5, 6, 7] })).toEqual([5, 0, 7]);
    expect(floats.nodes.at(-1)!.type.dtype).toBe('f32');
    expect(run(where('f32[3]', (c, x) => ops.where(c, -1.5, x)), { c: cond, x: [5, 6, 7] })).toEqual([-1.5, 6, -1.5]);
    // An i32 tensor and 0.5: f32. An i32 tensor and an integer: i32. A bool tensor and 2: i32. Two integers: i32.
    const mixed = where('i32[3]', (c, x) => ops.where(c, x, 0.5));
    expect(mixed.nodes.at(-1)!.type.dtype).toBe('f32');
    expect(run(mixed, { c: cond, x: [5, 6, 7] })).toEqual([5, 0.5, 7]);
    expect(where('i32[3]', (c, x) => ops.where(c, x, 2)).nodes.at(-1)!.type.dtype).toBe('i32');
    expect(where('bool[3]', (c, x) => ops.where(c, x, 2)).nodes.at(-1)!.type.dtype).toBe('i32');
    const ints = where('f32[3]', (c) => ops.where(c, 1, 0));
    expect(ints.nodes.at(-1)!.type.dtype).toBe('i32');
    expect(run(ints, { c: cond, x: [0, 0, 0] })).toEqual([1, 0, 1]);
    expect(where('f32[3]', (c) => ops.where(c, 0, -Infinity)).nodes.at(-1)!.type.dtype).toBe('f32');
  });
});
