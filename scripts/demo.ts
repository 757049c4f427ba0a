/**
 * `pnpm demo`, the main job: the trained models (tools/train_vit.py,
 * tools/train_transformer.py, tools/train_rnn.py) compiled for every
 * available backend and run on real data, compared with PyTorch's own
 * results on the same inputs.
 *
 *  - ViT on Fashion-MNIST: the full 10,000 test images when the Debian
 *    package dataset-fashion-mnist is installed, else the 1,000 bundled ones.
 *  - The same ViT imported from its ONNX file (@tessera/onnx), on the same images.
 *  - Transformer reversing digit strings: 500 test sequences, greedy
 *    decoding with the key/value cache, and without it for comparison.
 *  - The RNN encoder-decoder with attention (GRU, general scores) on the same
 *    500 sequences, next to the Transformer, with one example's alignment
 *    printed as a heat map (a reversal is an anti-diagonal).
 *
 * The interpreter and the kernel evaluator compute in float64 element by
 * element: they are the oracles, not runtimes, so they run on a subset.
 */
import { readSafetensorsFile } from '@tessera/ir/node';
import { ALIGNMENT, FASHION_MNIST_LABELS, type ImageSet, argmax, compileGenerator, compileSeq2Seq, compileVit, pixelValues } from '@tessera/models';
import { type LoadedModel, loadModel, readInstalledTestSet, readSample } from '@tessera/models/node';
import { type BackendName, availableBackends, compile, enableRelaxedSimd } from '@tessera/compiler';
import { readOnnxFile } from '@tessera/onnx/node';
import { compileProgram } from '@tessera/passes';

// As the CLI does: the CPU backend's matmuls fuse multiply-adds (relaxed SIMD; Node 20 needs it turned on).
enableRelaxedSimd();

const DIR = 'packages/models/trained';
/**
 * Rows run where running everything would take minutes: the float64 oracles
 * (element by element), and WebGPU, which CI runs on a software rasteriser
 * (llvmpipe). Every other backend runs everything.
 */
const SUBSET: Partial<Record<string, { images: number; sequences: number }>> = {
  interp: { images: 50, sequences: 10 },
  eval: { images: 5, sequences: 2 },
  webgpu: { images: 1000, sequences: 100 },
};
const SUBSET_NOTE = '  * a subset: interp and eval are float64 oracles (element by element), not runtimes; webgpu may be a software rasteriser (llvmpipe in CI)';
const BATCH = 100;

const backends = availableBackends() as BackendName[];
const fmt = (x: number, digits = 1) => x.toFixed(digits);
const pct = (a: number, n: number) => `${fmt((100 * a) / n, 2)}%`;

/** Prints rows under a header, columns padded to their widest cell. */
function table(header: string[], rows: string[][]): void {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => `  ${cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ')}`;
  console.log(line(header));
  for (const r of rows) console.log(line(r));
}

/** The largest |a[i] - e[offset + i]|. */
function worstDiff(a: Float32Array, e: Float32Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - e[i]!));
  return m;
}

/** An image as shaded characters, one per pixel across and two rows per line (characters are about twice as tall as wide). */
function ascii(set: ImageSet, index: number): string[] {
  const shades = ' .:-=+*#%@';
  const lines: string[] = [];
  for (let y = 0; y < set.rows; y += 2) {
    let s = '';
    for (let x = 0; x < set.cols; x += 1) {
      const p = (set.pixels[index * set.rows * set.cols + y * set.cols + x]! + set.pixels[index * set.rows * set.cols + (y + 1) * set.cols + x]!) / 2;
      s += shades[Math.min(9, Math.floor(p / 25.6))];
    }
    lines.push(s);
  }
  return lines;
}

