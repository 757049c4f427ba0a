/** The full Transformer compiled for fixed shapes: logits of every target position, over any number of rows. */
import type { Program } from '@tessera/ir';
import { type BackendName, type CompileOptions, compile } from '@tessera/compiler';
import { type Progress, batchRows, forEachBatch, weightsFor } from '../batching.ts';
import type { Weights } from '../checkpoint.ts';
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
}

/** A compiled full Transformer. */
export interface Seq2SeqRunner {
  readonly program: Program;
  /** Logits [N, tgtLen, tgt_vocab] of src [N, srcLen] and tgt [N, tgtLen]. */
  logits(src: Int32Array, tgt: Int32Array, progress?: Progress): Promise<Float32Array>;
  dispose(): void;
}

/** Traces and compiles the full Transformer with its weights bound. */
export async function compileSeq2Seq(model: Seq2SeqTransformer, weights: Weights, opts: Seq2SeqCompileOptions): Promise<Seq2SeqRunner> {
  const { batch, srcLen, tgtLen } = opts;
  const program = traceSeq2Seq(model, { batch, srcLen }, tgtLen);
  const exe = await compile(program, { backend: opts.backend, weights: weightsFor(program, weights), ...(opts.quantize ? { quantize: opts.quantize } : {}), ...(opts.precision ? { precision: opts.precision } : {}) });
  const v = model.config.tgt_vocab;
  return {
    program,
    async logits(src, tgt, progress) {
      const n = src.length / srcLen;
      if (!Number.isInteger(n) || n < 1 || tgt.length !== n * tgtLen) {
        throw new RangeError(`src has ${src.length} and tgt ${tgt.length} tokens, expected [N, ${srcLen}] and [N, ${tgtLen}] for the same N >= 1`);
      }
      const out = new Float32Array(n * tgtLen * v);
      await forEachBatch(
        n,
        batch,
        async (start, count) => {
          const r = await exe.run({ src: batchRows(src, srcLen, start, count, batch), tgt: batchRows(tgt, tgtLen, start, count, batch) });
          out.set((r.logits!.data as Float32Array).subarray(0, count * tgtLen * v), start * tgtLen * v);
        },
        progress,
      );
      return out;
    },
    dispose: () => exe.dispose(),
  };
}
