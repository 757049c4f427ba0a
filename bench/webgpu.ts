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
import { ProgramBuilder, tensorType } from '@tessera/ir';
import { readSafetensorsFile } from '@tessera/ir/node';
import { VIT_PRESETS } from '@tessera/models';
import { lowerToKernels } from '@tessera/passes';
import { type MatmulVariant, type WebgpuBackend, createWebgpuBackend, describeAdapter } from '@tessera/backend-webgpu';
import { printTable, seededArray, timeIt } from './timing.ts';
import { jaxMatmul, jaxVit, withNavigator } from './webgpu-peers.ts';

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
  exe.setInputs({ w: seededArray(k * n, 2) });
  const inputs = { a: seededArray(m * k, 1) };
  return { run: () => exe.run(inputs), variant: exe.shaders[0]!.variant, dispose: () => exe.dispose() };
}

async function tesseraRow(be: WebgpuBackend, op: 'softmax' | 'layer_norm'): Promise<{ run: Timed; dispose: () => void }> {
  const b = new ProgramBuilder(op);
  const x = b.input('x', tensorType('f32', [197, 768]));
  b.output('y', op === 'softmax' ? b.emit('softmax', [x], { axis: -1 }) : b.emit('layer_norm', [x, b.param('w', tensorType('f32', [768])), b.param('bias', tensorType('f32', [768]))], { eps: 1e-6 }));
  const exe = await be.compile(lowerToKernels(b.build()));
  if (op === 'layer_norm') exe.setInputs({ w: seededArray(768, 4), bias: seededArray(768, 5) });
  const inputs = { x: seededArray(197 * 768, 3) };
  return { run: () => exe.run(inputs), dispose: () => exe.dispose() };
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
  const { session, tensor } = await ortWebgpuSession(onnxMatmul(m, k, n, seededArray(k * n, 2)));
  const feeds = { A: tensor(seededArray(m * k, 1), [m, k]) };
  return () => session.run(feeds);
}

/** The part of onnxruntime-web's API used here. */
interface OrtWeb {
  env: { wasm: { numThreads: number }; logLevel: string };
  InferenceSession: { create: (model: Uint8Array, o: object) => Promise<OrtSession> };
  Tensor: new (type: string, data: Float32Array, dims: number[]) => object;
}
interface OrtSession {
  run: (feeds: object) => Promise<Record<string, { data: unknown }>>;
}

/** An onnxruntime-web session of `model` on its WebGPU execution provider (one wasm thread, errors only), and a float32 tensor maker. */
async function ortWebgpuSession(model: Uint8Array): Promise<{ session: OrtSession; tensor: (data: Float32Array, dims: number[]) => object }> {
  const ort = (await import('onnxruntime-web/webgpu')) as unknown as OrtWeb;
  ort.env.wasm.numThreads = 1;
  ort.env.logLevel = 'error';
  const session = await ort.InferenceSession.create(model, { executionProviders: ['webgpu'] });
  return { session, tensor: (data, dims) => new ort.Tensor('float32', data, dims) };
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
  const { configModel } = await import('../packages/cli/src/model-source.ts');
  const model = await prepareModel({ model: configModel(config), ...(existsSync(weights) ? { weights } : {}), backend: 'webgpu' });
  const pixels = existsSync(io) ? ((await readSafetensorsFile(io)).tensors.get('pixel_values')!.data as Float32Array) : seededArray(3 * 224 * 224, 5);
  return {
    run: async () => (await model.run({ pixel_values: pixels })).logits!.data as Float32Array,
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
  const { session, tensor } = await ortWebgpuSession(readFileSync(onnx));
  const feeds = { pixel_values: tensor(pixels, [1, 3, 224, 224]) };
  return async () => (await session.run(feeds)).logits!.data as Float32Array;
}

const maxAbsDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => Array.from(a).reduce((m, v, i) => Math.max(m, Math.abs(v - b[i]!)), 0);

/** Whether TESSERA_BENCH_WEBGPU_PEERS (unset: all; 0: none; else a comma list of jax-js, onnxruntime-web) includes a peer. */
const wanted = (name: string) => {
  const v = process.env.TESSERA_BENCH_WEBGPU_PEERS;
  return v === undefined || v === '' || (v !== '0' && v.split(',').some((p) => name.startsWith(p.trim())));
};

const gflops = (m: number, k: number, n: number, ms: number) => ((2 * m * k * n) / ms / 1e6).toFixed(2);

/** The peers' matmul and ViT-Ti rows, with the navigator shim installed. */
async function benchPeers(rows: string[][], vitRows: string[][], ours: Float32Array, pixels: Float32Array): Promise<void> {
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
  const weights = join(MODELS_DIR, 'vit-ti-16.safetensors');
  const vitPeers = (
    [
      ['jax-js webgpu (jit)', async () => (existsSync(weights) ? jaxVit(weights, pixels) : 'no bench/.models/vit-ti-16.safetensors (run bench/vit.ts with PyTorch installed to export it)')],
      ['onnxruntime-web webgpu EP', () => ortVit(pixels)],
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
  const dawn = be.adapter.source === 'default' || be.adapter.source === 'opengles';
  if (process.env.TESSERA_BENCH_WEBGPU_PEERS !== '0' && dawn) await withNavigator(be.adapter, () => benchPeers(rows, vitRows, ours, vit.pixels));
  printTable('WebGPU matmul, same adapter (ms per call incl. upload of A and read-back of C; GFLOP/s; median)', ['M,K,N', 'runtime', 'ms', 'GFLOP/s'], rows);
  printTable('WebGPU row kernels (ms per call incl. upload and read-back; Melem/s; median)', ['op', 'tessera ms', 'Melem/s'], rowRows);
  printTable('ViT-Ti/16 batch 1 on WebGPU, same adapter (ms per image, median of 3; max |logit difference| from Tessera)', ['runtime', 'ms', 'max |Δ|'], vitRows);
  be.destroy();
}

const isEntry = process.argv[1] !== undefined && import.meta.url.endsWith(process.argv[1].replace(/\\/g, '/'));
if (isEntry) await benchWebgpu();