async function vitDemo(): Promise<void> {
  const m = (await loadModel(`${DIR}/vit-fashion-mnist.json`, `${DIR}/vit-fashion-mnist.safetensors`)) as Extract<LoadedModel, { kind: 'vit' }>;
  const c = m.model.config;
  const data = (await readInstalledTestSet()) ?? (await readSample(`${DIR}/fashion-mnist-sample.safetensors`));
  const torch = await readSafetensorsFile(`${DIR}/vit-fashion-mnist.pytorch.safetensors`);
  const torchLogits = torch.tensors.get('logits')!.data as Float32Array;
  const torchPred = torch.tensors.get('predictions')!.data as Uint8Array;
  let torchCorrect = 0;
  for (let i = 0; i < data.count; i++) if (torchPred[i] === data.labels[i]) torchCorrect++;
  console.log(`\nViT on Fashion-MNIST: ${c.num_layers} layers, width ${c.hidden_dim}, ${c.num_heads} heads, ${c.image_size}x${c.image_size} images in ${c.patch_size}x${c.patch_size} patches (${(c.image_size / c.patch_size) ** 2 + 1} tokens)`);
  console.log(`  data: ${data.count} test images from ${data.source}`);
  if (data.count < 10000) console.log('  (install the Debian package dataset-fashion-mnist to run all 10,000)');
  console.log(`  PyTorch ${torch.metadata.torch ?? ''} (float32) on these images: accuracy ${pct(torchCorrect, data.count)}\n`);

  const rows: string[][] = [];
  let cpuPred: Int32Array | undefined;
  for (const backend of backends) {
    const n = Math.min(data.count, SUBSET[backend]?.images ?? data.count);
    try {
      const t0 = performance.now();
      const vit = await compileVit(m.model, m.weights, { backend, batch: Math.min(BATCH, n) });
      const compileMs = performance.now() - t0;
      const input = pixelValues(data, 0, n);
      const t1 = performance.now();
      const logits = await vit.logits(input);
      const runMs = performance.now() - t1;
      vit.dispose();
      const pred = Int32Array.from({ length: n }, (_, i) => argmax(logits, i * c.num_classes, c.num_classes));
      if (backend === 'cpu') cpuPred = pred;
      const correct = pred.filter((p, i) => p === data.labels[i]).length;
      const agree = pred.filter((p, i) => p === torchPred[i]).length;
      rows.push([backend, `${n}${n < data.count ? '*' : ''}`, pct(correct, n), pct(agree, n), worstDiff(logits, torchLogits.subarray(0, n * c.num_classes)).toExponential(2), fmt(compileMs, 0), fmt(runMs / n, 3)]);
    } catch (e) {
      rows.push([backend, '-', `failed: ${e instanceof Error ? e.message.split('\n')[0] : String(e)}`, '', '', '', '']);
    }
  }
  table(['backend', 'images', 'accuracy', 'agrees with PyTorch', 'worst |Δ logit|', 'compile ms', 'ms/image'], rows);
  if (rows.some((r) => r[1]!.endsWith('*'))) console.log(SUBSET_NOTE);

  if (cpuPred) {
    console.log('\n  first test images (cpu backend):');
    const art = ascii(data, 0);
    const notes = Array.from({ length: 8 }, (_, i) => {
      const ok = cpuPred![i] === data.labels[i] ? 'right' : 'WRONG';
      return `#${i}: ${FASHION_MNIST_LABELS[data.labels[i]!]} -> ${FASHION_MNIST_LABELS[cpuPred![i]!]} (${ok})`;
    });
    art.forEach((line, i) => console.log(`    ${line}   ${notes[i] ?? ''}`));
  }
}

/**
 * The same trained ViT imported from its ONNX file (tools/export_trained_vit_onnx.py: PyTorch's
 * TorchScript exporter, batch a symbolic dimension given here) and run on the same images.
 */
async function onnxDemo(): Promise<void> {
  const path = `${DIR}/vit-fashion-mnist.onnx`;
  const data = (await readInstalledTestSet()) ?? (await readSample(`${DIR}/fashion-mnist-sample.safetensors`));
  const torch = await readSafetensorsFile(`${DIR}/vit-fashion-mnist.pytorch.safetensors`);
  const torchLogits = torch.tensors.get('logits')!.data as Float32Array;
  const torchPred = torch.tensors.get('predictions')!.data as Uint8Array;
  const t0 = performance.now();
  const imp = readOnnxFile(path, { inputs: { pixel_values: { shape: [BATCH, 3, 28, 28] } } });
  const importMs = performance.now() - t0;
  const classes = imp.program.inputs.find((i) => i.name === 'heads.head.bias')?.type.shape[0] ?? 10;
  const kernels = compileProgram(imp.program).kernels.kernels.length;
  console.log(`
The same ViT imported from ONNX (${path}, ${imp.producer}, opset ${imp.opset}): ${imp.program.nodes.length} graph nodes after folding, ${kernels} kernels; import ${fmt(importMs, 0)} ms
`);
  const rows: string[][] = [];
  for (const backend of backends) {
    const n = Math.floor(Math.min(data.count, SUBSET[backend]?.images ?? data.count) / BATCH) * BATCH;
    if (n === 0) continue;
    try {
      const t1 = performance.now();
      await using exe = await compile(imp.program, { backend, weights: imp.weights });
      const compileMs = performance.now() - t1;
      const logits = new Float32Array(n * classes);
      const t2 = performance.now();
      for (let b = 0; b < n; b += BATCH) logits.set((await exe.run({ pixel_values: pixelValues(data, b, BATCH) })).logits!.data as Float32Array, b * classes);
      const runMs = performance.now() - t2;
      const pred = Int32Array.from({ length: n }, (_, i) => argmax(logits, i * classes, classes));
      const correct = pred.filter((p, i) => p === data.labels[i]).length;
      const agree = pred.filter((p, i) => p === torchPred[i]).length;
      rows.push([backend, `${n}${n < data.count ? '*' : ''}`, pct(correct, n), pct(agree, n), worstDiff(logits, torchLogits.subarray(0, n * classes)).toExponential(2), fmt(compileMs, 0), fmt(runMs / n, 3)]);
    } catch (e) {
      rows.push([backend, '-', `failed: ${e instanceof Error ? e.message.split('\n')[0] : String(e)}`, '', '', '', '']);
    }
  }
  table(['backend', 'images', 'accuracy', 'agrees with PyTorch', 'worst |Δ logit|', 'compile ms', 'ms/image'], rows);
  if (rows.some((r) => r[1]!.endsWith('*'))) console.log(SUBSET_NOTE);
}

