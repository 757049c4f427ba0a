/**
 * Attention probes against PyTorch: the fixtures (both ViT namings, both
 * Transformers) traced with `attentions: true` give every attention
 * module's probabilities, which
 * must match PyTorch's per-head weights (need_weights=True,
 * average_attn_weights=False; NAME.attn.safetensors, written by
 * tools/make_attention_fixtures.py) on every backend and the CPU's
 * JavaScript target under the tolerance policy, with the keys PyTorch
 * masks (padding, the causal bound) exactly 0 and the padded query rows of
 * the encoder ordinary distributions. The worst |Δ| per backend and model is printed.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createCpuBackend, compile, enableRelaxedSimd } from '@tessera/compiler';
import { describeMismatch, maskedProbabilityMismatch } from '@tessera/harness';
import { readSafetensors } from '@tessera/ir';
import { VisionTransformer, compileGenerator, crossAttentionPaths, traceSeq2Seq, traceVit, weightsFor } from '../src/index.ts';
import { FIXTURES, comparePyTorch, fixtureNames, int32, loadFixture, testBackends, worstByBackend } from './support.ts';

enableRelaxedSimd();
const names = fixtureNames().filter((n) => existsSync(join(FIXTURES, `${n}.attn.safetensors`)));
const backends = [...testBackends(), 'cpu-js'] as const;

afterAll(() => {
  const lines = [...worstByBackend].map(([b, w]) => `  ${b.padEnd(18)} worst |Δ| of attention probabilities vs PyTorch (float64) ${w.diff.toExponential(2)} (${w.where})`);
  console.info(`attention probes: ${names.length} fixtures x ${backends.length} backends\n${lines.join('\n')}`);
});

describe('attention probes match PyTorch', () => {
  it('has PyTorch weights for every fixture: both ViT namings, both Transformers (padded rows included)', () => {
    expect(names).toEqual(fixtureNames());
  });

  for (const name of names) {
    for (const backend of backends) {
      it(`${name} on ${backend}: every attn/<module path> matches PyTorch${name.startsWith('vit') ? '' : ', masked keys exactly 0'}`, async () => {
        const f = loadFixture(name);
        const expected = readSafetensors(readFileSync(join(FIXTURES, `${name}.attn.safetensors`))).tensors;
        const s = f.shape;
        const vit = f.model instanceof VisionTransformer;
        const program = f.model instanceof VisionTransformer ? traceVit(f.model, s.batch, true) : traceSeq2Seq(f.model, { batch: s.batch, srcLen: s.src_len! }, s.tgt_len!, true);
        const probes = program.outputs.filter((o) => o.name.startsWith('attn/')).map((o) => o.name);
        expect(probes.sort()).toEqual([...expected.keys()].sort());
        using exe = await compile(program, { backend: backend === 'cpu-js' ? createCpuBackend({ target: 'js' }) : backend, weights: weightsFor(program, f.weights) });
        const out = await exe.run(vit ? { pixel_values: f.io.get('pixel_values')!.data as Float32Array } : { src: int32(f.io.get('src')!), tgt: int32(f.io.get('tgt')!) });
        let maskedKeys = 0;
        for (const probe of probes) {
          const want = expected.get(probe)!;
          maskedKeys += (want.data as Float32Array).filter((p) => p === 0).length;
          const got = out[probe]!;
          expect(got.dims).toEqual(want.shape);
          // Scores are dot products over the head size; the probabilities then normalise over the keys.
          const c = f.config;
          const reduction = (c.model === 'transformer' ? c.d_model / c.nhead : c.hidden_dim / c.num_heads) + want.shape.at(-1)!;
          expect(comparePyTorch(`${backend} ${vit ? 'ViT' : 'Transformer'}`, `${name} ${probe}`, got.data as Float32Array, want.data as Float32Array, want.shape, reduction)).toBeUndefined();
          expect(maskedProbabilityMismatch(got.data as Float32Array, want.data as Float32Array), probe).toBeUndefined();
        }
        // Padding and the causal bound mask keys in every Transformer fixture: the exact-zero check is not vacuous there.
        if (!vit) expect(maskedKeys).toBeGreaterThan(0);
      });

      // Generation on the backends users run it on (the probes themselves are checked on every backend above).
      if (name.startsWith('transformer') && ['interp', 'cpu', 'webgpu'].includes(backend)) it(`${name} on ${backend}: generation's cross-attention per token is the full model's on the generated tokens`, async () => {
        const f = loadFixture(name);
        if (f.model instanceof VisionTransformer) throw new Error('expected a Transformer fixture');
        const s = f.shape;
        const n = s.max_new_tokens!;
        const backendOf = () => (backend === 'cpu-js' ? createCpuBackend({ target: 'js' }) : backend);
        const src = int32(f.io.get('src')!);
        // Without the cache (the full model at every step) once, on the interpreter.
        for (const cache of backend === 'interp' ? [true, false] : [true]) {
          const g = await compileGenerator(f.model, f.weights, { backend: backendOf(), batch: s.batch, srcLen: s.src_len!, maxNewTokens: n, cache, crossAttention: true });
          const { tokens, attentions } = await g.generateWithAttention(src);
          const steps = g.steps;
          g.dispose();
          expect(Array.from(tokens)).toEqual(Array.from(int32(f.io.get('generated')!)));
          // The reference: the full model on the tokens before the last, probed, on the same backend (itself checked against PyTorch above).
          const program = traceSeq2Seq(f.model, { batch: s.batch, srcLen: s.src_len! }, n, crossAttentionPaths(f.model));
          using exe = await compile(program, { backend: backendOf(), weights: weightsFor(program, f.weights) });
          const tgt = Int32Array.from({ length: s.batch * n }, (_, k) => tokens[Math.floor(k / n) * (n + 1) + (k % n)]!);
          const full = await exe.run({ src, tgt });
          for (const path of crossAttentionPaths(f.model)) {
            const name_ = `attn/${path}`;
            const got = attentions[name_]!;
            expect(got.dims).toEqual([s.batch, f.config.model === 'transformer' ? f.config.nhead : 0, n, s.src_len!]);
            const rowsOf = (data: ArrayLike<number>, from: number, to: number) => Array.from({ length: got.data.length / s.src_len! }, (_, r) => r).filter((r) => r % n >= from && r % n < to).flatMap((r) => Array.from({ length: s.src_len! }, (_, c) => data[r * s.src_len! + c]!));
            const mismatch = describeMismatch(rowsOf(got.data, 0, steps), rowsOf(full[name_]!.data as Float32Array, 0, steps), { reductionLength: 2 * s.src_len! });
            expect(mismatch, `${name_} (cache ${cache})`).toBeUndefined();
            expect(rowsOf(got.data, steps, n).every((p) => p === 0), `${name_}: rows of steps never run are 0`).toBe(true);
          }
        }
      });
    }
  }
});
