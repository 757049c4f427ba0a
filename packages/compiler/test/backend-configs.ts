/**
 * Every backend configuration the PyTorch op fixtures run on: the
 * interpreter, the kernel evaluator, the CPU backend (JS; wasm on 1 and 2
 * threads, and with tiny cache blocks so every edge of the matmul blocking
 * is reached) and WebGPU with its default and each forced matmul variant.
 */
import { afterAll, beforeAll } from 'vitest';
import { compileWasm, createCpuBackend } from '@tessera/backend-cpu';
import { type WebgpuBackend, createWebgpuBackend } from '@tessera/backend-webgpu';
import { readSafetensorsFile } from '@tessera/ir/node';
import type { SafetensorsFile } from '@tessera/ir';
import type { Backend, BackendName } from '../src/index.ts';

/** A configuration under test: its name and its backend (made when a test asks, after the WebGPU device exists). */
export interface BackendConfig {
  readonly name: string;
  readonly backend: () => BackendName | Backend;
}

let gpu: WebgpuBackend | undefined;

/** Creates the WebGPU device before the file's tests and destroys it after them; returns the configurations. */
export function useBackendConfigs(): readonly BackendConfig[] {
  beforeAll(async () => {
    gpu = await createWebgpuBackend();
  });
  afterAll(() => gpu?.destroy());
  const device = () => {
    if (!gpu) throw new Error('the WebGPU device is made in beforeAll');
    return gpu;
  };
  const webgpuWith = (matmul: 'texture' | 'register' | 'tiled' | 'naive'): Backend => ({
    name: `webgpu ${matmul}`,
    get limits() {
      return device().limits;
    },
    compile: (p) => device().compile(p, { matmul }),
  });
  const wasmSmallBlocks: Backend = {
    name: 'wasm small blocks',
    limits: { maxBuffersPerKernel: Infinity },
    compile: (p) => compileWasm(p, { threads: 2, minParallelWork: 0, blocking: { mc: 8, kc: 20, nc: 16, packedA: 0 } }),
  };
  return [
    { name: 'interp', backend: () => 'interp' },
    { name: 'eval', backend: () => 'eval' },
    { name: 'cpu js', backend: () => createCpuBackend({ target: 'js' }) },
    { name: 'cpu wasm, 1 thread', backend: () => createCpuBackend({ target: 'wasm', threads: 1 }) },
    { name: 'cpu wasm, 2 threads', backend: () => createCpuBackend({ target: 'wasm', threads: 2 }) },
    { name: 'cpu wasm, 2 threads, small blocks', backend: () => wasmSmallBlocks },
    { name: 'webgpu', backend: device },
    { name: 'webgpu texture', backend: () => webgpuWith('texture') },
    { name: 'webgpu register', backend: () => webgpuWith('register') },
    { name: 'webgpu tiled', backend: () => webgpuWith('tiled') },
    { name: 'webgpu naive', backend: () => webgpuWith('naive') },
  ];
}

/** A committed fixture of tools/make_op_fixtures.py, by file name. */
export function readFixture(file: string): Promise<SafetensorsFile> {
  return readSafetensorsFile(new URL(`./fixtures/${file}`, import.meta.url).pathname);
}

/** A tensor of a fixture, as float32 data and its shape. */
export function fixtureTensor(f: SafetensorsFile, name: string): { shape: readonly number[]; data: Float32Array } {
  const t = f.tensors.get(name);
  if (!t) throw new Error(`fixture has no tensor '${name}'`);
  return { shape: t.shape, data: t.data as Float32Array };
}