/** Digits of a token row (tokens 3..12 are digits 0..9; pad, bos and eos are left out). */
const digits = (row: ArrayLike<number>) => Array.from(row).filter((t) => t >= 3).map((t) => String(t - 3)).join('');

/** Greedy generation of `input` (cached decoding), timed: compile ms, run seconds and tokens (sequences x decoder steps). */
async function timedGeneration(m: Extract<LoadedModel, { kind: 'transformer' | 'seq2seq_rnn' }>, backend: BackendName, batch: number, srcLen: number, maxNew: number, input: Int32Array) {
  const t0 = performance.now();
  const gen = await compileGenerator(m.model, m.weights, { backend, batch, srcLen, maxNewTokens: maxNew });
  const compileMs = performance.now() - t0;
  const t1 = performance.now();
  const out = await gen.generate(input);
  const seconds = (performance.now() - t1) / 1000;
  const tokens = gen.steps * batch;
  gen.dispose();
  return { out, compileMs, seconds, tokens };
}

/** Teacher-forced logits of the first k sources along PyTorch's greedy outputs `torchGen` (rows of `width`, bos first). */
async function logitsAlong(m: Extract<LoadedModel, { kind: 'transformer' | 'seq2seq_rnn' }>, backend: BackendName, srcLen: number, src: Int32Array, torchGen: Int32Array, width: number, k: number): Promise<Float32Array> {
  const maxNew = width - 1;
  const runner = await compileSeq2Seq(m.model, m.weights, { backend, batch: Math.min(BATCH, k), srcLen, tgtLen: maxNew });
  const tgt = Int32Array.from({ length: k * maxNew }, (_, i) => torchGen[Math.floor(i / maxNew) * width + (i % maxNew)]!);
  const logits = await runner.logits(src.subarray(0, k * srcLen), tgt);
  runner.dispose();
  return logits;
}

/** Rows of `out` (of `width` tokens) equal to the expected ones, and to PyTorch's, over the first n. */
function scoreRows(out: Int32Array, expected: Int32Array, torchGen: Int32Array, width: number, n: number): { exact: number; agree: number } {
  const rowEq = (a: Int32Array, b: Int32Array, r: number) => a.subarray(r * width, (r + 1) * width).every((v, i) => v === b[r * width + i]);
  let exact = 0;
  let agree = 0;
  for (let r = 0; r < n; r++) {
    if (rowEq(out, expected, r)) exact++;
    if (rowEq(out, torchGen, r)) agree++;
  }
  return { exact, agree };
}

/** Cached-decoding tokens/s per backend, for the comparison with the RNN. */
type Throughput = Map<string, number>;

