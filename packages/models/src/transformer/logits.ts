/** A full sequence-to-sequence model (Transformer or RNN) compiled for fixed shapes: logits of every target position, over any number of rows. */
import { type Program, TesseraError } from '@tessera/ir';
import { type BackendName, type CompileOptions, compile } from '@tessera/compiler';
import { type Progress, batchRows, forEachBatch, weightsFor } from '../batching.ts';
import type { Weights } from '../checkpoint.ts';
import { Seq2SeqRNN } from '../rnn/model.ts';
import { ALIGNMENT, traceRnnSeq2Seq } from '../rnn/programs.ts';
import type { Seq2SeqTransformer } from './model.ts';
import { traceSeq2Seq } from './programs.ts';

/** Options of compileSeq2Seq. */
export interface Seq2SeqCompileOptions {
  readonly backend: BackendName;
  readonly batch: number;
  readonly srcLen: number;
  readonly tgtLen: number;
  /** 'int8': the weight matmuls run as int8 contractions (compile's quantize option). */
  readonly quantize?: CompileOptions['quantize'];
  /** Arithmetic precision (compile's option; f16 on WebGPU only). */
  readonly precision?: 'f32' | 'f16';
  /** Also compute the attention weights (RNN seq2seq: the alignment `attn/attn` [N, 1, tgtLen, srcLen]). */
  readonly attentions?: boolean;
}

/** Logits [N, tgtLen, tgt_vocab] and attention weights by file name. */
export interface Seq2SeqResult {
  readonly logits: Float32Array;
  readonly attentions: Readonly<Record<string, Float32Array>>;
}

/** A compiled full sequence-to-sequence model. */
export interface Seq2SeqRunner {
  readonly program: Program;
  /** Logits [N, tgtLen, tgt_vocab] of src [N, srcLen] and tgt [N, tgtLen]. */
  logits(src: Int32Array, tgt: Int32Array, progress?: Progress): Promise<Float32Array>;
  /** Logits and, when compiled with attentions, the attention weights. */
  run(src: Int32Array, tgt: Int32Array, progress?: Progress): Promise<Seq2SeqResult>;
  dispose(): void;
}

/** The full program of either model; the RNN's alignment is its only attention output so far. */
function traceFull(model: Seq2SeqTransformer | Seq2SeqRNN, opts: Seq2SeqCompileOptions): { program: Program; attentionFiles: Record<string, string> } {
  const shape = { batch: opts.batch, srcLen: opts.srcLen };
  if (model instanceof Seq2SeqRNN) {
    return { program: traceRnnSeq2Seq(model, shape, opts.tgtLen, { attentions: opts.attentions ?? false }), attentionFiles: opts.attentions ? { [ALIGNMENT.output]: ALIGNMENT.file } : {} };
  }
  if (opts.attentions) throw new TesseraError('attention outputs of the Transformer are not available here yet');
  return { program: traceSeq2Seq(model, shape, opts.tgtLen), attentionFiles: {} };
}

/** Traces and compiles the full model (Transformer or RNN seq2seq) with its weights bound. */
export async function compileSeq2Seq(model: Seq2SeqTransformer | Seq2SeqRNN, weights: Weights, opts: Seq2SeqCompileOptions): Promise<Seq2SeqRunner> {
  const { batch, srcLen, tgtLen } = opts;
  const { program, attentionFiles } = traceFull(model, opts);
  const exe = await compile(program, { backend: opts.backend, weights: weightsFor(program, weights), ...(opts.quantize ? { quantize: opts.quantize } : {}), ...(opts.precision ? { precision: opts.precision } : {}) });
  const v = model.config.tgt_vocab;
  const run = async (src: Int32Array, tgt: Int32Array, progress?: Progress): Promise<Seq2SeqResult> => {
    const n = src.length / srcLen;
    if (!Number.isInteger(n) || n < 1 || tgt.length !== n * tgtLen) {
      throw new RangeError(`src has ${src.length} and tgt ${tgt.length} tokens, expected [N, ${srcLen}] and [N, ${tgtLen}] for the same N >= 1`);
    }
    const logits = new Float32Array(n * tgtLen * v);
    const attentions: Record<string, Float32Array> = {};
    await forEachBatch(
      n,
      batch,
      async (start, count) => {
        const r = await exe.run({ src: batchRows(src, srcLen, start, count, batch), tgt: batchRows(tgt, tgtLen, start, count, batch) });
        logits.set((r.logits!.data as Float32Array).subarray(0, count * tgtLen * v), start * tgtLen * v);
        for (const [output, file] of Object.entries(attentionFiles)) {
          const w = r[output]!.data as Float32Array;
          const row = w.length / batch;
          (attentions[file] ??= new Float32Array(n * row)).set(w.subarray(0, count * row), start * row);
        }
      },
      progress,
    );
    return { logits, attentions };
  };
  return {
    program,
    run,
    logits: async (src, tgt, progress) => (await run(src, tgt, progress)).logits,
    dispose: () => exe.dispose(),
  };
}
