/**
 * Peers on the backend's own Dawn adapter, shared by bench/webgpu.ts and the
 * device check (tools/device): the navigator shim both peer libraries need,
 * and jax-js's WebGPU backend (a matmul, and ViT-Ti/16 in its numpy API).
 * No side effects on import.
 */
import type { SafetensorsTensor } from '@tessera/ir';
import { readSafetensorsFile } from '@tessera/ir/node';
import { type AdapterReport, createDawnGpu } from '@tessera/backend-webgpu';
import { VIT_PRESETS } from '@tessera/models';
import { seededArray } from './timing.ts';

/** One timed call: computes and reads the result back. */
export type Timed = () => Promise<ArrayLike<number>>;

/**
 * Runs `body` with globalThis.navigator.gpu set to a Dawn instance like the
 * backend's whose requestAdapter always asks for the backend's feature
 * level, and writeBuffer copying out of shared memory (dawn.node crashes on
 * it); the previous navigator is put back after.
 */
export async function withNavigator<T>(report: AdapterReport, body: () => Promise<T>): Promise<T> {
  if (report.source !== 'default' && report.source !== 'opengles') throw new Error(`adapter source '${report.source}' is not Dawn`);
  const gpu = await createDawnGpu(report.source);
  const level = report.featureLevel;
  const shim = {
    requestAdapter: (o: GPURequestAdapterOptions = {}) => gpu.requestAdapter({ ...o, featureLevel: level } as GPURequestAdapterOptions),
    getPreferredCanvasFormat: () => 'rgba8unorm',
    wgslLanguageFeatures: gpu.wgslLanguageFeatures,
  };
  const previous = Object.getOwnPropertyDescriptor(globalThis, 'navigator');
  Object.defineProperty(globalThis, 'navigator', { value: { gpu: shim, userAgent: `Node.js/${process.versions.node}`, hardwareConcurrency: (await import('node:os')).availableParallelism() }, configurable: true, writable: true });
  const queue = (globalThis as unknown as { GPUQueue: { prototype: GPUQueue } }).GPUQueue.prototype;
  const write = queue.writeBuffer;
  queue.writeBuffer = function (this: GPUQueue, buffer: GPUBuffer, offset: number, data: BufferSource | SharedArrayBuffer, dataOffset?: number, size?: number) {
    const view = ArrayBuffer.isView(data) ? data : undefined;
    const backing = view ? view.buffer : (data as ArrayBufferLike);
    if (!(backing instanceof SharedArrayBuffer)) return write.call(this, buffer, offset, data as BufferSource, dataOffset, size);
    const unit = view && 'BYTES_PER_ELEMENT' in view ? (view as unknown as { BYTES_PER_ELEMENT: number }).BYTES_PER_ELEMENT : 1;
    const start = (view?.byteOffset ?? 0) + (dataOffset ?? 0) * unit;
    const length = size !== undefined ? size * unit : (view?.byteLength ?? backing.byteLength) - (dataOffset ?? 0) * unit;
    return write.call(this, buffer, offset, new Uint8Array(backing, start, length).slice());
  } as GPUQueue['writeBuffer'];
  try {
    return await body();
  } finally {
    queue.writeBuffer = write;
    if (previous) Object.defineProperty(globalThis, 'navigator', previous);
    else delete (globalThis as { navigator?: unknown }).navigator;
  }
}

/** What jax-js's API is used for here, loosely typed (its arrays are reference-counted: every use consumes one reference). */
interface JaxArray {
  readonly ref: JaxArray;
  add(o: JaxArray): JaxArray;
  mul(o: JaxArray): JaxArray;
  reshape(shape: number[]): JaxArray;
  transpose(perm?: number[]): JaxArray;
  slice(...index: ([number, number] | [])[]): JaxArray;
  data(): Promise<ArrayLike<number>>;
}
interface Jax {
  init(...d: string[]): Promise<string[]>;
  defaultDevice(d: string): void;
  jit<F>(f: F): F;
  tree: { ref<T>(t: T): T };
  numpy: {
    array(v: Float32Array, o: { shape: number[] }): JaxArray;
    matmul(a: JaxArray, b: JaxArray): JaxArray;
    concatenate(xs: JaxArray[], axis: number): JaxArray;
    split(a: JaxArray, sections: number, axis: number): JaxArray[];
    broadcastTo(a: JaxArray, shape: number[]): JaxArray;
  };
  nn: {
    standardize(x: JaxArray, axis: number, o: { epsilon: number }): JaxArray;
    gelu(x: JaxArray, o: { approximate: boolean }): JaxArray;
    dotProductAttention(q: JaxArray, k: JaxArray, v: JaxArray): JaxArray;
  };
}

async function jaxOnWebgpu(): Promise<Jax> {
  const jax = (await import('@jax-js/jax')) as unknown as Jax;
  if (!(await jax.init('webgpu')).includes('webgpu')) throw new Error('jax-js found no WebGPU device');
  jax.defaultDevice('webgpu');
  return jax;
}

/** jax-js: C = A @ W with both on the device; each run computes and reads C back. */
export async function jaxMatmul(m: number, k: number, n: number): Promise<Timed> {
  const jax = await jaxOnWebgpu();
  const a = jax.numpy.array(seededArray(m * k, 1), { shape: [m, k] });
  const w = jax.numpy.array(seededArray(k * n, 2), { shape: [k, n] });
  return () => jax.numpy.matmul(a.ref, w.ref).data();
}

