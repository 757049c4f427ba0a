/**
 * Section "vit peers" (first after the environment: issue 16's GPU
 * targets): ViT-B/16 at batch 1 and 32 on WebGPU, Tessera against
 * onnxruntime-web's WebGPU execution provider (its bundle in Node, Dawn as
 * navigator.gpu, the ONNX model written in memory by bench/onnx-vit.ts on
 * the same seeded weights) and jax-js on the same adapter. Each runtime is
 * set up once per batch (setup times and the logits' distance from
 * Tessera's recorded), then timed in alternating rounds so all see the same
 * GPU clock; medians per runtime and the ratios Tessera / peer. Then
 * Tessera's own options (TESSERA_OPTIONS: f16, split-K off) against its
 * default, also alternating. Every step writes the JSON.
 * Quick mode (llvmpipe): ViT-Ti/16 at batch 1 and 2, one round.
 */
import type { SafetensorsTensor } from '@tessera/ir';
import { compileProgram } from '@tessera/passes';
import { type VariantOverrides, type WebgpuBackend, type WebgpuExecutable } from '@tessera/backend-webgpu';
import { VIT_PRESETS, buildModel, traceVit, type VisionTransformer } from '@tessera/models';
import { seededArray } from '../../bench/timing.ts';
import { type Timed, jaxVit, ortWebgpuVit, withNavigator } from '../../bench/webgpu-peers.ts';
import { type OnnxVitConfig, vitOnnxModel } from '../../bench/onnx-vit.ts';
import { timeWithin } from './timing.ts';
import { type Report, errorText, log } from './report.ts';

/** Tessera's compile options measured against its default (each needs the backend to know the key; an unknown one fails its row only). */
export const TESSERA_OPTIONS: { label: string; overrides: VariantOverrides }[] = [
  { label: 'split-K off', overrides: { splitK: false } },
  { label: 'f16', overrides: { precision: 'f16' } },
];

/** Seeded weights as `tessera bench` makes them (uniform, variance ~1/fan-in) by torchvision name: Tessera and both peers run the same model. */
export function seededVitWeights(name: string): Record<string, SafetensorsTensor> {
  const program = traceVit(buildModel(VIT_PRESETS[name]!) as VisionTransformer, 1);
  const tensors: Record<string, SafetensorsTensor> = {};
  let seed = 1;
  for (const p of program.inputs.filter((i) => i.kind === 'parameter')) {
    const shape = p.type.shape;
    const n = shape.reduce((a, b) => a * b, 1);
    const scale = shape.length >= 2 ? Math.sqrt(3 / shape.slice(1).reduce((a, b) => a * b, 1)) : 0.1;
    const data = seededArray(n, seed++ * 0x9e3779b1);
    for (let i = 0; i < n; i++) data[i]! *= scale;
    tensors[p.name] = { dtype: 'F32', shape, data };
  }
  return tensors;
}

/** A runtime set up for one batch: its timed call and how to let it go. */
interface Runner {
  readonly label: string;
  readonly run: Timed;
  readonly dispose: () => unknown;
}

