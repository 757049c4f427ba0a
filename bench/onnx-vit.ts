/**
 * ViT-B/16 imported from ONNX next to the DSL's ViT-B/16, on the CPU
 * backend in this one process: kernel counts, then alternating timed runs
 * (batch 1, 224x224), the median of each and their ratio. The ONNX file is
 * torchvision's ViT-B/16 with random weights by PyTorch's TorchScript
 * exporter, made on demand (not committed):
 *
 *     /work/pyenv/bin/python tools/make_onnx_fixtures.py --vit-b16 /tmp/tessera-onnx/vit-b-16.onnx
 *     pnpm exec tsx bench/onnx-vit.ts [/tmp/tessera-onnx/vit-b-16.onnx] [ROUNDS]
 */
import { existsSync } from 'node:fs';
import { type Program, numel } from '@tessera/ir';
import { compile, enableRelaxedSimd } from '@tessera/compiler';
import { VIT_PRESETS, VisionTransformer, traceVit } from '@tessera/models';
import { readOnnxFile } from '@tessera/onnx/node';
import { compileProgram } from '@tessera/passes';
import { idleGap, printTable, seededArray } from './timing.ts';

enableRelaxedSimd();
const path = process.argv[2] ?? '/tmp/tessera-onnx/vit-b-16.onnx';
const rounds = Number(process.argv[3] ?? 7);
if (!existsSync(path)) {
  process.stderr.write(`${path} is missing: /work/pyenv/bin/python tools/make_onnx_fixtures.py --vit-b16 ${path}\n`);
  process.exit(2);
}

/** Seeded weights of a program's parameters, scaled by fan-in. */
function seededWeights(p: Program): Record<string, Float32Array> {
  return Object.fromEntries(
    p.inputs
      .filter((i) => i.kind === 'parameter')
      .map((i, k) => {
        const a = seededArray(numel(i.type.shape), k + 1);
        const scale = 1 / Math.sqrt(i.type.shape.at(-1) ?? 1);
        for (let j = 0; j < a.length; j++) a[j]! *= scale;
        return [i.name, a];
      }),
  );
}

const imported = readOnnxFile(path);
const dsl = traceVit(new VisionTransformer(VIT_PRESETS['vit-b-16']!), 1);
const kernels = (p: Program) => compileProgram(p).kernels.kernels.length;
console.log(`ViT-B/16 (12 layers): DSL ${kernels(dsl)} kernels, ONNX ${kernels(imported.program)} kernels (${imported.producer}, opset ${imported.opset})`);

const pixels = seededArray(3 * 224 * 224, 7);
const exes = {
  dsl: await compile(dsl, { backend: 'cpu', weights: seededWeights(dsl) }),
  onnx: await compile(imported.program, { backend: 'cpu', weights: imported.weights }),
};
const times: Record<keyof typeof exes, number[]> = { dsl: [], onnx: [] };
for (let r = -1; r < rounds; r++) {
  // Alternating, the order flipped every round, so a change of machine load hits both alike.
  const order = (r & 1 ? ['onnx', 'dsl'] : ['dsl', 'onnx']) as (keyof typeof exes)[];
  for (const k of order) {
    await idleGap();
    const t = performance.now();
    await exes[k].run({ pixel_values: pixels });
    if (r >= 0) times[k].push(performance.now() - t);
  }
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
const [d, o] = [median(times.dsl), median(times.onnx)];
printTable(`cpu backend, batch 1, ${rounds} alternating rounds after one warm-up`, ['model', 'median ms', 'min ms', 'max ms'], [
  ['DSL ViT-B/16', d.toFixed(1), Math.min(...times.dsl).toFixed(1), Math.max(...times.dsl).toFixed(1)],
  ['ONNX ViT-B/16', o.toFixed(1), Math.min(...times.onnx).toFixed(1), Math.max(...times.onnx).toFixed(1)],
]);
console.log(`ONNX / DSL median latency: ${(o / d).toFixed(3)}`);
for (const e of Object.values(exes)) e.dispose();
process.exit(0);
