/**
 * GPT-2 generation as transformers' `generate` does it (greedy by default,
 * or sampling), with a key/value cache as the encoder-decoder's generator
 * has: the prompt runs once through a prefill program (as the encoder does
 * there), whose keys and values fill the first rows of fixed-capacity
 * caches; then one compiled decoding-step program per new token, whose new
 * key/value rows the loop writes in place (writeCacheRow).
 *
 * End of sequence as transformers: when the config has an eos_token_id, a
 * row that emits it continues with pad_token_id (eos when there is none),
 * and generation stops when every row has ended; the columns not generated
 * are filled with that pad id, so the output is always [B, prompt + N].
 */
import { type Program, TesseraError } from '@tessera/ir';
import { type BackendName, compile } from '@tessera/compiler';
import { type Progress, argmax, batchRows, forEachBatch, weightsFor } from '../batching.ts';
import type { Weights } from '../checkpoint.ts';
import { traceEntry } from '../entry.ts';
import { MAX_NEW_TOKENS, checkCacheSize, writeCacheRow } from '../transformer/generate.ts';
import { cacheNames, stepOutputs } from '../transformer/programs.ts';
import type { HfGpt2LMHeadModel } from './gpt2.ts';
import { type SamplingOptions, SeededRandom, checkSampling, drawToken, warpLogits } from './sampling.ts';

/** Options of compileGpt2Generator. */
export interface Gpt2GeneratorOptions {
  readonly backend: BackendName;
  /** Sequences per run. */
  readonly batch: number;
  /** Tokens in every prompt row. */
  readonly promptLen: number;
  readonly maxNewTokens: number;
  /** Sample (transformers' do_sample) with these parameters; greedy when absent. */
  readonly sampling?: SamplingOptions;
  /** Called after each new token with the step (0-based) and the token of each row of the batch being generated (streaming). */
  readonly onToken?: (step: number, tokens: Int32Array) => void;
}

/** A compiled GPT-2 generator. */
export interface Gpt2Generator {
  /** The prefill and the decoding-step programs. */
  readonly programs: readonly Program[];
  /** Token ids [N, promptLen + maxNewTokens] of prompts [N, promptLen] (N any positive count). */
  generate(prompts: Int32Array, progress?: Progress): Promise<Int32Array>;
  dispose(): void;
}

/**
 * One decoding step of GPT2LMHeadModel: inputs token i32 [B, 1] (the token
 * at position pos), pos i32 [], and per block i cache_k_i/cache_v_i
 * [B, H, capacity, hd] (positions < pos filled); outputs logits [B, vocab]
 * of the next token and k_new_i/v_new_i [B, H, 1, hd] to store at pos.
 */
export function traceGpt2Step(model: HfGpt2LMHeadModel, batch: number, capacity: number): Program {
  const c = model.config;
  const hd = c.n_embd / c.n_head;
  const specs: Record<string, string> = { token: `i32[${batch},1]`, pos: 'i32[]' };
  for (let i = 0; i < c.n_layer; i++) {
    const n = cacheNames(i);
    specs[n.cacheK] = `f32[${batch},${c.n_head},${capacity},${hd}]`;
    specs[n.cacheV] = `f32[${batch},${c.n_head},${capacity},${hd}]`;
  }
  return traceEntry(
    model,
    (token, pos, ...kv) => {
      const caches = Array.from({ length: c.n_layer }, (_, i) => ({ k: kv[2 * i]!, v: kv[2 * i + 1]! }));
      const r = model.decodeStep(token!, pos!, caches);
      return stepOutputs(r.logits, r.kv);
    },
    specs,
    'gpt2_decode_step',
  );
}

/**
 * The prompt through GPT2LMHeadModel at once: input input_ids i32 [B, P];
 * outputs logits [B, vocab] of the token after it and k_new_i/v_new_i
 * [B, H, P, hd], the keys and values of positions 0..P-1 for the caches.
 */
export function traceGpt2Prefill(model: HfGpt2LMHeadModel, batch: number, promptLen: number): Program {
  return traceEntry(
    model,
    (ids) => {
      const r = model.prefill(ids!);
      return stepOutputs(r.logits, r.kv);
    },
    { input_ids: `i32[${batch},${promptLen}]` },
    'gpt2_prefill',
  );
}

/** Copies rows [count, length, hd] (keys or values of positions 0..length-1) into a cache [count, capacity, hd]. */
function writeCachePrefix(cache: Float32Array, rows: Float32Array, count: number, capacity: number, hd: number, length: number): void {
  for (let r = 0; r < count; r++) cache.set(rows.subarray(r * length * hd, (r + 1) * length * hd), r * capacity * hd);
}

/** The pad id transformers continues an ended row with: pad_token_id, else eos_token_id. */
function padId(c: HfGpt2LMHeadModel['config']): number {
  return c.pad_token_id ?? c.eos_token_id ?? 0;
}