async function transformerDemo(): Promise<Throughput> {
  const m = (await loadModel(`${DIR}/transformer-reverse.json`, `${DIR}/transformer-reverse.safetensors`)) as Extract<LoadedModel, { kind: 'transformer' }>;
  const c = m.model.config;
  const torch = await readSafetensorsFile(`${DIR}/transformer-reverse.pytorch.safetensors`);
  const toI32 = (name: string) => Int32Array.from(torch.tensors.get(name)!.data as BigInt64Array, Number);
  const srcT = torch.tensors.get('src')!;
  const [count, srcLen] = srcT.shape as [number, number];
  const src = toI32('src');
  const expected = toI32('expected');
  const torchGen = toI32('generated');
  const torchLogits = torch.tensors.get('logits')!.data as Float32Array;
  const width = torch.tensors.get('generated')!.shape[1]!;
  const maxNew = width - 1;
  const torchExact = scoreRows(torchGen, expected, torchGen, width, count).exact;
  console.log(`\nTransformer reversing digit strings: d_model ${c.d_model}, ${c.nhead} heads, ${c.num_encoder_layers}+${c.num_decoder_layers} layers, vocabulary ${c.tgt_vocab}`);
  console.log(`  data: ${count} test sources of 1-${srcLen} digits; greedy decoding of up to ${maxNew} tokens`);
  console.log(`  PyTorch ${torch.metadata.torch ?? ''} (float32): exact match ${pct(torchExact, count)}\n`);

  const rows: string[][] = [];
  const throughput: Throughput = new Map();
  let cpuOut: Int32Array | undefined;
  for (const backend of backends) {
    const n = Math.min(count, SUBSET[backend]?.sequences ?? count);
    try {
      const batch = Math.min(BATCH, n);
      const input = src.subarray(0, n * srcLen);
      const { out, compileMs, seconds: cachedS, tokens } = await timedGeneration(m, backend, batch, srcLen, maxNew, input);
      throughput.set(backend, tokens / cachedS);
      if (backend === 'cpu') cpuOut = out;
      const full = await compileGenerator(m.model, m.weights, { backend, batch, srcLen, maxNewTokens: maxNew, cache: false });
      const t2 = performance.now();
      const outFull = await full.generate(input);
      const fullS = (performance.now() - t2) / 1000;
      full.dispose();
      const sameTokens = outFull.every((v, i) => v === out[i]);
      // Teacher-forced logits along PyTorch's greedy output, against PyTorch's.
      const logits = await logitsAlong(m, backend, srcLen, input, torchGen, width, n);
      const { exact, agree } = scoreRows(out, expected, torchGen, width, n);
      rows.push([
        backend, `${n}${n < count ? '*' : ''}`, pct(exact, n), pct(agree, n), worstDiff(logits, torchLogits.subarray(0, logits.length)).toExponential(2), fmt(compileMs, 0),
        fmt(tokens / cachedS, 0), fmt(tokens / fullS, 0), sameTokens ? 'yes' : 'NO',
      ]);
    } catch (e) {
      rows.push([backend, '-', `failed: ${e instanceof Error ? e.message.split('\n')[0] : String(e)}`, '', '', '', '', '', '']);
    }
  }
  table(['backend', 'sequences', 'exact match', 'agrees with PyTorch', 'worst |Δ logit|', 'compile ms', 'tokens/s cached', 'tokens/s recomputed', 'same tokens'], rows);
  console.log('  tokens/s: sequences x decoder steps per second; "cached" runs the encoder once and one decoder step per token over a key/value cache,');
  console.log('  "recomputed" reruns the whole model over every position at each step; "same tokens": both give identical outputs');
  if (rows.some((r) => r[1]!.endsWith('*'))) console.log(SUBSET_NOTE);
  if (cpuOut) {
    console.log('\n  examples (cpu backend):');
    for (const r of [0, 1, 2, 3, 4]) {
      const s = digits(src.subarray(r * srcLen, (r + 1) * srcLen));
      const got = digits(cpuOut.subarray(r * width, (r + 1) * width));
      console.log(`    ${s.padStart(srcLen)} -> ${got.padEnd(srcLen)} ${got === [...s].reverse().join('') ? 'right' : 'WRONG'}`);
    }
  }
  return throughput;
}

/** Attention weights [T, S] as a text heat map: source digits across, generated digits down, darker = more weight. */
function heatMap(weights: Float32Array, src: ArrayLike<number>, out: ArrayLike<number>, srcLen: number): string[] {
  const shades = ' .:-=+*#%@';
  const cols = Array.from({ length: srcLen }, (_, j) => j).filter((j) => src[j]! >= 3);
  const lines = [`      ${cols.map((j) => ` ${src[j]! - 3}`).join('')}   (source)`];
  for (let i = 0; i + 1 < out.length && out[i + 1]! >= 2; i++) {
    const label = out[i + 1] === 2 ? 'eos' : String(out[i + 1]! - 3);
    lines.push(`  ${label.padStart(3)} ${cols.map((j) => ` ${shades[Math.min(9, Math.floor(weights[i * srcLen + j]! * 10))]}`).join('')}`);
  }
  return lines;
}

