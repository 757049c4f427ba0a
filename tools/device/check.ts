/**
 * The device check: one script, run once on a machine with a GPU (bundled
 * by pack.sh, run by run.sh under plain node), that records in
 * $OUT/device-check.json and prints as it goes:
 *   a. the environment and the WebGPU adapter the backend finds;
 *   p. ViT-B/16 at batch 1 and 32: Tessera against onnxruntime-web's WebGPU
 *      EP and jax-js on the same adapter, alternating rounds, and Tessera's
 *      own options (f16, split-K) against its default;
 *   b. correctness on WebGPU (random programs per variant, attention,
 *      model fixtures vs PyTorch), passes and failures per group;
 *   c. WebGPU speed (matmul per variant, ViT-Ti/S/B, jax-js as a peer);
 *   d. the wasm CPU backend's thread scaling.
 * Each section catches its own errors; a global budget
 * (DEVICE_CHECK_BUDGET_S, default 240) skips what would overrun, with the
 * reason printed. DEVICE_CHECK_QUICK=1 runs a small version (llvmpipe).
 */
import { type WebgpuBackend, createWebgpuBackend } from '@tessera/backend-webgpu';
import { benchCpu } from './bench-cpu.ts';
import { benchPeers } from './bench-peers.ts';
import { benchWebgpu } from './bench-webgpu.ts';
import { checkCorrectness } from './correctness.ts';
import { describeEnvironment, variantLists } from './environment.ts';
import { Report, errorText, log, runSection, settingsFromEnv } from './report.ts';

/** Where each section must end, as a fraction of the budget (what one leaves unused goes to the next). */
const SHARES = { environment: 0.06, peers: 0.55, correctness: 0.72, webgpu: 0.92, cpu: 1 } as const;

async function main(): Promise<number> {
  const settings = settingsFromEnv();
  const report = new Report(settings);
  console.log(`device check: budget ${settings.budgetS} s${settings.quick ? ', QUICK mode' : ''}; JSON to ${settings.outDir}/device-check.json`);
  // A hung driver call must not keep the run past its budget: write what there is and leave.
  const watchdog = setTimeout(() => {
    log(report, `watchdog: ${settings.budgetS + 30} s passed, exiting with what was measured`);
    report.data.watchdog = true;
    report.save();
    process.exit(3);
  }, (settings.budgetS + 30) * 1000);
  watchdog.unref();
  process.on('unhandledRejection', (e) => log(report, `unhandled rejection (ignored): ${errorText(e)}`));

  let variants = { matmul: ['register', 'tiled', 'naive'], reduce: ['thread', 'workgroup'], from: 'built-in fallback' } as ReturnType<typeof variantLists>;
  try {
    variants = variantLists();
  } catch (e) {
    log(report, `could not read the variant names (${errorText(e)}); using ${variants.matmul.join(', ')} / ${variants.reduce.join(', ')}`);
  }
  let be: WebgpuBackend | undefined;
  let beError: string | undefined;
  await runSection(report, 'environment', SHARES.environment, 0, async (rec) => {
    const t = performance.now();
    try {
      be = await createWebgpuBackend();
    } catch (e) {
      beError = errorText(e);
    }
    rec.adapter_ms = Number((performance.now() - t).toFixed(0));
    describeEnvironment(report, rec, be, beError, variants);
  });
  if (be) {
    const gpu = be;
    await runSection(report, 'vit peers', SHARES.peers, 20, (rec, deadline) => benchPeers(report, rec, gpu, deadline));
    await runSection(report, 'correctness', SHARES.correctness, 5, (rec, deadline) => checkCorrectness(report, rec, gpu, variants, deadline));
    await runSection(report, 'webgpu bench', SHARES.webgpu, 5, (rec, deadline) => benchWebgpu(report, rec, gpu, variants, deadline));
  } else {
    for (const s of ['vit peers', 'correctness', 'webgpu bench']) report.section(s).skipped = `no WebGPU adapter: ${beError}`;
  }
  await runSection(report, 'cpu bench', SHARES.cpu, 5, (rec, deadline) => benchCpu(report, rec, deadline));
  const c = report.section('correctness');
  console.log(`\ndevice check finished in ${report.elapsedS().toFixed(0)} s; correctness ${String(c.passed ?? '-')} passed, ${String(c.failed ?? '-')} failed`);
  report.data.finished = true;
  report.save();
  try {
    be?.destroy();
  } catch {
    // The figures are written; a device that will not go quietly does not matter now.
  }
  return 0;
}

// dawn.node and idle workers can keep the event loop alive: exit explicitly.
main().then(
  (code) => process.exit(code),
  (e) => {
    console.error(`device check failed: ${errorText(e)}`);
    process.exit(1);
  },
);
