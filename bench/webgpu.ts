/**
 * WebGPU benchmark: Tessera's WGSL kernels on the adapter the backend finds
 * (Mesa llvmpipe through Dawn's OpenGL ES backend where there is no GPU),
 * next to onnxruntime-web's WebGPU execution provider and jax-js's WebGPU
 * backend on the same Dawn adapter in the same process. Matmul GFLOP/s at
 * the ViT-B MLP shapes, softmax and layer_norm row kernels.
 *
 * Peers need a navigator: this sets `globalThis.navigator` to { gpu,
 * userAgent } where `gpu` is a Dawn instance whose requestAdapter always
 * asks for the backend's feature level (both libraries ask without one,
 * which finds nothing at compatibility level), and copies writeBuffer data
 * out of shared WebAssembly memory (dawn.node crashes on it; onnxruntime-web
 * writes from there). onnxruntime-web's first run takes one to two minutes
 * on llvmpipe (its shaders compile then). TESSERA_BENCH_WEBGPU_PEERS picks
 * the peers: unset all, 0 none, or a comma list (jax-js,onnxruntime-web).
 *
 * ViT-Ti/16 batch 1: Tessera on WebGPU with the weights and input of
 * bench/.models (tools/export_vit_onnx.py, which bench/vit.ts runs) or
 * seeded ones, and onnxruntime-web's WebGPU EP on the exported ONNX model
 * when it is there, and the same ViT written in jax-js's numpy API on the
 * same weights; their logits are compared with Tessera's.
 */
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { ProgramBuilder, readSafetensorsFile, tensorType } from '@tessera/ir';
import { VIT_PRESETS } from '@tessera/models';
import { lowerToKernels } from '@tessera/passes';
import { type AdapterReport, type MatmulVariant, type WebgpuBackend, createDawnGpu, createWebgpuBackend, describeAdapter } from '@tessera/backend-webgpu';
import { printTable, seededArray, timeIt } from './timing.ts';

const MATMULS: readonly [number, number, number][] = [
  [197, 768, 3072],
  [197, 3072, 768],
];

type Timed = () => Promise<unknown>;

/** Tessera: C = A @ W with W a parameter (uploaded once, as weights are); each run uploads A and reads C back. */
async function tesseraMatmul(be: WebgpuBackend, m: number, k: number, n: number, matmul?: MatmulVariant): Promise<{ run: Timed; variant: string; dispose: () => void }> {
  const b = new ProgramBuilder('mm');
  b.output('y', b.emit('matmul', [b.input('a', tensorType('f32', [m, k])), b.param('w', tensorType('f32', [k, n]))]));
  const exe = await be.compile(lowerToKernels(b.build()), matmul ? { matmul } : {});
  const inputs = { a: seededArray(m * k, 1), w: seededArray(k * n, 2) };
  return { run: () => exe.run(inputs), variant: exe.shaders[0]!.variant, dispose: () => exe.dispose() };
}

async function tesseraRow(be: WebgpuBackend, op: 'softmax' | 'layer_norm'): Promise<{ run: Timed; dispose: () => void }> {
  const b = new ProgramBuilder(op);
  const x = b.input('x', tensorType('f32', [197, 768]));
  b.output('y', op === 'softmax' ? b.emit('softmax', [x], { axis: -1 }) : b.emit('layer_norm', [x, b.param('w', tensorType('f32', [768])), b.param('bias', tensorType('f32', [768]))], { eps: 1e-6 }));
  const exe = await be.compile(lowerToKernels(b.build()));
  const inputs: Record<string, Float32Array> = op === 'softmax' ? { x: seededArray(197 * 768, 3) } : { x: seededArray(197 * 768, 3), w: seededArray(768, 4), bias: seededArray(768, 5) };
  return { run: () => exe.run(inputs), dispose: () => exe.dispose() };
}

