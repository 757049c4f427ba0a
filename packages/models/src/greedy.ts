/**
 * Greedy decoding shared by the sequence-to-sequence models: the token loop
 * of one batch (bos first, argmax, pad after eos, stopping when every row
 * has ended) and the Generator over any number of rows in fixed batches.
 * Each model supplies its programs and one decoding step.
 */
import { type Program, TesseraError } from '@tessera/ir';
import type { Executable } from '@tessera/compiler';
import { type Progress, argmax, batchRows, forEachBatch } from './batching.ts';

/**
 * The most tokens one generation may add. The sinusoidal position encoding
 * has no fixed length; this bound (and the Transformer's cache bound) keeps
 * the key/value caches and the decode loop finite.
 */
export const MAX_NEW_TOKENS = 65536;

/** Rejects a token count outside [1, MAX_NEW_TOKENS]. */
export function checkTokenCount(n: number): void {
  if (!Number.isInteger(n) || n < 1 || n > MAX_NEW_TOKENS) throw new TesseraError(`max new tokens must be an integer in [1, ${MAX_NEW_TOKENS}], got ${n}`);
}

/** The special tokens and vocabulary greedy decoding needs of a config. */
export interface DecodingTokens {
  readonly tgt_vocab: number;
  readonly pad_id: number;
  readonly bos_id: number;
  readonly eos_id: number;
}

/** A compiled greedy generator. */
export interface Generator {
  /** The programs it runs (encoder and decoder step, or the full model). */
  readonly programs: readonly Program[];
  /**
   * Greedy outputs [N, 1 + maxNewTokens] of sources [N, srcLen] (N any
   * positive count): bos_id first; after eos_id a row continues with pad_id.
   */
  generate(src: Int32Array, progress?: Progress): Promise<Int32Array>;
  /** Decoder steps run so far (a batch that finishes early stops early). */
  readonly steps: number;
  /**
   * After generate() with attention outputs compiled in: each attention's
   * weights for every generated token, by output name (rows of
   * generateWithAttention's dims; zeros at steps a finished batch did not
   * run). Empty otherwise.
   */
  readonly attentions: Readonly<Record<string, Float32Array>>;
  /** generate() with each attention's weights of every generated token (compiled with attentions or crossAttention). */
  generateWithAttention(src: Int32Array, progress?: Progress): Promise<Generation>;
  dispose(): void;
}

/** Tokens and, per attention output, the weights of each generated token. */
export interface Generation {
  /** As generate(): [N, 1 + maxNewTokens]. */
  readonly tokens: Int32Array;
  /**
   * By output name, [N, heads, maxNewTokens, srcLen]: row t holds the
   * probabilities over the source of the step that chose token t + 1 (its
   * query is token t, as in the full model on tgt = tokens[:, :-1]); rows of
   * steps never run (every row of the batch had ended) are 0. Transformer:
   * `attn/transformer.decoder.layers.{i}.multihead_attn`; RNN: `attn/attn`.
   */
  readonly attentions: Readonly<Record<string, { readonly dims: readonly number[]; readonly data: Float32Array }>>;
}

/** Next-token logits of a step: row r of `vocab` values at r·stride + offset. */
export interface StepLogits {
  readonly data: ArrayLike<number>;
  readonly stride: number;
  readonly offset: number;
}

/** Greedy choice for each row from logits rows, respecting finished rows (which continue with pad_id). */
function chooseNext(l: StepLogits, rows: number, done: Uint8Array, c: DecodingTokens): Int32Array {
  const next = new Int32Array(rows);
  for (let r = 0; r < rows; r++) {
    if (done[r]) {
      next[r] = c.pad_id;
      continue;
    }
    next[r] = argmax(l.data, r * l.stride + l.offset, c.tgt_vocab);
    if (next[r] === c.eos_id) done[r] = 1;
  }
  return next;
}

/**
 * Greedy decoding of one batch of b rows for n tokens: `step(token, pos)`
 * gives the logits of the token after `token` (the tokens at position pos,
 * bos_id at 0). Returns [b, 1 + n] and the steps run (fewer than n when
 * every row has ended).
 */
export async function greedyBatch(c: DecodingTokens, b: number, n: number, step: (token: Int32Array, pos: number) => Promise<StepLogits>): Promise<{ out: Int32Array; steps: number }> {
  const width = 1 + n;
  const out = new Int32Array(b * width).fill(c.pad_id);
  const token = new Int32Array(b).fill(c.bos_id);
  for (let r = 0; r < b; r++) out[r * width] = c.bos_id;
  const done = new Uint8Array(b);
  let steps = 0;
  for (let pos = 0; pos < n && !done.every((d) => d); pos++) {
    const next = chooseNext(await step(token, pos), b, done, c);
    steps++;
    for (let k = 0; k < b; k++) out[k * width + pos + 1] = next[k]!;
    token.set(next);
  }
  return { out, steps };
}

/** What one decoded batch gives: tokens [b, 1 + n], steps run, and attention weights [b, 1, n, S] by file name. */
export interface DecodedBatch {
  readonly out: Int32Array;
  readonly steps: number;
  readonly attentions?: Readonly<Record<string, Float32Array>>;
}

/**
 * A Generator over any number of source rows, decoding `batch` rows at a
 * time with `decodeBatch` (the last chunk padded with repeats of its first
 * row, whose results are dropped).
 */
export function batchedGenerator(
  programs: readonly Program[],
  executables: readonly Executable[],
  srcLen: number,
  width: number,
  batch: number,
  decodeBatch: (src: Int32Array) => Promise<DecodedBatch>,
  /** Each attention output's dims per source row ([heads, maxNewTokens, srcLen]); none: generateWithAttention refuses. */
  attentionRowDims: Readonly<Record<string, readonly number[]>> = {},
): Generator {
  let steps = 0;
  let attentions: Record<string, Float32Array> = {};
  const generator: Generator = {
    programs,
    get steps() {
      return steps;
    },
    get attentions() {
      return attentions;
    },
    async generate(src, progress) {
      const count = src.length / srcLen;
      if (!Number.isInteger(count) || count < 1) throw new RangeError(`src has ${src.length} tokens, expected a positive multiple of the source length ${srcLen}`);
      const out = new Int32Array(count * width);
      attentions = {};
      await forEachBatch(
        count,
        batch,
        async (start, k) => {
          const res = await decodeBatch(batchRows(src, srcLen, start, k, batch));
          steps += res.steps;
          out.set(res.out.subarray(0, k * width), start * width);
          for (const [name, w] of Object.entries(res.attentions ?? {})) {
            const row = w.length / batch;
            (attentions[name] ??= new Float32Array(count * row)).set(w.subarray(0, k * row), start * row);
          }
        },
        progress,
      );
      return out;
    },
    async generateWithAttention(src, progress) {
      if (!Object.keys(attentionRowDims).length) throw new TesseraError('generateWithAttention: compile the generator with its attention outputs (crossAttention: true for a Transformer, attentions: true for an RNN)');
      const tokens = await generator.generate(src, progress);
      const count = src.length / srcLen;
      return { tokens, attentions: Object.fromEntries(Object.entries(attentionRowDims).map(([name, dims]) => [name, { dims: [count, ...dims], data: attentions[name]! }])) };
    },
    dispose: () => executables.forEach((e) => e.dispose()),
  };
  return generator;
}
