/**
 * Section c: WebGPU speed. ViT latency (ViT-B/16 at batch 1 and 32 first)
 * with seeded weights and compile time (`tessera bench`'s prepareModel) and
 * a kernel profile of one more run (time per kind, the slowest kernels);
 * matmul GFLOP/s per variant at ViT-B's linear shapes and 1024³ (each run
 * uploads A and reads C back, W placed once, as bench/webgpu.ts times it);
 * a sweep of tiled blocks. The peers are in bench-peers.ts.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { ProgramBuilder, tensorType } from '@tessera/ir';
import { lowerToKernels } from '@tessera/passes';
import { type KernelTiming, type VariantOverrides, type WebgpuBackend, slowestFirst, totalsByKind } from '@tessera/backend-webgpu';
import { VIT_PRESETS } from '@tessera/models';
import { prepareModel } from '../../packages/cli/src/commands/bench.ts';
import { configModel } from '../../packages/cli/src/model-source.ts';
import { seededArray } from '../../bench/timing.ts';
import { timeWithin } from './timing.ts';
import type { Variants } from './environment.ts';
import { type Report, errorText, log } from './report.ts';

const gflops = (m: number, k: number, n: number, ms: number) => (2 * m * k * n) / ms / 1e6;

/** Times a matmul-sized call: median of 9 after 2 warm-ups on the GPU, 3 after 1 in quick mode; at most about 3 s (slow variants on llvmpipe take fewer). */
const timeCall = (fn: () => Promise<unknown>, quick: boolean) => timeWithin(fn, quick ? 3 : 9, quick ? 1 : 2, 3);

/** C = A @ W on the backend with W a parameter placed once; the run uploads A and reads C back. */
export async function timeMatmul(be: WebgpuBackend, m: number, k: number, n: number, variants: VariantOverrides, quick: boolean): Promise<{ variant: string; median_ms: number; min_ms: number; runs: number; gflops: number; compile_ms: number }> {
  const b = new ProgramBuilder('mm');
  b.output('y', b.emit('matmul', [b.input('a', tensorType('f32', [m, k])), b.param('w', tensorType('f32', [k, n]))]));
  const t0 = performance.now();
  const exe = await be.compile(lowerToKernels(b.build()), variants);
  const compileMs = performance.now() - t0;
  try {
    const a = seededArray(m * k, 1);
    const inputs: Record<string, Float32Array> = { a };
    exe.setInputs({ w: seededArray(k * n, 2) });
    const t = await timeCall(() => exe.run(inputs), quick);
    return { variant: exe.shaders.map((s) => s.variant).join(' + '), median_ms: t.median, min_ms: t.min, runs: t.runs, gflops: gflops(m, k, n, t.median), compile_ms: compileMs };
  } finally {
    exe.dispose();
  }
}

/** The record of a kernel profile: method, total, ms per kind, the 5 slowest kernels, and every kernel as [name, variant, ms] in launch order. */
function profileRecord(kernels: readonly KernelTiming[]): Record<string, unknown> {
  const total = kernels.reduce((s, k) => s + k.ms, 0);
  return {
    method: [...new Set(kernels.map((k) => k.method))].join(','),
    dispatches: kernels.length,
    total_ms: total,
    by_kind: totalsByKind(kernels),
    top: slowestFirst(kernels).slice(0, 5).map(({ name, variant, ms, dispatch }) => ({ name, variant, ms, dispatch })),
    kernels: kernels.map((k) => [k.name, k.variant, Number(k.ms.toFixed(4))]),
  };
}

/** Logs a profile record: ms and share per kind, then the 5 slowest kernels. */
function logProfile(report: Report, rec: Record<string, unknown>): void {
  const total = rec.total_ms as number;
  const share = (ms: number) => `${(total > 0 ? (100 * ms) / total : 0).toFixed(1).padStart(5)} %`;
  log(report, `    profile (${String(rec.method)}): ${String(rec.dispatches)} dispatches, ${total.toFixed(2)} ms in all`);
  for (const k of rec.by_kind as { kind: string; ms: number; dispatches: number }[]) log(report, `      ${k.kind.padEnd(10)} ${k.ms.toFixed(3).padStart(9)} ms ${share(k.ms)}  (${k.dispatches})`);
  for (const k of rec.top as { name: string; variant: string; ms: number }[]) log(report, `      top: ${k.name.padEnd(22)} ${k.ms.toFixed(3).padStart(9)} ms ${share(k.ms)}  ${k.variant}`);
}

