/**
 * Reading Hugging Face folders: config fields with transformers' defaults,
 * every unsupported field value named with its value, checkpoints whose
 * tensors are missing, unexpected or wrongly shaped listed by name and
 * shape, shards that do not match their index, and the name differences
 * transformers' own loader accepts (a prefix added or dropped, a tied
 * lm_head written out, old buffers).
 */
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type SafetensorsTensor, TesseraError, readSafetensors, writeSafetensors } from '@tessera/ir';
import { afterAll, describe, expect, it } from 'vitest';
import { CheckpointError, ConfigError, HfGpt2LMHeadModel, bindHfCheckpoint, buildHfModel, parseHfConfig } from '../src/index.ts';
import { loadHfFolder } from '../src/node.ts';
import { HF_FIXTURES } from './hf-support.ts';

const tmp = mkdtempSync(join(tmpdir(), 'tessera-hf-loading-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** A copy of fixture `name` in the temporary folder, to break. */
function copyOf(name: string, as: string): string {
  const dir = join(tmp, as);
  rmSync(dir, { recursive: true, force: true });
  cpSync(join(HF_FIXTURES, name), dir, { recursive: true });
  return dir;
}

const tensorsOf = (dir: string, file = 'model.safetensors'): Map<string, SafetensorsTensor> => readSafetensors(readFileSync(join(dir, file))).tensors;
const writeTensors = (dir: string, t: Map<string, SafetensorsTensor>, file = 'model.safetensors') => writeFileSync(join(dir, file), writeSafetensors(t));
const configOf = (dir: string): Record<string, unknown> => JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as Record<string, unknown>;

/** The message of what `f` rejects with (or throws). */
async function rejection(f: () => unknown): Promise<TesseraError> {
  try {
    await f();
  } catch (e) {
    if (e instanceof TesseraError) return e;
    throw e;
  }
  throw new Error('expected a TesseraError');
}

describe('Hugging Face config.json', () => {
  it("fills transformers' defaults for fields save_pretrained may leave out", () => {
    const bert = parseHfConfig({ model_type: 'bert', hidden_size: 8, num_attention_heads: 2 });
    expect(bert).toMatchObject({ architecture: 'BertModel', layer_norm_eps: 1e-12, hidden_act: 'gelu', max_position_embeddings: 512, type_vocab_size: 2, intermediate_size: 3072 });
    const gpt2 = parseHfConfig({ model_type: 'gpt2', n_embd: 10, n_head: 2, n_inner: null, architectures: ['GPT2LMHeadModel'] });
    expect(gpt2).toMatchObject({ n_inner: 40, activation_function: 'gelu_tanh', layer_norm_epsilon: 1e-5, tie_word_embeddings: true, scale_attn_weights: true });
    const vit = parseHfConfig({ model_type: 'vit', architectures: ['ViTForImageClassification'], id2label: { 0: 'cat', 1: 'dog', 2: 'owl' } });
    expect(vit).toMatchObject({ num_labels: 3, qkv_bias: true, num_channels: 3, pooler: undefined });
  });

  it('names the field and the value Tessera does not support', () => {
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ model_type: 'bert', position_embedding_type: 'relative_key' }, /"position_embedding_type": "relative_key" is not supported \(Tessera supports "absolute"/],
      [{ model_type: 'bert', hidden_act: 'mish' }, /"hidden_act": "mish" is not a supported activation \(supported: gelu, .*gelu_new/],
      [{ model_type: 'gpt2', activation_function: 'gelu_10' }, /"activation_function": "gelu_10" is not a supported activation/],
      [{ model_type: 'vit', pooler_act: 'mish' }, /"pooler_act": "mish" is not a supported activation/],
      [{ model_type: 'bert', architectures: ['BertForMaskedLM'] }, /"architectures": "BertForMaskedLM" is not supported for model_type "bert" \(supported: BertModel, BertForSequenceClassification\)/],
      [{ model_type: 'llama' }, /"model_type": "llama" is not supported \(supported: vit, bert, gpt2\)/],
      [{ model_type: 'gpt2', add_cross_attention: true }, /"add_cross_attention": true is not supported/],
      [{ model_type: 'bert', is_decoder: true }, /"is_decoder": true is not supported/],
      [{ model_type: 'bert', hidden_size: 10, num_attention_heads: 3 }, /"num_attention_heads" 3 must divide "hidden_size" 10/],
      [{ model_type: 'vit', image_size: 10, patch_size: 3 }, /"patch_size" 3 must divide "image_size" 10/],
      [{ model_type: 'gpt2', n_layer: 100000 }, /"n_layer": 100000 is more than the 1024 layers/],
      [{ model_type: 'vit', layer_norm_eps: -1 }, /"layer_norm_eps" must be a positive number, got -1/],
      [{ hidden_size: 8 }, /missing "model_type"/],
    ];
    for (const [json, message] of cases) {
      let err: unknown;
      try {
        parseHfConfig(json, 'c/config.json');
      } catch (e) {
        err = e;
      }
      expect(err, JSON.stringify(json)).toBeInstanceOf(ConfigError);
      expect((err as Error).message, JSON.stringify(json)).toMatch(/^c\/config\.json: /);
      expect((err as Error).message, JSON.stringify(json)).toMatch(message);
    }
  });

  it('reports a config that is not there or not JSON, naming the file', async () => {
    const dir = copyOf('gpt2-model-relu-invscale', 'no-config');
    rmSync(join(dir, 'config.json'));
    expect((await rejection(() => loadHfFolder(dir))).message).toMatch(/no-config\/config\.json: cannot read the config: no such file or directory/);
    writeFileSync(join(dir, 'config.json'), '{ "model_type": ');
    expect((await rejection(() => loadHfFolder(dir))).message).toMatch(/config\.json: not valid JSON/);
  });
});

describe('Hugging Face checkpoints', () => {
  it('lists missing, unexpected and wrongly shaped tensors by name and shape', async () => {
    const dir = copyOf('vit-classifier-10tok-5head', 'broken');
    const t = tensorsOf(dir);
    t.delete('vit.encoder.layer.1.attention.attention.key.weight');
    const bias = t.get('classifier.bias')!;
    t.set('classifier.bias', { dtype: 'F32', shape: [4], data: new Float32Array(4) });
    t.set('vit.extra.weight', { dtype: 'F32', shape: [2, 3], data: new Float32Array(6) });
    writeTensors(dir, t);
    const e = await rejection(() => loadHfFolder(dir));
    expect(e).toBeInstanceOf(CheckpointError);
    expect(e.message).toMatch(/broken\/model\.safetensors: the checkpoint does not fit the model/);
    expect((e as CheckpointError).problems).toEqual([
      'missing 1 tensor(s): vit.encoder.layer.1.attention.attention.key.weight [20, 20]',
      `wrong shape: classifier.bias: expected [${bias.shape.join(', ')}], found [4]`,
      'unexpected 1 tensor(s): vit.extra.weight [2, 3]',
    ]);
  });

  it('reads the shards its index lists, and names a shard that does not match', async () => {
    const dir = copyOf('bert-model-relu-sharded', 'shards');
    const ok = await loadHfFolder(dir);
    expect(Object.keys(ok.weights).length).toBe([...ok.model.namedParameters()].length);
    const indexPath = join(dir, 'model.safetensors.index.json');
    const index = JSON.parse(readFileSync(indexPath, 'utf8')) as { weight_map: Record<string, string> };
    const [name, file] = Object.entries(index.weight_map)[0]!;
    const other = Object.values(index.weight_map).find((f) => f !== file)!;
    writeFileSync(indexPath, JSON.stringify({ weight_map: { ...index.weight_map, [name]: other } }));
    expect((await rejection(() => loadHfFolder(dir))).message).toMatch(new RegExp(`the shards do not match the index:\\n  ${file} holds '${name}', which the index places in ${other}`));
    writeFileSync(indexPath, JSON.stringify({ weight_map: { ...index.weight_map, [name]: '../elsewhere.safetensors' } }));
    expect((await rejection(() => loadHfFolder(dir))).message).toMatch(/gives tensor '.*' the file "\.\.\/elsewhere\.safetensors"; expected a file name in the folder/);
  });

  it('says what a folder without safetensors weights lacks', async () => {
    const dir = copyOf('gpt2-model-relu-invscale', 'no-weights');
    rmSync(join(dir, 'model.safetensors'));
    writeFileSync(join(dir, 'pytorch_model.bin'), '');
    expect((await rejection(() => loadHfFolder(dir))).message).toMatch(/no model\.safetensors or model\.safetensors\.index\.json .*pytorch_model\.bin, which Tessera does not read \(save with safe_serialization=True\)/);
  });

  it('accepts what transformers loads: a tied lm_head written out, a base model saved under its prefix, old buffers', async () => {
    const dir = copyOf('gpt2-lm-tied-61vocab', 'tied');
    const t = tensorsOf(dir);
    const wte = t.get('transformer.wte.weight')!;
    expect(t.has('lm_head.weight')).toBe(false);
    t.set('lm_head.weight', wte);
    t.set('transformer.h.0.attn.bias', { dtype: 'BOOL', shape: [1, 1, 24, 24], data: new Uint8Array(576) });
    writeTensors(dir, t);
    const m = await loadHfFolder(dir);
    expect(m.model).toBeInstanceOf(HfGpt2LMHeadModel);
    expect(Object.keys(m.weights)).not.toContain('lm_head.weight');

    // A GPT2Model bound to GPT2LMHeadModel's tensors: the prefix goes, the head is the only leftover.
    const base = buildHfModel(parseHfConfig({ ...configOf(dir), architectures: ['GPT2Model'] }));
    const withoutHead = new Map([...t].filter(([n]) => n !== 'lm_head.weight'));
    expect(Object.keys(bindHfCheckpoint(base, withoutHead))).toContain('wte.weight');
    // And the other way: a head model's base saved without the prefix.
    const head = buildHfModel(parseHfConfig(configOf(dir)));
    const unprefixed = new Map([...withoutHead].map(([n, v]) => [n.replace(/^transformer\./, ''), v]));
    expect(Object.keys(bindHfCheckpoint(head, unprefixed))).toContain('transformer.wte.weight');
  });

  it("accepts ViT's transformers 5 module names (a state_dict taken from the module, not save_pretrained's)", () => {
    const dir = join(HF_FIXTURES, 'vit-classifier-10tok-5head');
    const v5 = (n: string) =>
      n
        .replace(/encoder\.layer\.(\d+)\.attention\.attention\.(query|key|value)\./, (_, i: string, p: string) => `layers.${i}.attention.${p[0]}_proj.`)
        .replace(/encoder\.layer\.(\d+)\.attention\.output\.dense\./, 'layers.$1.attention.o_proj.')
        .replace(/encoder\.layer\.(\d+)\.intermediate\.dense\./, 'layers.$1.mlp.fc1.')
        .replace(/encoder\.layer\.(\d+)\.output\.dense\./, 'layers.$1.mlp.fc2.')
        .replace(/encoder\.layer\.(\d+)\.layernorm_/, 'layers.$1.layernorm_');
    const saved = tensorsOf(dir);
    const renamed = new Map([...saved].map(([n, t]) => [v5(n), t]));
    expect([...renamed.keys()]).toContain('vit.layers.1.attention.k_proj.weight');
    expect([...renamed.keys()]).toContain('vit.layers.0.mlp.fc2.bias');
    const model = buildHfModel(parseHfConfig(configOf(dir)));
    const weights = bindHfCheckpoint(model, renamed);
    expect(weights['vit.encoder.layer.1.attention.attention.key.weight']).toBe(saved.get('vit.encoder.layer.1.attention.attention.key.weight')!.data);
    expect(Object.keys(weights).length).toBe(saved.size);
  });

  it('an untied GPT-2 needs its own lm_head.weight', async () => {
    const dir = copyOf('gpt2-lm-tied-61vocab', 'untied');
    writeFileSync(join(dir, 'config.json'), JSON.stringify({ ...configOf(dir), tie_word_embeddings: false }));
    const e = await rejection(() => loadHfFolder(dir));
    expect((e as CheckpointError).problems).toEqual(['missing 1 tensor(s): lm_head.weight [61, 18]']);
  });
});
