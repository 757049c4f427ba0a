/**
 * The trained digit-reversal Transformer in the page: greedy generation
 * with the key/value cache (@tessera/models' generator), then one run of
 * the full model on the generated tokens for each step's probabilities
 * and the attention of every module (the compiler's attention probes):
 * the decoder's cross- and causal self-attention.
 */
import { type Executable, TesseraError, compile } from '@tessera/compiler';
import { type Generator, type Seq2SeqTransformer, compileGenerator, traceSeq2Seq, weightsFor } from '@tessera/models';
import type { Loaded } from './assets.ts';
import { attentionOutputs } from './probes.ts';
import type { ModelBackend } from './vit-session.ts';
import { softmax } from './vit-session.ts';

/** The longest digit string the model was trained on. */
export const MAX_DIGITS = 10;

/** A token as text: the special tokens by name, a digit as itself. */
export function tokenText(t: number): string {
  return ['·', '<s>', '</s>'][t] ?? String(t - 3);
}

/** The source tokens of a digit string (3 + digit), or a TesseraError saying what the model takes. */
export function encodeDigits(text: string): Int32Array {
  if (!/^[0-9]+$/.test(text) || text.length > MAX_DIGITS) throw new TesseraError(`'${text}': the model reverses strings of 1 to ${MAX_DIGITS} digits (0-9)`);
  return Int32Array.from(text, (d) => 3 + Number(d));
}

/** One generated token. */
export interface Step {
  readonly token: number;
  /** The model's probability of it at its step. */
  readonly prob: number;
}

/** A reversal: the generated tokens (eos included) and the decoder's attention, by module path. */
export interface Reversal {
  readonly steps: readonly Step[];
  /** Decoder positions (bos + generated before eos) × source, per attention module: [heads, queries, keys]. */
  readonly attentions: ReadonlyMap<string, Float32Array>;
  readonly heads: number;
  /** Decoder positions the full-model run took: bos and the tokens generated before the last. */
  readonly queries: number;
  readonly ms: number;
}

/** The promise cached under `key`, made on first use (and forgotten if it fails, so a retry compiles again). */
export function cached<T>(cache: Map<string, Promise<T>>, key: string, make: () => Promise<T>): Promise<T> {
  let p = cache.get(key);
  if (!p) {
    p = make();
    cache.set(key, p);
    p.catch(() => cache.delete(key));
  }
  return p;
}

/** The Transformer's programs compiled lazily, per backend and source length. */
export class ReverseSession {
  private readonly generators = new Map<string, Promise<Generator>>();
  private readonly full = new Map<string, Promise<Executable>>();

  constructor(private readonly t: Loaded<Seq2SeqTransformer>) {}

  /** Reverses a digit string on `backend`. */
  async reverse(text: string, backend: ModelBackend): Promise<Reversal> {
    const t0 = performance.now();
    const src = encodeDigits(text);
    const n = src.length;
    const { model, weights } = this.t;
    const c = model.config;
    const key = `${backend}:${n}`;
    const generator = await cached(this.generators, key, () => compileGenerator(model, weights, { backend, batch: 1, srcLen: n, maxNewTokens: n + 1 }));
    const out = await generator.generate(src);
    // The full model on bos and the generated tokens: position q predicts token q + 1.
    const full = await cached(this.full, key, () => {
      const program = traceSeq2Seq(model, { batch: 1, srcLen: n }, n + 1, true);
      return compile(program, { backend, weights: weightsFor(program, weights) });
    });
    const r = await full.run({ src, tgt: out.subarray(0, n + 1) });
    const logits = r.logits!.data;
    const steps: Step[] = [];
    for (let q = 0; q < n + 1; q++) {
      const token = out[q + 1]!;
      steps.push({ token, prob: softmax(Array.from(logits.slice(q * c.tgt_vocab, (q + 1) * c.tgt_vocab) as ArrayLike<number>))[token]! });
      if (token === c.eos_id) break;
    }
    return { steps, attentions: attentionOutputs(r), heads: c.nhead, queries: n + 1, ms: performance.now() - t0 };
  }
}