async function rnnDemo(transformer: Throughput): Promise<void> {
  const m = (await loadModel(`${DIR}/rnn-reverse.json`, `${DIR}/rnn-reverse.safetensors`)) as Extract<LoadedModel, { kind: 'seq2seq_rnn' }>;
  const c = m.model.config;
  const torch = await readSafetensorsFile(`${DIR}/rnn-reverse.pytorch.safetensors`);
  const toI32 = (name: string) => Int32Array.from(torch.tensors.get(name)!.data as BigInt64Array, Number);
  const [count, srcLen] = torch.tensors.get('src')!.shape as [number, number];
  const src = toI32('src');
  const expected = toI32('expected');
  const torchGen = toI32('generated');
  const torchLogits = torch.tensors.get('logits')!;
  const detailed = torchLogits.shape[0]!;
  const width = torch.tensors.get('generated')!.shape[1]!;
  const maxNew = width - 1;
  console.log(`\nRNN encoder-decoder with attention reversing digit strings: ${c.cell.toUpperCase()}, ${c.attention} scores, hidden ${c.hidden_size}, embeddings ${c.embedding_dim}, ${c.num_layers} layer`);
  console.log(`  data: the same ${count} test sources; greedy decoding of up to ${maxNew} tokens, one decoder step per token carrying the recurrent state`);
  console.log(`  PyTorch ${torch.metadata.torch ?? ''} (float32): exact match ${pct(Number(torch.metadata.correct), count)}\n`);

  const rows: string[][] = [];
  for (const backend of backends) {
    const n = Math.min(count, SUBSET[backend]?.sequences ?? count);
    try {
      const batch = Math.min(BATCH, n);
      const input = src.subarray(0, n * srcLen);
      const { out, compileMs, seconds, tokens } = await timedGeneration(m, backend, batch, srcLen, maxNew, input);
      // Teacher-forced logits along PyTorch's greedy output, against PyTorch's (recorded for the first sequences).
      const logits = await logitsAlong(m, backend, srcLen, input, torchGen, width, Math.min(n, detailed));
      const { exact, agree } = scoreRows(out, expected, torchGen, width, n);
      const tps = tokens / seconds;
      const vsTransformer = transformer.get(backend);
      rows.push([
        backend, `${n}${n < count ? '*' : ''}`, pct(exact, n), pct(agree, n), worstDiff(logits, (torchLogits.data as Float32Array).subarray(0, logits.length)).toExponential(2), fmt(compileMs, 0),
        fmt(tps, 0), vsTransformer ? fmt(vsTransformer, 0) : '-',
      ]);
    } catch (e) {
      rows.push([backend, '-', `failed: ${e instanceof Error ? e.message.split('\n')[0] : String(e)}`, '', '', '', '', '']);
    }
  }
  table(['backend', 'sequences', 'exact match', 'agrees with PyTorch', 'worst |Δ logit|', 'compile ms', 'tokens/s', 'Transformer tokens/s'], rows);
  console.log('  tokens/s: sequences x decoder steps per second (both models cached: the RNN carries its state, the Transformer a key/value cache)');
  if (rows.some((r) => r[1]!.endsWith('*'))) console.log(SUBSET_NOTE);

  if (backends.includes('cpu')) {
    // The longest of the first test sources, for a map with room to show the anti-diagonal.
    const lengths = Array.from({ length: 20 }, (_, r) => digits(src.subarray(r * srcLen, (r + 1) * srcLen)).length);
    const r = lengths.indexOf(Math.max(...lengths));
    const one = src.subarray(r * srcLen, (r + 1) * srcLen);
    const gen = await compileGenerator(m.model, m.weights, { backend: 'cpu', batch: 1, srcLen, maxNewTokens: maxNew, attentions: true });
    const out = await gen.generate(Int32Array.from(one));
    const weights = gen.attentions[ALIGNMENT.file]!;
    gen.dispose();
    console.log(`\n  alignment of test sequence #${r} (cpu backend; ${ALIGNMENT.file}, the attention weights of each generated token):`);
    console.log(`    ${digits(one)} -> ${digits(out)}\n`);
    for (const line of heatMap(weights, one, out, srcLen)) console.log(`  ${line}`);
    console.log("    (darker = more weight: ' .:-=+*#%@'; a reversal reads the source right to left, an anti-diagonal)");
  }
}

const t0 = performance.now();
console.log(`Tessera: trained models on real data, on every backend available here (${backends.join(', ')})`);
await vitDemo();
await onnxDemo();
await rnnDemo(await transformerDemo());
console.log(`\ndone in ${fmt((performance.now() - t0) / 1000)} s`);
