/**
 * The same weights through both import paths: each Hugging Face fixture
 * folder, and the ONNX file PyTorch's exporter made of it
 * (tools/export_hf_folders_onnx.py), run with `tessera run --model DIR` and
 * `tessera run --model FILE.onnx` on the folder's inputs. Both agree with
 * each other and with PyTorch's float64 logits under the tolerance policy,
 * on cpu and webgpu.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type SafetensorsTensor, readSafetensors, writeSafetensors } from '@tessera/ir';
import { readSafetensorsFile } from '@tessera/ir/node';
import { describeMismatch } from '@tessera/harness';
import { describe, expect, it } from 'vitest';
import { main } from '../src/main.ts';
import { capture, tempFolder } from './capture.ts';

const HF = join(import.meta.dirname, '..', '..', 'models', 'fixtures', 'hf');
const ONNX = join(import.meta.dirname, '..', '..', 'onnx', 'fixtures');
const { dir: tmp, put } = tempFolder('tessera-onnx-hf-');

/** Folder, its inputs, what the exported file takes besides (GPT-2's all-ones attention_mask), and the model's longest reduction (ViT: the 3x5x5 patch; BERT: intermediate 29; GPT-2: 4 x n_embd 18). */
const CASES = [
  { name: 'vit-classifier-10tok-5head', inputs: ['pixel_values'], ones: [], reduction: 75 },
  { name: 'bert-classifier-3head-padded', inputs: ['input_ids', 'attention_mask', 'token_type_ids'], ones: [], reduction: 29 },
  { name: 'gpt2-lm-tied-61vocab', inputs: ['input_ids'], ones: ['attention_mask'], reduction: 72 },
] as const;

/** Runs `tessera run` and returns the written logits. */
async function logits(model: string, inputs: string, out: string, backend: string): Promise<SafetensorsTensor> {
  const r = await capture(() => main(['run', '--model', model, '--inputs', inputs, '--out', out, '--backend', backend]));
  expect(r.err).toBe('');
  expect(r.code).toBe(0);
  return (await readSafetensorsFile(out)).tensors.get('logits')!;
}

describe('a Hugging Face folder and its ONNX export give the same logits', () => {
  it.each(CASES)('$name', async ({ name, inputs, ones, reduction }) => {
    const io = readSafetensors(readFileSync(join(HF, `${name}.io.safetensors`))).tensors;
    const ids = io.get(inputs[0])!;
    const folderIn = put(`${name}.in.safetensors`, writeSafetensors(Object.fromEntries(inputs.map((k) => [k, io.get(k)!]))));
    const onesOf = (k: string): [string, SafetensorsTensor] => [k, { dtype: 'I64', shape: ids.shape, data: new BigInt64Array(ids.data.length).fill(1n) }];
    const onnxIn = put(`${name}.onnx-in.safetensors`, writeSafetensors(Object.fromEntries([...inputs.map((k) => [k, io.get(k)!] as const), ...ones.map(onesOf)])));
    const expected = io.get('logits')!;
    const close = (a: SafetensorsTensor, b: SafetensorsTensor, what: string) =>
      describeMismatch(a.data as Float32Array, b.data as Float32Array, { reductionLength: reduction }, { what, shape: b.shape });
    for (const backend of ['cpu', 'webgpu']) {
      const viaFolder = await logits(join(HF, name), folderIn, join(tmp, `${name}-${backend}-hf.safetensors`), backend);
      const viaOnnx = await logits(join(ONNX, `hf-folder-${name}.torchscript.onnx`), onnxIn, join(tmp, `${name}-${backend}-onnx.safetensors`), backend);
      expect(viaOnnx.shape).toEqual(viaFolder.shape);
      expect(close(viaOnnx, viaFolder, `${name} on ${backend}: ONNX vs folder`)).toBeUndefined();
      expect(close(viaFolder, expected, `${name} on ${backend}: folder vs PyTorch`)).toBeUndefined();
      expect(close(viaOnnx, expected, `${name} on ${backend}: ONNX vs PyTorch`)).toBeUndefined();
    }
  });
});