/** Node 20 lacks the iterator helpers map and filter that jax-js's einsum parser calls: adds them when missing. */
function polyfillIteratorHelpers(): void {
  const proto = Object.getPrototypeOf(Object.getPrototypeOf([][Symbol.iterator]())) as Record<string, unknown>;
  if (typeof proto.map !== 'function') {
    proto.map = function* <T, U>(this: Iterator<T>, fn: (v: T, i: number) => U) {
      let i = 0;
      for (let r = this.next(); !r.done; r = this.next()) yield fn(r.value, i++);
    };
  }
  if (typeof proto.filter !== 'function') {
    proto.filter = function* <T>(this: Iterator<T>, fn: (v: T, i: number) => boolean) {
      let i = 0;
      for (let r = this.next(); !r.done; r = this.next()) if (fn(r.value, i++)) yield r.value;
    };
  }
}

/** ViT (torchvision names; ViT-Ti/16 at batch 1 unless `model` / `batch` say otherwise) in jax-js's numpy API, jit-compiled, on the weights of `checkpoint` (a safetensors file or the tensors themselves); `pixels` holds the batch's images. */
export async function jaxVit(checkpoint: string | Readonly<Record<string, SafetensorsTensor>>, pixels: Float32Array, model = 'vit-ti-16', batch = 1): Promise<Timed> {
  polyfillIteratorHelpers();
  const jax = await jaxOnWebgpu();
  const { numpy: np, nn } = jax;
  const params: Record<string, JaxArray> = {};
  const tensors = typeof checkpoint === 'string' ? (await readSafetensorsFile(checkpoint)).tensors : Object.entries(checkpoint);
  for (const [name, t] of tensors) params[name] = np.array(t.data as Float32Array, { shape: [...t.shape] });
  const preset = VIT_PRESETS[model];
  if (!preset) throw new Error(`jaxVit: no preset ${model}`);
  const { num_layers: layers, hidden_dim: d, num_heads: heads, layer_norm_eps: eps, patch_size: ps, image_size: size } = preset as { num_layers: number; hidden_dim: number; num_heads: number; layer_norm_eps: number; patch_size: number; image_size: number };
  const g = size / ps;
  const tokens = g * g + 1;
  const linear = (x: JaxArray, w: JaxArray, b: JaxArray) => np.matmul(x, w.transpose()).add(b);
  const norm = (x: JaxArray, w: JaxArray, b: JaxArray) => nn.standardize(x, -1, { epsilon: eps }).mul(w).add(b);
  const forward = (p: Record<string, JaxArray>, x: JaxArray): JaxArray => {
    const patches = x.reshape([batch, 3, g, ps, g, ps]).transpose([0, 2, 4, 1, 3, 5]).reshape([batch, g * g, 3 * ps * ps]);
    let h = linear(patches, p['conv_proj.weight']!.reshape([d, 3 * ps * ps]), p['conv_proj.bias']!);
    h = np.concatenate([np.broadcastTo(p.class_token!.reshape([1, 1, d]), [batch, 1, d]), h], 1).add(p['encoder.pos_embedding']!.reshape([1, tokens, d]));
    for (let i = 0; i < layers; i++) {
      const w = (n: string) => p[`encoder.layers.encoder_layer_${i}.${n}`]!;
      const qkv = linear(norm(h.ref, w('ln_1.weight'), w('ln_1.bias')), w('self_attention.in_proj_weight'), w('self_attention.in_proj_bias'));
      const [q, k, v] = np.split(qkv, 3, 2).map((t) => t.reshape([batch, tokens, heads, d / heads]));
      const att = nn.dotProductAttention(q!, k!, v!).reshape([batch, tokens, d]);
      h = h.add(linear(att, w('self_attention.out_proj.weight'), w('self_attention.out_proj.bias')));
      const up = nn.gelu(linear(norm(h.ref, w('ln_2.weight'), w('ln_2.bias')), w('mlp.0.weight'), w('mlp.0.bias')), { approximate: false });
      h = h.add(linear(up, w('mlp.3.weight'), w('mlp.3.bias')));
    }
    return linear(norm(h, p['encoder.ln.weight']!, p['encoder.ln.bias']!).slice([], [0, 1]).reshape([batch, d]), p['heads.head.weight']!, p['heads.head.bias']!);
  };
  const compiled = jax.jit(forward);
  const x = np.array(pixels, { shape: [batch, 3, size, size] });
  return () => compiled(jax.tree.ref(params), x.ref).data();
}

/** Minimal typing of onnxruntime-web's API as used here. */
interface Ort {
  env: { wasm: { numThreads: number; wasmPaths?: string }; logLevel?: string };
  Tensor: new (type: 'float32', data: Float32Array, dims: number[]) => unknown;
  InferenceSession: { create(model: Uint8Array, options: Record<string, unknown>): Promise<{ run(feeds: Record<string, unknown>): Promise<Record<string, { data: unknown; dispose?(): void }>>; release(): Promise<void> }> };
}

/**
 * onnxruntime-web's WebGPU execution provider (its `onnxruntime-web/webgpu`
 * bundle, one wasm thread: the GPU does the work) on an ONNX model in
 * memory (bench/onnx-vit.ts): each run uploads `pixels` as input
 * `pixel_values` [batch, 3, S, S] and reads `logits` back. Needs the
 * navigator of withNavigator while the session is created and run.
 */
export async function ortWebgpuVit(model: Uint8Array, pixels: Float32Array, dims: number[]): Promise<{ run: Timed; release(): Promise<void> }> {
  const ort = (await import('onnxruntime-web/webgpu')) as unknown as Ort;
  ort.env.wasm.numThreads = 1;
  ort.env.logLevel = 'error';
  const session = await ort.InferenceSession.create(model, { executionProviders: ['webgpu'], graphOptimizationLevel: 'all' });
  return {
    run: async () => {
      const out = await session.run({ pixel_values: new ort.Tensor('float32', pixels, dims) });
      return out.logits!.data as Float32Array;
    },
    release: () => session.release(),
  };
}
