/** A model from its config and checkpoint files. */
import { type ModelConfig, readModelConfig } from './config.ts';
import { type Weights, loadCheckpoint } from './checkpoint.ts';
import { Seq2SeqTransformer } from './transformer/model.ts';
import { VisionTransformer } from './vit/model.ts';

/** A model with its parameter values. */
export type LoadedModel =
  | { readonly kind: 'vit'; readonly model: VisionTransformer; readonly weights: Weights }
  | { readonly kind: 'transformer'; readonly model: Seq2SeqTransformer; readonly weights: Weights };

/** The DSL model a config describes (parameters without values). */
export function buildModel(config: ModelConfig): VisionTransformer | Seq2SeqTransformer {
  return config.model === 'vit' ? new VisionTransformer(config) : new Seq2SeqTransformer(config);
}

/** Reads a config JSON and a safetensors checkpoint and binds them (errors name the file and key or tensor). */
export async function loadModel(configPath: string, weightsPath: string): Promise<LoadedModel> {
  return loadWeights(await readModelConfig(configPath), weightsPath);
}

/** Builds the model of a parsed config and binds a safetensors checkpoint to it. */
export async function loadWeights(config: ModelConfig, weightsPath: string): Promise<LoadedModel> {
  if (config.model === 'vit') {
    const model = new VisionTransformer(config);
    return { kind: 'vit', model, weights: await loadCheckpoint(model, weightsPath) };
  }
  const model = new Seq2SeqTransformer(config);
  return { kind: 'transformer', model, weights: await loadCheckpoint(model, weightsPath) };
}
