/**
 * Pictures of the models: module paths inferred from parameter names, the
 * repeated layers found, and the SVG Graphviz lays out from the DOT (layer
 * clusters around kernel clusters, checked on the SVG's own structure and
 * geometry). The ViT here is ViT-B/16's structure at a small size (the done-when
 * check of issue 15: 12 identical layer clusters of 7 kernels each, after
 * fusion); `tessera compile --config vit_b_16.json --emit svg` draws the
 * full-size one the same way.
 */
import { type Program } from '@tessera/ir';
import { Seq2SeqTransformer, VisionTransformer, traceSeq2Seq, traceVit } from '@tessera/models';
import { compileProgram, defaultPasses, runPipeline } from '@tessera/passes';
import { describe, expect, it } from 'vitest';
import { type GraphPicture, graphPicture, kernelModule, nodeModules, renderSvg, toDot } from '../src/index.ts';
import { svgClusters } from './svg-structure.ts';

const LAYERS = 12;
const vit = traceVit(new VisionTransformer({ model: 'vit', image_size: 16, patch_size: 4, num_layers: LAYERS, num_heads: 3, hidden_dim: 12, mlp_dim: 20, num_classes: 5, naming: 'torchvision', layer_norm_eps: 1e-6 }), 1);

/** Per layer: its kernels' kinds and the ops of the values drawn in each (what "the same shape" means). */
function layerShapes(p: GraphPicture): string[] {
  const kernels = new Map(p.kernels.map((k) => [k.name, k]));
  const op = new Map(p.values.map((v) => [v.name, `${v.op}:${v.type}`]));
  return p.layers.map((l) => l.kernels.map((k) => `${kernels.get(k)!.kind}(${kernels.get(k)!.values.map((v) => op.get(v)).join(',')})`).join(' '));
}

describe('module paths from parameter names', () => {
  const modules = nodeModules(vit);
  const nodeOf = (op: string, nth = 0) => vit.nodes.filter((n) => n.op === op)[nth]!;
  it('places a node reading parameters in their module, another in its latest operand\'s', () => {
    expect(modules.get(nodeOf('layer_norm').name)).toBe('encoder.layers.encoder_layer_0.ln_1');
    expect(modules.get(nodeOf('attention', 3).name)).toBe('encoder.layers.encoder_layer_3.self_attention');
    expect(modules.get(nodeOf('gelu', 5).name)).toBe('encoder.layers.encoder_layer_5.mlp.0');
    // The residual add after attention joins the attention's branch, in its layer, not the stream from the layer before.
    const bias = vit.nodes.find((n) => n.op === 'add' && n.operands.includes('encoder.layers.encoder_layer_2.self_attention.out_proj.bias'))!;
    const residual = vit.nodes.find((n) => n.op === 'add' && n.operands.includes(bias.name))!;
    expect(modules.get(residual.name)).toBe('encoder.layers.encoder_layer_2.self_attention.out_proj');
  });
  it('gives each kernel the common module of its nodes', () => {
    const { graph, kernels } = compileProgram(vit);
    const m = nodeModules(graph);
    const names = kernels.kernels.map((k) => kernelModule(k, kernels, m));
    expect(names).toContain('encoder.layers.encoder_layer_11.self_attention');
    expect(names).toContain('heads.head');
    expect(names.filter((n) => n.startsWith('encoder.layers.encoder_layer_7.'))).toHaveLength(7);
  });
});

