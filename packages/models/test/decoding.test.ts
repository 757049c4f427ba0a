/**
 * Incremental decoding equals full recomputation: for random small
 * Transformers, random weights and padded sources, each decoder step's
 * logits (teacher-forced along a random target) equal the full model's
 * logits at that position, and greedy generation gives the same tokens
 * with and without the cache.
 */
import { describeMismatch } from '@tessera/harness';
import { numel } from '@tessera/ir';
import fc from 'fast-check';
import { type BackendName, compile } from '@tessera/compiler';
import { describe, expect, it } from 'vitest';
import {
  Seq2SeqTransformer,
  type TransformerConfig,
  type Weights,
  cacheNames,
  compileGenerator,
  traceDecodeStep,
  traceEncoder,
  traceSeq2Seq,
  weightsFor,
  writeCacheRow,
} from '../src/index.ts';
import { longestReduction, testBackends } from './support.ts';

/** Seeded values in [-scale, scale) (xorshift32). */
function seeded(n: number, seed: number, scale: number): Float32Array {
  let s = seed | 1;
  return Float32Array.from({ length: n }, () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return ((s >>> 0) / 4294967296 * 2 - 1) * scale;
  });
}

interface Case {
  readonly config: TransformerConfig;
  readonly batch: number;
  readonly srcLen: number;
  readonly steps: number;
  readonly seed: number;
  readonly src: number[];
  readonly tgt: number[];
}

const arbCase: fc.Arbitrary<Case> = fc
  .record({
    nhead: fc.integer({ min: 1, max: 3 }),
    headDim: fc.constantFrom(2, 4),
    enc: fc.integer({ min: 1, max: 2 }),
    dec: fc.integer({ min: 1, max: 2 }),
    ff: fc.integer({ min: 1, max: 9 }),
    vocab: fc.integer({ min: 4, max: 12 }),
    batch: fc.integer({ min: 1, max: 3 }),
    srcLen: fc.integer({ min: 1, max: 6 }),
    steps: fc.integer({ min: 1, max: 6 }),
    seed: fc.integer({ min: 1, max: 2 ** 30 }),
  })
  .chain((r) =>
    fc.record({
      lengths: fc.array(fc.integer({ min: 1, max: r.srcLen }), { minLength: r.batch, maxLength: r.batch }),
      tokens: fc.array(fc.integer({ min: 3, max: r.vocab - 1 }), { minLength: r.batch * r.srcLen, maxLength: r.batch * r.srcLen }),
      tgt: fc.array(fc.integer({ min: 0, max: r.vocab - 1 }), { minLength: r.batch * r.steps, maxLength: r.batch * r.steps }),
    }).map(({ lengths, tokens, tgt }): Case => {
      const d = r.nhead * r.headDim * 2;
      const config: TransformerConfig = {
        model: 'transformer', d_model: d, nhead: r.nhead, num_encoder_layers: r.enc, num_decoder_layers: r.dec, dim_feedforward: r.ff,
        src_vocab: r.vocab, tgt_vocab: r.vocab, pad_id: 0, bos_id: 1, eos_id: 2, layer_norm_eps: 1e-5,
      };
      // Row b keeps its first lengths[b] tokens (never pad) and is padded after them.
      const src = tokens.map((t, i) => (i % r.srcLen < lengths[Math.floor(i / r.srcLen)]! ? t : 0));
      return { config, batch: r.batch, srcLen: r.srcLen, steps: r.steps, seed: r.seed, src, tgt };
    }),
  );

function randomWeights(model: Seq2SeqTransformer, seed: number): Weights {
  return Object.fromEntries([...model.namedParameters()].map(([n, p], i) => [n, seeded(numel(p.shape), seed + 7919 * i, n.includes('norm') ? 1.5 : 0.6)]));
}

