/**
 * Binding checkpoints: every missing, unexpected, wrongly shaped or wrongly
 * typed tensor is listed by name with expected and found shapes; half
 * precision checkpoints load; malformed files are clear errors.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type SafetensorsTensor, SafetensorsError, readSafetensors, writeSafetensors } from '@tessera/ir';
import { afterAll, describe, expect, it } from 'vitest';
import { CheckpointError, VisionTransformer, bindCheckpoint, compileVit } from '../src/index.ts';
import { loadCheckpoint } from '../src/node.ts';
import { FIXTURES, loadFixture } from './support.ts';

const dir = mkdtempSync(join(tmpdir(), 'tessera-models-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const NAME = 'vit-torchvision-37tok-3head';
const tensors = (): Map<string, SafetensorsTensor> => readSafetensors(readFileSync(join(FIXTURES, `${NAME}.safetensors`))).tensors;

/** The CheckpointError of binding `t` to the fixture's model. */
function problemsOf(t: Map<string, SafetensorsTensor>): string[] {
  const model = loadFixture(NAME).model;
  try {
    bindCheckpoint(model, t, 'w.safetensors');
  } catch (e) {
    if (e instanceof CheckpointError) {
      expect(e.message.startsWith('w.safetensors: the checkpoint does not fit the model')).toBe(true);
      return [...e.problems];
    }
    throw e;
  }
  throw new Error('expected a CheckpointError');
}

describe('checkpoint binding', () => {
  it('binds every parameter of the model by its state_dict name', () => {
    const f = loadFixture(NAME);
    expect(Object.keys(f.weights).sort()).toEqual([...tensors().keys()].sort());
    expect(Object.keys(f.weights)).toContain('encoder.layers.encoder_layer_1.self_attention.in_proj_weight');
  });

  it('lists missing, unexpected and wrongly shaped tensors together, with shapes', () => {
    const t = tensors();
    t.delete('heads.head.bias');
    t.delete('encoder.ln.weight');
    const w = t.get('class_token')!;
    t.set('cls_token', w);
    t.set('encoder.pos_embedding', { dtype: 'F32', shape: [1, 36, 24], data: new Float32Array(36 * 24) });
    const problems = problemsOf(t);
    expect(problems).toEqual([
      'missing 2 tensor(s): encoder.ln.weight [24], heads.head.bias [7]',
      'wrong shape: encoder.pos_embedding: expected [1, 37, 24], found [1, 36, 24]',
      'unexpected 1 tensor(s): cls_token [1, 1, 24]',
    ]);
  });

  it('rejects integer tensors for float parameters, naming the dtype', () => {
    const t = tensors();
    t.set('heads.head.bias', { dtype: 'I32', shape: [7], data: new Int32Array(7) });
    expect(problemsOf(t)).toEqual(['wrong dtype: heads.head.bias: expected F32, F16 or BF16, found I32']);
  });

  it('loads F16 and BF16 checkpoints (widened to f32) and still matches PyTorch within the rounding of the weights', async () => {
    for (const dtype of ['F16', 'BF16'] as const) {
      const half = new Map([...tensors()].map(([n, t]) => [n, { ...t, dtype }] as const));
      const path = join(dir, `${dtype}.safetensors`);
      writeFileSync(path, writeSafetensors(half));
      const f = loadFixture(NAME);
      const weights = await loadCheckpoint(f.model, path);
      // Rounding moved each weight by up to 2^-11 (F16) or 2^-8 (BF16) relative; the logits move, but stay close.
      const w = weights['heads.head.weight']!;
      const orig = tensors().get('heads.head.weight')!.data as Float32Array;
      expect(w.some((x, i) => x !== orig[i])).toBe(true);
      const vit = await compileVit(f.model as VisionTransformer, weights, { backend: 'interp', batch: 2 });
      const out = await vit.logits(f.io.get('pixel_values')!.data as Float32Array);
      const e = f.io.get('logits')!.data as Float32Array;
      const rel = dtype === 'F16' ? 2 ** -11 : 2 ** -8;
      const scale = Math.max(...Array.from(e, Math.abs));
      for (let i = 0; i < e.length; i++) expect(Math.abs(out[i]! - e[i]!)).toBeLessThan(200 * rel * scale);
    }
  });

  it('reports malformed files as SafetensorsError naming the file, not a crash', async () => {
    const f = loadFixture(NAME);
    const bytes = readFileSync(join(FIXTURES, `${NAME}.safetensors`));
    const cases: [string, Uint8Array][] = [
      ['truncated', bytes.subarray(0, bytes.length - 10)],
      ['header-only', bytes.subarray(0, 20)],
      ['huge-header', Uint8Array.from([0xff, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, ...bytes.subarray(8)])],
    ];
    for (const [name, b] of cases) {
      const path = join(dir, `${name}.safetensors`);
      writeFileSync(path, b);
      await expect(loadCheckpoint(f.model, path)).rejects.toBeInstanceOf(SafetensorsError);
      await expect(loadCheckpoint(f.model, path)).rejects.toThrow(path);
    }
    await expect(loadCheckpoint(f.model, join(dir, 'absent.safetensors'))).rejects.toThrow(/cannot read file/);
  });
});
