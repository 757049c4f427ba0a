/** A compiled ViT that classifies any number of images in fixed-size batches. */
import type { AttentionSelection } from '@tessera/frontend';
import type { Program } from '@tessera/ir';
import { type BackendName, compile } from '@tessera/compiler';
import { type Progress, batchRows, forEachBatch, weightsFor } from '../batching.ts';
import type { Weights } from '../checkpoint.ts';
import { traceEntry } from '../entry.ts';
import { VIT_CHANNELS } from './config.ts';
import type { VisionTransformer } from './model.ts';

/** Options of compileVit. */
export interface VitCompileOptions {
  readonly backend: BackendName;
  /** Images per run of the compiled program. */
  readonly batch: number;
}

/** A ViT compiled for one backend and batch size. */
export interface VitClassifier {
  readonly program: Program;
  readonly batch: number;
  /** Logits [N, num_classes] of pixel_values [N, 3, H, W] (N any positive count). */
  logits(pixelValues: Float32Array, progress?: Progress): Promise<Float32Array>;
  dispose(): void;
}

/**
 * Traces the ViT for `batch` images: input `pixel_values` f32 [batch, 3, H, W],
 * output `logits`, and with `attentions` each probed layer's
 * `attn/<module path>` [batch, heads, tokens, tokens].
 */
export function traceVit(model: VisionTransformer, batch: number, attentions: AttentionSelection = false): Program {
  const s = model.config.image_size;
  return traceEntry(model, (x) => ({ logits: model.forward(x) }), { pixel_values: `f32[${batch},${VIT_CHANNELS},${s},${s}]` }, 'vit', attentions);
}

/** Traces and compiles a ViT with its weights bound. */
export async function compileVit(model: VisionTransformer, weights: Weights, opts: VitCompileOptions): Promise<VitClassifier> {
  const program = traceVit(model, opts.batch);
  const exe = await compile(program, { backend: opts.backend, weights: weightsFor(program, weights) });
  const c = model.config;
  const rowSize = VIT_CHANNELS * c.image_size * c.image_size;
  return {
    program,
    batch: opts.batch,
    async logits(pixelValues, progress) {
      const n = pixelValues.length / rowSize;
      if (!Number.isInteger(n) || n < 1) throw new RangeError(`pixel_values has ${pixelValues.length} values, expected a positive multiple of 3·${c.image_size}·${c.image_size} = ${rowSize}`);
      const out = new Float32Array(n * c.num_classes);
      await forEachBatch(
        n,
        opts.batch,
        async (start, count) => {
          const r = await exe.run({ pixel_values: batchRows(pixelValues, rowSize, start, count, opts.batch) });
          out.set((r.logits!.data as Float32Array).subarray(0, count * c.num_classes), start * c.num_classes);
        },
        progress,
      );
      return out;
    },
    dispose: () => exe.dispose(),
  };
}