/** Per-step logits of the cached decoder, teacher-forced along tgt, as [B, steps, V]. */
async function stepLogits(c: Case, model: Seq2SeqTransformer, weights: Weights, backend: BackendName): Promise<{ logits: Float32Array; reduction: number }> {
  const { batch: b, srcLen: s, steps: n } = c;
  const cfg = c.config;
  const encP = traceEncoder(model, { batch: b, srcLen: s });
  const stepP = traceDecodeStep(model, { batch: b, srcLen: s }, n);
  const enc = await compile(encP, { backend, weights: weightsFor(encP, weights) });
  const step = await compile(stepP, { backend, weights: weightsFor(stepP, weights) });
  const src = Int32Array.from(c.src);
  const hd = cfg.d_model / cfg.nhead;
  const caches: Record<string, Float32Array> = {};
  for (let i = 0; i < cfg.num_decoder_layers; i++) {
    // Garbage, not zeros, in the unfilled cache: the mask must hide it.
    caches[cacheNames(i).cacheK] = seeded(b * cfg.nhead * n * hd, 99 + i, 50);
    caches[cacheNames(i).cacheV] = seeded(b * cfg.nhead * n * hd, 199 + i, 50);
  }
  const feeds = { src, ...(await enc.run({ src })), ...caches };
  const out = new Float32Array(b * n * cfg.tgt_vocab);
  for (let pos = 0; pos < n; pos++) {
    const token = Int32Array.from({ length: b }, (_, r) => c.tgt[r * n + pos]!);
    const r = await step.run({ ...feeds, token, pos: Int32Array.of(pos) });
    for (let i = 0; i < cfg.num_decoder_layers; i++) {
      const names = cacheNames(i);
      writeCacheRow(caches[names.cacheK]!, r[names.newK]!.data as Float32Array, b * cfg.nhead, n, hd, pos);
      writeCacheRow(caches[names.cacheV]!, r[names.newV]!.data as Float32Array, b * cfg.nhead, n, hd, pos);
    }
    for (let k = 0; k < b; k++) out.set(r.logits!.data.subarray(k * cfg.tgt_vocab, (k + 1) * cfg.tgt_vocab), (k * n + pos) * cfg.tgt_vocab);
  }
  enc.dispose();
  step.dispose();
  return { logits: out, reduction: Math.max(longestReduction(encP), longestReduction(stepP)) };
}

/** Random models per property; WebGPU compiles slowly on CI's software rasteriser, so it gets fewer. */
const runsFor = (backend: string) => (backend === 'webgpu' ? 3 : 6);

describe('incremental decoding = full recomputation', () => {
  for (const backend of testBackends().filter((b) => b !== 'eval')) {
    const RUNS = runsFor(backend);
    it(`${backend}: each cached decoder step's logits equal the full model's at that position (${RUNS} random models)`, async () => {
      await fc.assert(
        fc.asyncProperty(arbCase, async (c) => {
          const model = new Seq2SeqTransformer(c.config);
          const weights = randomWeights(model, c.seed);
          const fullP = traceSeq2Seq(model, { batch: c.batch, srcLen: c.srcLen }, c.steps);
          const full = await compile(fullP, { backend, weights: weightsFor(fullP, weights) });
          const expected = (await full.run({ src: Int32Array.from(c.src), tgt: Int32Array.from(c.tgt) })).logits!.data;
          full.dispose();
          const { logits, reduction } = await stepLogits(c, model, weights, backend);
          const why = describeMismatch(logits, expected, { reductionLength: Math.max(reduction, longestReduction(fullP)) }, { what: 'step logits', shape: [c.batch, c.steps, c.config.tgt_vocab] });
          expect(why).toBeUndefined();
        }),
        { numRuns: RUNS },
      );
    });

    it(`${backend}: greedy generation gives the same tokens with and without the cache (${RUNS} random models)`, async () => {
      await fc.assert(
        fc.asyncProperty(arbCase, async (c) => {
          const model = new Seq2SeqTransformer(c.config);
          const weights = randomWeights(model, c.seed);
          const opts = { backend, batch: c.batch, srcLen: c.srcLen, maxNewTokens: c.steps };
          const src = Int32Array.from(c.src);
          const cached = await compileGenerator(model, weights, { ...opts, cache: true });
          const recomputed = await compileGenerator(model, weights, { ...opts, cache: false });
          const [a, e] = [await cached.generate(src), await recomputed.generate(src)];
          cached.dispose();
          recomputed.dispose();
          expect(Array.from(a)).toEqual(Array.from(e));
          expect(cached.steps).toBe(recomputed.steps);
        }),
        { numRuns: RUNS },
      );
    });
  }

  it('writes new key/value rows into the cache in place at the position, leaving the rest', () => {
    // Two (batch·head) rows, capacity 3, head size 2.
    const cache = Float32Array.from({ length: 12 }, (_, i) => -i - 1);
    writeCacheRow(cache, Float32Array.of(10, 11, 20, 21), 2, 3, 2, 1);
    expect(Array.from(cache)).toEqual([-1, -2, 10, 11, -5, -6, -7, -8, 20, 21, -11, -12]);
  });
});
