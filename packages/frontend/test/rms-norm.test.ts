import { describe, expect, it } from 'vitest';
import { type Tensor, nn, ops, trace } from '../src/index.ts';
import { expectClose, run } from './helpers.ts';

describe('ops.rmsNorm and nn.RMSNorm', () => {
  it('nn.RMSNorm has a weight of the normalised shape (none without elementwise affine)', () => {
    expect([...new nn.RMSNorm([3, 4]).namedParameters()].map(([n, p]) => [n, p.shape])).toEqual([['weight', [3, 4]]]);
    expect([...new nn.RMSNorm(5, { elementwiseAffine: false }).namedParameters()]).toEqual([]);
  });

  it('one normalised axis is one rms_norm node; eps left to the op default unless given', () => {
    const p = trace((x: Tensor, w: Tensor) => ops.rmsNorm(x, 3, w), { x: 'f32[2,3]', w: 'f32[3]' });
    expect(p.nodes.map((n) => [n.op, n.attrs])).toEqual([['rms_norm', { eps: 2 ** -23 }]]);
    const q = trace((x: Tensor) => ops.rmsNorm(x, [3], null, 0.5), { x: 'f32[2,3]' });
    expect(q.nodes[0]!.attrs).toEqual({ eps: 0.5 });
  });

  it('several normalised axes are one row of their product, as PyTorch', () => {
    const x = [1, 2, 3, 4, 5, 6, -1, -2, 0, 0, 7, 1];
    const w = [1, 0.5, 2, 1, -1, 3];
    const p = trace((t: Tensor, g: Tensor) => ops.rmsNorm(t, [2, 3], g, 0), { t: 'f32[2,2,3]', g: 'f32[2,3]' });
    const rows = [x.slice(0, 6), x.slice(6)].flatMap((r) => {
      const rms = Math.sqrt(r.reduce((s, v) => s + v * v, 0) / r.length);
      return r.map((v, j) => (v / rms) * w[j]!);
    });
    expectClose(run(p, { t: x, g: w }), rows, 1e-6);
    expect(p.nodes[p.nodes.length - 1]!.type.shape).toEqual([2, 2, 3]);
  });

  it('a normalised shape that is not the trailing extents is a located error', () => {
    expect(() => trace((t: Tensor) => ops.rmsNorm(t, [3, 2]), { t: 'f32[2,2,3]' })).toThrow(/rms-norm\.test\.ts:\d+:\d+.*normalized_shape \[3, 2\] must be the trailing extents of the input, whose shape is \[2, 2, 3\]/);
  });
});
