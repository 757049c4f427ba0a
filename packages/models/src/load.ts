/** A model from its config and checkpoint files (Node). */
import type { ModelConfig } from './config.ts';
import { readModelConfig } from './config-file.ts';
import type { Weights } from './checkpoint.ts';
import { loadCheckpoint } from './checkpoint-file.ts';
import { Seq2SeqRNN } from './rnn/model.ts';
import { Seq2SeqTransformer } from './transformer/model.ts';
import { VisionTransformer } from './vit/model.ts';

/** A model with its parameter values. */
export type LoadedModel =
  | { readonly kind: 'vit'; readonly model: VisionTransformer; readonly weights: Weights }
  | { readonly kind: 'transformer'; readonly model: Seq2SeqTransformer; readonly weights: Weights }
  | { readonly kind: 'seq2seq_rnn'; readonly model: Seq2SeqRNN; readonly weights: Weights };

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
  if (config.model === 'seq2seq_rnn') {
    const model = new Seq2SeqRNN(config);
    return { kind: 'seq2seq_rnn', model, weights: await loadCheckpoint(model, weightsPath) };
  }
  const model = new Seq2SeqTransformer(config);
  return { kind: 'transformer', model, weights: await loadCheckpoint(model, weightsPath) };
}
