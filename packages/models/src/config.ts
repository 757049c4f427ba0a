/**
 * Model configs as JSON: `"model": "vit"` with torchvision's constructor
 * names, `"model": "transformer"` with nn.Transformer's names plus
 * vocabularies and special tokens, or `"model": "seq2seq_rnn"` (the RNN
 * encoder-decoder with attention: cell, sizes, score, vocabularies, tokens). Unknown keys are ignored (a config may
 * carry notes such as class labels); a missing or invalid key is an error
 * naming it.
 */
import { TesseraError, previewJson } from '@tessera/ir';
import { ATTENTION_SCORES, RNN_CELLS, type Seq2SeqRnnConfig } from './rnn/config.ts';
import { MAX_ACTIVATION, MAX_LAYERS, MAX_PARAMETERS, RNN_BASE, TRANSFORMER_BASE, VIT_BASE, mostOversized, rnnParameters, transformerParameters, vitLargestActivation, vitParameters } from './size.ts';
import type { TransformerConfig } from './transformer/config.ts';
import type { VitConfig, VitNaming } from './vit/config.ts';

/** Any model's configuration. */
export type ModelConfig = VitConfig | TransformerConfig | Seq2SeqRnnConfig;

/** The values of "model". */
const MODELS = '"vit", "transformer" or "seq2seq_rnn"';

/** A config that cannot be used: names the file and the key. */
export class ConfigError extends TesseraError {
  constructor(
    readonly source: string,
    readonly key: string | undefined,
    message: string,
  ) {
    super(`${source}: ${message}`);
    this.name = 'ConfigError';
  }
}

type Json = Record<string, unknown>;

/** Reads key `key` of `obj` with `check`, or throws a ConfigError naming it. */
class Reader {
  constructor(
    readonly obj: Json,
    readonly source: string,
  ) {}

  fail(key: string, message: string): never {
    throw new ConfigError(this.source, key, message);
  }

  /** A positive integer. */
  positive(key: string): number {
    const v = this.obj[key];
    if (v === undefined) return this.fail(key, `missing key "${key}" (a positive integer) for "model": "${String(this.obj.model)}"`);
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) return this.fail(key, `"${key}" must be a positive integer, got ${previewJson(v)}`);
    return v;
  }

  /** An integer in [0, below) naming a token; `what` says which vocabulary. */
  token(key: string, below: number, what: string): number {
    const v = this.obj[key];
    if (v === undefined) return this.fail(key, `missing key "${key}" (a token id) for "model": "${String(this.obj.model)}"`);
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v >= below) {
      return this.fail(key, `"${key}" must be a token id in [0, ${below}) (${what}), got ${previewJson(v)}`);
    }
    return v;
  }

  /** A positive finite number, or `fallback` when absent. */
  positiveNumber(key: string, fallback: number): number {
    const v = this.obj[key];
    if (v === undefined) return fallback;
    if (typeof v !== 'number' || !(v > 0) || !Number.isFinite(v)) return this.fail(key, `"${key}" must be a positive number, got ${previewJson(v)}`);
    return v;
  }

  /** A positive integer, or `fallback` when absent. */
  positiveOr(key: string, fallback: number): number {
    return this.obj[key] === undefined ? fallback : this.positive(key);
  }

  /** One of `allowed`; `fallback` when absent, or an error naming the choices when there is none. */
  oneOf<T extends string>(key: string, allowed: readonly T[], fallback?: T): T {
    const v = this.obj[key];
    if (v === undefined && fallback !== undefined) return fallback;
    if (v === undefined) return this.fail(key, `missing key "${key}" (one of ${allowed.map((a) => previewJson(a)).join(', ')}) for "model": "${String(this.obj.model)}"`);
    if (typeof v !== 'string' || !(allowed as readonly string[]).includes(v)) {
      return this.fail(key, `"${key}" must be one of ${allowed.map((a) => previewJson(a)).join(', ')}, got ${previewJson(v)}`);
    }
    return v as T;
  }
}

const VIT_NAMINGS: readonly VitNaming[] = ['torchvision', 'timm'];

function vitConfig(r: Reader): VitConfig {
  const c: VitConfig = {
    model: 'vit',
    image_size: r.positive('image_size'),
    patch_size: r.positive('patch_size'),
    num_layers: r.positive('num_layers'),
    num_heads: r.positive('num_heads'),
    hidden_dim: r.positive('hidden_dim'),
    mlp_dim: r.positive('mlp_dim'),
    num_classes: r.positive('num_classes'),
    naming: r.oneOf('naming', VIT_NAMINGS, 'torchvision'),
    layer_norm_eps: r.positiveNumber('layer_norm_eps', 1e-6),
  };
  if (c.image_size % c.patch_size !== 0) r.fail('patch_size', `"patch_size" ${c.patch_size} must divide "image_size" ${c.image_size}`);
  if (c.hidden_dim % c.num_heads !== 0) r.fail('num_heads', `"num_heads" ${c.num_heads} must divide "hidden_dim" ${c.hidden_dim}`);
  checkLayers(r, c, ['num_layers']);
  checkSize(r, c, vitParameters(c), VIT_BASE);
  const act = vitLargestActivation(c);
  if (act > MAX_ACTIVATION) {
    // The image and the widths make activations large (a large patch_size makes them smaller).
    const { image_size, hidden_dim, mlp_dim } = VIT_BASE;
    const key = mostOversized(c as unknown as Record<string, unknown>, { image_size: image_size!, hidden_dim: hidden_dim!, mlp_dim: mlp_dim! });
    r.fail(key, `"${key}": ${String((c as unknown as Record<string, unknown>)[key])} makes an activation of ${act.toPrecision(3)} elements for one image (${((4 * act) / 2 ** 30).toPrecision(3)} GiB as f32), more than the ${MAX_ACTIVATION} (4 GiB) a backend can hold`);
  }
  return c;
}

