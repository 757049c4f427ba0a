/**
 * Section d: the wasm CPU backend's thread scaling on an unloaded machine:
 * matmul (197,768,3072) GFLOP/s and ViT latency (seeded weights, as
 * `tessera bench --backend cpu --threads N` measures it) per thread count.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { ProgramBuilder, tensorType } from '@tessera/ir';
import { lowerToKernels } from '@tessera/passes';
import { createCpuBackend } from '@tessera/backend-cpu';
import { VIT_PRESETS } from '@tessera/models';
import { prepareModel } from '../../packages/cli/src/commands/bench.ts';
import { configModel } from '../../packages/cli/src/model-source.ts';
import { seededArray } from '../../bench/timing.ts';
import { timeWithin } from './timing.ts';
import { type Report, errorText, log } from './report.ts';

/** Section d. */
export async function benchCpu(report: Report, rec: Record<string, unknown>, deadline: () => number): Promise<void> {
  const quick = report.settings.quick;
  rec.cpu_count = availableParallelism();
  const [m, k, n] = [197, 768, 3072];
  const matmuls: Record<string, unknown>[] = [];
  rec.matmul = matmuls;
  const b = new ProgramBuilder('mm');
  b.output('y', b.emit('matmul', [b.input('a', tensorType('f32', [m, k])), b.param('w', tensorType('f32', [k, n]))]));
  const kp = lowerToKernels(b.build());
  const a = seededArray(m * k, 1);
  const w = seededArray(k * n, 2);
  log(report, `wasm matmul (${m},${k},${n}), W placed once (setInputs), median`);
  for (const threads of quick ? [1, 2] : [1, 2, 4, 8, 16]) {
    if (deadline() < 5) {
      matmuls.push({ threads, skipped: 'out of time' });
      continue;
    }
    try {
      const exe = await createCpuBackend({ target: 'wasm', threads }).compile(kp);
      try {
        exe.setInputs!({ w });
        const t = await timeWithin(() => exe.run({ a }), quick ? 3 : 9, quick ? 1 : 2, 3);
        const gf = (2 * m * k * n) / t.median / 1e6;
        matmuls.push({ threads, median_ms: t.median, min_ms: t.min, runs: t.runs, gflops: gf });
        log(report, `  threads ${String(threads).padStart(2)}: ${t.median.toFixed(2).padStart(8)} ms  ${gf.toFixed(1).padStart(7)} GFLOP/s (min ${t.min.toFixed(2)} ms)`);
      } finally {
        exe.dispose();
      }
    } catch (e) {
      matmuls.push({ threads, error: errorText(e) });
      log(report, `  threads ${threads}: failed: ${errorText(e)}`);
    }
    report.save();
  }
  const model = quick ? 'vit-ti-16' : 'vit-b-16';
  const dir = mkdtempSync(join(tmpdir(), 'device-check-cpu-'));
  const config = join(dir, `${model}.json`);
  writeFileSync(config, JSON.stringify(VIT_PRESETS[model]));
  const vits: Record<string, unknown>[] = [];
  rec.vit = vits;
  log(report, `${model} batch 1 on the wasm backend, seeded weights`);
  // Most threads first: the single-threaded run is the slowest, and the one to lose if time runs out.
  for (const threads of quick ? [2, 1] : [16, 2, 1]) {
    if (deadline() < (quick ? 5 : 15)) {
      vits.push({ model, threads, skipped: `out of time (${deadline().toFixed(0)} s left)` });
      log(report, `  threads ${threads}: skipped, out of time`);
      continue;
    }
    try {
      const prepared = await prepareModel({ model: configModel(config), backend: 'cpu', threads });
      try {
        const t = await timeWithin(() => prepared.run(), quick ? 2 : 5, 1, Math.max(1, Math.min(15, deadline() / 2)));
        vits.push({ model, threads, median_ms: t.median, min_ms: t.min, runs: t.runs, compile_ms: prepared.compileMs });
        log(report, `  threads ${String(threads).padStart(2)}: median ${t.median.toFixed(1)} ms (min ${t.min.toFixed(1)}, ${t.runs} runs), compile ${prepared.compileMs.toFixed(0)} ms`);
      } finally {
        prepared.dispose();
      }
    } catch (e) {
      vits.push({ model, threads, error: errorText(e) });
      log(report, `  threads ${threads}: failed: ${errorText(e)}`);
    }
    report.save();
  }
}