/** Makes a Dawn instance like the backend's visible to the peers as navigator.gpu (see the file comment). */
async function installNavigator(report: AdapterReport): Promise<boolean> {
  if (report.source !== 'default' && report.source !== 'opengles') return false;
  const gpu = await createDawnGpu(report.source);
  const level = report.featureLevel;
  const shim = {
    requestAdapter: (o: GPURequestAdapterOptions = {}) => gpu.requestAdapter({ ...o, featureLevel: level } as GPURequestAdapterOptions),
    getPreferredCanvasFormat: () => 'rgba8unorm',
    wgslLanguageFeatures: gpu.wgslLanguageFeatures,
  };
  Object.defineProperty(globalThis, 'navigator', { value: { gpu: shim, userAgent: `Node.js/${process.versions.node}` }, configurable: true });
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
  return true;
}

/** jax-js on WebGPU: C = A @ W with both on the device; each run computes and reads C back. */
async function jaxMatmul(m: number, k: number, n: number): Promise<Timed> {
  const jax = (await import('@jax-js/jax')) as unknown as {
    init: (...d: string[]) => Promise<string[]>;
    defaultDevice: (d: string) => void;
    numpy: { array: (v: Float32Array, o: { shape: number[] }) => JaxArray; matmul: (a: JaxArray, b: JaxArray) => JaxArray };
  };
  interface JaxArray {
    readonly ref: JaxArray;
    data(): Promise<ArrayLike<number>>;
  }
  const ok = await jax.init('webgpu');
  if (!ok.includes('webgpu')) throw new Error('jax-js found no WebGPU device');
  jax.defaultDevice('webgpu');
  const a = jax.numpy.array(seededArray(m * k, 1), { shape: [m, k] });
  const w = jax.numpy.array(seededArray(k * n, 2), { shape: [k, n] });
  return () => jax.numpy.matmul(a.ref, w.ref).data();
}

/** A one-node ONNX model (MatMul with the weight as an initializer), written as protobuf bytes. */
function onnxMatmul(m: number, k: number, n: number, w: Float32Array): Uint8Array {
  const varint = (v: number): number[] => {
    const out: number[] = [];
    do {
      out.push((v & 0x7f) | (v > 0x7f ? 0x80 : 0));
      v = Math.floor(v / 128);
    } while (v > 0);
    return out;
  };
  const int = (field: number, v: number) => [...varint(field << 3), ...varint(v)];
  const bytes = (field: number, b: ArrayLike<number>) => [...varint((field << 3) | 2), ...varint(b.length), ...Array.from(b)];
  const text = (field: number, s: string) => bytes(field, new TextEncoder().encode(s));
  // ValueInfoProto{name, type: TypeProto{tensor_type{elem_type FLOAT, shape{dim{dim_value}}}}}
  const valueInfo = (name: string, shape: number[]) => [...text(1, name), ...bytes(2, bytes(1, [...int(1, 1), ...bytes(2, shape.flatMap((d) => bytes(1, int(1, d))))]))];
  const initializer = [...int(1, k), ...int(1, n), ...int(2, 1), ...text(8, 'W'), ...bytes(9, new Uint8Array(w.buffer, w.byteOffset, w.byteLength))];
  const node = [...text(1, 'A'), ...text(1, 'W'), ...text(2, 'C'), ...text(3, 'matmul'), ...text(4, 'MatMul')];
  const graph = [...bytes(1, node), ...text(2, 'mm'), ...bytes(5, initializer), ...bytes(11, valueInfo('A', [m, k])), ...bytes(12, valueInfo('C', [m, n]))];
  return Uint8Array.from([...int(1, 8), ...bytes(8, [...text(1, ''), ...int(2, 13)]), ...bytes(7, graph)]);
}

/** onnxruntime-web's WebGPU execution provider: the weight is an initializer; each run uploads A and reads C back. */
async function ortMatmul(m: number, k: number, n: number): Promise<Timed> {
  const ort = (await import('onnxruntime-web/webgpu')) as unknown as {
    env: { wasm: { numThreads: number }; logLevel: string };
    InferenceSession: { create: (model: Uint8Array, o: object) => Promise<{ run: (feeds: object) => Promise<Record<string, { data: unknown }>> }> };
    Tensor: new (type: string, data: Float32Array, dims: number[]) => object;
  };
  ort.env.wasm.numThreads = 1;
  ort.env.logLevel = 'error';
  const session = await ort.InferenceSession.create(onnxMatmul(m, k, n, seededArray(k * n, 2)), { executionProviders: ['webgpu'] });
  const feeds = { A: new ort.Tensor('float32', seededArray(m * k, 1), [m, k]) };
  return () => session.run(feeds);
}

