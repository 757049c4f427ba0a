/**
 * Hugging Face `config.json` files (as `save_pretrained` writes them) for
 * the model types Tessera builds: `vit`, `bert` and `gpt2`. Fields keep
 * Hugging Face's names and defaults (a field `save_pretrained` left out has
 * the value transformers' config class gives it). A field Tessera does not
 * support, or supports only with some values, is an error naming the field
 * and its value; fields that do not change the inference function (dropout
 * rates, initializer_range, use_cache, ...) are ignored.
 */
import { previewJson } from '@tessera/ir';
import { ConfigError } from '../config.ts';
import { MAX_LAYERS, MAX_PARAMETERS } from '../size.ts';
import { HF_ACTIVATIONS, type HfActivation } from './activation.ts';

/** The architectures (config `architectures[0]`) Tessera builds, by model type. */
export const HF_ARCHITECTURES = {
  vit: ['ViTModel', 'ViTForImageClassification'],
  bert: ['BertModel', 'BertForSequenceClassification'],
  gpt2: ['GPT2Model', 'GPT2LMHeadModel'],
} as const;

/** A Hugging Face ViT (ViTModel or ViTForImageClassification). */
export interface HfVitConfig {
  readonly model_type: 'vit';
  readonly architecture: (typeof HF_ARCHITECTURES.vit)[number];
  readonly hidden_size: number;
  readonly num_hidden_layers: number;
  readonly num_attention_heads: number;
  readonly intermediate_size: number;
  readonly hidden_act: HfActivation;
  readonly layer_norm_eps: number;
  readonly image_size: number;
  readonly patch_size: number;
  readonly num_channels: number;
  readonly qkv_bias: boolean;
  /** ViTModel's pooler (dense + pooler_act on the class token); ViTForImageClassification has none. */
  readonly pooler: { readonly size: number; readonly act: HfActivation } | undefined;
  readonly num_labels: number;
}

/** A Hugging Face BERT (BertModel or BertForSequenceClassification). */
export interface HfBertConfig {
  readonly model_type: 'bert';
  readonly architecture: (typeof HF_ARCHITECTURES.bert)[number];
  readonly vocab_size: number;
  readonly hidden_size: number;
  readonly num_hidden_layers: number;
  readonly num_attention_heads: number;
  readonly intermediate_size: number;
  readonly hidden_act: HfActivation;
  readonly max_position_embeddings: number;
  readonly type_vocab_size: number;
  readonly layer_norm_eps: number;
  readonly num_labels: number;
}

/** A Hugging Face GPT-2 (GPT2Model or GPT2LMHeadModel). */
export interface HfGpt2Config {
  readonly model_type: 'gpt2';
  readonly architecture: (typeof HF_ARCHITECTURES.gpt2)[number];
  readonly vocab_size: number;
  readonly n_positions: number;
  readonly n_embd: number;
  readonly n_layer: number;
  readonly n_head: number;
  /** The MLP's width: n_inner, or 4 x n_embd when null. */
  readonly n_inner: number;
  readonly activation_function: HfActivation;
  readonly layer_norm_epsilon: number;
  readonly scale_attn_weights: boolean;
  readonly scale_attn_by_inverse_layer_idx: boolean;
  /** lm_head.weight is transformer.wte.weight. */
  readonly tie_word_embeddings: boolean;
  readonly bos_token_id: number | undefined;
  readonly eos_token_id: number | undefined;
  readonly pad_token_id: number | undefined;
}

/** Any Hugging Face config Tessera builds. */
export type HfConfig = HfVitConfig | HfBertConfig | HfGpt2Config;

type Json = Record<string, unknown>;

/** Reads Hugging Face config fields with their defaults; every error names the field and its value. */
class HfReader {
  constructor(
    readonly obj: Json,
    readonly source: string,
  ) {}

  fail(key: string, message: string): never {
    throw new ConfigError(this.source, key, message);
  }

