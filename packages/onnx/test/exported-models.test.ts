/**
 * The exported models of tools/make_onnx_fixtures.py (torchvision's ViT,
 * nn.Transformer seq2seq, Hugging Face ViT, BERT with a padded row and
 * GPT-2, a conv net with pooling, group and instance norm, a transposed
 * convolution and a resize; each written by the TorchScript and the dynamo
 * exporter) imported
 * and run on interp, cpu and webgpu, matching PyTorch's float64 logits
 * under the harness tolerance policy.
 */
import { describe, expect, it } from 'vitest';
import type { Program } from '@tessera/ir';
import { type BackendName, compile } from '@tessera/compiler';
import { describeMismatch, longestReduction } from '@tessera/harness';
import { readOnnxFile } from '../src/node.ts';
import { EXPORTED_MODELS, FIXTURES, exportersOf, fixtureTensors, hostValues } from './support.ts';

/** Nodes whose value depends on no input: shape arithmetic or constants left unfolded (a `constant` node itself is fine). */
function constantOnlyNodes(p: Program): string[] {
  const dynamic = new Set(p.inputs.map((i) => i.name));
  const left: string[] = [];
  for (const n of p.nodes) {
    if (n.operands.some((o) => dynamic.has(o))) dynamic.add(n.name);
    else if (n.op !== 'constant') left.push(`%${n.name} = ${n.op}`);
  }
  return left;
}

const BACKENDS: readonly BackendName[] = ['interp', 'cpu', 'webgpu'];

/** Attention blocks per model (nn.Transformer: 2 encoder, 2 decoder self- and 2 cross-attentions); every one is recognised. */
const ATTENTIONS: Readonly<Record<(typeof EXPORTED_MODELS)[number], number>> = { 'torchvision-vit': 2, 'torchvision-vit-opset14': 2, seq2seq: 6, 'hf-vit': 2, 'hf-bert': 2, 'hf-gpt2': 2, convnet: 0 };

describe.each(EXPORTED_MODELS)('%s', (name) => {
  const tensors = fixtureTensors(name);
  const expected = tensors.get('expected.logits')!;

  it.each(exportersOf(name))('%s export: inputs and outputs keep their ONNX names, no shape arithmetic is left', (kind) => {
    const { program, inputNames, outputNames, weights } = readOnnxFile(`${FIXTURES}${name}.${kind}.onnx`);
    const onnxInputs = [...tensors.keys()].filter((k) => !k.includes('.'));
    expect(Object.keys(inputNames).sort()).toEqual(onnxInputs.sort());
    for (const [onnx, ir] of Object.entries(inputNames)) expect(ir).toBe(onnx);
    expect(outputNames).toEqual({ logits: 'logits' });
    expect(constantOnlyNodes(program)).toEqual([]);
    // The pattern step found every attention (no softmax left), every GELU (erf or tanh form) and every layer norm.
    const count = (op: string) => program.nodes.filter((n) => n.op === op).length;
    expect([count('attention'), count('softmax'), count('erf'), count('sqrt')]).toEqual([ATTENTIONS[name], 0, 0, 0]);
    if (name === 'hf-gpt2') expect(count('gelu')).toBe(2);
    // Every parameter is bound by a weight of its type's size.
    for (const p of program.inputs.filter((i) => i.kind === 'parameter')) expect(weights[p.name]?.length).toBe(p.type.shape.reduce((a, b) => a * b, 1));
  });

  it.each(exportersOf(name))('%s export matches PyTorch (float64) on interp, cpu and webgpu', async (kind) => {
    const { program, weights, inputNames } = readOnnxFile(`${FIXTURES}${name}.${kind}.onnx`);
    const feeds = Object.fromEntries(Object.entries(inputNames).map(([onnx, ir]) => [ir, hostValues(tensors.get(onnx)!)]));
    const reductionLength = longestReduction(program);
    for (const backend of BACKENDS) {
      await using exe = await compile(program, { backend, weights });
      const out = await exe.run(feeds);
      expect(out.logits!.dims).toEqual(expected.shape);
      const why = describeMismatch(out.logits!.data, expected.data as Float32Array, { reductionLength }, { what: `${name}.${kind} logits on ${backend}`, shape: expected.shape });
      expect(why).toBeUndefined();
    }
  });
});