/** Traces and compiles GPT-2's decoding step with the weights bound; generate() runs the loop. */
export async function compileGpt2Generator(model: HfGpt2LMHeadModel, weights: Weights, opts: Gpt2GeneratorOptions): Promise<Gpt2Generator> {
  const c = model.config;
  const { batch: b, promptLen: p, maxNewTokens: n } = opts;
  if (!Number.isInteger(n) || n < 1 || n > MAX_NEW_TOKENS) throw new TesseraError(`max new tokens must be an integer in [1, ${MAX_NEW_TOKENS}], got ${n}`);
  if (!Number.isInteger(p) || p < 1) throw new TesseraError(`a prompt needs at least one token, got ${p}`);
  // Positions 0 .. p + n - 2 go through the model (the last new token is not fed back).
  const capacity = p + n - 1;
  if (capacity > c.n_positions) throw new TesseraError(`a prompt of ${p} tokens and ${n} new tokens need ${capacity} positions, more than the config's "n_positions" (${c.n_positions})`);
  checkCacheSize({ layers: c.n_layer, what: 'blocks', width: c.n_embd, widthName: 'n_embd' }, b, n, capacity);
  if (opts.sampling) checkSampling(opts.sampling);
  const programs = [traceGpt2Prefill(model, b, p), traceGpt2Step(model, b, capacity)] as const;
  const [prefill, step] = await Promise.all(programs.map((program) => compile(program, { backend: opts.backend, weights: weightsFor(program, weights) })));
  const hd = c.n_embd / c.n_head;
  const rows = b * c.n_head;
  const width = p + n;
  const pad = padId(c);

  /** Generates one batch of exactly b prompt rows, the first of them row `first` of all. */
  const generateBatch = async (prompts: Int32Array, first: number): Promise<Int32Array> => {
    // One stream per row, from the seed and the row's index: a row's tokens do not depend on how rows are batched.
    const random = Array.from({ length: b }, (_, r) => (opts.sampling ? new SeededRandom(opts.sampling.seed, first + r) : undefined));
    /** The next token of row r from its logits. */
    const choose = (logits: Float32Array, r: number): number => {
      const row = logits.subarray(r * c.vocab_size, (r + 1) * c.vocab_size);
      return opts.sampling ? drawToken(warpLogits(row, opts.sampling), random[r]!.next()) : argmax(row, 0, c.vocab_size);
    };
    const caches: Record<string, Float32Array> = {};
    for (let i = 0; i < c.n_layer; i++) {
      caches[cacheNames(i).cacheK] = new Float32Array(rows * capacity * hd);
      caches[cacheNames(i).cacheV] = new Float32Array(rows * capacity * hd);
    }
    const out = new Int32Array(b * width).fill(pad);
    for (let r = 0; r < b; r++) out.set(prompts.subarray(r * p, (r + 1) * p), r * width);
    const unfinished = new Uint8Array(b).fill(1);
    let res = await prefill!.run({ input_ids: prompts });
    for (let i = 0; i < c.n_layer; i++) {
      const names = cacheNames(i);
      writeCachePrefix(caches[names.cacheK]!, res[names.newK]!.data as Float32Array, rows, capacity, hd, p);
      writeCachePrefix(caches[names.cacheV]!, res[names.newV]!.data as Float32Array, rows, capacity, hd, p);
    }
    // res.logits are those of the token at pos + 1; positions up to capacity - 1 are fed back.
    for (let pos = p - 1; ; pos++) {
      const next = new Int32Array(b);
      for (let r = 0; r < b; r++) {
        next[r] = unfinished[r] ? choose(res.logits!.data as Float32Array, r) : pad;
        if (c.eos_token_id !== undefined && next[r] === c.eos_token_id) unfinished[r] = 0;
        out[r * width + pos + 1] = next[r]!;
      }
      opts.onToken?.(pos + 1 - p, next);
      if (pos + 1 >= capacity || (c.eos_token_id !== undefined && unfinished.every((u) => !u))) break;
      res = await step!.run({ ...caches, token: next, pos: Int32Array.of(pos + 1) });
      for (let i = 0; i < c.n_layer; i++) {
        const names = cacheNames(i);
        writeCacheRow(caches[names.cacheK]!, res[names.newK]!.data as Float32Array, rows, capacity, hd, pos + 1);
        writeCacheRow(caches[names.cacheV]!, res[names.newV]!.data as Float32Array, rows, capacity, hd, pos + 1);
      }
    }
    return out;
  };

  return {
    programs,
    async generate(prompts, progress) {
      const count = prompts.length / p;
      if (!Number.isInteger(count) || count < 1) throw new RangeError(`the prompts have ${prompts.length} tokens, expected a positive multiple of the prompt length ${p}`);
      const out = new Int32Array(count * width);
      await forEachBatch(
        count,
        b,
        async (start, k) => {
          out.set((await generateBatch(batchRows(prompts, p, start, k, b), start)).subarray(0, k * width), start * width);
        },
        progress,
      );
      return out;
    },
    dispose: () => {
      prefill!.dispose();
      step!.dispose();
    },
  };
}
