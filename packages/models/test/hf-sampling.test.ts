/**
 * Sampling as transformers' generate defines it: the warped scores of
 * Tessera's warpLogits equal those of transformers' own
 * TemperatureLogitsWarper, TopKLogitsWarper and TopPLogitsWarper (applied
 * in generate's order, computed by tools/make_hf_fixtures.py) on rows with
 * ties: the same tokens filtered out (as many among equal logits, whose
 * order torch's sort leaves open), the same scores kept. The draw picks
 * by the cumulative distribution; the seeded generator is deterministic and
 * uniform enough to sample by.
 */
import { describe, expect, it } from 'vitest';
import { SAMPLING_DEFAULTS, SeededRandom, checkSampling, drawToken, softmax, warpLogits } from '../src/index.ts';
import { hfFixtureIo } from './hf-support.ts';

const io = hfFixtureIo('sampling');
const logits = io.get('logits')!;
const [rows, vocab] = logits.shape as [number, number];
const settings = [...io.keys()].filter((k) => k.startsWith('setting_'));

/** A setting stored as f32, back to the decimal the fixture script wrote (0.8, not 0.800000011920929). */
const decimal = (x: number): number => Number(x.toPrecision(6));

describe('sampling filters', () => {
  it("has transformers' warped scores for several settings", () => expect(settings.length).toBeGreaterThanOrEqual(5));

  for (const key of settings) {
    const i = key.slice('setting_'.length);
    const [temperature, topK, topP] = Array.from(io.get(key)!.data as Float32Array, decimal) as [number, number, number];
    it(`temperature ${temperature}, top_k ${topK}, top_p ${topP}: the scores transformers' warpers give`, () => {
      const want = io.get(`warped_${i}`)!.data as Float32Array;
      for (let r = 0; r < rows; r++) {
        const row = (logits.data as Float32Array).subarray(r * vocab, (r + 1) * vocab);
        const got = warpLogits(row, { temperature, topK, topP });
        const expected = want.subarray(r * vocab, (r + 1) * vocab);
        // The same tokens filtered out: exactly, for a logit no other token has; among equal logits at the nucleus's
        // edge torch's (unstable) sort picks which go, so there only as many of them.
        const unique = (j: number) => row.indexOf(row[j]!) === row.lastIndexOf(row[j]!);
        const filtered = (xs: ArrayLike<number>) => Array.from(xs, (x, j) => (unique(j) ? x === -Infinity : 'tie'));
        expect(filtered(got), `row ${r}`).toEqual(filtered(expected));
        // ... and the same scores kept.
        const kept = (xs: ArrayLike<number>) => Array.from(xs).filter((x) => x !== -Infinity).sort((a, b) => a - b);
        const [k, e] = [kept(got), kept(expected)];
        expect(k.length, `row ${r}: tokens kept`).toBe(e.length);
        k.forEach((x, j) => expect(x).toBeCloseTo(e[j]!, 5));
      }
    });
  }

  it('keeps every token at the defaults when the vocabulary is at most top_k, and the most likely one for any top_p', () => {
    const row = Float32Array.from({ length: 9 }, (_, j) => Math.sin(j));
    expect(warpLogits(row, SAMPLING_DEFAULTS).every((s) => s > -Infinity)).toBe(true);
    const nucleus = warpLogits(row, { temperature: 1, topK: 0, topP: 1e-9 });
    expect(nucleus.filter((s) => s > -Infinity).length).toBe(1);
    expect(nucleus.indexOf(Math.max(...nucleus))).toBe(row.indexOf(Math.max(...row)));
  });

  it('rejects parameters transformers rejects, naming them', () => {
    expect(() => checkSampling({ temperature: 0, topK: 1, topP: 1, seed: 0 })).toThrow(/temperature must be a positive number/);
    expect(() => checkSampling({ temperature: 1, topK: -1, topP: 1, seed: 0 })).toThrow(/top_k must be an integer >= 0/);
    expect(() => checkSampling({ temperature: 1, topK: 1, topP: 0, seed: 0 })).toThrow(/top_p must be in \(0, 1\]/);
  });
});

describe('drawing a token', () => {
  it('inverts the cumulative distribution, never picking a filtered token', () => {
    const scores = [Math.log(0.2), -Infinity, Math.log(0.5), Math.log(0.3)];
    expect(softmax(scores)[1]).toBe(0);
    expect(drawToken(scores, 0)).toBe(0);
    expect(drawToken(scores, 0.19)).toBe(0);
    expect(drawToken(scores, 0.21)).toBe(2);
    expect(drawToken(scores, 0.69)).toBe(2);
    expect(drawToken(scores, 0.71)).toBe(3);
    expect(drawToken(scores, 0.9999999999)).toBe(3);
  });

  it('the seeded generator repeats its stream for a seed, differs between seeds, and is uniform on [0, 1)', () => {
    const draw = (seed: number, n: number) => {
      const g = new SeededRandom(seed);
      return Array.from({ length: n }, () => g.next());
    };
    expect(draw(7, 50)).toEqual(draw(7, 50));
    expect(draw(7, 50)).not.toEqual(draw(8, 50));
    const row = (stream: number) => {
      const g = new SeededRandom(7, stream);
      return Array.from({ length: 50 }, () => g.next());
    };
    expect(row(0)).toEqual(draw(7, 50));
    expect(row(1)).not.toEqual(row(0));
    const xs = draw(1, 20000);
    expect(xs.every((x) => x >= 0 && x < 1)).toBe(true);
    const buckets = new Array<number>(10).fill(0);
    for (const x of xs) buckets[Math.floor(x * 10)]!++;
    // 2000 expected per bucket; 5 standard deviations is about 212.
    for (const b of buckets) expect(Math.abs(b - 2000)).toBeLessThan(220);
  });
});
