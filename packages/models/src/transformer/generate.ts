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
import { type Backend, type BackendName, type CompileOptions, type Executable, compile } from '@tessera/compiler';
import { weightsFor } from '../batching.ts';
import type { Weights } from '../checkpoint.ts';
import { type DecodedBatch, type Generator, batchedGenerator, checkTokenCount, greedyBatch } from '../greedy.ts';
import { Seq2SeqRNN } from '../rnn/model.ts';
import { compileRnnGenerator } from '../rnn/generate.ts';
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
  /** Incremental decoding with the key/value cache (default), or full recomputation at every step (Transformer only). */
  readonly cache?: boolean;
  /** RNN seq2seq: also return each generated token's alignment (Generator.attentions, generateWithAttention). */
  readonly attentions?: boolean;
  /** Transformer: also probe every decoder layer's cross-attention, for generateWithAttention. */
  readonly crossAttention?: boolean;
  /** 'int8': the weight matmuls run as int8 contractions (compile's quantize option). */
  readonly quantize?: CompileOptions['quantize'];
}

export { type Generator, type Generation, MAX_NEW_TOKENS } from '../greedy.ts';

/** The most f32 elements the key/value caches of one batch may take together: 4 GiB, all wasm32 addresses. */
const MAX_CACHE_ELEMENTS = 2 ** 30;

/** Rejects a token count the caches cannot hold: the caches are [batch x heads, N, head_dim] per decoder layer, keys and values. */
function checkGenerationSize(c: Seq2SeqTransformer['config'], batch: number, n: number): void {
  checkTokenCount(n);
  checkCacheSize({ layers: c.num_decoder_layers, what: 'decoder layers', width: c.d_model, widthName: 'd_model' }, batch, n, n);
}

/** What sizes a model's key/value caches: layers with a cache and the width of their keys. */
export interface CacheShape {
  readonly layers: number;
  readonly what: string;
  readonly width: number;
  readonly widthName: string;
}

/** Rejects key/value caches of `capacity` positions (for `n` new tokens) beyond the 4 GiB a backend can hold, naming the sizes. */
export function checkCacheSize(s: CacheShape, batch: number, n: number, capacity: number): void {
  const cache = 2 * s.layers * batch * capacity * s.width;
  if (cache > MAX_CACHE_ELEMENTS) {
    throw new TesseraError(
      `generating ${n} tokens for ${batch} sequences at a time needs key/value caches of ${((4 * cache) / 2 ** 30).toPrecision(3)} GiB ` +
        `(2 x ${s.layers} ${s.what} x ${batch} x ${capacity} x ${s.widthName} ${s.width} f32), more than the 4 GiB a backend can hold; ` +
        'generate fewer tokens or fewer sequences at a time (--batch-size)',
    );
  }
}

