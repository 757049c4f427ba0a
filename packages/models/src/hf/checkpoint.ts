/**
 * Binding a Hugging Face state_dict to a model built from its config.
 * transformers writes names as the saved class has them: a head model's
 * base under its prefix (`vit.`, `bert.`, `transformer.`), a base model
 * without one; a tied lm_head may be left out (transformers 5) or written;
 * ViT's module names changed in transformers 5 (it saves the old ones);
 * older versions also wrote buffers (GPT-2's `attn.bias` causal mask,
 * BERT's `position_ids`). Those differences are normalised as transformers'
 * own loader does; everything else goes through bindCheckpoint, which lists
 * every missing, unexpected or wrongly shaped tensor by name.
 */
import type { SafetensorsTensor } from '@tessera/ir';
import { type Weights, bindCheckpoint } from '../checkpoint.ts';
import type { HfModel } from './build.ts';

/** transformers' base_model_prefix of each model type. */
const BASE_PREFIX = { vit: 'vit', bert: 'bert', gpt2: 'transformer' } as const;

/**
 * transformers 5 builds ViT with new module names (`layers.N.attention.q_proj`,
 * `mlp.fc1`, ...) and converts them back to the names below when it saves;
 * a state_dict taken from the module itself has the new ones.
 */
const VIT_V5_NAMES: Readonly<Record<string, string>> = {
  'attention.q_proj': 'attention.attention.query',
  'attention.k_proj': 'attention.attention.key',
  'attention.v_proj': 'attention.attention.value',
  'attention.o_proj': 'attention.output.dense',
  'mlp.fc1': 'intermediate.dense',
  'mlp.fc2': 'output.dense',
  layernorm_before: 'layernorm_before',
  layernorm_after: 'layernorm_after',
};
const VIT_V5_NAME = /^((?:vit\.)?)layers\.(\d+)\.(attention\.[qkvo]_proj|mlp\.fc[12]|layernorm_before|layernorm_after)\./;

/** Buffers older transformers saved beside the parameters: not weights, so dropped. */
const BUFFERS = [/(^|\.)attn\.bias$/, /(^|\.)attn\.masked_bias$/, /(^|\.)embeddings\.position_ids$/];

/**
 * The model's parameters from a Hugging Face state_dict (F16/BF16 widened to
 * f32), names normalised as described above. Throws CheckpointError listing
 * every tensor that does not fit.
 */
export function bindHfCheckpoint(model: HfModel, tensors: ReadonlyMap<string, SafetensorsTensor>, source = '<checkpoint>'): Weights {
  const expected = new Set([...model.namedParameters()].map(([n]) => n));
  const prefix = `${BASE_PREFIX[model.config.model_type]}.`;
  const renamed = new Map<string, SafetensorsTensor>();
  for (const [name, t] of tensors) {
    if (BUFFERS.some((b) => b.test(name)) && !expected.has(name)) continue;
    // A tied head is the token embedding: transformers ignores a saved copy.
    if (name === 'lm_head.weight' && !expected.has(name) && model.config.model_type === 'gpt2' && model.config.tie_word_embeddings) continue;
    let key = name;
    if (model.config.model_type === 'vit') key = key.replace(VIT_V5_NAME, (_, vit: string, i: string, part: string) => `${vit}encoder.layer.${i}.${VIT_V5_NAMES[part]!}.`);
    if (!expected.has(key)) {
      if (expected.has(prefix + key)) key = prefix + key;
      else if (key.startsWith(prefix) && expected.has(key.slice(prefix.length))) key = key.slice(prefix.length);
    }
    renamed.set(key, t);
  }
  return bindCheckpoint(model, renamed, source);
}
