import { describe, expect, it, vi } from 'vitest';
import { createCpuBackend } from '@tessera/backend-cpu';
import { ProgramBuilder, TesseraError, tensorType } from '@tessera/ir';
import { type Backend, availableBackends, compile } from '../src/index.ts';
import { disposable } from '@tessera/kernel';

function mlp() {
  const b = new ProgramBuilder('mlp');
  const x = b.input('x', tensorType('f32', [3, 4]));
  const w = b.param('w', tensorType('f32', [4, 5]));
  const h = b.emit('gelu', [b.emit('matmul', [x, w])]);
  b.output('y', b.emit('softmax', [h], { axis: -1 }));
  return b.build();
}

describe('compile', () => {
  const x = Float32Array.from({ length: 12 }, (_, i) => Math.cos(i));
  const w = Float32Array.from({ length: 20 }, (_, i) => Math.sin(i) / 2);

  it('gives the same outputs on every backend, with weights bound at compile time', async () => {
    const results: Record<string, Float32Array> = {};
    for (const backend of ['interp', 'eval', 'cpu'] as const) {
      const exe = await compile(mlp(), { backend, weights: { w } });
      results[backend] = (await exe.run({ x })).y!.data as Float32Array;
      exe.dispose();
    }
    for (const backend of ['eval', 'cpu']) {
      results[backend]!.forEach((v, i) => expect(Math.abs(v - results.interp![i]!)).toBeLessThan(1e-6));
    }
  });

  it('rejects unknown backends, missing weights and disposed executables clearly', async () => {
    await expect(compile(mlp(), { backend: 'nope' as never })).rejects.toThrow(/unknown or unavailable backend 'nope' \(available: interp, eval, cpu/);
    await expect(compile(mlp(), { backend: 'cpu', weights: {} })).rejects.toThrow(/missing parameter\(s\): w: f32\[4,5\]/);
    const exe = await compile(mlp(), { backend: 'cpu' });
    await expect(exe.run({ x })).rejects.toThrow(/missing input 'w'/);
    exe.dispose();
    await expect(exe.run({ x, w })).rejects.toThrow(/disposed/);
    expect(availableBackends()).toEqual(['interp', 'eval', 'cpu', 'webgpu']);
  });

  it('treats backend names that are prototype keys as unknown names (a clean TesseraError), and takes a Backend object', async () => {
    for (const name of ['constructor', '__proto__', 'toString', 'hasOwnProperty']) {
      await expect(compile(mlp(), { backend: name as never })).rejects.toThrow(new TesseraError(`unknown or unavailable backend '${name}' (available: interp, eval, cpu, webgpu)`));
    }
    const exe = await compile(mlp(), { backend: createCpuBackend({ target: 'js' }), weights: { w } });
    const interp = await compile(mlp(), { backend: 'interp', weights: { w } });
    const [a, b] = [(await exe.run({ x })).y!.data, (await interp.run({ x })).y!.data];
    a.forEach((v, i) => expect(Math.abs(v - b[i]!)).toBeLessThan(1e-6));
    exe.dispose();
    interp.dispose();
  });

  it("precision 'f16' reaches a backend that offers it, and is refused by those that compute in f32 or float64", async () => {
    await expect(compile(mlp(), { backend: 'cpu', precision: 'f16' })).rejects.toThrow(new TesseraError("compile(): precision 'f16' is a WebGPU option; backend 'cpu' computes in f32"));
    await expect(compile(mlp(), { backend: 'interp', precision: 'f16' })).rejects.toThrow(/backend 'interp' computes in float64/);
    const seen: unknown[] = [];
    const spy = (precisions?: readonly 'f16'[]): Backend => ({
      name: 'spy',
      limits: { maxBuffersPerKernel: Infinity },
      ...(precisions ? { precisions } : {}),
      compile: async (_p, options) => {
        seen.push(options);
        return disposable({ inputs: [], outputs: [], backend: { name: 'spy' }, run: async () => ({}), dispose: () => {} });
      },
    });
    await expect(compile(mlp(), { backend: spy(), precision: 'f16' })).rejects.toThrow(/backend 'spy' computes in f32/);
    (await compile(mlp(), { backend: spy(['f16']), precision: 'f16' })).dispose();
    (await compile(mlp(), { backend: spy(['f16']) })).dispose();
    expect(seen).toEqual([{ precision: 'f16' }, undefined]);
  });

  it('releases the executable when the weights are refused', async () => {
    const dispose = vi.fn();
    const backend: Backend = { name: 'spy', limits: { maxBuffersPerKernel: Infinity }, compile: async () => disposable({ inputs: [], outputs: [], backend: { name: 'spy' }, run: async () => ({}), setInputs: () => {}, dispose }) };
    await expect(compile(mlp(), { backend, weights: {} })).rejects.toThrow(/missing parameter\(s\): w/);
    expect(dispose).toHaveBeenCalledTimes(1);
  });
});
