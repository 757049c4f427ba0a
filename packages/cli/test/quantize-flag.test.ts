/**
 * `--quantize int8` on the commands that run a model (issue 16): compile
 * shows the int8 program, run and generate take it for config models, bench
 * times int8 kernels, a bad mode is a usage error. Tiny fixture models.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeSafetensors } from '@tessera/ir';
import { readSafetensorsFile } from '@tessera/ir/node';
import { afterAll, describe, expect, it } from 'vitest';
import { main } from '../src/main.ts';
import { type Captured, capture } from './capture.ts';

const FIXTURES = join(import.meta.dirname, '..', '..', 'models', 'fixtures');
const VIT = join(FIXTURES, 'vit-torchvision-37tok-3head');
const TRANSFORMER = join(FIXTURES, 'transformer-1head-pad3');
const tmp = mkdtempSync(join(tmpdir(), 'tessera-quantize-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const run = (...args: string[]): Promise<Captured> => capture(() => main(args));

/** A fixture's .io.safetensors cut to the tensors a command reads. */
async function inputsOf(fixture: string, names: readonly string[]): Promise<string> {
  const io = (await readSafetensorsFile(`${fixture}.io.safetensors`)).tensors;
  const path = join(tmp, `${names.join('-')}.safetensors`);
  writeFileSync(path, writeSafetensors(new Map(names.map((n) => [n, io.get(n)!]))));
  return path;
}

/** The logits `tessera run` writes for the ViT fixture with these extra flags. */
async function vitLogits(name: string, ...flags: string[]): Promise<Float32Array> {
  const out = join(tmp, `${name}.safetensors`);
  const r = await run('run', '--config', `${VIT}.json`, '--weights', `${VIT}.safetensors`, '--inputs', await inputsOf(VIT, ['pixel_values']), '--out', out, ...flags);
  expect(r.err).toBe('');
  expect(r.code).toBe(0);
  return (await readSafetensorsFile(out)).tensors.get('logits')!.data as Float32Array;
}

describe('--quantize int8', () => {
  it('compile --emit ir prints the int8 program', async () => {
    const r = await run('compile', '--config', `${VIT}.json`, '--quantize', 'int8', '--emit', 'ir');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/= matmul_int8\(%\S+, %\S+\) \{activation_max = 127, weight_max = 63\}/);
  });

  it('run: the cpu backend computes what the interpreter computes for the int8 program, which is not the fp32 one', async () => {
    const cpu = await vitLogits('cpu', '--quantize', 'int8');
    const interp = await vitLogits('interp', '--quantize', 'int8', '--backend', 'interp');
    const fp32 = await vitLogits('fp32');
    const diff = (a: Float32Array, b: Float32Array) => a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i]!)), 0);
    expect(diff(cpu, interp)).toBeLessThan(1e-5);
    expect(diff(cpu, fp32)).toBeGreaterThan(1e-4);
  });

  it('generate and bench take it', async () => {
    const out = join(tmp, 'generated.safetensors');
    const g = await run('generate', '--config', `${TRANSFORMER}.json`, '--weights', `${TRANSFORMER}.safetensors`, '--inputs', await inputsOf(TRANSFORMER, ['src']), '--max-new-tokens', '3', '--out', out, '--quantize', 'int8');
    expect(g.err).toBe('');
    expect(g.code).toBe(0);
    const b = await run('bench', '--config', `${VIT}.json`, '--threads', '1', '--runs', '1', '--quantize', 'int8', '--profile', '--json');
    expect(b.code).toBe(0);
    const kernels = (JSON.parse(b.out) as { kernels: { name: string }[] }).kernels.map((k) => k.name);
    expect(kernels.some((k) => k.endsWith('matmul_int8'))).toBe(true);
  });

  it('another mode is a usage error (exit 2) naming the flag', async () => {
    for (const args of [['compile', '--config', `${VIT}.json`, '--quantize', 'int4'], ['generate', '--config', `${TRANSFORMER}.json`, '--weights', 'w', '--inputs', 'i', '--max-new-tokens', '1', '--out', 'o', '--quantize', 'fp8']]) {
      const r = await run(...args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.err).toMatch(/--quantize: expected int8, got '(int4|fp8)'/);
    }
  });
});
