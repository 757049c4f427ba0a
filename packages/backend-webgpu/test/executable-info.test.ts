/**
 * WebGPU executables as the backend returns them (without compile()): the
 * adapter they run on, tensors in and out of run() and profile() (checked
 * against the interpreter, dims and dtypes too), and
 * Symbol.dispose returning their buffers to the device's pool.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { parseProgram } from '@tessera/ir';
import { mismatchVsInterpreter } from '@tessera/harness';
import { hostTensor } from '@tessera/kernel';
import { lowerToKernels } from '@tessera/passes';
import { createWebgpuBackend } from '../src/index.ts';
import { releaseBackend, testBackend } from './support.ts';

afterAll(releaseBackend);

const PROGRAM = parseProgram(`program @proj
input %x : f32[2,3]
param %w : f32[3,5]
input %keep : bool[2,5]
%m = matmul(%x, %w) : f32[2,5]
%z = constant() {shape = [], value = [0]} : f32[]
%y = where(%keep, %m, %z) : f32[2,5]
output y = %y
output m = %m
`);
const kp = lowerToKernels(PROGRAM);
const X = Float32Array.from([1, -2, 0.5, 3, 0, -1]);
const W = Float32Array.from({ length: 15 }, (_, k) => Math.cos(k));
const KEEP = Uint8Array.from({ length: 10 }, (_, k) => k % 3 && 1);

describe('WebGPU executable', () => {
  it("describes itself: inputs, outputs, and the adapter of the backend's device", async () => {
    const be = await testBackend();
    using exe = await be.compile(kp);
    expect(exe.backend).toEqual({ name: 'webgpu', adapter: be.adapter });
    expect(exe.backend.adapter.description).toBe(be.adapter.description);
    expect(exe.inputs).toEqual([
      { name: 'x', dtype: 'f32', dims: [2, 3], kind: 'activation' },
      { name: 'w', dtype: 'f32', dims: [3, 5], kind: 'parameter' },
      { name: 'keep', dtype: 'bool', dims: [2, 5], kind: 'activation' },
    ]);
    expect(exe.outputs).toEqual([
      { name: 'y', dtype: 'f32', dims: [2, 5] },
      { name: 'm', dtype: 'f32', dims: [2, 5] },
    ]);
  });

  it('runs and profiles on tensors, refuses a tensor of another shape in either, and returns tensors of the output dims', async () => {
    using exe = await (await testBackend()).compile(kp);
    exe.setInputs({ w: hostTensor(W, [3, 5]) });
    const { y, m } = await exe.run({ x: hostTensor(X, [2, 3]), keep: hostTensor(KEEP, [2, 5]) });
    expect([y!.dtype, y!.dims, m!.dims]).toEqual(['f32', [2, 5], [2, 5]]);
    expect(mismatchVsInterpreter(PROGRAM, { x: X, w: W, keep: KEEP }, { y: y!, m: m! })).toBeUndefined();
    await expect(exe.run({ x: hostTensor(X, [3, 2]), keep: KEEP })).rejects.toThrow("input 'x' has shape [2,3], got a tensor of shape [3,2]");
    await expect(exe.profile({ x: X, keep: hostTensor(KEEP, [10]) })).rejects.toThrow("input 'keep' has shape [2,5], got a tensor of shape [10]");
    expect((await exe.profile({ x: hostTensor(X, [2, 3]), keep: KEEP })).length).toBeGreaterThanOrEqual(1);
  });

  it('`using` returns its buffers to the pool at the end of the block, after the runs issued in it', async () => {
    const be = await createWebgpuBackend();
    try {
      expect(be.context.pool.bytes).toBe(0);
      let run: Promise<unknown>;
      {
        using exe = await be.compile(kp);
        run = exe.run({ x: X, w: W, keep: KEEP });
      }
      await run;
      await be.context.device.queue.onSubmittedWorkDone();
      expect(be.context.pool.bytes).toBeGreaterThan(0);
      const exe = await be.compile(kp);
      await expect(exe.profile({ x: X, w: W, keep: KEEP })).resolves.toBeDefined();
      exe[Symbol.dispose]();
      await expect(exe.profile({ x: X, w: W, keep: KEEP })).rejects.toThrow('cannot profile() program @proj: this executable has been disposed');
    } finally {
      be.destroy();
    }
  });
});