/** Which ViTs to time and profile, the GPU targets first (ViT-B/16 at batch 1 and 32). */
const VITS: { name: string; batch: number }[] = [
  { name: 'vit-b-16', batch: 1 },
  { name: 'vit-b-16', batch: 32 },
  { name: 'vit-ti-16', batch: 1 },
  { name: 'vit-s-16', batch: 1 },
];

/** Section c. */
export async function benchWebgpu(report: Report, rec: Record<string, unknown>, be: WebgpuBackend, variants: Variants, deadline: () => number): Promise<void> {
  const quick = report.settings.quick;
  const dir = mkdtempSync(join(tmpdir(), 'device-check-'));
  const vits: Record<string, unknown>[] = [];
  rec.vit = vits;
  logClocks(report, rec, 'before the ViTs');
  for (const { name, batch } of quick ? [{ name: 'vit-ti-16', batch: 1 }] : VITS) {
    // A ViT-B compile plus runs takes a while even on a GPU: don't start one with under 20 s left.
    if (deadline() < 20) {
      vits.push({ model: name, batch, skipped: `out of time (${deadline().toFixed(0)} s left)` });
      log(report, `  ${name} batch ${batch}: skipped, out of time`);
      continue;
    }
    try {
      const config = join(dir, `${name}.json`);
      writeFileSync(config, JSON.stringify(VIT_PRESETS[name]));
      const s = VIT_PRESETS[name]!.image_size;
      const model = await prepareModel({ model: configModel(config, { pixel_values: { dtype: 'f32', shape: [batch, 3, s, s] } }), backend: 'webgpu' });
      try {
        const pixels = seededArray(batch * 3 * s * s, 5);
        const run = async () => (await model.run({ pixel_values: pixels })).logits!.data as Float32Array;
        const tFirst = performance.now();
        const first = await run();
        const firstMs = performance.now() - tFirst;
        const t = await timeWithin(run, quick ? 2 : 5, quick ? 0 : 1, 10);
        const finite = first.every((x) => Number.isFinite(x));
        const rec: Record<string, unknown> = { model: name, batch, median_ms: t.median, min_ms: t.min, first_run_ms: firstMs, compile_ms: model.compileMs, logits_finite: finite };
        vits.push(rec);
        log(report, `  ${name} batch ${batch}: median ${t.median.toFixed(2)} ms (min ${t.min.toFixed(2)}), first run ${firstMs.toFixed(0)} ms, compile ${model.compileMs.toFixed(0)} ms${finite ? '' : ', NON-FINITE logits'}`);
        report.save();
        // One more run, timed per kernel (a profile on the wall method costs about a run plus a submit per kernel).
        if (deadline() < 5) rec.profile = { skipped: 'out of time' };
        else {
          try {
            rec.profile = profileRecord(await model.profile!({ pixel_values: pixels }));
            logProfile(report, rec.profile as Record<string, unknown>);
          } catch (e) {
            rec.profile = { error: errorText(e) };
            log(report, `    profile failed: ${errorText(e)}`);
          }
        }
      } finally {
        model.dispose();
      }
    } catch (e) {
      vits.push({ model: name, batch, error: errorText(e) });
      log(report, `  ${name} batch ${batch}: failed: ${errorText(e)}`);
    }
    report.save();
  }
  logClocks(report, rec, 'after the ViTs');
  // Quick mode (llvmpipe): ViT-Ti's MLP shape; the naive and tiled variants take seconds per call there at ViT-B's.
  const shapes: [number, number, number][] = quick ? [[197, 192, 768]] : [[197, 3072, 768], [197, 768, 768], [197, 768, 3072], [1024, 1024, 1024]];
  const matmuls: Record<string, unknown>[] = [];
  rec.matmul = matmuls;
  log(report, 'matmul (ms per call incl. upload of A and read-back of C; W placed once; median)');
  for (const [m, k, n] of shapes) {
    for (const v of [undefined, ...variants.matmul]) {
      const label = v ?? 'default';
      if (deadline() < 0) {
        matmuls.push({ shape: [m, k, n], forced: label, skipped: 'out of time' });
        continue;
      }
      try {
        const r = await timeMatmul(be, m, k, n, v ? { matmul: v as VariantOverrides['matmul'] } : {}, quick);
        matmuls.push({ shape: [m, k, n], forced: label, ...r });
        log(report, `  (${m},${k},${n}) ${label.padEnd(8)} ${r.variant.padEnd(28)} ${r.median_ms.toFixed(2).padStart(9)} ms  ${r.gflops.toFixed(1).padStart(8)} GFLOP/s  (min ${r.min_ms.toFixed(2)} ms, compile ${r.compile_ms.toFixed(0)} ms)`);
      } catch (e) {
        matmuls.push({ shape: [m, k, n], forced: label, error: errorText(e) });
        log(report, `  (${m},${k},${n}) ${label}: failed: ${errorText(e)}`);
      }
      report.save();
    }
  }
  if (!quick) rec.tiled_sweep = await sweepTiled(report, be, deadline);
}