describe('pictures of the ViT', () => {
  const { graph, kernels } = compileProgram(vit);
  const fused = graphPicture(graph, kernels, { after: 'plan-memory' });

  it('after fusion: 12 layers of one structure, 7 kernels each, in launch order, the same kernels and nodes in each', () => {
    expect(fused.layers.map((l) => l.module)).toEqual(Array.from({ length: LAYERS }, (_, i) => `encoder.layers.encoder_layer_${i}`));
    expect(new Set(fused.layers.map((l) => l.pattern))).toEqual(new Set(['A']));
    for (const l of fused.layers) expect(l.kernels).toHaveLength(7);
    const shapes = layerShapes(fused);
    expect(new Set(shapes).size).toBe(1);
    expect(shapes[0]).toMatch(/^reduce\(layer_norm.*\) matmul\(.*\) attention\(attention.*\) matmul\(.*\) reduce\(layer_norm.*\) matmul\(.*gelu.*\) matmul\(.*\)$/);
    // Every kernel is drawn once: in a layer or outside them.
    expect([...fused.layers.flatMap((l) => l.kernels), ...fused.topKernels].sort()).toEqual(kernels.kernels.map((k) => k.name).sort());
  });

  it('before fusion: the same 12 layers, made of graph nodes', () => {
    const after: Program[] = [];
    runPipeline(vit, defaultPasses(), { instruments: [{ afterPass: ({ pass, after: s }) => void (pass.name === 'canonicalize' && after.push(s.graph)) }] });
    const p = graphPicture(after[0]!, undefined, { after: 'canonicalize' });
    expect(p.kernels).toEqual([]);
    expect(p.layers).toHaveLength(LAYERS);
    expect(new Set(p.layers.map((l) => l.values.map((v) => p.values.find((x) => x.name === v)!.op).join(' '))).size).toBe(1);
    expect(p.layers[0]!.values.length).toBeGreaterThan(20);
  });

  it('the SVG Graphviz draws from the DOT has 12 layer clusters, each around its 7 kernel clusters, each around its nodes', async () => {
    const svg = await renderSvg(toDot(fused));
    const clusters = svgClusters(svg);
    const layers = clusters.filter((c) => c.classes.includes('layer'));
    const kernelClusters = clusters.filter((c) => c.classes.includes('kernel'));
    expect(layers).toHaveLength(LAYERS);
    expect(kernelClusters).toHaveLength(kernels.kernels.length);
    const inside = (a: { box: Box }, b: { box: Box }) => a.box.x0 >= b.box.x0 && a.box.x1 <= b.box.x1 && a.box.y0 >= b.box.y0 && a.box.y1 <= b.box.y1;
    const nodes = svgClusters(svg, 'node');
    const op = new Map(fused.values.map((v) => [`value-${v.name}`, v.op]));
    const shapes = layers.map((l) => {
      const mine = kernelClusters.filter((k) => inside(k, l));
      // Drawn inside it: exactly the layer's kernels.
      const expected = fused.layers.find((x) => `layer-${x.module}` === l.id)!.kernels.map((k) => `kernel-${k}`);
      expect(mine.map((k) => k.id).sort()).toEqual([...expected].sort());
      // Each kernel's kind, size and the ops of the nodes drawn inside it, in launch order.
      return expected.map((id) => {
        const k = mine.find((c) => c.id === id)!;
        const ops = nodes.filter((n) => inside(n, k)).sort((a, b) => a.box.y0 - b.box.y0 || a.box.x0 - b.box.x0).map((n) => op.get(n.id));
        return { kind: k.classes.join('.'), w: k.box.x1 - k.box.x0, h: k.box.y1 - k.box.y0, ops: ops.join(',') };
      });
    });
    expect(shapes[0]).toHaveLength(7);
    expect(shapes[0]!.map((k) => k.ops)).toEqual(fused.layers[0]!.kernels.map((k) => fused.kernels.find((x) => x.name === k)!.values.map((v) => fused.values.find((x) => x.name === v)!.op).join(',')));
    // The same kernels with the same nodes in each layer, the same size up to the width of longer names (%10 against %100).
    for (const s of shapes) {
      expect(s.map((k) => `${k.kind} ${k.ops}`)).toEqual(shapes[0]!.map((k) => `${k.kind} ${k.ops}`));
      s.forEach((k, i) => {
        expect(Math.abs(k.w - shapes[0]![i]!.w)).toBeLessThanOrEqual(12);
        expect(Math.abs(k.h - shapes[0]![i]!.h)).toBeLessThanOrEqual(1);
      });
    }
  });
});

type Box = { x0: number; y0: number; x1: number; y1: number };

describe('pictures of the encoder-decoder Transformer', () => {
  it('finds the encoder layers and the decoder layers as two structures', () => {
    const model = new Seq2SeqTransformer({ model: 'transformer', d_model: 8, nhead: 2, num_encoder_layers: 3, num_decoder_layers: 2, dim_feedforward: 12, src_vocab: 11, tgt_vocab: 13, pad_id: 0, bos_id: 1, eos_id: 2, layer_norm_eps: 1e-5 });
    const { graph, kernels } = compileProgram(traceSeq2Seq(model, { batch: 1, srcLen: 5 }, 4));
    const p = graphPicture(graph, kernels);
    expect(p.layers.map((l) => `${l.module}:${l.pattern}`)).toEqual([
      'transformer.encoder.layers.0:A', 'transformer.encoder.layers.1:A', 'transformer.encoder.layers.2:A',
      'transformer.decoder.layers.0:B', 'transformer.decoder.layers.1:B',
    ]);
    const dot = toDot(p);
    expect(dot.match(/class="layer pattern-B"/g)).toHaveLength(2);
    // The decoder's cross-attention is its own kernel in each decoder layer.
    expect(p.kernels.filter((k) => k.kind === 'attention' && k.module.endsWith('multihead_attn'))).toHaveLength(2);
  });
});
