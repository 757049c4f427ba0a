/**
 * The committed trained models: they load, PyTorch's recorded scores meet
 * the bars, and the CPU backend reproduces PyTorch's results on the
 * bundled data (predictions, accuracy, generated tokens).
 */
import { join } from 'node:path';
import { describeMismatch } from '@tessera/harness';
import { readSafetensorsFile } from '@tessera/ir/node';
import { describe, expect, it } from 'vitest';
import { argmax, compileGenerator, compileSeq2Seq, compileVit, pixelValues } from '../src/index.ts';
import { type LoadedModel, loadModel, readSample } from '../src/node.ts';
import { TRAINED, int32, longestReduction } from './support.ts';

const path = (f: string) => join(TRAINED, f);

describe('trained ViT on Fashion-MNIST', () => {
  it("PyTorch's recorded test accuracy is at least 85% over the 10,000 test images", async () => {
    const f = await readSafetensorsFile(path('vit-fashion-mnist.pytorch.safetensors'));
    expect(Number(f.metadata.images)).toBe(10000);
    expect(Number(f.metadata.accuracy)).toBeGreaterThanOrEqual(0.85);
    expect(f.tensors.get('logits')!.shape).toEqual([10000, 10]);
  });

  it("cpu: on the 1,000 bundled images, PyTorch's accuracy and at least 99.9% of its predictions", async () => {
    const m = (await loadModel(path('vit-fashion-mnist.json'), path('vit-fashion-mnist.safetensors'))) as Extract<LoadedModel, { kind: 'vit' }>;
    const data = await readSample(path('fashion-mnist-sample.safetensors'));
    const torch = await readSafetensorsFile(path('vit-fashion-mnist.pytorch.safetensors'));
    const torchPred = torch.tensors.get('predictions')!.data as Uint8Array;
    const vit = await compileVit(m.model, m.weights, { backend: 'cpu', batch: 250 });
    const logits = await vit.logits(pixelValues(data));
    vit.dispose();
    let agree = 0;
    let correct = 0;
    let torchCorrect = 0;
    for (let i = 0; i < data.count; i++) {
      const p = argmax(logits, i * 10, 10);
      if (p === torchPred[i]) agree++;
      if (p === data.labels[i]) correct++;
      if (torchPred[i] === data.labels[i]) torchCorrect++;
    }
    expect(agree).toBeGreaterThanOrEqual(999);
    expect(Math.abs(correct - torchCorrect)).toBeLessThanOrEqual(1000 - agree);
    // PyTorch computed in float32 too, so both sides carry rounding: the policy still holds at this depth.
    const expected = (torch.tensors.get('logits')!.data as Float32Array).subarray(0, 10 * data.count);
    expect(describeMismatch(logits, expected, { reductionLength: longestReduction(vit.program) })).toBeUndefined();
  });
});

describe('trained Transformer reversing digit strings', () => {
  it("PyTorch's recorded exact match is at least 95%", async () => {
    const f = await readSafetensorsFile(path('transformer-reverse.pytorch.safetensors'));
    expect(Number(f.metadata.exact_match)).toBeGreaterThanOrEqual(0.95);
  });

  it("cpu: greedy generation gives PyTorch's tokens, and its logits along them", async () => {
    const m = (await loadModel(path('transformer-reverse.json'), path('transformer-reverse.safetensors'))) as Extract<LoadedModel, { kind: 'transformer' }>;
    const torch = (await readSafetensorsFile(path('transformer-reverse.pytorch.safetensors'))).tensors;
    const src = int32(torch.get('src')!);
    const [n, srcLen] = torch.get('src')!.shape as [number, number];
    const gen = int32(torch.get('generated')!);
    const width = torch.get('generated')!.shape[1]!;
    const g = await compileGenerator(m.model, m.weights, { backend: 'cpu', batch: 100, srcLen, maxNewTokens: width - 1 });
    const out = await g.generate(src);
    g.dispose();
    let same = 0;
    for (let r = 0; r < n; r++) if (out.subarray(r * width, (r + 1) * width).every((v, i) => v === gen[r * width + i])) same++;
    expect(same).toBeGreaterThanOrEqual(Math.ceil(0.99 * n));
    const runner = await compileSeq2Seq(m.model, m.weights, { backend: 'cpu', batch: 100, srcLen, tgtLen: width - 1 });
    const tgt = Int32Array.from({ length: n * (width - 1) }, (_, i) => gen[Math.floor(i / (width - 1)) * width + (i % (width - 1))]!);
    const logits = await runner.logits(src, tgt);
    runner.dispose();
    expect(describeMismatch(logits, torch.get('logits')!.data as Float32Array, { reductionLength: longestReduction(runner.program) })).toBeUndefined();
  });
});

describe('trained RNN with attention reversing digit strings (GRU, general attention)', () => {
  it("PyTorch's recorded exact match is at least 95%", async () => {
    const f = await readSafetensorsFile(path('rnn-reverse.pytorch.safetensors'));
    expect(Number(f.metadata.exact_match)).toBeGreaterThanOrEqual(0.95);
  });

  it("cpu: greedy generation gives PyTorch's tokens and exact match on the 500 test sequences; logits and alignments along them match", async () => {
    const m = (await loadModel(path('rnn-reverse.json'), path('rnn-reverse.safetensors'))) as Extract<LoadedModel, { kind: 'seq2seq_rnn' }>;
    expect([m.model.config.cell, m.model.config.attention]).toEqual(['gru', 'general']);
    const torch = await readSafetensorsFile(path('rnn-reverse.pytorch.safetensors'));
    const t = torch.tensors;
    const src = int32(t.get('src')!);
    const [n, srcLen] = t.get('src')!.shape as [number, number];
    const gen = int32(t.get('generated')!);
    const expected = int32(t.get('expected')!);
    const width = t.get('generated')!.shape[1]!;
    const g = await compileGenerator(m.model, m.weights, { backend: 'cpu', batch: 100, srcLen, maxNewTokens: width - 1 });
    const out = await g.generate(src);
    g.dispose();
    const rowEq = (a: Int32Array, b: Int32Array, r: number) => a.subarray(r * width, (r + 1) * width).every((v, i) => v === b[r * width + i]);
    let same = 0;
    let exact = 0;
    for (let r = 0; r < n; r++) {
      if (rowEq(out, gen, r)) same++;
      if (rowEq(out, expected, r)) exact++;
    }
    expect(same).toBe(n);
    expect(exact).toBe(Number(torch.metadata.correct));
    // The first 100 sequences: teacher-forced logits and attention weights along PyTorch's output.
    const k = t.get('logits')!.shape[0]!;
    const runner = await compileSeq2Seq(m.model, m.weights, { backend: 'cpu', batch: k, srcLen, tgtLen: width - 1, attentions: true });
    const tgt = Int32Array.from({ length: k * (width - 1) }, (_, i) => gen[Math.floor(i / (width - 1)) * width + (i % (width - 1))]!);
    const r = await runner.run(src.subarray(0, k * srcLen), tgt);
    runner.dispose();
    const L = longestReduction(runner.program);
    expect(describeMismatch(r.logits, t.get('logits')!.data as Float32Array, { reductionLength: L })).toBeUndefined();
    expect(describeMismatch(r.attentions['attn/attn']!, t.get('attention')!.data as Float32Array, { reductionLength: L })).toBeUndefined();
  });
});