  /** A positive integer (`fallback` when absent or null). */
  positive(key: string, fallback: number): number {
    const v = this.obj[key] ?? fallback;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) return this.fail(key, `"${key}" must be a positive integer, got ${previewJson(v)}`);
    return v;
  }

  /** A positive finite number. */
  positiveNumber(key: string, fallback: number): number {
    const v = this.obj[key] ?? fallback;
    if (typeof v !== 'number' || !(v > 0) || !Number.isFinite(v)) return this.fail(key, `"${key}" must be a positive number, got ${previewJson(v)}`);
    return v;
  }

  /** A boolean. */
  flag(key: string, fallback: boolean): boolean {
    const v = this.obj[key] ?? fallback;
    if (typeof v !== 'boolean') return this.fail(key, `"${key}" must be true or false, got ${previewJson(v)}`);
    return v;
  }

  /** A token id, or undefined when absent or null (a list, as some configs give eos_token_id, takes its first entry). */
  tokenId(key: string): number | undefined {
    let v = this.obj[key];
    if (Array.isArray(v)) v = v[0];
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) return this.fail(key, `"${key}" must be a token id (an integer >= 0), got ${previewJson(v)}`);
    return v;
  }

  /** A field Tessera supports with one value only: absent, null or `value`. */
  only(key: string, value: unknown, why: string): void {
    const v = this.obj[key];
    if (v !== undefined && v !== null && v !== value) this.fail(key, `"${key}": ${previewJson(v)} is not supported (Tessera supports ${previewJson(value)}: ${why})`);
  }

  /** An activation name of transformers' ACT2FN that Tessera computes. */
  activation(key: string, fallback: string): HfActivation {
    const v = this.obj[key] ?? fallback;
    if (typeof v !== 'string' || !Object.hasOwn(HF_ACTIVATIONS, v)) {
      return this.fail(key, `"${key}": ${previewJson(v)} is not a supported activation (supported: ${Object.keys(HF_ACTIVATIONS).join(', ')})`);
    }
    return HF_ACTIVATIONS[v]!;
  }

  /** The architecture to build: `architectures[0]`, or the base model when the list is absent. */
  architecture<A extends string>(allowed: readonly A[]): A {
    const v = this.obj.architectures;
    if (v === undefined || v === null) return allowed[0]!;
    if (!Array.isArray(v) || v.length === 0 || typeof v[0] !== 'string') return this.fail('architectures', `"architectures" must be a list of class names, got ${previewJson(v)}`);
    if (v.length > 1) return this.fail('architectures', `"architectures" lists ${v.length} classes (${v.join(', ')}); Tessera builds one`);
    if (!(allowed as readonly string[]).includes(v[0])) {
      return this.fail('architectures', `"architectures": "${v[0]}" is not supported for model_type "${String(this.obj.model_type)}" (supported: ${allowed.join(', ')})`);
    }
    return v[0] as A;
  }

  /** Labels of a classification head: the entries of id2label, else num_labels (transformers' default 2). */
  numLabels(): number {
    const labels = this.obj.id2label;
    if (labels !== undefined && labels !== null) {
      if (typeof labels !== 'object' || Array.isArray(labels)) return this.fail('id2label', `"id2label" must be an object of labels by id, got ${previewJson(labels)}`);
      const n = Object.keys(labels).length;
      if (n < 1) return this.fail('id2label', '"id2label" is empty; a classifier needs at least one label');
      return n;
    }
    return this.positive('num_labels', 2);
  }

  /** `heads` must divide `width`. */
  divides(headsKey: string, heads: number, widthKey: string, width: number): void {
    if (width % heads !== 0) this.fail(headsKey, `"${headsKey}" ${heads} must divide "${widthKey}" ${width}`);
  }

  /** Rejects more layers, or parameters, than a backend can hold. */
  bounded(layersKey: string, layers: number, parameters: number): void {
    if (layers > MAX_LAYERS) this.fail(layersKey, `"${layersKey}": ${layers} is more than the ${MAX_LAYERS} layers a model may stack`);
    if (parameters > MAX_PARAMETERS) {
      this.fail(layersKey, `the config makes a model of ${parameters.toPrecision(3)} parameters (${((4 * parameters) / 2 ** 30).toPrecision(3)} GiB as f32), more than the ${MAX_PARAMETERS} (4 GiB) a backend can hold`);
    }
  }
}

/** Fields of the BERT-style encoders (ViT, BERT) with transformers' defaults. */
function encoderFields(r: HfReader) {
  const f = {
    hidden_size: r.positive('hidden_size', 768),
    num_hidden_layers: r.positive('num_hidden_layers', 12),
    num_attention_heads: r.positive('num_attention_heads', 12),
    intermediate_size: r.positive('intermediate_size', 3072),
    hidden_act: r.activation('hidden_act', 'gelu'),
    layer_norm_eps: r.positiveNumber('layer_norm_eps', 1e-12),
  };
  r.divides('num_attention_heads', f.num_attention_heads, 'hidden_size', f.hidden_size);
  return f;
}

/** Parameters of one encoder layer: q, k, v, output, two MLP matrices, two LayerNorms. */
const encoderLayerParameters = (d: number, inner: number) => 4 * d * d + 2 * d * inner + 9 * d + inner;