function transformerConfig(r: Reader): TransformerConfig {
  const d = r.positive('d_model');
  const nhead = r.positive('nhead');
  if (d % nhead !== 0) r.fail('nhead', `"nhead" ${nhead} must divide "d_model" ${d}`);
  if (d % 2 !== 0) r.fail('d_model', `"d_model" must be even for the sinusoidal position encoding (sin and cos pairs), got ${d}`);
  const srcVocab = r.positive('src_vocab');
  const tgtVocab = r.positive('tgt_vocab');
  const padId = r.token('pad_id', Math.min(srcVocab, tgtVocab), 'in both vocabularies');
  const c: TransformerConfig = {
    model: 'transformer',
    d_model: d,
    nhead,
    num_encoder_layers: r.positive('num_encoder_layers'),
    num_decoder_layers: r.positive('num_decoder_layers'),
    dim_feedforward: r.positive('dim_feedforward'),
    src_vocab: srcVocab,
    tgt_vocab: tgtVocab,
    pad_id: padId,
    bos_id: r.token('bos_id', tgtVocab, '"tgt_vocab"'),
    eos_id: r.token('eos_id', tgtVocab, '"tgt_vocab"'),
    layer_norm_eps: r.positiveNumber('layer_norm_eps', 1e-5),
  };
  checkLayers(r, c, ['num_encoder_layers', 'num_decoder_layers']);
  checkSize(r, c, transformerParameters(c), TRANSFORMER_BASE);
  return c;
}

function rnnConfig(r: Reader): Seq2SeqRnnConfig {
  const srcVocab = r.positive('src_vocab');
  const tgtVocab = r.positive('tgt_vocab');
  const c: Seq2SeqRnnConfig = {
    model: 'seq2seq_rnn',
    cell: r.oneOf('cell', RNN_CELLS),
    embedding_dim: r.positive('embedding_dim'),
    hidden_size: r.positive('hidden_size'),
    num_layers: r.positiveOr('num_layers', 1),
    attention: r.oneOf('attention', ATTENTION_SCORES),
    src_vocab: srcVocab,
    tgt_vocab: tgtVocab,
    pad_id: r.token('pad_id', Math.min(srcVocab, tgtVocab), 'in both vocabularies'),
    bos_id: r.token('bos_id', tgtVocab, '"tgt_vocab"'),
    eos_id: r.token('eos_id', tgtVocab, '"tgt_vocab"'),
  };
  checkLayers(r, c, ['num_layers']);
  checkSize(r, c, rnnParameters(c), RNN_BASE);
  return c;
}

/** Rejects more than MAX_LAYERS layers in a stack, naming the key. */
function checkLayers(r: Reader, c: ModelConfig, keys: readonly string[]): void {
  for (const key of keys) {
    const n = (c as unknown as Record<string, number>)[key]!;
    if (n > MAX_LAYERS) r.fail(key, `"${key}": ${n} is more than the ${MAX_LAYERS} layers a config may stack (the deepest published transformers have about 200)`);
  }
}

/** Rejects a model with more parameters than any backend can hold, naming the key that makes it large (before the model is built). */
function checkSize(r: Reader, c: ModelConfig, n: number, usual: Readonly<Record<string, number>>): void {
  if (n <= MAX_PARAMETERS) return;
  const key = mostOversized(c as unknown as Record<string, unknown>, usual);
  const gib = (4 * n) / 2 ** 30;
  r.fail(
    key,
    `"${key}": ${String((c as unknown as Record<string, unknown>)[key])} makes a model of ${n.toPrecision(3)} parameters (${gib.toPrecision(3)} GiB as f32), more than the ${MAX_PARAMETERS} (4 GiB) a backend can hold (wasm32 addresses 4 GiB)`,
  );
}

/** Checks a parsed JSON value as a model config; `source` (a path) names it in errors. */
export function parseModelConfig(json: unknown, source = '<config>'): ModelConfig {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new ConfigError(source, undefined, `expected a JSON object with a "model" key (${MODELS}), got ${Array.isArray(json) ? 'an array' : previewJson(json)}`);
  }
  const r = new Reader(json as Json, source);
  const model = (json as Json).model;
  if (model === 'vit') return vitConfig(r);
  if (model === 'transformer') return transformerConfig(r);
  if (model === 'seq2seq_rnn') return rnnConfig(r);
  if (model === undefined) return r.fail('model', `missing key "model" (expected ${MODELS})`);
  return r.fail('model', `"model" must be ${MODELS}, got ${previewJson(model)}`);
}

/** Parses config text (JSON); `source` names it in errors. */
export function parseModelConfigText(text: string, source = '<config>'): ModelConfig {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new ConfigError(source, undefined, `not valid JSON: ${e instanceof Error ? e.message : String(e)}`);
  }
  return parseModelConfig(json, source);
}
