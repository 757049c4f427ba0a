/**
 * `--model DIR` (a Hugging Face folder) in run, compile, compare and
 * generate: outputs written under transformers' names match PyTorch's
 * float64 outputs under the tolerance policy, GPT-2's greedy generation
 * gives transformers' tokens, and bad folders, inputs and flags are
 * one-line errors naming what is wrong.
 */
import { join } from 'node:path';
import { type SafetensorsTensor, readSafetensors, writeSafetensors } from '@tessera/ir';
import { readSafetensorsFile } from '@tessera/ir/node';
import { describeMismatch } from '@tessera/harness';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { main } from '../src/main.ts';
import { type Captured, capture, tempFolder } from './capture.ts';

const HF = join(import.meta.dirname, '..', '..', 'models', 'fixtures', 'hf');
const { dir: tmp, put } = tempFolder('tessera-hf-commands-');
const tessera = (...args: string[]): Promise<Captured> => capture(() => main(args));

/** The fixture's inputs and PyTorch's outputs. */
const io = (name: string): Map<string, SafetensorsTensor> => readSafetensors(readFileSync(join(HF, `${name}.io.safetensors`))).tensors;

/** A safetensors file of some of a fixture's tensors (renamed by `as`). */
function inputsFile(name: string, keys: readonly string[], as: Record<string, string> = {}): string {
  const t = io(name);
  return put(`${name}-${keys.join('-')}.safetensors`, writeSafetensors(Object.fromEntries(keys.map((k) => [as[k] ?? k, t.get(k)!]))));
}

describe('tessera run --model DIR', () => {
  it('runs a padded BERT batch and writes logits that match PyTorch (float64)', async () => {
    const name = 'bert-classifier-3head-padded';
    const out = join(tmp, 'bert.safetensors');
    const r = await tessera('run', '--model', join(HF, name), '--inputs', inputsFile(name, ['input_ids', 'attention_mask', 'token_type_ids']), '--out', out);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^logits: f32\[3,4\] min=/);
    const expected = io(name).get('logits')!;
    const written = (await readSafetensorsFile(out)).tensors.get('logits')!;
    expect(written.shape).toEqual(expected.shape);
    expect(describeMismatch(written.data as Float32Array, expected.data as Float32Array, { reductionLength: 29 }, { what: 'logits', shape: expected.shape })).toBeUndefined();
  });

  it("fills BERT's attention_mask and token_type_ids as transformers does when they are left out", async () => {
    const name = 'bert-model-relu-sharded';
    const t = io(name);
    const ids = t.get('input_ids')!;
    const n = ids.data.length;
    const explicit = put('explicit.safetensors', writeSafetensors({ input_ids: ids, attention_mask: { dtype: 'I64', shape: ids.shape, data: new BigInt64Array(n).fill(1n) }, token_type_ids: { dtype: 'I64', shape: ids.shape, data: new BigInt64Array(n) } }));
    const [a, b] = [join(tmp, 'implicit-out.safetensors'), join(tmp, 'explicit-out.safetensors')];
    expect((await tessera('run', '--model', join(HF, name), '--inputs', inputsFile(name, ['input_ids']), '--out', a, '--backend', 'interp')).code).toBe(0);
    expect((await tessera('run', '--model', join(HF, name), '--inputs', explicit, '--out', b, '--backend', 'interp')).code).toBe(0);
    const [x, y] = [await readSafetensorsFile(a), await readSafetensorsFile(b)];
    expect([...x.tensors.keys()].sort()).toEqual(['last_hidden_state', 'pooler_output']);
    expect(Array.from(x.tensors.get('pooler_output')!.data as Float32Array)).toEqual(Array.from(y.tensors.get('pooler_output')!.data as Float32Array));
  });

  it('names what is wrong with the folder, the inputs or the flags', async () => {
    const bert = join(HF, 'bert-classifier-3head-padded');
    const gpt2In = inputsFile('gpt2-lm-tied-61vocab', ['input_ids']);
    const out = join(tmp, 'x.safetensors');
    const cases: [string[], number, RegExp][] = [
      [['--model', join(tmp, 'nowhere'), '--inputs', gpt2In], 1, /nowhere: no such file or folder \(--model takes an ONNX file \(model\.onnx\) or a Hugging Face folder/],
      [['--model', bert, '--inputs', gpt2In, '--weights', gpt2In], 2, /--weights: a --model folder holds its own weights/],
      [['--model', bert, '--inputs', inputsFile('vit-classifier-10tok-5head', ['pixel_values'])], 1, /unexpected 'pixel_values' \(a BertForSequenceClassification takes 'input_ids', 'attention_mask', 'token_type_ids'\)/],
      [['--model', join(HF, 'gpt2-model-relu-invscale'), '--inputs', inputsFile('bert-classifier-3head-padded', ['input_ids'])], 1, /index \d+ at position \d+ of the indices is out of range \[0, 29\)/],
      [['--model', join(HF, 'gpt2-model-relu-invscale'), '--inputs', inputsFile('gpt2-lm-tied-61vocab', ['generated'], { generated: 'input_ids' })], 1, /'input_ids' has 13 tokens per row, more than the config's "n_positions" \(11\)/],
    ];
    for (const [args, code, message] of cases) {
      const r = await tessera('run', ...args, '--out', out);
      expect(r.code, args.join(' ')).toBe(code);
      expect(r.err, args.join(' ')).toMatch(message);
    }
    const r = await tessera('run', '--model', bert, '--inputs', gpt2In, '--out', join(bert, 'model.safetensors'));
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/refusing to overwrite an input/);
  });
});