const MODELS_DIR = join(resolve(import.meta.dirname, '..'), 'bench', '.models');

/** ViT-Ti/16 on Tessera's WebGPU backend: the prepared model of `tessera bench` (weights bound once). */
async function tesseraVit(): Promise<{ run: () => Promise<Float32Array>; pixels: Float32Array; compileMs: number; dispose: () => void; weights: string }> {
  const name = 'vit-ti-16';
  let config = join(MODELS_DIR, `${name}.json`);
  if (!existsSync(config)) {
    config = join(mkdtempSync(join(tmpdir(), 'tessera-vit-')), `${name}.json`);
    writeFileSync(config, JSON.stringify(VIT_PRESETS[name]));
  }
  const weights = join(MODELS_DIR, `${name}.safetensors`);
  const io = join(MODELS_DIR, `${name}.io.safetensors`);
  const { prepareModel } = await import('../packages/cli/src/commands/bench.ts');
  const model = await prepareModel({ config, ...(existsSync(weights) ? { weights } : {}), backend: 'webgpu', inputs: {} });
  const pixels = existsSync(io) ? ((await readSafetensorsFile(io)).tensors.get('pixel_values')!.data as Float32Array) : seededArray(3 * 224 * 224, 5);
  return {
    run: async () => (await model.run({ pixel_values: pixels })).logits as Float32Array,
    pixels,
    compileMs: model.compileMs,
    dispose: () => model.dispose(),
    weights: existsSync(weights) ? 'bench/.models weights' : 'seeded weights',
  };
}

/** ViT-Ti/16 on onnxruntime-web's WebGPU EP from bench/.models/vit-ti-16.onnx, or why not. */
async function ortVit(pixels: Float32Array): Promise<(() => Promise<Float32Array>) | string> {
  const onnx = join(MODELS_DIR, 'vit-ti-16.onnx');
  if (!existsSync(onnx)) return 'no bench/.models/vit-ti-16.onnx (run bench/vit.ts with PyTorch installed to export it)';
  const ort = (await import('onnxruntime-web/webgpu')) as unknown as {
    env: { wasm: { numThreads: number }; logLevel: string };
    InferenceSession: { create: (model: Uint8Array, o: object) => Promise<{ run: (feeds: object) => Promise<Record<string, { data: unknown }>> }> };
    Tensor: new (type: string, data: Float32Array, dims: number[]) => object;
  };
  ort.env.wasm.numThreads = 1;
  ort.env.logLevel = 'error';
  const session = await ort.InferenceSession.create(readFileSync(onnx), { executionProviders: ['webgpu'] });
  const feeds = { pixel_values: new ort.Tensor('float32', pixels, [1, 3, 224, 224]) };
  return async () => (await session.run(feeds)).logits!.data as Float32Array;
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
  };
  nn: {
    standardize(x: JaxArray, axis: number, o: { epsilon: number }): JaxArray;
    gelu(x: JaxArray, o: { approximate: boolean }): JaxArray;
    dotProductAttention(q: JaxArray, k: JaxArray, v: JaxArray): JaxArray;
  };
}

/**
 * jax-js's einsum parser (used by its dotProductAttention) calls the ES2025
 * iterator helpers map and filter on a matchAll iterator; Node 20 has
 * neither. Adds the two, only when missing.
 */
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

/**
 * ViT-Ti/16 (torchvision names, batch 1) written in jax-js's numpy API,
 * jit-compiled, on the bench/.models weights: patches by reshape and
 * transpose, pre-norm encoder blocks with jax-js's dotProductAttention and
 * exact GELU, the class token through the head.
 */