/** Traces and compiles the programs of greedy generation with the weights bound (a Transformer or an RNN seq2seq model). */
export async function compileGenerator(model: Seq2SeqTransformer | Seq2SeqRNN, weights: Weights, opts: GeneratorOptions): Promise<Generator> {
  if (model instanceof Seq2SeqRNN) {
    if (opts.crossAttention) throw new TesseraError('crossAttention: an RNN seq2seq model has one attention, its alignment: ask with attentions: true');
    return compileRnnGenerator(model, weights, opts);
  }
  if (opts.attentions) throw new TesseraError('attentions: a Transformer generator probes its cross-attention with crossAttention: true');
  const c = model.config;
  const { batch: b, srcLen: s, maxNewTokens: n } = opts;
  checkGenerationSize(c, b, n);
  const shape = { batch: b, srcLen: s };
  const build = async (p: Program): Promise<Executable> => compile(p, { backend: opts.backend, weights: weightsFor(p, weights), ...(opts.quantize ? { quantize: opts.quantize } : {}) });
  const probes = opts.crossAttention ? crossAttentionPaths(model) : [];
  const probeNames = probes.map(attentionOutputName);
  /** [b, H, n, S] per probe: row pos of each head, the step's cross-attention over the source. */
  const probeArrays = (): Record<string, Float32Array> => Object.fromEntries(probeNames.map((name) => [name, new Float32Array(b * c.nhead * n * s)]));
  /** Copies row `row` of each probe's [b·H, rowsPerStep, S] result into its [b·H, n, S] array at position pos. */
  const keepRow = (result: Readonly<Record<string, { data: unknown }>>, attn: Record<string, Float32Array>, rowsPerStep: number, row: number, pos: number) => {
    for (const [name, into] of Object.entries(attn)) {
      const data = result[name]!.data as Float32Array;
      for (let q = 0; q < b * c.nhead; q++) into.set(data.subarray((q * rowsPerStep + row) * s, (q * rowsPerStep + row + 1) * s), (q * n + pos) * s);
    }
  };
  const rowDims = Object.fromEntries(probeNames.map((name) => [name, [c.nhead, n, s]]));

  if (opts.cache ?? true) {
    const encP = traceEncoder(model, shape);
    const stepP = traceDecodeStep(model, shape, n, probes.length ? probes : false);
    const [enc, step] = [await build(encP), await build(stepP)];
    const hd = c.d_model / c.nhead;
    const rows = b * c.nhead;
    const decodeBatch = async (src: Int32Array): Promise<DecodedBatch> => {
      // The encoder's outputs (tensors) feed every step as they are; the caches are rewritten in place.
      const caches: Record<string, Float32Array> = {};
      for (let i = 0; i < c.num_decoder_layers; i++) {
        const names = cacheNames(i);
        caches[names.cacheK] = new Float32Array(rows * n * hd);
        caches[names.cacheV] = new Float32Array(rows * n * hd);
      }
      const feeds = { src, ...(await enc.run({ src })), ...caches };
      const attn = probeArrays();
      const r = await greedyBatch(c, b, n, async (token, pos) => {
        const r = await step.run({ ...feeds, token, pos: Int32Array.of(pos) });
        keepRow(r, attn, 1, 0, pos);
        for (let i = 0; i < c.num_decoder_layers; i++) {
          const names = cacheNames(i);
          writeCacheRow(caches[names.cacheK]!, r[names.newK]!.data as Float32Array, rows, n, hd, pos);
          writeCacheRow(caches[names.cacheV]!, r[names.newV]!.data as Float32Array, rows, n, hd, pos);
        }
        return { data: r.logits!.data, stride: c.tgt_vocab, offset: 0 };
      });
      return { ...r, attentions: attn };
    };
    return batchedGenerator([encP, stepP], [enc, step], s, 1 + n, b, decodeBatch, rowDims);
  }
  const fullP = traceSeq2Seq(model, shape, n, probes.length ? probes : false);
  const full = await build(fullP);
  const decodeBatch = async (src: Int32Array): Promise<DecodedBatch> => {
    const tgt = new Int32Array(b * n).fill(c.pad_id);
    const attn = probeArrays();
    const r = await greedyBatch(c, b, n, async (token, pos) => {
      // Causal attention: logits at pos see only tgt[..pos], so the pads after it do not matter.
      for (let k = 0; k < b; k++) tgt[k * n + pos] = token[k]!;
      const r = await full.run({ src, tgt });
      keepRow(r, attn, n, pos, pos);
      return { data: r.logits!.data, stride: n * c.tgt_vocab, offset: pos * c.tgt_vocab };
    });
    return { ...r, attentions: attn };
  };
  return batchedGenerator([fullP], [full], s, 1 + n, b, decodeBatch, rowDims);
}

/** Writes rows [B·H, 1, hd] of new keys (or values) into a cache [B·H, capacity, hd] at position pos, in place. */
export function writeCacheRow(cache: Float32Array, rows: Float32Array, count: number, capacity: number, hd: number, pos: number): void {
  for (let r = 0; r < count; r++) cache.set(rows.subarray(r * hd, (r + 1) * hd), (r * capacity + pos) * hd);
}
