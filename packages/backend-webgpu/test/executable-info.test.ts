/**
 * WebGPU executables as the backend returns them (without compile()): the
 * adapter they run on, tensors in and out of run() and profile(), and
 * Symbol.dispose returning their buffers to the device's pool.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { parseProgram } from '@tessera/ir';
import { hostTensor } from '@tessera/kernel';
import { lowerToKernels } from '@tessera/passes';
import { createWebgpuBackend } from '../src/index.ts';
import { releaseBackend, testBackend } from './support.ts';

afterAll(releaseBackend);

const kp = lowerToKernels(
  parseProgram(`program @rows
input %x : f32[3,4]
param %b : f32[4]
%y = add(%x, %b) : f32[3,4]
%s = reduce_sum(%y) {axes = [1], keepdims = false} : f32[3]
output s = %s
output y = %y
`),
);
const X = Float32Array.from({ length: 12 }, (_, k) => k / 4);
const B = Float32Array.from([1, -1, 2, 0.5]);

describe('WebGPU executable', () => {
  it("describes itself: inputs, outputs, and the adapter of the backend's device", async () => {
    const be = await testBackend();
    using exe = await be.compile(kp);
    expect(exe.backend).toEqual({ name: 'webgpu', adapter: be.adapter });
    expect(exe.backend.adapter.description).toBe(be.adapter.description);
    expect(exe.inputs.map((i) => [i.name, i.kind, i.dims])).toEqual([
      ['x', 'activation', [3, 4]],
      ['b', 'parameter', [4]],
    ]);
    expect(exe.outputs.map((o) => [o.name, o.dtype, o.dims])).toEqual([
      ['s', 'f32', [3]],
      ['y', 'f32', [3, 4]],
    ]);
  });

  it('runs and profiles on tensors, refuses a tensor of another shape in either, and returns tensors of the output dims', async () => {
    using exe = await (await testBackend()).compile(kp);
    exe.setInputs({ b: hostTensor(B) });
    const { s, y } = await exe.run({ x: hostTensor(X, [3, 4]) });
    expect([s!.dtype, s!.dims, y!.dims]).toEqual(['f32', [3], [3, 4]]);
    expect(Array.from(y!.data)).toEqual(Array.from(X, (v, k) => Math.fround(v + B[k % 4]!)));
    await expect(exe.run({ x: hostTensor(X, [2, 6]) })).rejects.toThrow("input 'x' has shape [3,4], got a tensor of shape [2,6]");
    await expect(exe.profile({ x: hostTensor(X, [1, 12]) })).rejects.toThrow("input 'x' has shape [3,4], got a tensor of shape [1,12]");
    expect((await exe.profile({ x: hostTensor(X, [3, 4]) })).length).toBeGreaterThanOrEqual(1);
  });

  it('`using` returns its buffers to the pool at the end of the block, after the runs issued in it', async () => {
    const be = await createWebgpuBackend();
    try {
      expect(be.context.pool.bytes).toBe(0);
      let run: Promise<unknown>;
      {
        using exe = await be.compile(kp);
        run = exe.run({ x: X, b: B });
      }
      await run;
      await be.context.device.queue.onSubmittedWorkDone();
      expect(be.context.pool.bytes).toBeGreaterThan(0);
      const exe = await be.compile(kp);
      await expect(exe.profile({ x: X, b: B })).resolves.toBeDefined();
      exe[Symbol.dispose]();
      await expect(exe.profile({ x: X, b: B })).rejects.toThrow('cannot profile() program @rows: this executable has been disposed');
    } finally {
      be.destroy();
    }
  });
});
