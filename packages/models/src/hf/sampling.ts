/**
 * Choosing the next token as transformers' `generate` does. Greedy: the
 * first largest logit (torch.argmax). Sampling (`do_sample=True`): the
 * logits warped in transformers' order (TemperatureLogitsWarper, then
 * TopKLogitsWarper, then TopPLogitsWarper, each only when it changes
 * anything: temperature != 1, top_k > 0, top_p < 1), then one draw from
 * their softmax.
 *
 * The draw uses Tessera's own seeded generator (xoshiro128**, seeded
 * through splitmix32, one stream per row): the same seed gives the same
 * tokens on every run and backend, however the rows are batched, but it cannot reproduce torch.multinomial's stream, so sampled
 * tokens never equal PyTorch's for the same seed. What does match
 * transformers is the distribution drawn from (the filters below, tested
 * directly).
 */
import { TesseraError } from '@tessera/ir';

/** transformers' sampling parameters (GenerationConfig's names in camel case). */
export interface SamplingOptions {
  /** Logits are divided by it (> 0; 1 leaves them). */
  readonly temperature: number;
  /** Keep the top_k largest logits (ties with the k-th kept); 0 keeps all. transformers' default is 50. */
  readonly topK: number;
  /** Keep the smallest set of the most likely tokens whose probability reaches top_p; 1 keeps all. */
  readonly topP: number;
  /** Seed of the generator. */
  readonly seed: number;
}

/** transformers' GenerationConfig defaults for sampling. */
export const SAMPLING_DEFAULTS: Omit<SamplingOptions, 'seed'> = { temperature: 1, topK: 50, topP: 1 };

/** Checks sampling parameters as transformers' warpers do, naming the flag's parameter. */
export function checkSampling(o: SamplingOptions): void {
  if (!(o.temperature > 0) || !Number.isFinite(o.temperature)) throw new TesseraError(`temperature must be a positive number, got ${o.temperature}`);
  if (!Number.isInteger(o.topK) || o.topK < 0) throw new TesseraError(`top_k must be an integer >= 0, got ${o.topK}`);
  if (!(o.topP > 0 && o.topP <= 1)) throw new TesseraError(`top_p must be in (0, 1], got ${o.topP}`);
}

/**
 * The warped scores of one row of logits: divided by the temperature, then
 * -Infinity outside the top k, then -Infinity outside the nucleus of top p
 * (transformers' TopPLogitsWarper: sorted ascending, tokens whose
 * cumulative probability is <= 1 - top_p are removed, the most likely
 * always kept).
 */
export function warpLogits(logits: ArrayLike<number>, o: Omit<SamplingOptions, 'seed'>): Float64Array {
  const n = logits.length;
  const scores = Float64Array.from(logits as ArrayLike<number>);
  if (o.temperature !== 1) for (let i = 0; i < n; i++) scores[i] = scores[i]! / o.temperature;
  if (o.topK > 0 && o.topK < n) {
    const kth = Float64Array.from(scores).sort()[n - o.topK]!;
    for (let i = 0; i < n; i++) if (scores[i]! < kth) scores[i] = -Infinity;
  }
  if (o.topP < 1) {
    // Ascending by score; equal scores in index order.
    const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => scores[a]! - scores[b]! || a - b);
    const probs = softmax(Float64Array.from(order, (i) => scores[i]!));
    let cumulative = 0;
    for (let j = 0; j < n - 1; j++) {
      cumulative += probs[j]!;
      if (cumulative <= 1 - o.topP) scores[order[j]!] = -Infinity;
    }
  }
  return scores;
}

/** Softmax of scores (-Infinity gives probability 0). */
export function softmax(scores: ArrayLike<number>): Float64Array {
  let max = -Infinity;
  for (let i = 0; i < scores.length; i++) max = Math.max(max, scores[i]!);
  const out = Float64Array.from(scores as ArrayLike<number>, (s) => Math.exp(s - max));
  const sum = out.reduce((a, b) => a + b, 0);
  return out.map((p) => p / sum);
}

/** A token drawn from softmax(scores) with u uniform in [0, 1) (inverse of the cumulative distribution). */
export function drawToken(scores: ArrayLike<number>, u: number): number {
  const probs = softmax(scores);
  let cumulative = 0;
  let last = 0;
  for (let i = 0; i < probs.length; i++) {
    if (probs[i]! === 0) continue;
    last = i;
    cumulative += probs[i]!;
    if (u < cumulative) return i;
  }
  return last;
}

/** xoshiro128**: a seeded uniform generator in [0, 1) (53 bits from two draws); `stream` picks one of many per seed (a row). */
export class SeededRandom {
  private readonly s: Uint32Array;

  constructor(seed: number, stream = 0) {
    // splitmix32 fills the state so that nearby seeds (and streams) give unrelated streams.
    let x = (seed ^ Math.imul(stream, 0x85ebca6b)) >>> 0;
    this.s = new Uint32Array(4);
    for (let i = 0; i < 4; i++) {
      x = (x + 0x9e3779b9) >>> 0;
      let z = x;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
      this.s[i] = (z ^ (z >>> 16)) >>> 0;
    }
  }

  private nextUint32(): number {
    const s = this.s;
    const result = Math.imul(rotl(Math.imul(s[1]!, 5), 7), 9) >>> 0;
    const t = s[1]! << 9;
    s[2]! ^= s[0]!;
    s[3]! ^= s[1]!;
    s[1]! ^= s[2]!;
    s[0]! ^= s[3]!;
    s[2]! ^= t;
    s[3] = rotl(s[3]!, 11);
    return result;
  }

  /** A float in [0, 1). */
  next(): number {
    return ((this.nextUint32() >>> 5) * 67108864 + (this.nextUint32() >>> 6)) / 9007199254740992;
  }
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}
