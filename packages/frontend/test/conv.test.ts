import { TesseraError } from '@tessera/ir';
import { describe, expect, it } from 'vitest';
import { type Tensor, nn, ops, trace } from '../src/index.ts';
import { run } from './helpers.ts';

describe('ops.conv2d and nn.Conv2d', () => {
  it('nn.Conv2d has PyTorch parameter names and shapes; bias: false leaves it out', () => {
    const conv = new nn.Conv2d(6, 4, 3, { groups: 2 });
    expect([...conv.namedParameters()].map(([n, p]) => [n, p.shape])).toEqual([
      ['weight', [4, 3, 3, 3]],
      ['bias', [4]],
    ]);
    const rect = new nn.Conv2d(2, 5, [1, 3], { bias: false });
    expect([...rect.namedParameters()].map(([n, p]) => [n, p.shape])).toEqual([['weight', [5, 2, 1, 3]]]);
  });

  it('F.conv2d arguments become the op attributes: one number for both axes, or (height, width)', () => {
    const p = trace((x: Tensor, w: Tensor) => ops.conv2d(x, w, null, { stride: 2, padding: [1, 0], dilation: [1, 2], groups: 1 }), { x: 'f32[1,2,7,9]', w: 'f32[3,2,3,3]' });
    expect(p.nodes.map((n) => [n.op, n.attrs])).toEqual([['conv2d', { stride: [2, 2], padding: [1, 0], dilation: [1, 2], groups: 1 }]]);
    expect(p.nodes[0]!.type.shape).toEqual([1, 3, 4, 3]);
    const valid = trace((x: Tensor, w: Tensor) => ops.conv2d(x, w, undefined, { padding: 'valid' }), { x: 'f32[1,2,7,9]', w: 'f32[3,2,3,3]' });
    expect(valid.nodes[0]!.attrs.padding).toEqual([0, 0]);
  });

  it("padding 'same' keeps the image size; an even kernel's odd zero goes after (bottom, right), as in PyTorch", () => {
    // 1x2 kernel [1, 10] on the row [1, 2, 3]: windows [1,2], [2,3], [3,0].
    const p = trace((x: Tensor, w: Tensor) => ops.conv2d(x, w, null, { padding: 'same' }), { x: 'f32[1,1,1,3]', w: 'f32[1,1,1,2]' });
    expect(p.nodes.map((n) => n.op)).toEqual(['pad', 'conv2d']);
    expect(run(p, { x: [1, 2, 3], w: [1, 10] })).toEqual([21, 32, 3]);
    // Odd kernels pad symmetrically, in the op itself.
    const odd = trace((x: Tensor, w: Tensor) => ops.conv2d(x, w, null, { padding: 'same', dilation: 2 }), { x: 'f32[1,1,4,5]', w: 'f32[1,1,3,3]' });
    expect(odd.nodes.map((n) => [n.op, n.attrs.padding])).toEqual([['conv2d', [2, 2]]]);
    expect(odd.nodes[0]!.type.shape).toEqual([1, 1, 4, 5]);
  });

  it('misuse is a located error that says what is wrong', () => {
    const same = () => trace((x: Tensor, w: Tensor) => ops.conv2d(x, w, null, { padding: 'same', stride: 2 }), { x: 'f32[1,1,4,4]', w: 'f32[1,1,3,3]' });
    expect(same).toThrow(TesseraError);
    expect(same).toThrow(/conv\.test\.ts:\d+:\d+.*padding='same' needs stride 1/);
    expect(() => trace((x: Tensor, w: Tensor) => ops.conv2d(x, w, null, { stride: [1, 2, 3] as never }), { x: 'f32[1,1,4,4]', w: 'f32[1,1,3,3]' })).toThrow(/stride \[1,2,3\] must be an integer or a pair of integers/);
    expect(() => new nn.Conv2d(3, 4, 3, { groups: 2 })).toThrow(/groups 2 must be a positive integer dividing in_channels \(3\) and out_channels \(4\)/);
    expect(() => new nn.Conv2d(3, 4, 3, { paddingMode: 'reflect' as never })).toThrow(/padding_mode 'reflect' is not supported/);
    // Shapes that do not fit are the op's type error, at the call.
    expect(() => trace((x: Tensor, w: Tensor) => ops.conv2d(x, w), { x: 'f32[1,2,4,4]', w: 'f32[1,3,3,3]' })).toThrow(/conv\.test\.ts:\d+:\d+.*3 input channels per group, expected 2/);
  });
});
