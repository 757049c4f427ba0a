/**
 * Greedy generation with the RNN seq2seq model: the encoder runs once per
 * batch, then one decoder step per token, each step's recurrent state fed
 * to the next (the loop and batching are greedy.ts's, shared with the
 * Transformer).
 */
import { type Backend, type BackendName, type CompileOptions, type Executable, compile } from '@tessera/compiler';
import type { Program } from '@tessera/ir';
import { weightsFor } from '../batching.ts';
import type { Weights } from '../checkpoint.ts';
import { type DecodedBatch, type Generator, batchedGenerator, checkTokenCount, greedyBatch } from '../greedy.ts';
import type { Seq2SeqRNN } from './model.ts';
import { ALIGNMENT, RNN_NAMES, traceRnnDecodeStep, traceRnnEncoder } from './programs.ts';

/** Options of compileRnnGenerator (compileGenerator's). */
export interface RnnGeneratorOptions {
  readonly backend: BackendName | Backend;
  readonly batch: number;
  readonly srcLen: number;
  readonly maxNewTokens: number;
  /** Also collect each step's alignment (Generator.attentions['attn/attn'], [N, 1, maxNewTokens, S]). */
  readonly attentions?: boolean;
  /** 'int8': the weight matmuls run as int8 contractions (compile's quantize option). */
  readonly quantize?: CompileOptions['quantize'];
}

/** Traces and compiles the encoder and the decoder step with the weights bound. */
export async function compileRnnGenerator(model: Seq2SeqRNN, weights: Weights, opts: RnnGeneratorOptions): Promise<Generator> {
  const c = model.config;
  const { batch: b, srcLen: s, maxNewTokens: n } = opts;
  checkTokenCount(n);
  const shape = { batch: b, srcLen: s };
  const attentions = opts.attentions ?? false;
  const build = async (p: Program): Promise<Executable> => compile(p, { backend: opts.backend, weights: weightsFor(p, weights), ...(opts.quantize ? { quantize: opts.quantize } : {}) });
  const encP = traceRnnEncoder(model, shape);
  const stepP = traceRnnDecodeStep(model, shape, { attentions });
  const [enc, step] = [await build(encP), await build(stepP)];
  const decodeBatch = async (src: Int32Array): Promise<DecodedBatch> => {
    const e = await enc.run({ src });
    const fixed = { src, [RNN_NAMES.memory]: e[RNN_NAMES.memory]!, ...(e[RNN_NAMES.keys] ? { [RNN_NAMES.keys]: e[RNN_NAMES.keys] } : {}) };
    let state = { [RNN_NAMES.h]: e[RNN_NAMES.h]!, ...(e[RNN_NAMES.c] ? { [RNN_NAMES.c]: e[RNN_NAMES.c] } : {}) };
    // [b, 1, n, S]: row r's weights for step pos at (r·n + pos)·S.
    const alignment = attentions ? new Float32Array(b * n * s) : undefined;
    const r = await greedyBatch(c, b, n, async (token, pos) => {
      const out = await step.run({ ...fixed, ...state, token });
      state = { [RNN_NAMES.h]: out[RNN_NAMES.nextH]!, ...(out[RNN_NAMES.nextC] ? { [RNN_NAMES.c]: out[RNN_NAMES.nextC] } : {}) };
      if (alignment) {
        const w = out[ALIGNMENT.output]!.data as Float32Array;
        for (let k = 0; k < b; k++) alignment.set(w.subarray(k * s, (k + 1) * s), (k * n + pos) * s);
      }
      return { data: out.logits!.data, stride: c.tgt_vocab, offset: 0 };
    });
    return alignment ? { ...r, attentions: { [ALIGNMENT.output]: alignment } } : r;
  };
  return batchedGenerator([encP, stepP], [enc, step], s, 1 + n, b, decodeBatch, attentions ? { [ALIGNMENT.output]: [1, n, s] } : {});
}
