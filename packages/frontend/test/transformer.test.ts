import { describe, expect, it } from 'vitest';
import { nn, trace } from '../src/index.ts';
import { run } from './helpers.ts';

const names = (m: { namedParameters(): Iterable<[string, { shape: readonly number[] }]> }) => [...m.namedParameters()].map(([n, p]) => `${n} [${p.shape.join(',')}]`);

describe('nn.Transformer and its layers', () => {
  it("PyTorch's defaults and state_dict names, in PyTorch's order", () => {
    const t = new nn.Transformer({ numEncoderLayers: 1, numDecoderLayers: 1 });
    expect([t.dModel, t.nhead]).toEqual([512, 8]);
    expect(names(t)).toEqual([
      'encoder.layers.0.self_attn.in_proj_weight [1536,512]',
      'encoder.layers.0.self_attn.in_proj_bias [1536]',
      'encoder.layers.0.self_attn.out_proj.weight [512,512]',
      'encoder.layers.0.self_attn.out_proj.bias [512]',
      'encoder.layers.0.linear1.weight [2048,512]',
      'encoder.layers.0.linear1.bias [2048]',
      'encoder.layers.0.linear2.weight [512,2048]',
      'encoder.layers.0.linear2.bias [512]',
      'encoder.layers.0.norm1.weight [512]',
      'encoder.layers.0.norm1.bias [512]',
      'encoder.layers.0.norm2.weight [512]',
      'encoder.layers.0.norm2.bias [512]',
      'encoder.norm.weight [512]',
      'encoder.norm.bias [512]',
      ...['self_attn', 'multihead_attn'].flatMap((a) => [`in_proj_weight [1536,512]`, 'in_proj_bias [1536]', 'out_proj.weight [512,512]', 'out_proj.bias [512]'].map((p) => `decoder.layers.0.${a}.${p}`)),
      'decoder.layers.0.linear1.weight [2048,512]',
      'decoder.layers.0.linear1.bias [2048]',
      'decoder.layers.0.linear2.weight [512,2048]',
      'decoder.layers.0.linear2.bias [512]',
      ...[1, 2, 3].flatMap((i) => [`decoder.layers.0.norm${i}.weight [512]`, `decoder.layers.0.norm${i}.bias [512]`]),
      'decoder.norm.weight [512]',
      'decoder.norm.bias [512]',
    ]);
    const layer = new nn.TransformerEncoderLayer(4, 2);
    expect([layer.normFirst, layer.batchFirst, layer.linear1.outFeatures]).toEqual([false, false, 2048]);
  });

  it('bias: false leaves out every bias, as PyTorch (attention projections, linears, LayerNorms)', () => {
    const layer = new nn.TransformerDecoderLayer(4, 2, { bias: false, dimFeedforward: 6 });
    expect(names(layer).filter((n) => n.includes('bias'))).toEqual([]);
    expect(names(layer)).toContain('linear1.weight [6,4]');
  });

  it('sequence-first inputs are the batch-first computation transposed; unbatched [S, E] inputs work', () => {
    const layer = new nn.TransformerEncoderLayer(4, 2, { dimFeedforward: 5 });
    const first = new nn.TransformerEncoderLayer(4, 2, { dimFeedforward: 5, batchFirst: true });
    const weights = Object.fromEntries(names(layer).map((n) => n.split(' ')[0]!).map((n, i) => [n, Array.from({ length: 64 }, (_, j) => Math.sin(i * 7 + j))]));
    const sized = (p: ReturnType<typeof trace>) => Object.fromEntries(p.inputs.filter((i) => i.kind === 'parameter').map((i) => [i.name, weights[i.name]!.slice(0, i.type.shape.reduce((a, b) => a * b, 1))]));
    const x = Array.from({ length: 24 }, (_, i) => Math.cos(i));
    const seq = trace(layer, { x: 'f32[3,2,4]' });
    expect(seq.nodes.at(-1)!.type.shape).toEqual([3, 2, 4]);
    // The same weights on x transposed to [N, S, E]: the same numbers, transposed back.
    const batched = trace(first, { x: 'f32[2,3,4]' });
    const xt = [0, 1].flatMap((n) => [0, 1, 2].flatMap((s) => x.slice((s * 2 + n) * 4, (s * 2 + n) * 4 + 4)));
    const a = run(seq, { x, ...sized(seq) });
    const b = run(batched, { x: xt, ...sized(batched) });
    expect(a.map((v) => Math.fround(v))).toEqual([0, 1, 2].flatMap((s) => [0, 1].flatMap((n) => b.slice((n * 3 + s) * 4, (n * 3 + s) * 4 + 4))).map((v) => Math.fround(v)));
    expect(trace(layer, { x: 'f32[3,4]' }).nodes.at(-1)!.type.shape).toEqual([3, 4]);
  });

  it('generateSquareSubsequentMask is 0 on and below the diagonal, -inf above', () => {
    expect(run(trace(() => ({ output: nn.Transformer.generateSquareSubsequentMask(3) }), {}), {})).toEqual([0, -Infinity, -Infinity, 0, 0, -Infinity, 0, 0, 0]);
  });

  it('misuse is a located error', () => {
    expect(() => new nn.TransformerEncoderLayer(6, 4)).toThrow(/d_model 6 must be divisible by nhead 4/);
    expect(() => new nn.TransformerDecoderLayer(4, 2, { activation: 'tanh' as never })).toThrow(/activation 'tanh' is not supported/);
    const layer = new nn.TransformerEncoderLayer(4, 2, { dimFeedforward: 3 });
    expect(() => trace(layer, { x: 'f32[1,2,3,4]' })).toThrow(/transformer\.ts|src has shape \[1,2,3,4\], expected \[S, N, E\]/);
  });
});
