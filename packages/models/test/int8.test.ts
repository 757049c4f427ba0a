/**
 * The trained models and the fixtures in int8 (compile's quantize: 'int8',
 * issue 16), on the CPU backend as the CLI runs it (relaxed SIMD where the
 * engine has it): the Fashion-MNIST ViT agrees with PyTorch's fp32
 * predictions on at least 99.5% of the 1,000 bundled images; the
 * digit-reversal Transformer keeps at least 98% exact match; on the
 * random-weight fixtures the int8 logits are the int8 program's (the
 * interpreter's, under the f32 policy) and within 5% of the logit range of
 * PyTorch's fp32 ones. The figures are printed at the end.
 */
import { join } from 'node:path';
import { describeMismatch } from '@tessera/harness';
import { readSafetensorsFile } from '@tessera/ir/node';
import { enableRelaxedSimd } from '@tessera/compiler';
import { afterAll, describe, expect, it } from 'vitest';
import { VisionTransformer, argmax, compileGenerator, compileSeq2Seq, compileVit, pixelValues } from '../src/index.ts';
import { type LoadedModel, loadModel, readSample } from '../src/node.ts';
import { TRAINED, fixtureNames, int32, loadFixture, longestReduction, maxAbsDiff } from './support.ts';

enableRelaxedSimd();
const path = (f: string) => join(TRAINED, f);
const figures: string[] = [];
afterAll(() => console.info(`int8:\n${figures.map((f) => `  ${f}`).join('\n')}`));

describe('trained models in int8', () => {
  it("ViT: at least 99.5% of PyTorch's fp32 predictions on the 1,000 bundled images", async () => {
    const m = (await loadModel(path('vit-fashion-mnist.json'), path('vit-fashion-mnist.safetensors'))) as Extract<LoadedModel, { kind: 'vit' }>;
    const data = await readSample(path('fashion-mnist-sample.safetensors'));
    const torch = await readSafetensorsFile(path('vit-fashion-mnist.pytorch.safetensors'));
    const torchPred = torch.tensors.get('predictions')!.data as Uint8Array;
    const vit = await compileVit(m.model, m.weights, { backend: 'cpu', batch: 250, quantize: 'int8' });
    const logits = await vit.logits(pixelValues(data));
    vit.dispose();
    let agree = 0;
    for (let i = 0; i < data.count; i++) if (argmax(logits, i * 10, 10) === torchPred[i]) agree++;
    const worst = maxAbsDiff(logits, (torch.tensors.get('logits')!.data as Float32Array).subarray(0, 10 * data.count));
    figures.push(`ViT: ${agree} of ${data.count} predictions as PyTorch fp32, worst |logit diff| ${worst.toPrecision(3)}`);
    expect(agree).toBeGreaterThanOrEqual(Math.ceil(0.995 * data.count));
  });

  it('Transformer: greedy generation keeps at least 98% exact match', async () => {
    const m = (await loadModel(path('transformer-reverse.json'), path('transformer-reverse.safetensors'))) as Extract<LoadedModel, { kind: 'transformer' }>;
    const torch = (await readSafetensorsFile(path('transformer-reverse.pytorch.safetensors'))).tensors;
    const src = int32(torch.get('src')!);
    const expected = int32(torch.get('expected')!);
    const [n, srcLen] = torch.get('src')!.shape as [number, number];
    const width = torch.get('expected')!.shape[1]!;
    const g = await compileGenerator(m.model, m.weights, { backend: 'cpu', batch: 100, srcLen, maxNewTokens: width - 1, quantize: 'int8' });
    const out = await g.generate(src);
    g.dispose();
    let exact = 0;
    for (let r = 0; r < n; r++) if (out.subarray(r * width, (r + 1) * width).every((v, i) => v === expected[r * width + i])) exact++;
    figures.push(`Transformer: exact match ${exact} of ${n}`);
    expect(exact).toBeGreaterThanOrEqual(Math.ceil(0.98 * n));
  });
});

describe('the fixtures in int8', () => {
  for (const name of fixtureNames()) {
    it(`${name}: cpu computes the int8 program's logits, within 5% of the logit range of PyTorch's`, async () => {
      const f = loadFixture(name);
      const expected = f.io.get('logits')!.data as Float32Array;
      const run = async (backend: 'cpu' | 'interp') => {
        if (f.model instanceof VisionTransformer) {
          const vit = await compileVit(f.model, f.weights, { backend, batch: f.shape.batch, quantize: 'int8' });
          const out = await vit.logits(f.io.get('pixel_values')!.data as Float32Array);
          vit.dispose();
          return { out, L: longestReduction(vit.program) };
        }
        const s = f.shape;
        const r = await compileSeq2Seq(f.model, f.weights, { backend, batch: s.batch, srcLen: s.src_len!, tgtLen: s.tgt_len!, quantize: 'int8' });
        const out = await r.logits(int32(f.io.get('src')!), int32(f.io.get('tgt')!));
        r.dispose();
        return { out, L: longestReduction(r.program) };
      };
      const [cpu, interp] = [await run('cpu'), await run('interp')];
      expect(describeMismatch(cpu.out, interp.out, { reductionLength: cpu.L }, { what: `${name} cpu vs the int8 interpreter` })).toBeUndefined();
      const range = expected.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
      const worst = maxAbsDiff(cpu.out, expected);
      figures.push(`${name}: worst |logit diff| vs PyTorch fp32 ${worst.toPrecision(3)} (logits up to ${range.toPrecision(3)}), vs the int8 interpreter ${maxAbsDiff(cpu.out, interp.out).toPrecision(3)}`);
      expect(worst).toBeLessThanOrEqual(0.05 * range);
      // And it did quantize: fp32 kernels would agree with PyTorch to about 1e-6.
      expect(worst).toBeGreaterThan(1e-4);
    });
  }
});