async function jaxVit(pixels: Float32Array): Promise<(() => Promise<ArrayLike<number>>) | string> {
  const path = join(MODELS_DIR, 'vit-ti-16.safetensors');
  if (!existsSync(path)) return 'no bench/.models/vit-ti-16.safetensors (run bench/vit.ts with PyTorch installed to export it)';
  polyfillIteratorHelpers();
  const jax = (await import('@jax-js/jax')) as unknown as Jax;
  const { numpy: np, nn } = jax;
  if (!(await jax.init('webgpu')).includes('webgpu')) return 'jax-js found no WebGPU device';
  jax.defaultDevice('webgpu');
  const params: Record<string, JaxArray> = {};
  for (const [name, t] of (await readSafetensorsFile(path)).tensors) params[name] = np.array(t.data as Float32Array, { shape: [...t.shape] });
  const { num_layers: layers, hidden_dim: d, num_heads: heads, layer_norm_eps: eps, patch_size: ps, image_size: size } = VIT_PRESETS['vit-ti-16']! as { num_layers: number; hidden_dim: number; num_heads: number; layer_norm_eps: number; patch_size: number; image_size: number };
  const g = size / ps;
  const tokens = g * g + 1;
  const linear = (x: JaxArray, w: JaxArray, b: JaxArray) => np.matmul(x, w.transpose()).add(b);
  const norm = (x: JaxArray, w: JaxArray, b: JaxArray) => nn.standardize(x, -1, { epsilon: eps }).mul(w).add(b);
  const forward = (p: Record<string, JaxArray>, x: JaxArray): JaxArray => {
    const patches = x.reshape([3, g, ps, g, ps]).transpose([1, 3, 0, 2, 4]).reshape([g * g, 3 * ps * ps]);
    let h = linear(patches, p['conv_proj.weight']!.reshape([d, 3 * ps * ps]), p['conv_proj.bias']!);
    h = np.concatenate([p.class_token!.reshape([1, d]), h], 0).add(p['encoder.pos_embedding']!.reshape([tokens, d]));
    for (let i = 0; i < layers; i++) {
      const w = (n: string) => p[`encoder.layers.encoder_layer_${i}.${n}`]!;
      const qkv = linear(norm(h.ref, w('ln_1.weight'), w('ln_1.bias')), w('self_attention.in_proj_weight'), w('self_attention.in_proj_bias'));
      const [q, k, v] = np.split(qkv, 3, 1).map((t) => t.reshape([tokens, heads, d / heads]));
      const att = nn.dotProductAttention(q!, k!, v!).reshape([tokens, d]);
      h = h.add(linear(att, w('self_attention.out_proj.weight'), w('self_attention.out_proj.bias')));
      const up = nn.gelu(linear(norm(h.ref, w('ln_2.weight'), w('ln_2.bias')), w('mlp.0.weight'), w('mlp.0.bias')), { approximate: false });
      h = h.add(linear(up, w('mlp.3.weight'), w('mlp.3.bias')));
    }
    return linear(norm(h, p['encoder.ln.weight']!, p['encoder.ln.bias']!).slice([0, 1]), p['heads.head.weight']!, p['heads.head.bias']!);
  };
  const compiled = jax.jit(forward);
  const x = np.array(pixels, { shape: [1, 3, size, size] });
  return () => compiled(jax.tree.ref(params), x.ref).data();
}

const maxAbsDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => Array.from(a).reduce((m, v, i) => Math.max(m, Math.abs(v - b[i]!)), 0);

/** Whether TESSERA_BENCH_WEBGPU_PEERS (unset: all; 0: none; else a comma list of jax-js, onnxruntime-web) includes a peer. */
const wanted = (name: string) => {
  const v = process.env.TESSERA_BENCH_WEBGPU_PEERS;
  return v === undefined || v === '' || (v !== '0' && v.split(',').some((p) => name.startsWith(p.trim())));
};

const gflops = (m: number, k: number, n: number, ms: number) => ((2 * m * k * n) / ms / 1e6).toFixed(2);

