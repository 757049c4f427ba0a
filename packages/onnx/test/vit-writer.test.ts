/**
 * bench/onnx-vit-model.ts (the ViT the device benchmarks hand to
 * onnxruntime-web, serialized by encodeModel) on a small ViT with seeded
 * weights: imported back with importOnnx and run on cpu, and run in
 * onnxruntime-node, both matching Tessera's own ViT of the same weights
 * (the float64 interpreter) under the harness tolerance policy.
 */
import { describe, expect, it } from 'vitest';
import type { SafetensorsTensor } from '@tessera/ir';
import { compile } from '@tessera/compiler';
import { describeMismatch, longestReduction } from '@tessera/harness';
import { type VitConfig, VisionTransformer, traceVit } from '@tessera/models';
import { vitOnnxModel } from '../../../bench/onnx-vit-model.ts';
import { decodeModel } from '../src/proto.ts';
import { importOnnx } from '../src/index.ts';
import { seeded } from './support.ts';

/** Odd sizes throughout: 3x3 patches of 5x5, 3 heads of 4, an MLP of 20, 7 classes. */
const CONFIG: VitConfig = { model: 'vit', image_size: 15, patch_size: 5, num_layers: 2, num_heads: 3, hidden_dim: 12, mlp_dim: 20, num_classes: 7, naming: 'torchvision', layer_norm_eps: 1e-6 };
const BATCH = 2;

const vit = traceVit(new VisionTransformer(CONFIG), BATCH);

/** Seeded weights by torchvision name, scaled by fan-in (so the logits stay of order 1). */
const weights: Record<string, SafetensorsTensor> = Object.fromEntries(
  vit.inputs
    .filter((i) => i.kind === 'parameter')
    .map((p, k) => {
      const shape = p.type.shape;
      const scale = shape.length >= 2 ? Math.sqrt(3 / shape.slice(1).reduce((a, b) => a * b, 1)) : 0.5;
      const data = Float32Array.from(seeded(shape.reduce((a, b) => a * b, 1), k + 1), (v) => v * scale);
      return [p.name, { dtype: 'F32', shape, data }];
    }),
);
const pixels = Float32Array.from(seeded(BATCH * 3 * CONFIG.image_size ** 2, 99));
const dims = [BATCH, CONFIG.num_classes];
const reductionLength = longestReduction(vit);

/** Tessera's own ViT on the float64 interpreter: the reference. */
async function referenceLogits(): Promise<Float32Array> {
  await using exe = await compile(vit, { backend: 'interp', weights: Object.fromEntries(Object.entries(weights).map(([k, t]) => [k, t.data as Float32Array])) });
  return (await exe.run({ pixel_values: pixels })).logits!.data as Float32Array;
}

describe('bench/onnx-vit-model.ts', () => {
  const bytes = vitOnnxModel(CONFIG, weights, BATCH);

  it('writes a ModelProto that decodes with the importer\'s descriptor (opset 17, one input, one output, every weight)', () => {
    const m = decodeModel(bytes);
    expect([Number(m.ir_version), m.producer_name, m.opset_import.map((o) => [o.domain, Number(o.version)])]).toEqual([8, 'tessera-bench', [['', 17]]]);
    const g = m.graph!;
    expect(g.input.map((v) => [v.name, v.type!.tensor_type!.shape!.dim.map((d) => Number(d.dim_value))])).toEqual([['pixel_values', [BATCH, 3, 15, 15]]]);
    expect(g.output.map((v) => [v.name, v.type!.tensor_type!.shape!.dim.map((d) => Number(d.dim_value))])).toEqual([['logits', dims]]);
    const floats = new Set(g.initializer.filter((t) => t.data_type === 1).map((t) => t.name.replace(/\.T$/, '')));
    for (const name of Object.keys(weights)) expect(floats.has(name), name).toBe(true);
    const ln = g.node.find((n) => n.op_type === 'LayerNormalization')!;
    expect(ln.attribute.map((a) => [a.name, a.type, a.type === 1 ? a.f : Number(a.i)])).toEqual([['axis', 2, -1], ['epsilon', 1, Math.fround(1e-6)]]);
  });

  it('imported with importOnnx and run on cpu, matches Tessera\'s ViT of the same weights', async () => {
    const expected = await referenceLogits();
    const { program, weights: imported, inputNames, outputNames } = importOnnx(bytes);
    // The importer recognises the writer's attention per layer (Softmax between two MatMuls) and its Erf GELU.
    expect(program.nodes.filter((n) => n.op === 'attention').length).toBe(CONFIG.num_layers);
    await using exe = await compile(program, { backend: 'cpu', weights: imported });
    const out = (await exe.run({ [inputNames.pixel_values!]: pixels }))[outputNames.logits!]!;
    expect(out.dims).toEqual(dims);
    expect(describeMismatch(out.data, expected, { reductionLength }, { what: 'imported ONNX ViT logits on cpu', shape: dims })).toBeUndefined();
  });

  it('runs in onnxruntime-node with the logits of Tessera\'s ViT', async () => {
    const expected = await referenceLogits();
    const ort = await import('onnxruntime-node');
    const session = await ort.InferenceSession.create(bytes, { executionProviders: ['cpu'], intraOpNumThreads: 1 });
    try {
      const out = (await session.run({ pixel_values: new ort.Tensor('float32', pixels, [BATCH, 3, 15, 15]) })).logits!;
      expect(out.dims).toEqual(dims);
      expect(describeMismatch(out.data as Float32Array, expected, { reductionLength }, { what: 'onnxruntime-node logits', shape: dims })).toBeUndefined();
    } finally {
      await session.release();
    }
  });
});
