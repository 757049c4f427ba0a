/**
 * The trained ViT in the page: compiled once per backend for one image,
 * classifying an image into class probabilities and every layer's
 * attention (the compiler's attention probes).
 */
import { type Executable, compile } from '@tessera/compiler';
import { type ImageSet, type VisionTransformer, argmax, pixelValues, traceVit, weightsFor } from '@tessera/models';
import type { Loaded } from './assets.ts';
import { attentionOutputs } from './probes.ts';
import type { LayerAttention } from './rollout.ts';

/** The backends the studio runs models on. */
export type ModelBackend = 'cpu' | 'webgpu';

/** One classification. */
export interface Classification {
  /** Softmax of the logits, one per class. */
  readonly probs: Float64Array;
  readonly top: number;
  /** Each encoder layer's attention (first layer first), from the compiler's attention probes. */
  readonly layers: readonly LayerAttention[];
  /** Milliseconds of this classification, compilation included when it was the backend's first. */
  readonly ms: number;
  /** Whether this classification compiled the model first. */
  readonly compiled: boolean;
}

/** Softmax of a row of logits, in float64. */
export function softmax(logits: ArrayLike<number>): Float64Array {
  let max = -Infinity;
  for (let i = 0; i < logits.length; i++) max = Math.max(max, logits[i]!);
  const e = Float64Array.from(logits as ArrayLike<number>, (v) => Math.exp(v - max));
  const sum = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / sum);
}

/** The ViT compiled lazily per backend. */
export class VitSession {
  private readonly executables = new Map<ModelBackend, Promise<Executable>>();

  constructor(private readonly vit: Loaded<VisionTransformer>) {}

  /** The model's config (image size, patch size, layers, heads). */
  get config() {
    return this.vit.model.config;
  }

  private executable(backend: ModelBackend): { exe: Promise<Executable>; fresh: boolean } {
    const known = this.executables.get(backend);
    if (known) return { exe: known, fresh: false };
    const program = traceVit(this.vit.model, 1, true);
    const exe = compile(program, { backend, weights: weightsFor(program, this.vit.weights) });
    this.executables.set(backend, exe);
    // A failed compile is not kept: the next click tries again.
    exe.catch(() => this.executables.delete(backend));
    return { exe, fresh: true };
  }

  /** Classifies image `index` of `set` on `backend`. */
  async classify(set: ImageSet, index: number, backend: ModelBackend): Promise<Classification> {
    const t0 = performance.now();
    const { exe, fresh } = this.executable(backend);
    const out = await (await exe).run({ pixel_values: pixelValues(set, index, 1) });
    const probs = softmax(out.logits!.data);
    const layers = [...attentionOutputs(out).values()].map((probs) => {
      const tokens = Math.round(Math.sqrt(probs.length / this.config.num_heads));
      return { heads: this.config.num_heads, tokens, probs };
    });
    return { probs, top: argmax(probs, 0, probs.length), layers, ms: performance.now() - t0, compiled: fresh };
  }
}