/** Runs the WebGPU benchmark and prints its tables. */
export async function benchWebgpu(): Promise<void> {
  let be: WebgpuBackend;
  try {
    be = await createWebgpuBackend();
  } catch (e) {
    console.log(`\nwebgpu: skipped: ${e instanceof Error ? e.message : String(e)}`);
    return;
  }
  console.log(`\nwebgpu adapter: ${describeAdapter(be.adapter)}`);
  const rows: string[][] = [];
  for (const [m, k, n] of MATMULS) {
    for (const variant of [undefined, ...(m === 197 && k === 768 ? (['register', 'tiled'] as const) : [])]) {
      const mm = await tesseraMatmul(be, m, k, n, variant);
      const t = await timeIt(mm.run, { runs: 3, warmup: 1 });
      rows.push([`(${m},${k},${n})`, `tessera ${mm.variant}`, t.median.toFixed(1), gflops(m, k, n, t.median)]);
      mm.dispose();
    }
  }
  const rowRows: string[][] = [];
  for (const op of ['softmax', 'layer_norm'] as const) {
    const r = await tesseraRow(be, op);
    const t = await timeIt(r.run, { runs: 10, warmup: 2 });
    rowRows.push([`${op} [197,768]`, t.median.toFixed(2), ((197 * 768) / t.median / 1e3).toFixed(1)]);
    r.dispose();
  }
  // Before the navigator shim: with one, the backend by name would take navigator.gpu.
  const vitRows: string[][] = [];
  const vit = await tesseraVit();
  const ours = await vit.run();
  const tv = await timeIt(vit.run, { runs: 3, warmup: 0 });
  vitRows.push([`tessera webgpu (${vit.weights}; compile ${(vit.compileMs / 1000).toFixed(1)} s)`, tv.median.toFixed(0), '-']);
  vit.dispose();
  const navigatorInstalled = process.env.TESSERA_BENCH_WEBGPU_PEERS !== '0' && (await installNavigator(be.adapter));
  if (navigatorInstalled) {
    const [m, k, n] = MATMULS[0]!;
    const peers: [string, () => Promise<Timed>][] = [
      ['jax-js webgpu', () => jaxMatmul(m, k, n)],
      ['onnxruntime-web webgpu EP', () => ortMatmul(m, k, n)],
    ].filter(([name]) => wanted(name as string)) as [string, () => Promise<Timed>][];
    for (const [name, make] of peers) {
      try {
        const t0 = performance.now();
        const run = await make();
        await run();
        const first = performance.now() - t0;
        const t = await timeIt(run, { runs: 3, warmup: 0 });
        rows.push([`(${m},${k},${n})`, `${name} (first run ${(first / 1000).toFixed(1)} s)`, t.median.toFixed(1), gflops(m, k, n, t.median)]);
      } catch (e) {
        rows.push([`(${m},${k},${n})`, `${name}: failed: ${e instanceof Error ? e.message.split('\n')[0] : String(e)}`, '-', '-']);
      }
    }
  }
  if (navigatorInstalled) {
    const vitPeers = (
      [
        ['jax-js webgpu (jit)', () => jaxVit(vit.pixels)],
        ['onnxruntime-web webgpu EP', () => ortVit(vit.pixels)],
      ] as [string, () => Promise<(() => Promise<ArrayLike<number>>) | string>][]
    ).filter(([name]) => wanted(name));
    for (const [name, make] of vitPeers) {
      try {
        const t0 = performance.now();
        const run = await make();
        if (typeof run === 'string') {
          vitRows.push([`${name}: skipped: ${run}`, '-', '-']);
          continue;
        }
        const theirs = await run();
        const first = performance.now() - t0;
        const t = await timeIt(run, { runs: 3, warmup: 0 });
        vitRows.push([`${name} (first run ${(first / 1000).toFixed(1)} s)`, t.median.toFixed(0), maxAbsDiff(ours, theirs).toExponential(1)]);
      } catch (e) {
        vitRows.push([`${name}: failed: ${e instanceof Error ? e.message.split('\n')[0] : String(e)}`, '-', '-']);
      }
    }
  }
  printTable('WebGPU matmul, same adapter (ms per call incl. upload of A and read-back of C; GFLOP/s; median)', ['M,K,N', 'runtime', 'ms', 'GFLOP/s'], rows);
  printTable('WebGPU row kernels (ms per call incl. upload and read-back; Melem/s; median)', ['op', 'tessera ms', 'Melem/s'], rowRows);
  printTable('ViT-Ti/16 batch 1 on WebGPU, same adapter (ms per image, median of 3; max |logit difference| from Tessera)', ['runtime', 'ms', 'max |Δ|'], vitRows);
  be.destroy();
}

const isEntry = process.argv[1] !== undefined && import.meta.url.endsWith(process.argv[1].replace(/\\/g, '/'));
if (isEntry) await benchWebgpu();