describe('tessera compile, compare and bench --model DIR', () => {
  it("times a folder's model on seeded weights", async () => {
    const r = await tessera('bench', '--model', join(HF, 'gpt2-model-relu-invscale'), '--runs', '1', '--json');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out)).toMatchObject({ backend: 'cpu', runs: 1 });
    const w = await tessera('bench', '--model', join(HF, 'gpt2-model-relu-invscale'), '--weights', join(HF, 'gpt2-model-relu-invscale', 'model.safetensors'));
    expect(w.code).toBe(2);
    expect(w.err).toMatch(/--weights: bench --model times the folder's config on seeded weights/);
  });

  it('compiles GPT-2 at the shape --input gives, and refuses a sequence longer than n_positions', async () => {
    const dir = join(HF, 'gpt2-lm-tied-61vocab');
    const r = await tessera('compile', '--model', dir, '--input', 'input_ids=i64[2,5]', '--emit', 'ir');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/input %input_ids : i32\[2,5\]/);
    expect(r.out).toMatch(/param %transformer\.wte\.weight : f32\[61,18\]/);
    expect(r.out).not.toMatch(/lm_head/);
    const long = await tessera('compile', '--model', dir, '--input', 'input_ids=i64[1,25]');
    expect(long.code).toBe(1);
    expect(long.err).toMatch(/a sequence of 25 tokens is longer than the config's "n_positions" \(24\)/);
  });

  it("compares every backend with the interpreter on the folder's weights and the given inputs", async () => {
    const name = 'vit-model-pooler7-noqkvbias';
    const r = await tessera('compare', '--model', join(HF, name), '--inputs', inputsFile(name, ['pixel_values']), '--backends', 'cpu', '--json');
    expect(r.code).toBe(0);
    const report = JSON.parse(r.out) as { agree: boolean; inputs: string };
    expect(report.agree).toBe(true);
  });
});

describe('tessera generate --model DIR', () => {
  const name = 'gpt2-lm-tied-61vocab';
  const prompt = () => inputsFile(name, ['prompt'], { prompt: 'input_ids' });

  it("generates transformers' greedy tokens, streaming each step's tokens", async () => {
    const out = join(tmp, 'generated.safetensors');
    const expected = io(name).get('generated')!;
    const n = expected.shape[1]! - io(name).get('prompt')!.shape[1]!;
    const r = await tessera('generate', '--model', join(HF, name), '--inputs', prompt(), '--max-new-tokens', String(n), '--out', out);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const written = (await readSafetensorsFile(out)).tensors.get('generated')!;
    expect(written.dtype).toBe('I64');
    expect(written.shape).toEqual(expected.shape);
    expect(Array.from(written.data as BigInt64Array)).toEqual(Array.from(expected.data as BigInt64Array));
    expect(r.out.split('\n').filter((l) => l.startsWith('token ')).length).toBe(n);
    expect(r.out).toMatch(/generated: i64\[3,13\] \(greedy\)/);
    // The folder has a tokenizer.json: each row's text is transformers' tokenizer.decode of its tokens.
    const { metadata } = readSafetensors(readFileSync(join(HF, `${name}.io.safetensors`)));
    const texts = r.out.split('\n').filter((l) => l.startsWith('text '));
    expect(texts).toEqual([0, 1, 2].map((i) => `text ${i}: ${metadata[`text_${i}`]!}`));
    expect(r.out).toMatch(/^token 1: (\d+ ){3} "\w+" "\w+" "\w+"$/m);
  });

  it('samples reproducibly for a seed, whatever the batch size, and checks the sampling flags', async () => {
    const run = async (seed: string, ...more: string[]) => {
      const out = join(tmp, `sampled-${seed}.safetensors`);
      const r = await tessera('generate', '--model', join(HF, name), '--inputs', prompt(), '--max-new-tokens', '6', '--out', out, '--do-sample', '--top-k', '8', '--top-p', '0.9', '--temperature', '1.5', '--seed', seed, ...more);
      expect(r.code).toBe(0);
      return Array.from((await readSafetensorsFile(out)).tensors.get('generated')!.data as BigInt64Array);
    };
    const [a, b, c] = [await run('5'), await run('5', '--batch-size', '2'), await run('6')];
    // The same tokens however the rows are batched (the last batch of 2 is padded with a repeated row).
    expect(a).toEqual(b);
    expect(a).not.toEqual(c);
    const bad = await tessera('generate', '--model', join(HF, name), '--inputs', prompt(), '--max-new-tokens', '2', '--out', join(tmp, 'y.safetensors'), '--top-k', '3');
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/--top-k apply only with --do-sample/);
    const vit = await tessera('generate', '--model', join(HF, 'vit-classifier-10tok-5head'), '--inputs', prompt(), '--max-new-tokens', '2', '--out', join(tmp, 'y.safetensors'));
    expect(vit.code).toBe(1);
    expect(vit.err).toMatch(/generate needs a GPT2LMHeadModel .*got ViTForImageClassification/);
  });
});
