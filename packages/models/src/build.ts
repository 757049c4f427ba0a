/** The DSL model of a parsed config. */
import type { ModelConfig } from './config.ts';
import { Seq2SeqRNN } from './rnn/model.ts';
import { Seq2SeqTransformer } from './transformer/model.ts';
import { VisionTransformer } from './vit/model.ts';

/** The DSL model a config describes (parameters without values). */
export function buildModel(config: ModelConfig): VisionTransformer | Seq2SeqTransformer | Seq2SeqRNN {
  if (config.model === 'seq2seq_rnn') return new Seq2SeqRNN(config);
  return config.model === 'vit' ? new VisionTransformer(config) : new Seq2SeqTransformer(config);
}