function vitConfig(r: HfReader): HfVitConfig {
  const architecture = r.architecture(HF_ARCHITECTURES.vit);
  const f = encoderFields(r);
  const image_size = r.positive('image_size', 224);
  const patch_size = r.positive('patch_size', 16);
  if (image_size % patch_size !== 0) r.fail('patch_size', `"patch_size" ${patch_size} must divide "image_size" ${image_size} (transformers would drop the image's last ${image_size % patch_size} rows and columns)`);
  const base = architecture === 'ViTModel';
  const c: HfVitConfig = {
    model_type: 'vit',
    architecture,
    ...f,
    image_size,
    patch_size,
    num_channels: r.positive('num_channels', 3),
    qkv_bias: r.flag('qkv_bias', true),
    pooler: base ? { size: r.positive('pooler_output_size', f.hidden_size), act: r.activation('pooler_act', 'tanh') } : undefined,
    num_labels: base ? 0 : r.numLabels(),
  };
  const d = c.hidden_size;
  const tokens = (image_size / patch_size) ** 2 + 1;
  r.bounded('num_hidden_layers', c.num_hidden_layers, c.num_hidden_layers * encoderLayerParameters(d, c.intermediate_size) + tokens * d + d * c.num_channels * patch_size ** 2);
  return c;
}

function bertConfig(r: HfReader): HfBertConfig {
  const architecture = r.architecture(HF_ARCHITECTURES.bert);
  r.only('position_embedding_type', 'absolute', 'learned absolute position embeddings');
  r.only('is_decoder', false, 'BERT as an encoder');
  r.only('add_cross_attention', false, 'BERT as an encoder');
  const f = encoderFields(r);
  const c: HfBertConfig = {
    model_type: 'bert',
    architecture,
    ...f,
    vocab_size: r.positive('vocab_size', 30522),
    max_position_embeddings: r.positive('max_position_embeddings', 512),
    type_vocab_size: r.positive('type_vocab_size', 2),
    num_labels: architecture === 'BertModel' ? 0 : r.numLabels(),
  };
  const d = c.hidden_size;
  r.bounded('num_hidden_layers', c.num_hidden_layers, c.num_hidden_layers * encoderLayerParameters(d, c.intermediate_size) + (c.vocab_size + c.max_position_embeddings + c.type_vocab_size) * d);
  return c;
}

function gpt2Config(r: HfReader): HfGpt2Config {
  const architecture = r.architecture(HF_ARCHITECTURES.gpt2);
  r.only('add_cross_attention', false, 'GPT-2 as a decoder-only model');
  const n_embd = r.positive('n_embd', 768);
  const n_head = r.positive('n_head', 12);
  r.divides('n_head', n_head, 'n_embd', n_embd);
  const c: HfGpt2Config = {
    model_type: 'gpt2',
    architecture,
    vocab_size: r.positive('vocab_size', 50257),
    n_positions: r.positive('n_positions', 1024),
    n_embd,
    n_layer: r.positive('n_layer', 12),
    n_head,
    n_inner: r.positive('n_inner', 4 * n_embd),
    activation_function: r.activation('activation_function', 'gelu_new'),
    layer_norm_epsilon: r.positiveNumber('layer_norm_epsilon', 1e-5),
    scale_attn_weights: r.flag('scale_attn_weights', true),
    scale_attn_by_inverse_layer_idx: r.flag('scale_attn_by_inverse_layer_idx', false),
    tie_word_embeddings: r.flag('tie_word_embeddings', true),
    bos_token_id: r.tokenId('bos_token_id'),
    eos_token_id: r.tokenId('eos_token_id'),
    pad_token_id: r.tokenId('pad_token_id'),
  };
  r.bounded('n_layer', c.n_layer, c.n_layer * encoderLayerParameters(n_embd, c.n_inner) + (c.vocab_size + c.n_positions) * n_embd);
  return c;
}

/** The model types Tessera builds from a Hugging Face config. */
const MODEL_TYPES = { vit: vitConfig, bert: bertConfig, gpt2: gpt2Config } as const;

/** Checks a parsed `config.json` object as a Hugging Face config; `source` (a path) names it in errors. */
export function parseHfConfig(json: unknown, source = '<config.json>'): HfConfig {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new ConfigError(source, undefined, `expected a JSON object (a Hugging Face config.json), got ${Array.isArray(json) ? 'an array' : previewJson(json)}`);
  }
  const r = new HfReader(json as Json, source);
  const type = (json as Json).model_type;
  if (typeof type === 'string' && Object.hasOwn(MODEL_TYPES, type)) return MODEL_TYPES[type as keyof typeof MODEL_TYPES](r);
  if (type === undefined) return r.fail('model_type', `missing "model_type" (supported: ${Object.keys(MODEL_TYPES).join(', ')})`);
  return r.fail('model_type', `"model_type": ${previewJson(type)} is not supported (supported: ${Object.keys(MODEL_TYPES).join(', ')})`);
}

/** Parses `config.json` text; `source` names it in errors. */
export function parseHfConfigText(text: string, source = '<config.json>'): HfConfig {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new ConfigError(source, undefined, `not valid JSON: ${e instanceof Error ? e.message : String(e)}`);
  }
  return parseHfConfig(json, source);
}
