/**
 * PyTorch is the oracle: every fixture (random-weight ViTs in torchvision's
 * and timm's naming, Transformers with odd sizes and padded rows; outputs
 * computed by PyTorch in float64) runs on every available backend and must
 * match under the tolerance policy; greedy generation must give PyTorch's
 * tokens. The worst |Δ| per backend is printed at the end. The CPU backend
 * runs as the CLI runs it: with fused multiply-adds (relaxed SIMD).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { enableRelaxedSimd } from '@tessera/compiler';
import { VisionTransformer, compileGenerator, compileSeq2Seq, compileVit } from '../src/index.ts';
import { comparePyTorch, fixtureNames, int32, loadFixture, longestReduction, testBackends, worstByBackend } from './support.ts';

enableRelaxedSimd();
const names = fixtureNames();
const backends = testBackends();

afterAll(() => {
  const lines = [...worstByBackend].map(([b, w]) => `  ${b.padEnd(8)} worst |Δ| vs PyTorch (float64) ${w.diff.toExponential(2)} (${w.where})`);
  console.info(`fixtures: ${names.length} fixtures x ${backends.length} backends\n${lines.join('\n')}`);
});

describe('PyTorch fixtures', () => {
  it('has both ViT namings and at least two Transformers', () => {
    const configs = names.map((n) => loadFixture(n).config);
    expect(configs.filter((c) => c.model === 'vit').map((c) => (c.model === 'vit' ? c.naming : '')).sort()).toEqual(['timm', 'torchvision']);
    expect(configs.filter((c) => c.model === 'transformer').length).toBeGreaterThanOrEqual(2);
  });

  for (const name of names) {
    for (const backend of backends) {
      it(`${name} on ${backend}: logits match PyTorch`, async () => {
        const f = loadFixture(name);
        const expected = f.io.get('logits')!;
        if (f.model instanceof VisionTransformer) {
          const vit = await compileVit(f.model, f.weights, { backend, batch: f.shape.batch });
          const out = await vit.logits(f.io.get('pixel_values')!.data as Float32Array);
          vit.dispose();
          expect(comparePyTorch(backend, name, out, expected.data as Float32Array, expected.shape, longestReduction(vit.program))).toBeUndefined();
        } else {
          const s = f.shape;
          const run = await compileSeq2Seq(f.model, f.weights, { backend, batch: s.batch, srcLen: s.src_len!, tgtLen: s.tgt_len! });
          const out = await run.logits(int32(f.io.get('src')!), int32(f.io.get('tgt')!));
          run.dispose();
          expect(comparePyTorch(backend, name, out, expected.data as Float32Array, expected.shape, longestReduction(run.program))).toBeUndefined();
        }
      });

      if (name.startsWith('transformer')) {
        it(`${name} on ${backend}: greedy generation with the cache gives PyTorch's tokens`, async () => {
          const f = loadFixture(name);
          if (f.model instanceof VisionTransformer) throw new Error('expected a Transformer fixture');
          const s = f.shape;
          const g = await compileGenerator(f.model, f.weights, { backend, batch: s.batch, srcLen: s.src_len!, maxNewTokens: s.max_new_tokens! });
          const out = await g.generate(int32(f.io.get('src')!));
          g.dispose();
          expect(Array.from(out)).toEqual(Array.from(int32(f.io.get('generated')!)));
        });
      }
    }
  }
});
