import { afterAll, describe, expect, it } from 'vitest';
import { ProgramBuilder, interpret, tensorType, toHost } from '@tessera/ir';
import { lowerToKernels } from '@tessera/passes';
import { compile } from '@tessera/compiler';
import { type KernelShader, MATMUL_VARIANTS, ShaderError, WebgpuUnavailableError, acquireDevice, createWebgpuBackend, describeAdapter, webgpuBackend } from '../src/index.ts';
import { collectInfo, formatInfo } from '../../cli/src/commands/info.ts';
import { releaseBackend, testBackend } from './support.ts';

afterAll(releaseBackend);

/** y = x @ w + 1 with w a parameter. */
function linear() {
  const b = new ProgramBuilder('lin');
  const x = b.input('x', tensorType('f32', [2, 3]));
  const w = b.param('w', tensorType('f32', [3, 2]));
  b.output('y', b.emit('add', [b.emit('matmul', [x, w]), b.emit('constant', [], { shape: [], value: [1] })]));
  return lowerToKernels(b.build());
}

const X = Float32Array.from([1, 2, 3, 4, 5, 6]);

describe('WebGPU runtime', () => {
  it('reports the adapter it found (llvmpipe through Dawn in CI)', async () => {
    const be = await testBackend();
    expect(describeAdapter(be.adapter)).toMatch(/via (Dawn (default|opengles) backend|navigator\.gpu)/);
    expect(be.limits.maxBuffersPerKernel).toBe(be.adapter.limits.maxStorageBuffersPerShaderStage);
    expect(be.limits.maxBuffersPerKernel).toBeGreaterThanOrEqual(8);
  });

  it.each(MATMUL_VARIANTS)('takes a parameter passed with a run as it is at the call (changed in place: seen, and re-packed), and one placed by setInputs until another is given; matmul %s', async (matmul) => {
    const exe = await (await testBackend()).compile(linear(), { matmul });
    const w = Float32Array.from([1, 0, 0, 1, 0, 0]);
    expect(Array.from((await exe.run({ x: X, w })).y!.data)).toEqual([2, 3, 5, 6]);
    w.fill(0); // changed in place: a run that passes it sees it, as on every backend
    expect(Array.from((await exe.run({ x: X, w })).y!.data)).toEqual([1, 1, 1, 1]);
    exe.setInputs({ w: Float32Array.from([0, 1, 1, 0, 0, 0]) });
    w.set([1, 0, 0, 1, 0, 0]);
    // Placed: runs without w use the placed values (written once, packed once), until a run passes another.
    expect(Array.from((await exe.run({ x: X })).y!.data)).toEqual([3, 2, 6, 5]);
    expect(Array.from((await exe.run({ x: X })).y!.data)).toEqual([3, 2, 6, 5]);
    expect(Array.from((await exe.run({ x: X, w })).y!.data)).toEqual([2, 3, 5, 6]);
    expect(Array.from((await exe.run({ x: X })).y!.data)).toEqual([2, 3, 5, 6]);
    exe.dispose();
  });

  it('texture matmul: an operand packed only when parameters change keeps its own texture (a later kernel of the same size does not overwrite it between runs)', async () => {
    const b = new ProgramBuilder('two');
    b.output('p', b.emit('matmul', [b.param('pa', tensorType('f32', [3, 4])), b.param('pb', tensorType('f32', [4, 2]))]));
    b.output('q', b.emit('matmul', [b.input('x', tensorType('f32', [3, 4])), b.param('w', tensorType('f32', [4, 2]))]));
    const prog = b.build();
    const exe = await (await testBackend()).compile(lowerToKernels(prog), { matmul: 'texture' });
    const params = { pa: Float32Array.from({ length: 12 }, (_, i) => i + 1), pb: Float32Array.from({ length: 8 }, (_, i) => 1 - i), w: Float32Array.from({ length: 8 }, (_, i) => i % 3) };
    for (const seed of [1, 2]) {
      const inputs = { ...params, x: Float32Array.from({ length: 12 }, (_, i) => (i * seed) % 5) };
      const expected = interpret(prog, inputs);
      const got = await exe.run(inputs);
      for (const name of ['p', 'q']) expect(Array.from(got[name]!.data)).toEqual(Array.from(toHost(expected[name]!)));
    }
    exe.dispose();
  });

  it("refuses a buffer larger than the device's largest storage binding, naming it, before allocating anything", async () => {
    const be = await testBackend();
    const limit = be.adapter.limits.maxStorageBufferBindingSize!;
    const negate = (n: number) => {
      const b = new ProgramBuilder('big');
      b.output('y', b.emit('neg', [b.input('x', tensorType('f32', [n]))]));
      return lowerToKernels(b.build());
    };
    // One element past the limit, and 2^31 elements (8 GiB: were it allocated first, this would not return quickly).
    for (const n of [limit / 4 + 1, 2 ** 31]) {
      await expect(be.compile(negate(n))).rejects.toThrow(
        new RegExp(`^webgpu: buffer %x \\(f32\\[${n}\\]\\) needs [0-9.]+ [MG]iB \\(${Math.ceil((n * 4) / 16) * 16} bytes\\), more than the device binds or holds in one buffer: [0-9.]+ MiB \\(${limit} bytes\\)$`),
      );
    }
  });

  it('runs concurrent runs of one executable one after another, each with its own inputs', async () => {
    const exe = await (await testBackend()).compile(linear());
    const w = Float32Array.from([1, 0, 0, 1, 0, 0]);
    const runs = await Promise.all([1, 2, 3].map((k) => exe.run({ x: X.map((v) => v * k), w })));
    expect(runs.map((r) => Array.from(r.y!.data))).toEqual([1, 2, 3].map((k) => [1 + k, 1 + 2 * k, 1 + 4 * k, 1 + 5 * k]));
    exe.dispose();
  });

  it('accepts inputs that view shared memory (copied first: dawn.node crashes on writeBuffer from it)', async () => {
    const exe = await (await testBackend()).compile(linear());
    const shared = new Float32Array(new SharedArrayBuffer(8 * 4), 8, 6);
    shared.set(X);
    expect(Array.from((await exe.run({ x: shared as unknown as Float32Array, w: Float32Array.from([1, 0, 0, 1, 0, 0]) })).y!.data)).toEqual([2, 3, 5, 6]);
    exe.dispose();
  });

  it('reports a WGSL compile error with the kernel name and the WGSL line', async () => {
    const be = await testBackend();
    const bad: KernelShader = {
      name: 'k7_broken',
      kind: 'map',
      variant: 'map',
      wgsl: '// kernel k7_broken\n@compute @workgroup_size(1)\nfn main() {\n  let x: f32 = 1i;\n}\n',
      bindings: [],
      dispatch: [1, 1, 1],
      workgroupSize: 1,
    };
    const err = await be.context.pipelines.pipeline(bad).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ShaderError);
    expect((err as Error).message).toMatch(/kernel k7_broken \(map\): WGSL does not compile:\nerror at WGSL line 4:\d+: .*\n {2}4 \| {3}let x: f32 = 1i;/);
  });

  it('says clearly that the device was lost, and a new backend works again', async () => {
    const own = await createWebgpuBackend();
    const exe = await own.compile(linear());
    own.destroy();
    await new Promise((r) => setTimeout(r, 10));
    await expect(exe.run({ x: X, w: new Float32Array(6) })).rejects.toThrow(/the WebGPU device was lost \(destroyed.*\); compile the program again/);
    const again = await createWebgpuBackend();
    const out = await (await again.compile(linear())).run({ x: X, w: new Float32Array(6) });
    expect(Array.from(out.y!.data)).toEqual([1, 1, 1, 1]);
    again.destroy();
  });
});

