/**
 * An exported torchvision ViT compiles to the kernels the DSL's ViT of the
 * same config does: 7 per layer (layer norm, qkv matmul, attention, output
 * matmul with the residual, layer norm, fc1 with gelu, fc2 with the
 * residual), from either exporter (TorchScript's opset 14 too, whose layer
 * norms come decomposed). The one difference is the patch
 * embedding: the file's Conv is one conv2d kernel where the DSL's
 * reshape + transpose + matmul is a copy and a matmul.
 */
import { describe, expect, it } from 'vitest';
import { VisionTransformer, type VitConfig, traceVit } from '@tessera/models';
import { compileProgram } from '@tessera/passes';
import { readOnnxFile } from '../src/node.ts';
import { EXPORTERS, FIXTURES } from './support.ts';

/** tools/make_onnx_fixtures.py's torchvision-vit. */
const CONFIG: VitConfig = { model: 'vit', image_size: 20, patch_size: 5, num_layers: 2, num_heads: 3, hidden_dim: 24, mlp_dim: 37, num_classes: 7, naming: 'torchvision', layer_norm_eps: 1e-6 };

/** A kernel program's kernels by kind (`k7_attention` -> `attention`). */
const kinds = (p: ReturnType<typeof compileProgram>): string[] => p.kernels.kernels.map((k) => k.name.replace(/^k\d+_/, ''));

describe('kernel count of an imported ViT', () => {
  const dsl = kinds(compileProgram(traceVit(new VisionTransformer(CONFIG), 2)));

  it('the DSL ViT: 7 kernels per layer', () => {
    const layer = ['layer_norm', 'matmul', 'attention', 'matmul', 'layer_norm', 'matmul', 'matmul'];
    expect(dsl.slice(5, 5 + 14)).toEqual([...layer, ...layer]);
  });

  it.each([...EXPORTERS, 'torchscript opset 14'])('%s export: the DSL ViT\'s kernels, the patch embedding one conv2d', (kind) => {
    const file = kind === 'torchscript opset 14' ? 'torchvision-vit-opset14.torchscript' : `torchvision-vit.${kind}`;
    const { program } = readOnnxFile(`${FIXTURES}${file}.onnx`);
    expect(kinds(compileProgram(program))).toEqual(['conv2d', ...dsl.slice(2)]);
    expect(dsl.slice(0, 2)).toEqual(['copy', 'matmul']);
  });

  it.each(EXPORTERS)('%s export without the pattern step needs more kernels (what the step is for)', (kind) => {
    const { program } = readOnnxFile(`${FIXTURES}torchvision-vit.${kind}.onnx`, { patterns: false });
    expect(compileProgram(program).kernels.kernels.length).toBeGreaterThan(dsl.length + 10);
  });
});
