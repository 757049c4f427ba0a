/**
 * The trained RNN encoder-decoder (the lecture's first attention model) in
 * the page: greedy generation, one decoder step per token carrying the
 * recurrent state (@tessera/models' generator), with its alignment: each
 * generated token's attention weights over the source digits.
 */
import { ALIGNMENT, type Generator, type Seq2SeqRNN, compileGenerator } from '@tessera/models';
import type { Loaded } from './assets.ts';
import { MAX_DIGITS, cached, encodeDigits } from './reverse-session.ts';
import type { ModelBackend } from './vit-session.ts';

/** A reversal by the RNN: the generated tokens and the alignment of each. */
export interface Alignment {
  /** The whole greedy output [2 + MAX_DIGITS] of the padded source: bos first, pad after eos (what Node's generator returns). */
  readonly output: Int32Array;
  /** The generated tokens after bos, up to and including eos. */
  readonly tokens: readonly number[];
  /** [tokens.length, digits], row-major: row t, the weights over the source digits of the step that chose tokens[t]. */
  readonly weights: Float32Array;
  readonly ms: number;
}

/** The RNN's generator compiled lazily, per backend and source length. */
export class RnnSession {
  private readonly generators = new Map<string, Promise<Generator>>();

  constructor(private readonly rnn: Loaded<Seq2SeqRNN>) {}

  /** A short description of the model, e.g. "GRU, general attention, hidden 48". */
  get description(): string {
    const c = this.rnn.model.config;
    return `${c.cell.toUpperCase()}, ${c.attention} attention, hidden ${c.hidden_size}`;
  }

  /**
   * Reverses a digit string on `backend`, with the alignment. The source is
   * padded to MAX_DIGITS, as in training: the encoder reads the padding too
   * (no packing), so its final state, the decoder's first, depends on it;
   * the padding is masked out of the attention. One generator per backend.
   */
  async align(text: string, backend: ModelBackend): Promise<Alignment> {
    const t0 = performance.now();
    const digits = encodeDigits(text);
    const n = digits.length;
    const { model, weights } = this.rnn;
    const src = new Int32Array(MAX_DIGITS).fill(model.config.pad_id);
    src.set(digits);
    const generator = await cached(this.generators, backend, () => compileGenerator(model, weights, { backend, batch: 1, srcLen: MAX_DIGITS, maxNewTokens: MAX_DIGITS + 1, attentions: true }));
    const g = await generator.generateWithAttention(src);
    const generated = [...g.tokens.subarray(1)];
    const eos = generated.indexOf(model.config.eos_id);
    const tokens = eos < 0 ? generated : generated.slice(0, eos + 1);
    // attn/attn is [1, 1, MAX_DIGITS + 1, MAX_DIGITS]: the rows of the steps run, the columns of the digits (the padding's are 0).
    const all = g.attentions[ALIGNMENT.output]!.data;
    const weightsOut = new Float32Array(tokens.length * n);
    for (let t = 0; t < tokens.length; t++) weightsOut.set(all.subarray(t * MAX_DIGITS, t * MAX_DIGITS + n), t * n);
    return { output: g.tokens, tokens, weights: weightsOut, ms: performance.now() - t0 };
  }
}