/** Logs the GPU's SM clock, power and temperature (nvidia-smi), when there is one: timings move with them. */
function logClocks(report: Report, rec: Record<string, unknown>, when: string): void {
  const r = spawnSync('nvidia-smi', ['--query-gpu=clocks.sm,clocks.max.sm,power.draw,temperature.gpu,utilization.gpu,clocks_throttle_reasons.active', '--format=csv,noheader'], { encoding: 'utf8' });
  if (r.status !== 0 || !r.stdout) return;
  const line = r.stdout.trim();
  ((rec.clocks ??= {}) as Record<string, string>)[when] = line;
  log(report, `  GPU ${when}: sm clock, max, power, temperature, utilisation, throttle reasons = ${line}`);
}

/** Tiled-matmul blocks tried by the sweep (outputs per invocation tm x tn, invocations wx x wy). */
const TILINGS = [
  { tm: 4, tn: 4, wx: 16, wy: 16 },
  { tm: 4, tn: 4, wx: 8, wy: 8 },
  { tm: 8, tn: 8, wx: 8, wy: 8 },
  { tm: 8, tn: 8, wx: 16, wy: 16 },
  { tm: 4, tn: 8, wx: 16, wy: 8 },
  { tm: 8, tn: 4, wx: 8, wy: 16 },
  { tm: 8, tn: 8, wx: 16, wy: 8 },
];

/**
 * Kernel time (GPU timestamps, median of 5 profiles) of the tiled matmul for
 * each block in TILINGS, on the shapes of ViT-B's linear layers with the
 * weight stored [out, in] as PyTorch's Linear keeps it, and on 1024^3.
 */
async function sweepTiled(report: Report, be: WebgpuBackend, deadline: () => number): Promise<Record<string, unknown>[]> {
  const out: Record<string, unknown>[] = [];
  log(report, 'tiled matmul blocks: kernel ms (GPU timestamps, median of 5) and TFLOP/s; weight [n, k] read transposed');
  const shapes: [number, number, number][] = [[197, 768, 2304], [197, 768, 3072], [197, 3072, 768], [197, 768, 768], [1024, 1024, 1024]];
  for (const [m, k, n] of shapes) {
    const b = new ProgramBuilder('linear');
    const w = b.emit('transpose', [b.param('w', tensorType('f32', [n, k]))], { perm: [1, 0] });
    b.output('y', b.emit('matmul', [b.input('a', tensorType('f32', [m, k])), w]));
    const kp = lowerToKernels(b.build());
    const inputs = { a: seededArray(m * k, 1), w: seededArray(n * k, 2) };
    const cells: string[] = [];
    for (const tiledTiling of TILINGS) {
      const tag = `${tiledTiling.tm}x${tiledTiling.tn}/${tiledTiling.wx}x${tiledTiling.wy}`;
      if (deadline() < 3) {
        out.push({ shape: [m, k, n], tiling: tag, skipped: 'out of time' });
        continue;
      }
      try {
        const exe = await be.compile(kp, { matmul: 'tiled', tiledTiling });
        try {
          await exe.run(inputs);
          const ms: number[] = [];
          for (let i = 0; i < 5; i++) ms.push((await exe.profile(inputs)).reduce((s, t) => s + t.ms, 0));
          ms.sort((x, y) => x - y);
          const med = ms[2]!;
          out.push({ shape: [m, k, n], tiling: tag, kernel_ms: med, tflops: gflops(m, k, n, med) / 1000 });
          cells.push(`${tag} ${med.toFixed(3)} ms ${(gflops(m, k, n, med) / 1000).toFixed(2)}`);
        } finally {
          exe.dispose();
        }
      } catch (e) {
        out.push({ shape: [m, k, n], tiling: tag, error: errorText(e) });
        cells.push(`${tag} failed: ${errorText(e)}`);
      }
    }
    log(report, `  (${m},${k},${n}): ${cells.join(' | ')}`);
    report.save();
  }
  return out;
}
