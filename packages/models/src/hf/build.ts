/** The DSL model of a Hugging Face config's architecture, and the programs traced from it. */
import type { Program } from '@tessera/ir';
import { trace } from '@tessera/frontend';
import { TesseraError } from '@tessera/ir';
import { HfBertForSequenceClassification, HfBertModel } from './bert.ts';
import type { HfConfig } from './config.ts';
import { HfGpt2LMHeadModel, HfGpt2Model } from './gpt2.ts';
import { HfVitForImageClassification, HfVitModel } from './vit.ts';

/** Any Hugging Face model Tessera builds. */
export type HfModel = HfVitModel | HfVitForImageClassification | HfBertModel | HfBertForSequenceClassification | HfGpt2Model | HfGpt2LMHeadModel;

/** The model `config.architecture` names (parameters without values, with transformers' state_dict names). */
export function buildHfModel(config: HfConfig): HfModel {
  switch (config.architecture) {
    case 'ViTModel':
      return new HfVitModel(config as Extract<HfConfig, { model_type: 'vit' }>);
    case 'ViTForImageClassification':
      return new HfVitForImageClassification(config as Extract<HfConfig, { model_type: 'vit' }>);
    case 'BertModel':
      return new HfBertModel(config as Extract<HfConfig, { model_type: 'bert' }>);
    case 'BertForSequenceClassification':
      return new HfBertForSequenceClassification(config as Extract<HfConfig, { model_type: 'bert' }>);
    case 'GPT2Model':
      return new HfGpt2Model(config as Extract<HfConfig, { model_type: 'gpt2' }>);
    case 'GPT2LMHeadModel':
      return new HfGpt2LMHeadModel(config as Extract<HfConfig, { model_type: 'gpt2' }>);
  }
}

/** The input shape of a traced program: images for ViT, [batch, seqLen] token rows otherwise. */
export interface HfShape {
  readonly batch: number;
  /** Tokens per row (BERT, GPT-2). */
  readonly seqLen: number;
}

/** The longest sequence a config's position table holds, and the field that says so (undefined for ViT). */
export function maxPositions(config: HfConfig): { readonly field: string; readonly value: number } | undefined {
  if (config.model_type === 'bert') return { field: 'max_position_embeddings', value: config.max_position_embeddings };
  if (config.model_type === 'gpt2') return { field: 'n_positions', value: config.n_positions };
  return undefined;
}

/** The program inputs of a config with Hugging Face's names (token ids i32, as Tessera computes them). */
export function hfInputSpecs(config: HfConfig, shape: HfShape): Record<string, string> {
  const { batch: b, seqLen: t } = shape;
  const limit = maxPositions(config);
  if (limit && t > limit.value) throw new TesseraError(`a sequence of ${t} tokens is longer than the config's "${limit.field}" (${limit.value})`);
  if (config.model_type === 'vit') return { pixel_values: `f32[${b},${config.num_channels},${config.image_size},${config.image_size}]` };
  if (config.model_type === 'bert') return { input_ids: `i32[${b},${t}]`, attention_mask: `i32[${b},${t}]`, token_type_ids: `i32[${b},${t}]` };
  return { input_ids: `i32[${b},${t}]` };
}

/** The input names of a config's model, in the program's order (transformers' names). */
export function hfInputNames(config: HfConfig): string[] {
  return Object.keys(hfInputSpecs(config, { batch: 1, seqLen: 1 }));
}

/** Traces a Hugging Face model for `shape`: inputs and outputs with transformers' names. */
export function traceHf(model: HfModel, shape: HfShape): Program {
  return trace(model, hfInputSpecs(model.config, shape), { name: model.config.architecture });
}
