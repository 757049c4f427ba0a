/** Config JSON: defaults, unknown keys ignored, every missing or invalid key named in the error. */
import { describe, expect, it } from 'vitest';
import { ConfigError, type ModelConfig, VIT_PRESETS, buildModel, parseModelConfig, parseModelConfigText } from '../src/index.ts';
import { modelParameters } from '../src/size.ts';

const VIT = { model: 'vit', image_size: 24, patch_size: 4, num_layers: 2, num_heads: 3, hidden_dim: 24, mlp_dim: 40, num_classes: 7 };
const RNN = { model: 'seq2seq_rnn', cell: 'gru', embedding_dim: 7, hidden_size: 9, attention: 'general', src_vocab: 17, tgt_vocab: 15, pad_id: 0, bos_id: 1, eos_id: 2 };
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

  it('fills the RNN default (one layer); cell and attention are required, one of the named choices', () => {
    expect(parseModelConfig({ ...RNN, task: 'reverse' })).toEqual({ ...RNN, num_layers: 1 });
    expect(parseModelConfig({ ...RNN, num_layers: 3, cell: 'lstm', attention: 'additive' })).toMatchObject({ num_layers: 3, cell: 'lstm', attention: 'additive' });
    expect(errorOf({ ...RNN, num_layers: 0 }).key).toBe('num_layers');
    expect(errorOf({ ...RNN, cell: 'rnn' }).message).toBe('c.json: "cell" must be one of "gru", "lstm", got "rnn"');
    expect(errorOf({ ...RNN, attention: 'concat' }).message).toBe('c.json: "attention" must be one of "dot", "general", "additive", got "concat"');
    const { cell: _, ...noCell } = RNN;
    expect(errorOf(noCell).message).toBe('c.json: missing key "cell" (one of "gru", "lstm") for "model": "seq2seq_rnn"');
    expect(errorOf({ ...RNN, pad_id: 15 }).message).toContain('"pad_id" must be a token id in [0, 15) (in both vocabularies)');
    expect(errorOf({ ...RNN, num_layers: 5000 }).key).toBe('num_layers');
  });

  it('fills the Transformer default (eps 1e-5)', () => {
    expect(parseModelConfig({ ...TRANSFORMER, task: 'reverse' })).toEqual({ ...TRANSFORMER, layer_norm_eps: 1e-5 });
  });

  for (const [base, keys] of [
    [VIT, ['image_size', 'patch_size', 'num_layers', 'num_heads', 'hidden_dim', 'mlp_dim', 'num_classes']],
    [RNN, ['cell', 'embedding_dim', 'hidden_size', 'attention', 'src_vocab', 'tgt_vocab', 'pad_id', 'bos_id', 'eos_id']],
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
    expect(errorOf({ ...VIT, model: 'bert' }).message).toBe('c.json: "model" must be "vit", "transformer" or "seq2seq_rnn", got "bert"');
    expect(errorOf({ image_size: 4 }).key).toBe('model');
    expect(errorOf([VIT]).message).toContain('got an array');
    expect(() => parseModelConfigText('{"model": "vit",', 'c.json')).toThrow(/c\.json: not valid JSON/);
  });
});

