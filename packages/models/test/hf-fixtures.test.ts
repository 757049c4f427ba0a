/**
 * Hugging Face folders against transformers: every fixture (ViT, BERT and
 * GPT-2 saved by save_pretrained, one sharded; outputs computed by PyTorch
 * in float64) is loaded from its folder, traced and run on every available
 * backend, and each output must match under the tolerance policy; GPT-2's
 * greedy generation with the key/value cache must give transformers'
 * greedy `generate` tokens, token for token.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { enableRelaxedSimd, compile } from '@tessera/compiler';
import { HfGpt2LMHeadModel, compileGpt2Generator, hfInputNames, traceHf, weightsFor } from '../src/index.ts';
import { loadHfFolder } from '../src/node.ts';
import { HF_FIXTURES, hfFixtureIo, hfFixtureNames, hfShapeOf } from './hf-support.ts';
import { comparePyTorch, int32, longestReduction, testBackends, worstByBackend } from './support.ts';

enableRelaxedSimd();
const names = hfFixtureNames();
const backends = testBackends();

afterAll(() => {
  const lines = [...worstByBackend].map(([b, w]) => `  ${b.padEnd(8)} worst |Δ| vs PyTorch (float64) ${w.diff.toExponential(2)} (${w.where})`);
  console.info(`Hugging Face fixtures: ${names.length} folders x ${backends.length} backends\n${lines.join('\n')}`);
});

describe('Hugging Face fixtures', () => {
  it('has every architecture, one of them sharded', async () => {
    const configs = await Promise.all(names.map(async (n) => (await loadHfFolder(join(HF_FIXTURES, n))).config.architecture));
    expect(configs.sort()).toEqual(['BertForSequenceClassification', 'BertModel', 'GPT2LMHeadModel', 'GPT2Model', 'ViTForImageClassification', 'ViTModel']);
  });

  for (const name of names) {
    for (const backend of backends) {
      it(`${name} on ${backend}: outputs match PyTorch`, async () => {
        const m = await loadHfFolder(join(HF_FIXTURES, name));
        const io = hfFixtureIo(name);
        const program = traceHf(m.model, hfShapeOf(io));
        const inputs = Object.fromEntries(hfInputNames(m.config).map((n) => [n, m.config.model_type === 'vit' ? io.get(n)!.data : int32(io.get(n)!)]));
        const exe = await compile(program, { backend, weights: weightsFor(program, m.weights) });
        const out = await exe.run(inputs);
        exe.dispose();
        expect(program.outputs.length).toBeGreaterThan(0);
        for (const o of program.outputs) {
          const expected = io.get(o.name);
          expect(expected, `PyTorch's ${o.name}`).toBeDefined();
          expect(comparePyTorch(backend, `${name} ${o.name}`, out[o.name]!.data, expected!.data as Float32Array, expected!.shape, longestReduction(program))).toBeUndefined();
        }
      });
    }
  }

  for (const backend of backends) {
    it(`gpt2 on ${backend}: greedy generation with the cache gives transformers' tokens`, async () => {
      const name = names.find((n) => n.startsWith('gpt2-lm'))!;
      const m = await loadHfFolder(join(HF_FIXTURES, name));
      if (!(m.model instanceof HfGpt2LMHeadModel)) throw new Error('expected GPT2LMHeadModel');
      const io = hfFixtureIo(name);
      const prompt = io.get('prompt')!;
      const generated = io.get('generated')!;
      const [b, p] = prompt.shape as [number, number];
      const streamed: number[][] = [];
      const g = await compileGpt2Generator(m.model, m.weights, { backend, batch: b, promptLen: p, maxNewTokens: generated.shape[1]! - p, onToken: (_, t) => streamed.push([...t]) });
      const out = await g.generate(int32(prompt));
      g.dispose();
      expect(Array.from(out)).toEqual(Array.from(int32(generated)));
      // Streaming reports each new column as it is chosen.
      expect(streamed.flat().length).toBeGreaterThan(0);
      streamed.forEach((col, step) => expect(col).toEqual(Array.from({ length: b }, (_, r) => out[r * generated.shape[1]! + p + step]!)));
    });
  }
});
