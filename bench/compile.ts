/**
 * Compile-time benchmark: the whole ViT-B/16 compile (trace, passes, CPU
 * code generation and instantiation) and the fusion statistics.
 */
import { VIT_PRESETS, VisionTransformer, traceVit } from '@tessera/models';
import { compileProgram, statsFor } from '@tessera/passes';
import { cpuBackend } from '@tessera/backend-cpu';
import { printTable } from './timing.ts';

/** Times each phase of compiling ViT-B/16 for the CPU backend (median of 3) and prints the fusion statistics. */
export async function benchCompile(): Promise<void> {
  const runs: { trace: number; passes: number; codegen: number }[] = [];
  for (let r = 0; r < 3; r++) {
    const t0 = performance.now();
    const program = traceVit(new VisionTransformer(VIT_PRESETS['vit-b-16']!), 1);
    const t1 = performance.now();
    const { kernels } = compileProgram(program, { maxBuffersPerKernel: cpuBackend.limits.maxBuffersPerKernel });
    const t2 = performance.now();
    const exe = await cpuBackend.compile(kernels);
    const t3 = performance.now();
    exe.dispose();
    runs.push({ trace: t1 - t0, passes: t2 - t1, codegen: t3 - t2 });
  }
  const median = (f: (x: (typeof runs)[number]) => number) => runs.map(f).sort((a, b) => a - b)[1]!;
  const total = median((x) => x.trace + x.passes + x.codegen);
  printTable('ViT-B/16 compile for the CPU backend (ms, median of 3; target < 2000 ms)', ['trace', 'passes', 'codegen', 'total'], [
    [median((x) => x.trace), median((x) => x.passes), median((x) => x.codegen), total].map((v) => v.toFixed(0)),
  ]);
  const s = statsFor(traceVit(new VisionTransformer(VIT_PRESETS['vit-b-16']!), 1), { verify: false });
  // Kernels per encoder layer: the difference one layer fewer makes.
  const fewer = statsFor(traceVit(new VisionTransformer({ ...VIT_PRESETS['vit-b-16']!, num_layers: 11 }), 1), { verify: false });
  printTable('ViT-B/16 fusion (batch 1, 224x224)', ['kernels', 'unfused', 'per layer', 'peak activations', 'parameters', 'GFLOP'], [
    [String(s.kernels), String(s.unfusedKernels), String(s.kernels - fewer.kernels), `${(s.peakActivationBytes / 2 ** 20).toFixed(2)} MiB`, `${(s.parameterBytes / 2 ** 20).toFixed(1)} MiB`, (s.flops / 1e9).toFixed(2)],
  ]);
}
