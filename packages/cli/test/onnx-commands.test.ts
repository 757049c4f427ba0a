/**
 * ONNX models on the command line: `compile MODEL.onnx`, `run --model
 * MODEL.onnx` (inputs and outputs by their ONNX names, I64 token ids),
 * `compare --model`, `onnx ops`, and `--model DIR` refused until Hugging
 * Face folders are supported. What `run` writes is checked against PyTorch's
 * float64 logits of the fixture.
 */
import { describe, expect, it } from 'vitest';
import { type SafetensorsTensor, writeSafetensors } from '@tessera/ir';
import { readSafetensorsFile } from '@tessera/ir/node';
import { describeMismatch } from '@tessera/harness';
import { main } from '../src/main.ts';
import { type Captured, capture, tempFolder } from './capture.ts';

const { dir, put } = tempFolder('tessera-onnx-commands-');
const tessera = (...args: string[]): Promise<Captured> => capture(() => main(args));
const FIXTURES = new URL('../../onnx/fixtures/', import.meta.url).pathname;
const BERT = `${FIXTURES}hf-bert.dynamo.onnx`;

/** The fixture's tensors whose names have no dot: the model's inputs by ONNX name. */
async function bertInputs(): Promise<{ path: string; expected: SafetensorsTensor }> {
  const io = await readSafetensorsFile(`${FIXTURES}hf-bert.io.safetensors`);
  const inputs = new Map([...io.tensors].filter(([k]) => !k.includes('.')));
  return { path: put('bert-inputs.safetensors', writeSafetensors(inputs)), expected: io.tensors.get('expected.logits')! };
}

describe('ONNX models in the CLI', () => {
  it('run --model: inputs by ONNX name (I64 token ids), logits written by name, equal to PyTorch on cpu', async () => {
    const { path, expected } = await bertInputs();
    const out = `${dir}/bert-out.safetensors`;
    const r = await tessera('run', '--model', BERT, '--inputs', path, '--out', out, '--backend', 'cpu');
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^logits: f32\[2,3\] min=/);
    const logits = (await readSafetensorsFile(out)).tensors.get('logits')!;
    expect(logits.shape).toEqual([2, 3]);
    expect(describeMismatch(logits.data as Float32Array, expected.data as Float32Array, { reductionLength: 37 })).toBeUndefined();
  });

  it('run --model names a missing input and refuses --weights', async () => {
    const only = put('ids.safetensors', writeSafetensors({ input_ids: { dtype: 'I64', shape: [2, 7], data: new BigInt64Array(14) } }));
    const r = await tessera('run', '--model', BERT, '--inputs', only, '--out', `${dir}/x.safetensors`);
    expect(r.code).toBe(1);
    expect(r.err).toContain("missing 'attention_mask' (i32[2,7]), 'token_type_ids' (i32[2,7])");
    const w = await tessera('run', '--model', BERT, '--inputs', only, '--weights', only, '--out', `${dir}/x.safetensors`);
    expect(w.err).toContain('an ONNX model carries its weights');
  });

  it('compile MODEL.onnx --emit stats; --input gives a shape, checked against the file', async () => {
    const r = await tessera('compile', `${FIXTURES}torchvision-vit.dynamo.onnx`, '--emit', 'stats');
    expect(r.code).toBe(0);
    expect(r.out).toContain('kernels');
    const bad = await tessera('compile', `${FIXTURES}torchvision-vit.dynamo.onnx`, '--input', 'pixel_values=f32[2,3,21,20]');
    expect(bad.code).toBe(1);
    expect(bad.err).toContain("input 'pixel_values' has extent 20 on axis 2");
  });

  it('compare --model agrees on every backend', async () => {
    const r = await tessera('compare', '--model', `${FIXTURES}hf-gpt2.dynamo.onnx`, '--backends', 'eval,cpu');
    expect(r.err).toBe('');
    expect(r.out).toContain('every backend agrees with the interpreter');
    expect(r.code).toBe(0);
  });

  it('onnx ops lists the op types with counts; a missing op makes the exit code 1', async () => {
    const r = await tessera('onnx', 'ops', BERT);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^\s+\d+\s+LayerNormalization\s*$/m);
    expect(r.out).toContain('Tessera supports all of them');
  });

});