describe('absurd configs', () => {
  it('the parameter count computed from the config is the built model\'s (fixtures, presets, random sizes)', () => {
    const configs: ModelConfig[] = [parseModelConfig(VIT), parseModelConfig(TRANSFORMER), ...Object.values(VIT_PRESETS), parseModelConfig({ ...VIT, naming: 'timm' })];
    for (let i = 1; i <= 4; i++) {
      configs.push(parseModelConfig({ ...VIT, image_size: 4 * (i + 2), num_layers: i, hidden_dim: 6 * i, mlp_dim: 5 * i + 1, num_classes: i + 1 }));
      configs.push(parseModelConfig({ ...TRANSFORMER, d_model: 6 * i, num_encoder_layers: i, num_decoder_layers: 5 - i, dim_feedforward: 7 * i, src_vocab: 10 + i, tgt_vocab: 20 - i }));
      for (const attention of ['dot', 'general', 'additive']) {
        for (const cell of ['gru', 'lstm']) configs.push(parseModelConfig({ ...RNN, cell, attention, embedding_dim: 2 * i + 1, hidden_size: 3 * i, num_layers: 5 - i, src_vocab: 10 + i, tgt_vocab: 20 - i }));
      }
    }
    for (const c of configs) {
      let built = 0;
      for (const [, p] of buildModel(c).namedParameters()) built += p.shape.reduce((a, b) => a * b, 1);
      expect(modelParameters(c)).toBe(built);
    }
  });

  it('a model larger than a backend can hold is rejected before it is built, naming the key that makes it large', () => {
    const cases: [object, string][] = [
      [{ ...VIT, num_layers: 1000, hidden_dim: 3000, num_heads: 3 }, 'num_layers'],
      [{ ...VIT, hidden_dim: 1_000_000_002, num_heads: 1 }, 'hidden_dim'],
      [{ ...VIT, mlp_dim: 1e9 }, 'mlp_dim'],
      [{ ...VIT, image_size: 400_000, patch_size: 4 }, 'image_size'],
      [{ ...VIT, image_size: 240_000, patch_size: 240_000 }, 'patch_size'],
      [{ ...VIT, num_classes: 1e300 }, 'num_classes'],
      [{ ...TRANSFORMER, num_encoder_layers: 1000, d_model: 3000 }, 'num_encoder_layers'],
      [{ ...TRANSFORMER, num_decoder_layers: 1000, d_model: 3000 }, 'num_decoder_layers'],
      [{ ...TRANSFORMER, d_model: 1e9, nhead: 1 }, 'd_model'],
      [{ ...TRANSFORMER, src_vocab: 2e8 }, 'src_vocab'],
      [{ ...TRANSFORMER, tgt_vocab: 2e8 }, 'tgt_vocab'],
      [{ ...TRANSFORMER, dim_feedforward: 1e12 }, 'dim_feedforward'],
      [{ ...RNN, hidden_size: 1e6 }, 'hidden_size'],
      [{ ...RNN, embedding_dim: 1e9 }, 'embedding_dim'],
      [{ ...RNN, num_layers: 1000, hidden_size: 3000 }, 'num_layers'],
    ];
    for (const [json, key] of cases) {
      const e = errorOf(json);
      expect(e.key, key).toBe(key);
      expect(e.message).toMatch(new RegExp(`^c\\.json: "${key}": \\S+ makes a model of \\S+ parameters \\(\\S+ GiB as f32\\), more than the 1073741824 \\(4 GiB\\) a backend can hold`));
    }
    // ViT-B/16 (86M parameters) is far inside the bound.
    expect(modelParameters(VIT_PRESETS['vit-b-16']!)).toBe(86_567_656);
  });

  it('more than 1024 layers, even tiny ones, are rejected naming the key (a million would fit the parameter bound)', () => {
    for (const [json, key] of [
      [{ ...VIT, num_layers: 1_000_000, hidden_dim: 3, mlp_dim: 1 }, 'num_layers'],
      [{ ...TRANSFORMER, num_encoder_layers: 1025 }, 'num_encoder_layers'],
      [{ ...TRANSFORMER, num_decoder_layers: 2 ** 31 }, 'num_decoder_layers'],
    ] as const) {
      const e = errorOf(json);
      expect(e.key).toBe(key);
      expect(e.message).toBe(`c.json: "${key}": ${(json as Record<string, unknown>)[key]} is more than the 1024 layers a config may stack (the deepest published transformers have about 200)`);
    }
    expect(() => parseModelConfig({ ...TRANSFORMER, num_encoder_layers: 1024 })).not.toThrow();
  });

  it('a ViT whose image or widest layer holds more than 2^30 elements for one image is rejected naming the key', () => {
    const image = errorOf({ ...VIT, image_size: 20_000, patch_size: 4, hidden_dim: 3, num_heads: 1 });
    expect(image.key).toBe('image_size');
    expect(image.message).toMatch(/^c\.json: "image_size": 20000 makes an activation of 1\.20e\+9 elements for one image \(4\.47 GiB as f32\), more than the 1073741824 \(4 GiB\)/);
    expect(errorOf({ ...VIT, mlp_dim: 1e8, hidden_dim: 3, num_heads: 1 }).key).toBe('mlp_dim');
  });

  it('values nested 100,000 deep are reported in a short message (no stack overflow)', () => {
    const deep = `${'['.repeat(100_000)}${']'.repeat(100_000)}`;
    for (const text of [`{"model":${deep}}`, `{"model":"vit","image_size":${deep}}`, deep]) {
      let err: unknown;
      try {
        parseModelConfigText(text, 'c.json');
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as Error).message.length).toBeLessThan(300);
    }
  });
});
