/** Config JSON: defaults, unknown keys ignored, every missing or invalid key named in the error. */
import { describe, expect, it } from 'vitest';
import { ConfigError, parseModelConfig, parseModelConfigText } from '../src/index.ts';

const VIT = { model: 'vit', image_size: 24, patch_size: 4, num_layers: 2, num_heads: 3, hidden_dim: 24, mlp_dim: 40, num_classes: 7 };
const TRANSFORMER = { model: 'transformer', d_model: 18, nhead: 3, num_encoder_layers: 2, num_decoder_layers: 1, dim_feedforward: 29, src_vocab: 41, tgt_vocab: 37, pad_id: 0, bos_id: 1, eos_id: 2 };

/** The ConfigError thrown for `json`, or a failure if none is. */
function errorOf(json: unknown): ConfigError {
  try {
    parseModelConfig(json, 'c.json');
  } catch (e) {
    if (e instanceof ConfigError) return e;
    throw e;
  }
  throw new Error(`expected a ConfigError for ${JSON.stringify(json)}`);
}

describe('model configs', () => {
  it('fills the ViT defaults (torchvision naming, eps 1e-6) and ignores unknown keys', () => {
    expect(parseModelConfig({ ...VIT, labels: ['a'], comment: 'x' })).toEqual({ ...VIT, naming: 'torchvision', layer_norm_eps: 1e-6 });
    expect(parseModelConfig({ ...VIT, naming: 'timm', layer_norm_eps: 1e-5 })).toMatchObject({ naming: 'timm', layer_norm_eps: 1e-5 });
  });

  it('fills the Transformer default (eps 1e-5)', () => {
    expect(parseModelConfig({ ...TRANSFORMER, task: 'reverse' })).toEqual({ ...TRANSFORMER, layer_norm_eps: 1e-5 });
  });

  for (const [base, keys] of [
    [VIT, ['image_size', 'patch_size', 'num_layers', 'num_heads', 'hidden_dim', 'mlp_dim', 'num_classes']],
    [TRANSFORMER, ['d_model', 'nhead', 'num_encoder_layers', 'num_decoder_layers', 'dim_feedforward', 'src_vocab', 'tgt_vocab', 'pad_id', 'bos_id', 'eos_id']],
  ] as const) {
    for (const key of keys) {
      it(`${base.model}: a missing "${key}" is an error naming it`, () => {
        const { [key]: _, ...rest } = base as Record<string, unknown>;
        const e = errorOf(rest);
        expect(e.key).toBe(key);
        expect(e.message).toContain(`c.json: missing key "${key}"`);
      });
      for (const bad of [0, -3, 2.5, '4', null]) {
        it(`${base.model}: "${key}": ${JSON.stringify(bad)} is an error naming the key and the value`, () => {
          // Token ids may be 0; everything else must be positive.
          if (bad === 0 && key.endsWith('_id')) return expect(() => parseModelConfig({ ...base, [key]: bad })).not.toThrow();
          const e = errorOf({ ...base, [key]: bad });
          expect(e.key).toBe(key);
          expect(e.message).toContain(`"${key}"`);
          expect(e.message).toContain(JSON.stringify(bad));
        });
      }
    }
  }

  it('rejects inconsistent sizes, naming the key to change', () => {
    expect(errorOf({ ...VIT, patch_size: 5 }).key).toBe('patch_size');
    expect(errorOf({ ...VIT, num_heads: 5 }).key).toBe('num_heads');
    expect(errorOf({ ...TRANSFORMER, nhead: 4 }).key).toBe('nhead');
    expect(errorOf({ ...TRANSFORMER, d_model: 15, nhead: 3 }).key).toBe('d_model');
    expect(errorOf({ ...TRANSFORMER, eos_id: 37 }).message).toContain('[0, 37)');
    expect(errorOf({ ...TRANSFORMER, pad_id: 40 }).key).toBe('pad_id');
    expect(errorOf({ ...VIT, naming: 'hf' }).message).toContain('"naming" must be one of "torchvision", "timm", got "hf"');
    expect(errorOf({ ...VIT, layer_norm_eps: 0 }).key).toBe('layer_norm_eps');
  });

  it('names the model key and rejects what is not an object or not JSON', () => {
    expect(errorOf({ ...VIT, model: 'bert' }).message).toBe('c.json: "model" must be "vit" or "transformer", got "bert"');
    expect(errorOf({ image_size: 4 }).key).toBe('model');
    expect(errorOf([VIT]).message).toContain('got an array');
    expect(() => parseModelConfigText('{"model": "vit",', 'c.json')).toThrow(/c\.json: not valid JSON/);
  });
});
