/**
 * Greedy generation. With the cache: the encoder runs once per batch
 * (giving every decoder layer's cross-attention keys and values), then one
 * decoder step per new token, whose new self-attention key/value rows are
 * written in place into fixed-capacity caches. Without: the full model
 * recomputes every position at each step (the reference the cache is
 * tested against).
 */
import { attentionOutputName } from '@tessera/frontend';
import { type Program, TesseraError } from '@tessera/ir';
import { type Backend, type BackendName, type Executable, compile } from '@tessera/compiler';
import { type Progress, argmax, batchRows, forEachBatch, weightsFor } from '../batching.ts';
import type { Weights } from '../checkpoint.ts';
import type { Seq2SeqTransformer } from './model.ts';
import { cacheNames, crossAttentionPaths, traceDecodeStep, traceEncoder, traceSeq2Seq } from './programs.ts';

/** Options of compileGenerator. */
export interface GeneratorOptions {
  /** A backend by name, or a configured one (createCpuBackend({ target: 'js' })). */
  readonly backend: BackendName | Backend;
  /** Sequences per run. */
  readonly batch: number;
  /** Source length the programs take (shorter sources are padded with pad_id). */
  readonly srcLen: number;
  /** Tokens generated after bos. */
  readonly maxNewTokens: number;
  /** Incremental decoding with the key/value cache (default), or full recomputation at every step. */
  readonly cache?: boolean;
  /** Also probe every decoder layer's cross-attention, for generateWithAttention. */
  readonly crossAttention?: boolean;
}

/** Tokens and, per decoder layer, the cross-attention of each generated token. */
export interface Generation {
  /** As generate(): [N, 1 + maxNewTokens]. */
  readonly tokens: Int32Array;
  /**
   * `attn/transformer.decoder.layers.{i}.multihead_attn` [N, heads,
   * maxNewTokens, srcLen]: row t holds the probabilities over the source of
   * the step that chose token t + 1 (its query is token t, as in the full
   * model on tgt = tokens[:, :-1]); rows of steps never run (every row of
   * the batch had ended) are 0.
   */
  readonly attentions: Readonly<Record<string, { readonly dims: readonly number[]; readonly data: Float32Array }>>;
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
  /** generate() with each decoder layer's cross-attention of every generated token (compiled with crossAttention). */
  generateWithAttention(src: Int32Array, progress?: Progress): Promise<Generation>;
  /** Decoder steps run so far (a batch that finishes early stops early). */
  readonly steps: number;
  dispose(): void;
}

/** Greedy choice for each row from logits rows of `vocab` (row r at r·stride + offset), respecting finished rows. */
function chooseNext(logits: ArrayLike<number>, rows: number, vocab: number, stride: number, offset: number, done: Uint8Array, c: Seq2SeqTransformer['config']): Int32Array {
  const next = new Int32Array(rows);
  for (let r = 0; r < rows; r++) {
    if (done[r]) {
      next[r] = c.pad_id;
      continue;
    }
    next[r] = argmax(logits, r * stride + offset, vocab);
    if (next[r] === c.eos_id) done[r] = 1;
  }
  return next;
}

/**
 * The most tokens one generation may add. The sinusoidal position encoding
 * has no fixed length; this bound (and the cache bound below) keeps the
 * key/value caches and the decode loop finite.
 */
export const MAX_NEW_TOKENS = 65536;

/** The most f32 elements the key/value caches of one batch may take together: 4 GiB, all wasm32 addresses. */
const MAX_CACHE_ELEMENTS = 2 ** 30;

/** Rejects a token count the caches cannot hold: the caches are [batch x heads, N, head_dim] per decoder layer, keys and values. */
function checkGenerationSize(c: Seq2SeqTransformer['config'], batch: number, n: number): void {
  if (!Number.isInteger(n) || n < 1 || n > MAX_NEW_TOKENS) throw new TesseraError(`max new tokens must be an integer in [1, ${MAX_NEW_TOKENS}], got ${n}`);
  const cache = 2 * c.num_decoder_layers * batch * n * c.d_model;
  if (cache > MAX_CACHE_ELEMENTS) {
    throw new TesseraError(
      `generating ${n} tokens for ${batch} sequences at a time needs key/value caches of ${((4 * cache) / 2 ** 30).toPrecision(3)} GiB ` +
        `(2 x ${c.num_decoder_layers} decoder layers x ${batch} x ${n} x d_model ${c.d_model} f32), more than the 4 GiB a backend can hold; ` +
        'generate fewer tokens or fewer sequences at a time (--batch-size)',
    );
  }
}

