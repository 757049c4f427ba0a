/**
 * conv2d against PyTorch's F.conv2d on every backend configuration: the
 * committed fixture (tools/make_op_fixtures.py) holds odd shapes (kernel 3,
 * stride 2, padding 1, dilation 2 on 7x9 images; grouped; depthwise with and
 * without a channel multiplier; 1x1; padding 'same' with an even kernel),
 * inputs, weights and PyTorch's outputs computed in float64. Each case is
 * traced through nn.Conv2d with the fixture's F.conv2d arguments, so the
 * weights load under PyTorch's names, and run on interp, eval, the CPU
 * backend (JS; wasm on 1 and 2 threads) and WebGPU with each matmul variant.
 */
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compileWasm, createCpuBackend } from '@tessera/backend-cpu';
import { type WebgpuBackend, createWebgpuBackend } from '@tessera/backend-webgpu';
import { nn, trace } from '@tessera/frontend';
import { compareClose } from '@tessera/harness';
import { readSafetensorsFile } from '@tessera/ir/node';
import type { SafetensorsFile } from '@tessera/ir';
import { type Backend, type BackendName, compile } from '../src/index.ts';

const FIXTURE = fileURLToPath(new URL('./fixtures/conv2d.safetensors', import.meta.url));

let fixture: SafetensorsFile;
let gpu: WebgpuBackend;

beforeAll(async () => {
  fixture = await readSafetensorsFile(FIXTURE);
  gpu = await createWebgpuBackend();
});
afterAll(() => gpu?.destroy());

/** WebGPU with one matmul variant forced ('texture' reads a convolution through the window as 'register' does). */
const webgpuWith = (matmul: 'register' | 'tiled' | 'naive'): Backend => ({
  name: `webgpu ${matmul}`,
  get limits() {
    return gpu.limits;
  },
  compile: (p) => gpu.compile(p, { matmul }),
});

/** wasm on 2 threads with every kernel split and tiny cache blocks: window packing at block edges (rows, taps, columns) and keeping packed A off. */
const wasmSmallBlocks: Backend = {
  name: 'wasm small blocks',
  limits: { maxBuffersPerKernel: Infinity },
  compile: (p) => compileWasm(p, { threads: 2, minParallelWork: 0, blocking: { mc: 8, kc: 20, nc: 16, packedA: 0 } }),
};

const CONFIGS: readonly { readonly name: string; readonly backend: () => BackendName | Backend }[] = [
  { name: 'interp', backend: () => 'interp' },
  { name: 'eval', backend: () => 'eval' },
  { name: 'cpu js', backend: () => createCpuBackend({ target: 'js' }) },
  { name: 'cpu wasm, 1 thread', backend: () => createCpuBackend({ target: 'wasm', threads: 1 }) },
  { name: 'cpu wasm, 2 threads', backend: () => createCpuBackend({ target: 'wasm', threads: 2 }) },
  { name: 'cpu wasm, 2 threads, small blocks', backend: () => wasmSmallBlocks },
  { name: 'webgpu', backend: () => gpu },
  { name: 'webgpu register', backend: () => webgpuWith('register') },
  { name: 'webgpu tiled', backend: () => webgpuWith('tiled') },
  { name: 'webgpu naive', backend: () => webgpuWith('naive') },
];

const CASES = ['odd', 'depthwise_mult2', 'depthwise', 'grouped', 'wide', 'pointwise', 'same_even'];

function tensor(name: string): { shape: readonly number[]; data: Float32Array } {
  const t = fixture.tensors.get(name);
  if (!t) throw new Error(`fixture has no tensor '${name}'`);
  return { shape: t.shape, data: t.data as Float32Array };
}

/** The case's layer (nn.Conv2d with the fixture's F.conv2d arguments), program, weights, input and PyTorch's output. */
function caseOf(name: string) {
  const args = JSON.parse(fixture.metadata[name]!) as { stride: number | [number, number]; padding: number | [number, number] | 'same'; dilation: number | [number, number]; groups: number };
  const x = tensor(`${name}.input`);
  const w = tensor(`${name}.weight`);
  const hasBias = fixture.tensors.has(`${name}.bias`);
  const [out, inPerGroup, kh, kw] = w.shape as [number, number, number, number];
  const layer = new nn.Conv2d(inPerGroup * args.groups, out, [kh, kw], { ...args, bias: hasBias });
  const program = trace(layer, { input: `f32[${x.shape.join(',')}]` });
  // The layer's parameters are named as in PyTorch's state_dict: weight and bias.
  const weights: Record<string, Float32Array> = hasBias ? { weight: w.data, bias: tensor(`${name}.bias`).data } : { weight: w.data };
  return { program, weights, input: x.data, expected: tensor(`${name}.output`), k: inPerGroup * kh * kw };
}

describe('conv2d matches PyTorch F.conv2d on every backend', () => {
  for (const { name: config, backend } of CONFIGS) {
    it.each(CASES)(`${config}: %s`, async (name) => {
      const c = caseOf(name);
      const exe = await compile(c.program, { backend: backend(), weights: c.weights, verify: true });
      try {
        const got = (await exe.run({ input: c.input })).output as Float32Array;
        expect(got.length).toBe(c.expected.data.length);
        const cmp = compareClose(got, c.expected.data, { reductionLength: c.k });
        expect(cmp.ok, `${config} ${name}: ${cmp.mismatches} mismatches, worst ${JSON.stringify(cmp.worst)}`).toBe(true);
      } finally {
        exe.dispose();
      }
    });
  }
});
