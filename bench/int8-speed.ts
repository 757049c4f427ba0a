/**
 * Tessera fp32 against int8 on one ViT preset (batch 1, seeded random
 * weights), alternating rounds in one process: the ratio the issue asks for
 * (int8 <= 0.5x fp32), in wall time and in CPU time (less disturbed by
 * other processes on a shared machine; with 1 thread no barrier spins count).
 * `npx tsx bench/int8-speed.ts [vit-b-16] [rounds] [threads]`.
 */
import { createCpuBackend, enableRelaxedSimd } from '@tessera/backend-cpu';
import { type Executable, compile } from '@tessera/compiler';
import { quantizeInt8 } from '@tessera/passes';
import { VIT_PRESETS, VisionTransformer, traceVit } from '@tessera/models';
import { seededArray } from './timing.ts';

enableRelaxedSimd();
const preset = process.argv[2] ?? 'vit-b-16';
const rounds = Number(process.argv[3] ?? 5);
const threads = Number(process.argv[4] ?? 2);
const model = new VisionTransformer(VIT_PRESETS[preset]!);
const program = traceVit(model, 1);
const weights = Object.fromEntries(program.inputs.filter((i) => i.kind === 'parameter').map((p, s) => [p.name, seededArray(p.type.shape.reduce((a, b) => a * b, 1), s + 7).map((v) => v * 0.05)]));
const pixels = seededArray(3 * 224 * 224, 1);
const backend = createCpuBackend({ target: 'wasm', threads });
const exes: Record<string, Executable> = {
  fp32: await compile(program, { backend, weights }),
  // The default: 7-bit weights, the relaxed-SIMD kernel (see quantizeInt8's weightMax).
  int8: await compile(program, { backend, weights, quantize: 'int8' }),
  // Full 8-bit weights: the i16 kernel.
  'int8 w8': await compile(quantizeInt8(program, { weightMax: 127 }), { backend, weights }),
};
const ms: Record<string, number[]> = Object.fromEntries(Object.keys(exes).map((k) => [k, []]));
const cpu: Record<string, number[]> = Object.fromEntries(Object.keys(exes).map((k) => [k, []]));
for (let r = -1; r < rounds; r++) {
  for (const [k, exe] of Object.entries(exes)) {
    const t0 = performance.now();
    const c0 = process.cpuUsage();
    await exe.run({ pixel_values: pixels });
    const c = process.cpuUsage(c0);
    if (r >= 0) {
      ms[k]!.push(performance.now() - t0);
      cpu[k]!.push((c.user + c.system) / 1000);
    }
  }
}
const median = (a: number[]) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)]!;
for (const k of Object.keys(exes).slice(1)) {
  const ratios = ms[k]!.map((v, i) => v / ms.fp32![i]!);
  const cpuRatios = cpu[k]!.map((v, i) => v / cpu.fp32![i]!);
  console.log(`${preset}, ${threads} thread(s): fp32 median ${median(ms.fp32!).toFixed(0)} ms, ${k} median ${median(ms[k]!).toFixed(0)} ms; ${k}/fp32 per round ${ratios.map((r) => r.toFixed(2)).join(' ')}, median ${median(ratios).toFixed(2)}; CPU time ${median(cpu.fp32!).toFixed(0)} and ${median(cpu[k]!).toFixed(0)} ms, ratio median ${median(cpuRatios).toFixed(2)}`);
}
for (const exe of Object.values(exes)) exe.dispose();
