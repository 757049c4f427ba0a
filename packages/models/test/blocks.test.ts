/** The building blocks against independent, naive definitions; the presets against torchvision's/timm's parameter counts. */
import { Module, type Tensor, trace } from '@tessera/frontend';
import { interpret } from '@tessera/ir';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Seq2SeqTransformer, VIT_PRESETS, VisionTransformer, patchify, sinusoidalEncoding, sinusoidalTable } from '../src/index.ts';

/** Runs a traced function of the given inputs on the interpreter. */
function run(fn: (...xs: Tensor[]) => Tensor, specs: Record<string, string>, inputs: Record<string, Float32Array | Int32Array>): Float64Array {
  return interpret(trace(fn, specs), inputs).output!.data;
}

describe('sinusoidal position encoding', () => {
  it('is sin(p / 10000^(2i/d)) on even and cos on odd dimensions (hand-computed rows)', () => {
    const pe = run(() => sinusoidalTable(3, 4), {}, {});
    // d = 4: rates 1 and 1/100.
    const expected = [0, 1, 0, 1, Math.sin(1), Math.cos(1), Math.sin(0.01), Math.cos(0.01), Math.sin(2), Math.cos(2), Math.sin(0.02), Math.cos(0.02)];
    expected.forEach((e, i) => expect(pe[i]).toBeCloseTo(e, 6));
  });

  it('matches the formula at any position and even width', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 8 }), fc.integer({ min: 0, max: 60 }), (half, p) => {
        const d = 2 * half;
        const pe = run((pos) => sinusoidalEncoding(pos!.cast('f32').reshape([1]), d), { pos: 'i32[]' }, { pos: Int32Array.of(p) });
        for (let j = 0; j < d; j++) {
          const angle = p / 10000 ** ((2 * Math.floor(j / 2)) / d);
          // The rates are f32 constants: a relative error of 2^-24 in the rate is p·2^-24 in the angle.
          expect(Math.abs(pe[j]! - (j % 2 === 0 ? Math.sin(angle) : Math.cos(angle)))).toBeLessThan(1e-7 * (1 + p));
        }
      }),
      { numRuns: 40 },
    );
  });

  it('rejects an odd width', () => {
    expect(() => run(() => sinusoidalTable(2, 5), {}, {})).toThrow(/even width/);
  });
});

describe('patch embedding', () => {
  it('cuts images into row-major patches, each flattened channel-major like a Conv2d kernel', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 2 }), fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 }), (b, c, p, g) => {
        const s = p * g;
        const img = Float32Array.from({ length: b * c * s * s }, (_, i) => i);
        const out = run((x) => patchify(x!, p), { x: `f32[${b},${c},${s},${s}]` }, { x: img });
        let k = 0;
        for (let n = 0; n < b; n++)
          for (let gy = 0; gy < g; gy++)
            for (let gx = 0; gx < g; gx++)
              for (let ch = 0; ch < c; ch++)
                for (let i = 0; i < p; i++) for (let j = 0; j < p; j++) expect(out[k++]).toBe(((n * c + ch) * s + gy * p + i) * s + gx * p + j);
      }),
      { numRuns: 30 },
    );
  });
});

/** Number of parameter values of a module. */
const count = (m: Module) => m.parameters().reduce((n, p) => n + p.shape.reduce((a, d) => a * d, 1), 0);

describe('presets and names', () => {
  it('ViT-Ti/16, ViT-S/16 and ViT-B/16 have the published parameter counts', () => {
    // torchvision vit_b_16: 86,567,656; timm vit_small_patch16_224: 22,050,664; vit_tiny_patch16_224: 5,717,416.
    expect(count(new VisionTransformer(VIT_PRESETS['vit-b-16']!))).toBe(86_567_656);
    expect(count(new VisionTransformer(VIT_PRESETS['vit-s-16']!))).toBe(22_050_664);
    expect(count(new VisionTransformer(VIT_PRESETS['vit-ti-16']!))).toBe(5_717_416);
  });

  it("names the ViT's parameters as torchvision or timm does", () => {
    const names = (naming: 'torchvision' | 'timm') => [...new VisionTransformer({ ...VIT_PRESETS['vit-ti-16']!, num_layers: 1, naming }).namedParameters()].map(([n]) => n);
    expect(names('torchvision')).toEqual([
      'class_token', 'conv_proj.weight', 'conv_proj.bias', 'encoder.pos_embedding',
      'encoder.layers.encoder_layer_0.ln_1.weight', 'encoder.layers.encoder_layer_0.ln_1.bias',
      'encoder.layers.encoder_layer_0.self_attention.in_proj_weight', 'encoder.layers.encoder_layer_0.self_attention.in_proj_bias',
      'encoder.layers.encoder_layer_0.self_attention.out_proj.weight', 'encoder.layers.encoder_layer_0.self_attention.out_proj.bias',
      'encoder.layers.encoder_layer_0.ln_2.weight', 'encoder.layers.encoder_layer_0.ln_2.bias',
      'encoder.layers.encoder_layer_0.mlp.0.weight', 'encoder.layers.encoder_layer_0.mlp.0.bias',
      'encoder.layers.encoder_layer_0.mlp.3.weight', 'encoder.layers.encoder_layer_0.mlp.3.bias',
      'encoder.ln.weight', 'encoder.ln.bias', 'heads.head.weight', 'heads.head.bias',
    ]);
    expect(names('timm')).toEqual([
      'cls_token', 'pos_embed', 'patch_embed.proj.weight', 'patch_embed.proj.bias',
      'blocks.0.norm1.weight', 'blocks.0.norm1.bias', 'blocks.0.attn.qkv.weight', 'blocks.0.attn.qkv.bias',
      'blocks.0.attn.proj.weight', 'blocks.0.attn.proj.bias', 'blocks.0.norm2.weight', 'blocks.0.norm2.bias',
      'blocks.0.mlp.fc1.weight', 'blocks.0.mlp.fc1.bias', 'blocks.0.mlp.fc2.weight', 'blocks.0.mlp.fc2.bias',
      'norm.weight', 'norm.bias', 'head.weight', 'head.bias',
    ]);
  });

  it("names the Transformer's parameters as the PyTorch module with src_embed, tgt_embed, transformer and generator", () => {
    const m = new Seq2SeqTransformer({ model: 'transformer', d_model: 4, nhead: 2, num_encoder_layers: 1, num_decoder_layers: 1, dim_feedforward: 3, src_vocab: 5, tgt_vocab: 6, pad_id: 0, bos_id: 1, eos_id: 2, layer_norm_eps: 1e-5 });
    const names = [...m.namedParameters()].map(([n]) => n);
    expect(names.slice(0, 2)).toEqual(['src_embed.weight', 'tgt_embed.weight']);
    expect(names).toContain('transformer.decoder.layers.0.multihead_attn.in_proj_weight');
    expect(names).toContain('transformer.encoder.norm.weight');
    expect(names).toContain('transformer.decoder.layers.0.norm3.bias');
    expect(names.slice(-2)).toEqual(['generator.weight', 'generator.bias']);
    // nn.Transformer's state_dict for these sizes has 2 + 12 + 2 + 18 + 2 + 2 = 38 tensors.
    expect(names.length).toBe(38);
  });
});