describe('the webgpu backend by name', () => {
  it("runs through tessera's compile({ backend: 'webgpu' }) with bound weights, and reports the device's limits once it has one", async () => {
    expect(webgpuBackend.limits.maxBuffersPerKernel).toBeGreaterThanOrEqual(8);
    const b = new ProgramBuilder('lin');
    const x = b.input('x', tensorType('f32', [2, 3]));
    const w = b.param('w', tensorType('f32', [3, 2]));
    b.output('y', b.emit('matmul', [x, w]));
    const exe = await compile(b.build(), { backend: 'webgpu', weights: { w: Float32Array.from([1, 0, 0, 1, 1, 1]) } });
    expect(Array.from((await exe.run({ x: X })).y!.data)).toEqual([4, 5, 10, 11]);
    exe.dispose();
    const own = await testBackend();
    expect(webgpuBackend.limits.maxBuffersPerKernel).toBe(own.limits.maxBuffersPerKernel);
  });

  it('tessera info lists webgpu and names the adapter', async () => {
    const report = await collectInfo();
    expect(report.backends).toContain('webgpu');
    expect(formatInfo(report)).toMatch(/^backends: interp, .*webgpu.*\nwebgpu adapter: .* via .*\n {2}limits: maxStorageBuffersPerShaderStage \d+/);
  });
});

describe('adapter discovery', () => {
  it('fails with one clear error naming what to install when no adapter exists', async () => {
    const none = { requestAdapter: async () => null } as unknown as GPU;
    const err = await acquireDevice({ gpu: none }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WebgpuUnavailableError);
    expect((err as Error).message).toMatch(/no WebGPU adapter available \(tried: given backend at core feature level: no adapter\).*apt-get install -y --no-install-recommends libegl1 libgl1-mesa-dri/);
  });

  it('gives up on an adapter request that never answers instead of hanging', async () => {
    const hang = { requestAdapter: () => new Promise(() => {}) } as unknown as GPU;
    const t0 = Date.now();
    const err = await acquireDevice({ gpu: hang, timeoutMs: 100 }).catch((e: unknown) => e);
    expect(Date.now() - t0).toBeLessThan(5000);
    expect((err as Error).message).toMatch(/requestAdapter \(given backend at core feature level\) did not answer within 100 ms/);
  });
});