/** Rejects after `s` seconds (a hung driver call or wasm instantiation must not take the run's budget). */
function within<T>(p: Promise<T>, s: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer after ${s.toFixed(0)} s`)), s * 1000);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

/** Tessera's ViT at `batch` compiled on the backend with `overrides`, weights placed once. */
async function tesseraVit(be: WebgpuBackend, name: string, batch: number, weights: Record<string, SafetensorsTensor>, pixels: Float32Array, overrides: VariantOverrides): Promise<{ exe: WebgpuExecutable; run: Timed }> {
  const program = traceVit(buildModel(VIT_PRESETS[name]!) as VisionTransformer, batch);
  const { kernels } = compileProgram(program, { verify: false, maxBuffersPerKernel: be.limits.maxBuffersPerKernel });
  const exe = await be.compile(kernels, overrides);
  try {
    exe.setInputs(Object.fromEntries(Object.entries(weights).map(([k, t]) => [k, t.data as Float32Array])));
  } catch (e) {
    exe.dispose();
    throw e;
  }
  return { exe, run: async () => (await exe.run({ pixel_values: pixels })).logits!.data as Float32Array };
}

const maxAbsDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return a.length === b.length ? m : NaN;
};

/** Median of a list. */
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
};

/** The section. */
export async function benchPeers(report: Report, rec: Record<string, unknown>, be: WebgpuBackend, deadline: () => number): Promise<void> {
  const quick = report.settings.quick;
  const name = quick ? 'vit-ti-16' : 'vit-b-16';
  const batches = quick ? [1, 2] : [1, 32];
  rec.model = name;
  const t0 = performance.now();
  const weights = seededVitWeights(name);
  log(report, `${name}: seeded weights in ${(performance.now() - t0).toFixed(0)} ms; batches ${batches.join(', ')}; Tessera options: ${TESSERA_OPTIONS.map((o) => o.label).join(', ') || 'none'}`);
  const config: OnnxVitConfig = VIT_PRESETS[name]!;
  const size = config.image_size;
  const out: Record<string, unknown>[] = [];
  rec.batches = out;
  const jaxOn = process.env.DEVICE_CHECK_JAX !== '0';
  const ortOn = process.env.DEVICE_CHECK_ORT !== '0';
  await withNavigator(be.adapter, async () => {
    for (const batch of batches) {
      const b: Record<string, unknown> = { batch };
      out.push(b);
      if (deadline() < 10) {
        b.skipped = `out of time (${deadline().toFixed(0)} s left)`;
        log(report, `  batch ${batch}: skipped, out of time`);
        continue;
      }
      const pixels = seededArray(batch * 3 * size * size, 5);
      const runners: Runner[] = [];
      const setup: Record<string, unknown> = {};
      b.setup = setup;
      let ours: ArrayLike<number> | undefined;
      // Set up each runtime: time to a first result, and the logits' distance from Tessera's.
      const add = async (label: string, make: () => Promise<Runner>, limitS: number) => {
        if (deadline() < 10) {
          setup[label] = { skipped: 'out of time' };
          log(report, `  batch ${batch} ${label}: skipped, out of time`);
          return;
        }
        const t = performance.now();
        try {
          const r = await within(make(), Math.min(limitS, deadline() - 5), `${label} setup`);
          const first = await within(r.run(), Math.min(limitS, deadline() - 5), `${label} first run`);
          const ms = performance.now() - t;
          const finite = Array.from(first).every(Number.isFinite);
          if (label === 'tessera') ours = first;
          const diff = ours && label !== 'tessera' ? maxAbsDiff(first, ours) : undefined;
          setup[label] = { setup_and_first_run_ms: ms, logits_finite: finite, ...(diff !== undefined ? { max_abs_diff_vs_tessera: diff } : {}) };
          log(report, `  batch ${batch} ${label.padEnd(22)} set up and first run ${ms.toFixed(0)} ms${diff !== undefined ? `, max |Δ logits| vs Tessera ${diff.toExponential(1)}` : ''}${finite ? '' : ', NON-FINITE logits'}`);
          runners.push(r);
        } catch (e) {
          setup[label] = { error: errorText(e), after_ms: performance.now() - t };
          log(report, `  batch ${batch} ${label}: failed: ${errorText(e)}`);
        }
        report.save();
      };
      await add('tessera', async () => {
        const { exe, run } = await tesseraVit(be, name, batch, weights, pixels, {});
        return { label: 'tessera', run, dispose: () => exe.dispose() };
      }, 60);
      if (ortOn) {
        await add('onnxruntime-web webgpu', async () => {
          const model = vitOnnxModel(config, weights, batch);
          const s = await ortWebgpuVit(model, pixels, [batch, 3, size, size]);
          return { label: 'onnxruntime-web webgpu', run: s.run, dispose: () => s.release() };
        }, quick ? 150 : 60);
      }
      // Quick mode (llvmpipe): jax-js at the first batch only (its batch 2 of ViT-Ti takes minutes there).
      if (jaxOn && !(quick && batch !== batches[0])) await add('jax-js webgpu', async () => ({ label: 'jax-js webgpu', run: await jaxVit(weights, pixels, name, batch), dispose: () => {} }), 60);
      // Quick mode (llvmpipe, where a ViT compile takes about 50 s): Tessera's options at the first batch only.
      for (const o of quick && batch !== batches[0] ? [] : TESSERA_OPTIONS) {
        await add(`tessera ${o.label}`, async () => {
          const { exe, run } = await tesseraVit(be, name, batch, weights, pixels, o.overrides);
          return { label: `tessera ${o.label}`, run, dispose: () => exe.dispose() };
        }, 60);
      }
      // Alternating rounds: each runtime in turn, a few timed runs each, so all see the same clock.
      const rounds: Record<string, number>[] = [];
      b.rounds = rounds;
      // Quick mode (llvmpipe): one timed run each (batch 2 of jax-js takes about 35 s there).
      const runsPer = quick ? 1 : batch === 1 ? 5 : 3;
      for (let r = 0; r < (quick ? 1 : 3) && runners.length; r++) {
        if (deadline() < 8) {
          log(report, `  batch ${batch}: round ${r + 1} skipped, out of time`);
          break;
        }
        const row: Record<string, number> = {};
        for (const x of runners) {
          try {
            row[x.label] = (await timeWithin(x.run, runsPer, quick ? 0 : 1, 4)).median;
          } catch (e) {
            log(report, `  batch ${batch} ${x.label}: failed in round ${r + 1}: ${errorText(e)}`);
          }
        }
        rounds.push(row);
        log(report, `  batch ${batch} round ${r + 1}: ${Object.entries(row).map(([k, v]) => `${k} ${v.toFixed(2)} ms`).join(', ')}`);
        report.save();
      }
      const med: Record<string, number> = {};
      for (const x of runners) {
        const xs = rounds.map((row) => row[x.label]).filter((v): v is number => v !== undefined);
        if (xs.length) med[x.label] = median(xs);
      }
      b.median_ms = med;
      const ratios: Record<string, number> = {};
      const t = med.tessera;
      if (t !== undefined) for (const [k, v] of Object.entries(med)) if (k !== 'tessera') ratios[`tessera / ${k}`] = t / v;
      b.ratios = ratios;
      log(report, `  batch ${batch} medians: ${Object.entries(med).map(([k, v]) => `${k} ${v.toFixed(2)} ms`).join(', ')}`);
      log(report, `  batch ${batch} ratios (below 1: Tessera faster): ${Object.entries(ratios).map(([k, v]) => `${k} ${v.toFixed(2)}`).join(', ') || '-'}`);
      for (const x of runners) {
        try {
          await x.dispose();
        } catch {
          // Figures are recorded; a runtime that will not let go does not matter now.
        }
      }
      report.save();
    }
  });
}