/** Traces and compiles the programs of greedy generation with the weights bound. */
export async function compileGenerator(model: Seq2SeqTransformer, weights: Weights, opts: GeneratorOptions): Promise<Generator> {
  const c = model.config;
  const { batch: b, srcLen: s, maxNewTokens: n } = opts;
  checkGenerationSize(c, b, n);
  const shape = { batch: b, srcLen: s };
  const width = 1 + n;
  const build = async (p: Program): Promise<Executable> => compile(p, { backend: opts.backend, weights: weightsFor(p, weights) });
  let steps = 0;

  /** Decodes one batch of exactly b rows into out (rows [0, b) of width 1 + n), and with probes each step's cross-attention into `attn` ([b, H, n, S] per probe). */
  let decodeBatch: (src: Int32Array, attn: ReadonlyMap<string, Float32Array>) => Promise<Int32Array>;
  const probes = opts.crossAttention ? crossAttentionPaths(model) : [];
  const probeNames = probes.map(attentionOutputName);
  /** Copies row `pos` of each probe's [b·H, rows, S] result into the batch's [b·H, n, S] arrays. */
  const keepRow = (result: Readonly<Record<string, { data: unknown }>>, attn: ReadonlyMap<string, Float32Array>, rowsPerStep: number, row: number, pos: number) => {
    for (const [name, into] of attn) {
      const data = result[name]!.data as Float32Array;
      for (let q = 0; q < b * c.nhead; q++) into.set(data.subarray((q * rowsPerStep + row) * s, (q * rowsPerStep + row + 1) * s), (q * n + pos) * s);
    }
  };
  let programs: Program[];
  let executables: Executable[];
  if (opts.cache ?? true) {
    const encP = traceEncoder(model, shape);
    const stepP = traceDecodeStep(model, shape, n, probes.length ? probes : false);
    const [enc, step] = [await build(encP), await build(stepP)];
    programs = [encP, stepP];
    executables = [enc, step];
    const hd = c.d_model / c.nhead;
    const rows = b * c.nhead;
    decodeBatch = async (src, attn) => {
      // The encoder's outputs (tensors) feed every step as they are; the caches are rewritten in place.
      const caches: Record<string, Float32Array> = {};
      for (let i = 0; i < c.num_decoder_layers; i++) {
        const names = cacheNames(i);
        caches[names.cacheK] = new Float32Array(rows * n * hd);
        caches[names.cacheV] = new Float32Array(rows * n * hd);
      }
      const feeds = { src, ...(await enc.run({ src })), ...caches };
      const out = new Int32Array(b * width).fill(c.pad_id);
      const token = new Int32Array(b).fill(c.bos_id);
      for (let r = 0; r < b; r++) out[r * width] = c.bos_id;
      const done = new Uint8Array(b);
      for (let pos = 0; pos < n && !done.every((d) => d); pos++) {
        const r = await step.run({ ...feeds, token, pos: Int32Array.of(pos) });
        steps++;
        keepRow(r, attn, 1, 0, pos);
        for (let i = 0; i < c.num_decoder_layers; i++) {
          const names = cacheNames(i);
          writeCacheRow(caches[names.cacheK]!, r[names.newK]!.data as Float32Array, rows, n, hd, pos);
          writeCacheRow(caches[names.cacheV]!, r[names.newV]!.data as Float32Array, rows, n, hd, pos);
        }
        const next = chooseNext(r.logits!.data, b, c.tgt_vocab, c.tgt_vocab, 0, done, c);
        for (let k = 0; k < b; k++) out[k * width + pos + 1] = next[k]!;
        token.set(next);
      }
      return out;
    };
  } else {
    const fullP = traceSeq2Seq(model, shape, n, probes.length ? probes : false);
    const full = await build(fullP);
    programs = [fullP];
    executables = [full];
    decodeBatch = async (src, attn) => {
      const out = new Int32Array(b * width).fill(c.pad_id);
      const tgt = new Int32Array(b * n).fill(c.pad_id);
      for (let r = 0; r < b; r++) out[r * width] = tgt[r * n] = c.bos_id;
      const done = new Uint8Array(b);
      for (let pos = 0; pos < n && !done.every((d) => d); pos++) {
        // Causal attention: logits at pos see only tgt[..pos], so the pads after it do not matter.
        const r = await full.run({ src, tgt });
        const logits = r.logits!.data;
        steps++;
        keepRow(r, attn, n, pos, pos);
        const next = chooseNext(logits, b, c.tgt_vocab, n * c.tgt_vocab, pos * c.tgt_vocab, done, c);
        for (let k = 0; k < b; k++) {
          out[k * width + pos + 1] = next[k]!;
          if (pos + 1 < n) tgt[k * n + pos + 1] = next[k]!;
        }
      }
      return out;
    };
  }

  /** Every row of `src` in batches of b: the tokens, and with `attend` the cross-attention of each generated token. */
  const generateAll = async (src: Int32Array, attend: boolean, progress?: Progress): Promise<Generation> => {
    const count = src.length / s;
    if (!Number.isInteger(count) || count < 1) throw new RangeError(`src has ${src.length} tokens, expected a positive multiple of the source length ${s}`);
    const tokens = new Int32Array(count * width);
    const per = c.nhead * n * s;
    const all = new Map(attend ? probeNames.map((name) => [name, new Float32Array(count * per)] as const) : []);
    await forEachBatch(
      count,
      b,
      async (start, k) => {
        const attn = new Map([...all.keys()].map((name) => [name, new Float32Array(b * per)] as const));
        const res = await decodeBatch(batchRows(src, s, start, k, b), attn);
        tokens.set(res.subarray(0, k * width), start * width);
        for (const [name, a] of attn) all.get(name)!.set(a.subarray(0, k * per), start * per);
      },
      progress,
    );
    return { tokens, attentions: Object.fromEntries([...all].map(([name, data]) => [name, { dims: [count, c.nhead, n, s], data }])) };
  };

  return {
    programs,
    get steps() {
      return steps;
    },
    async generate(src, progress) {
      return (await generateAll(src, false, progress)).tokens;
    },
    async generateWithAttention(src, progress) {
      if (!opts.crossAttention) throw new TesseraError('generateWithAttention: compile the generator with crossAttention: true');
      return generateAll(src, true, progress);
    },
    dispose: () => executables.forEach((e) => e.dispose()),
  };
}

/** Writes rows [B·H, 1, hd] of new keys (or values) into a cache [B·H, capacity, hd] at position pos, in place. */
export function writeCacheRow(cache: Float32Array, rows: Float32Array, count: number, capacity: number, hd: number, pos: number): void {
  for (let r = 0; r < count; r++) cache.set(rows.subarray(r * hd, (r + 1) * hd), (r * capacity + pos) * hd);
}
