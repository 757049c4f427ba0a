/**
 * Int8 accuracy of the trained models (issue 16), against PyTorch's fp32
 * results committed beside them:
 *   - the Fashion-MNIST ViT in int8: agreement of its predictions with
 *     PyTorch's fp32 ones over the full test set (apt-get install
 *     dataset-fashion-mnist; else the 1,000 bundled images), its accuracy,
 *     and the worst logit error;
 *   - the digit-reversal Transformer in int8: exact match of greedy
 *     generation (the recorded `expected` tokens), agreement with PyTorch's tokens;
 *   - the random-weight fixtures (packages/models/fixtures): the worst logit
 *     error of int8 against PyTorch's float64 outputs, and against the int8
 *     program on the interpreter.
 * PyTorch's own int8 on the same models: tools/int8_pytorch_dynamic.py.
 * Run: `npx tsx tools/int8_accuracy.ts` (the CPU backend, wasm).
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { enableRelaxedSimd } from '@tessera/backend-cpu';
import { readSafetensorsFile } from '@tessera/ir/node';
import { argmax, compileGenerator, compileSeq2Seq, compileVit, pixelValues } from '@tessera/models';
import { type LoadedModel, loadModel, readInstalledTestSet, readSample } from '@tessera/models/node';

const TRAINED = resolve(import.meta.dirname, '../packages/models/trained');
const path = (f: string) => join(TRAINED, f);
enableRelaxedSimd();

const vitModel = (await loadModel(path('vit-fashion-mnist.json'), path('vit-fashion-mnist.safetensors'))) as Extract<LoadedModel, { kind: 'vit' }>;
const data = (await readInstalledTestSet()) ?? (await readSample(path('fashion-mnist-sample.safetensors')));
const torch = await readSafetensorsFile(path('vit-fashion-mnist.pytorch.safetensors'));
const torchPred = torch.tensors.get('predictions')!.data as Uint8Array;
const torchLogits = torch.tensors.get('logits')!.data as Float32Array;
for (const quantize of [undefined, 'int8'] as const) {
  const vit = await compileVit(vitModel.model, vitModel.weights, { backend: 'cpu', batch: 250, ...(quantize ? { quantize } : {}) });
  const logits = await vit.logits(pixelValues(data));
  vit.dispose();
  let agree = 0;
  let correct = 0;
  let worst = 0;
  for (let i = 0; i < data.count; i++) {
    const p = argmax(logits, i * 10, 10);
    if (p === torchPred[i]) agree++;
    if (p === data.labels[i]) correct++;
    for (let c = 0; c < 10; c++) worst = Math.max(worst, Math.abs(logits[i * 10 + c]! - torchLogits[i * 10 + c]!));
  }
  console.log(`ViT ${quantize ?? 'fp32'} on ${data.count} images (${data.source}): agreement with PyTorch fp32 ${((100 * agree) / data.count).toFixed(2)}% (${agree}), accuracy ${((100 * correct) / data.count).toFixed(2)}%, worst |logit diff| ${worst.toPrecision(3)}`);
}

const tm = (await loadModel(path('transformer-reverse.json'), path('transformer-reverse.safetensors'))) as Extract<LoadedModel, { kind: 'transformer' }>;
const tt = (await readSafetensorsFile(path('transformer-reverse.pytorch.safetensors'))).tensors;
const src = Int32Array.from(tt.get('src')!.data as BigInt64Array, Number);
const [n, srcLen] = tt.get('src')!.shape as [number, number];
const gen = Int32Array.from(tt.get('generated')!.data as BigInt64Array, Number);
const width = tt.get('generated')!.shape[1]!;
const expected = Int32Array.from(tt.get('expected')!.data as BigInt64Array, Number);
for (const quantize of [undefined, 'int8'] as const) {
  const g = await compileGenerator(tm.model, tm.weights, { backend: 'cpu', batch: 100, srcLen, maxNewTokens: width - 1, ...(quantize ? { quantize } : {}) });
  const out = await g.generate(src);
  g.dispose();
  let same = 0;
  let exact = 0;
  for (let r = 0; r < n; r++) {
    const row = out.subarray(r * width, (r + 1) * width);
    if (row.every((v, i) => v === gen[r * width + i])) same++;
    if (row.every((v, i) => v === expected[r * width + i])) exact++;
  }
  console.log(`Transformer ${quantize ?? 'fp32'} on ${n} sequences: exact match ${((100 * exact) / n).toFixed(2)}%, same tokens as PyTorch ${((100 * same) / n).toFixed(2)}%`);
}

// The random-weight fixtures: int8 logits against PyTorch's fp32 (float64) outputs, and against Tessera's own int8 interpreter.
const FIXTURES = resolve(import.meta.dirname, '../packages/models/fixtures');
for (const name of readdirSync(FIXTURES).filter((f) => f.endsWith('.json')).map((f) => f.slice(0, -5)).sort()) {
  const f = await loadModel(join(FIXTURES, `${name}.json`), join(FIXTURES, `${name}.safetensors`));
  const io = (await readSafetensorsFile(join(FIXTURES, `${name}.io.safetensors`))).tensors;
  const shape = (JSON.parse(readFileSync(join(FIXTURES, `${name}.json`), 'utf8')) as { fixture: { batch: number; src_len?: number; tgt_len?: number } }).fixture;
  const expectedLogits = io.get('logits')!.data as Float32Array;
  const logits = async (backend: 'cpu' | 'interp') => {
    if (f.kind === 'vit') {
      const vit = await compileVit(f.model, f.weights, { backend, batch: shape.batch, quantize: 'int8' });
      const out = await vit.logits(io.get('pixel_values')!.data as Float32Array);
      vit.dispose();
      return out;
    }
    const run = await compileSeq2Seq(f.model, f.weights, { backend, batch: shape.batch, srcLen: shape.src_len!, tgtLen: shape.tgt_len!, quantize: 'int8' });
    const tokens = (t: string) => Int32Array.from(io.get(t)!.data as BigInt64Array, Number);
    const out = await run.logits(tokens('src'), tokens('tgt'));
    run.dispose();
    return out;
  };
  const [cpu, interp] = [await logits('cpu'), await logits('interp')];
  let range = 0;
  for (const v of expectedLogits) range = Math.max(range, Math.abs(v));
  console.log(`fixture ${name}: int8 cpu worst |logit diff| vs PyTorch fp32 ${maxDiff(cpu, expectedLogits).toPrecision(3)} (logits up to ${range.toPrecision(3)}), vs the int8 interpreter ${maxDiff(cpu, interp).toPrecision(3)}`);
}

function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < b.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}
