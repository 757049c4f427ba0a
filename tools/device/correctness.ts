/**
 * Section b: the WebGPU backend against the oracles, as the test suite
 * checks it (random well-typed programs vs the interpreter under the harness
 * tolerance policy; the attention cases; the PyTorch fixtures), with fixed
 * seeds, counting passes and failures per group instead of stopping at the
 * first, and printing each group's first failure with its program.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { type Program, interpret, readSafetensors, toHost } from '@tessera/ir';
import { type KernelProgram, type TensorData, outputArrays } from '@tessera/kernel';
import { lowerToKernels } from '@tessera/passes';
import {
  type AttentionCase,
  type ProgramCase,
  type InputValueOptions,
  type ProgramGenOptions,
  arbProgramWithInputs,
  attentionInputs,
  buildAttentionCase,
  describeMismatch,
  effectiveTolerance,
  formatCounterexample,
  longestReduction,
  makeRng,
  mismatchVsInterpreter,
} from '@tessera/harness';
import type { VariantOverrides, WebgpuBackend } from '@tessera/backend-webgpu';
import { VisionTransformer, bindCheckpoint, buildModel, compileGenerator, compileSeq2Seq, compileVit, parseModelConfig } from '@tessera/models';
import type { Variants } from './environment.ts';
import { type Report, errorText, log } from './report.ts';

/** Pass/fail counts and the first failure of one group of checks. */
interface GroupResult {
  passed: number;
  failed: number;
  /** Cases not run for want of time. */
  not_run: number;
  /** Worst |actual - expected| / tolerance over the f32 outputs of passing and failing cases (1 = at the tolerance). */
  worst_tolerance_ratio: number;
  /** Generated kernels by variant (e.g. `matmul:tiled 64x64`: 12), to see that a forced variant was exercised. */
  kernels: Record<string, number>;
  first_failure?: { case: string; why: string; program?: string };
  seconds: number;
}

const newGroup = (): GroupResult => ({ passed: 0, failed: 0, not_run: 0, worst_tolerance_ratio: 0, kernels: {}, seconds: 0 });

/** Largest |a - e| / (atol' + rtol'|e|) over the finite f32 elements of each output (the policy's own tolerance). */
function toleranceRatio(p: Program, inputs: ProgramCase['inputs'], actual: Readonly<Record<string, ArrayLike<number>>>, compute?: 'f16'): number {
  const expected = interpret(p, inputs);
  const length = longestReduction(p);
  let worst = 0;
  for (const o of p.outputs) {
    const e = expected[o.name]!;
    if (e.type.dtype !== 'f32') continue;
    const tol = effectiveTolerance({ dtype: 'f32', reductionLength: length, ...(compute ? { compute } : {}) });
    const want = toHost(e);
    const got = actual[o.name]!;
    for (let i = 0; i < want.length; i++) {
      const w = want[i]!;
      const g = got[i]!;
      if (Number.isFinite(w) && Number.isFinite(g)) worst = Math.max(worst, Math.abs(g - w) / (tol.atol + tol.rtol * Math.abs(w)));
    }
  }
  return worst;
}

const clip = (s: string, n = 6000) => (s.length > n ? `${s.slice(0, n)}\n... (${s.length - n} more characters)` : s);

/** Runs a kernel program once on the backend (forced variants, if any), returning outputs and the variants of its kernels. */
async function runOnce(be: WebgpuBackend, kp: KernelProgram, inputs: Readonly<Record<string, TensorData>>, variants: VariantOverrides): Promise<{ out: Record<string, TensorData>; kernels: string[] }> {
  const exe = await be.compile(kp, variants);
  try {
    return { out: outputArrays(await exe.run(inputs)), kernels: exe.shaders.map((s) => s.variant) };
  } finally {
    exe.dispose();
  }
}

function record(g: GroupResult, kernels: string[]): void {
  for (const k of kernels) g.kernels[k] = (g.kernels[k] ?? 0) + 1;
}

function fail(report: Report, name: string, g: GroupResult, what: string, why: string, program?: string): void {
  g.failed++;
  if (g.first_failure) return;
  g.first_failure = { case: what, why: clip(why, 3000), ...(program ? { program: clip(program) } : {}) };
  log(report, `  FIRST FAILURE in ${name} (${what}): ${clip(why, 3000)}`);
  if (program) console.log(clip(program));
}

/** One group of random programs: `n` cases from `arb` sampled with `seed`, run with `variants` forced. */
async function randomGroup(report: Report, be: WebgpuBackend, name: string, gen: Gen, seed: number, n: number, variants: VariantOverrides, deadline: () => number): Promise<GroupResult> {
  const g = newGroup();
  const t = performance.now();
  const cases = fc.sample(arbProgramWithInputs(gen), { seed, numRuns: n });
  // f16 matmuls are held to the f16 tolerance of the policy.
  const compute = variants.precision === 'f16' ? 'f16' : undefined;
  for (let i = 0; i < cases.length; i++) {
    if (deadline() < 0) {
      g.not_run = cases.length - i;
      log(report, `  ${name}: out of time, ${g.not_run} cases not run`);
      break;
    }
    const c = cases[i]!;
    const what = `case ${i} of fc.sample(arbProgramWithInputs(${JSON.stringify(gen)}), { seed: ${seed}, numRuns: ${n} })`;
    try {
      const { out, kernels } = await runOnce(be, lowerToKernels(c.program), c.inputs, variants);
      record(g, kernels);
      g.worst_tolerance_ratio = Math.max(g.worst_tolerance_ratio, toleranceRatio(c.program, c.inputs, out, compute));
      const why = mismatchVsInterpreter(c.program, c.inputs, out, compute ? { compute } : {});
      if (why) fail(report, name, g, what, `webgpu differs from the interpreter: ${why}`, formatCounterexample(c.program, c.inputs));
      else g.passed++;
    } catch (e) {
      fail(report, name, g, what, `threw ${errorText(e)}`, formatCounterexample(c.program, c.inputs));
    }
  }
  g.seconds = Number(((performance.now() - t) / 1000).toFixed(1));
  return g;
}

/** Attention cases from a seeded stream, sizes up to `max` (as the attention-kernel test draws them). */
function attentionCases(seed: number, n: number, max: { tq: number; tk: number; d: number; dv: number }): AttentionCase[] {
  const rng = makeRng(seed);
  const int = (lo: number, hi: number) => lo + Math.floor(rng() * (hi - lo + 1));
  return Array.from({ length: n }, () => ({
    b: int(1, 2),
    tq: int(1, max.tq),
    tk: int(1, max.tk),
    d: int(1, max.d),
    dv: int(1, max.dv),
    ...(rng() < 0.5 ? { causal: int(0, 2) } : {}),
    keep: rng() < 0.5,
    bias: rng() < 0.5,
    seed: int(1, 1e6),
  }));
}

/** The hand-built attention kernel vs the interpreter on its graph, and the same graph lowered by the passes. */
async function attentionGroup(report: Report, be: WebgpuBackend, name: string, cases: AttentionCase[], deadline: () => number): Promise<GroupResult> {
  const g = newGroup();
  const t = performance.now();
  for (let i = 0; i < cases.length; i++) {
    if (deadline() < 0) {
      g.not_run = cases.length - i;
      break;
    }
    const c = cases[i]!;
    const { kp, graph } = buildAttentionCase(c);
    const inputs = attentionInputs(kp, c.seed);
    try {
      const expected = interpret(graph, inputs).o!.data;
      const kernel = await runOnce(be, kp, inputs, {});
      record(g, kernel.kernels);
      const whyKernel = describeMismatch(kernel.out.o!, expected, { reductionLength: c.tk * c.d });
      const lowered = await runOnce(be, lowerToKernels(graph), inputs, {});
      record(g, lowered.kernels);
      g.worst_tolerance_ratio = Math.max(g.worst_tolerance_ratio, toleranceRatio(graph, inputs, lowered.out));
      const whyGraph = mismatchVsInterpreter(graph, inputs, lowered.out);
      if (whyKernel) fail(report, name, g, JSON.stringify(c), `hand-built attention kernel differs from the interpreter: ${whyKernel}`);
      else if (whyGraph) fail(report, name, g, JSON.stringify(c), `lowered attention graph differs from the interpreter: ${whyGraph}`, formatCounterexample(graph, inputs));
      else g.passed++;
    } catch (e) {
      fail(report, name, g, JSON.stringify(c), `threw ${errorText(e)}`);
    }
  }
  g.seconds = Number(((performance.now() - t) / 1000).toFixed(1));
  return g;
}

/** The model fixtures: packed next to the bundle, else the repo's. */
function fixturesDir(): string {
  const packed = join(import.meta.dirname ?? '.', 'fixtures');
  try {
    if (readdirSync(packed).some((f) => f.endsWith('.json'))) return packed;
  } catch {
    // Not packed (running from source): the repo's folder.
  }
  return 'packages/models/fixtures';
}

const int32 = (t: { data: ArrayLike<number | bigint> }) => (t.data instanceof BigInt64Array ? Int32Array.from(t.data, (v) => Number(v)) : (t.data as Int32Array));

/** Every fixture on the webgpu backend by name (as the models tests run it): logits vs PyTorch, and greedy tokens for Transformers. */
async function fixtureGroup(report: Report, name: string, deadline: () => number): Promise<GroupResult & { worst_abs_diff: Record<string, number> }> {
  const g = { ...newGroup(), worst_abs_diff: {} as Record<string, number> };
  const t = performance.now();
  const dir = fixturesDir();
  const names = readdirSync(dir).filter((f) => f.endsWith('.json')).map((f) => f.slice(0, -5)).sort();
  for (let i = 0; i < names.length; i++) {
    if (deadline() < 0) {
      g.not_run = names.length - i;
      break;
    }
    const fx = names[i]!;
    const path = (ext: string) => join(dir, fx + ext);
    const t1 = performance.now();
    try {
      const json = JSON.parse(readFileSync(path('.json'), 'utf8')) as Record<string, unknown>;
      const shape = json.fixture as { batch: number; src_len?: number; tgt_len?: number; max_new_tokens?: number };
      const model = buildModel(parseModelConfig(json, path('.json')));
      const weights = bindCheckpoint(model, readSafetensors(readFileSync(path('.safetensors')), path('.safetensors')).tensors, path('.safetensors'));
      const io = readSafetensors(readFileSync(path('.io.safetensors')), path('.io.safetensors')).tensors;
      const expected = io.get('logits')!;
      let out: Float32Array;
      let program: Program;
      if (model instanceof VisionTransformer) {
        const vit = await compileVit(model, weights, { backend: 'webgpu', batch: shape.batch });
        out = await vit.logits(io.get('pixel_values')!.data as Float32Array);
        program = vit.program;
        vit.dispose();
      } else {
        const run = await compileSeq2Seq(model, weights, { backend: 'webgpu', batch: shape.batch, srcLen: shape.src_len!, tgtLen: shape.tgt_len! });
        out = await run.logits(int32(io.get('src')!), int32(io.get('tgt')!));
        program = run.program;
        run.dispose();
      }
      let diff = 0;
      for (let j = 0; j < out.length; j++) diff = Math.max(diff, Math.abs(out[j]! - Number(expected.data[j])));
      g.worst_abs_diff[fx] = diff;
      let why = describeMismatch(out, expected.data as Float32Array, { reductionLength: longestReduction(program) }, { what: `${fx} logits`, shape: expected.shape });
      if (!why && !(model instanceof VisionTransformer)) {
        const gen = await compileGenerator(model, weights, { backend: 'webgpu', batch: shape.batch, srcLen: shape.src_len!, maxNewTokens: shape.max_new_tokens! });
        const tokens = Array.from(await gen.generate(int32(io.get('src')!)));
        gen.dispose();
        const want = Array.from(int32(io.get('generated')!));
        if (tokens.join(',') !== want.join(',')) why = `greedy generation gave [${tokens.join(',')}], PyTorch [${want.join(',')}]`;
      }
      log(report, `  fixture ${fx}: ${why ? 'FAIL' : 'ok'}, max |Δ| vs PyTorch ${diff.toExponential(2)} (${((performance.now() - t1) / 1000).toFixed(1)} s)`);
      if (why) fail(report, name, g, fx, why);
      else g.passed++;
    } catch (e) {
      fail(report, name, g, fx, `threw ${errorText(e)}`);
    }
  }
  g.seconds = Number(((performance.now() - t) / 1000).toFixed(1));
  return g;
}

/** Programs per group: on a GPU the brief's sizes, in quick mode a few. */
function sizes(quick: boolean) {
  return quick ? { random: 12, forced: 4, attentionSmall: 6, attentionLarge: 1 } : { random: 150, forced: 40, attentionSmall: 30, attentionLarge: 6 };
}

/** Options of one random-program group: the program generator's and the input values'. */
type Gen = ProgramGenOptions & InputValueOptions;

/** Random programs that contain matmuls (and bigger tensors, past one tile) for the forced matmul variants. */
const MATMUL_FOCUS: Gen = { tame: true, maxNodes: 8, maxElements: 2048, ops: ['matmul', 'add', 'mul', 'tanh', 'transpose', 'reduce_sum'], subnormals: false };
/** Random programs with reductions and row ops for the forced reduce variants. */
const REDUCE_FOCUS: Gen = { tame: true, maxNodes: 8, maxElements: 2048, ops: ['reduce_sum', 'reduce_max', 'reduce_mean', 'softmax', 'layer_norm', 'exp', 'add'], subnormals: false };
/** The differential test's generator: no subnormal inputs (WGSL lets a driver flush them to zero; NVIDIA's does). */
const GENERIC: Gen = { tame: true, maxNodes: 10, subnormals: false };
/** The same with subnormal inputs, to count what flushing them changes (informational: not in the totals). */
const WITH_SUBNORMALS: Gen = { tame: true, maxNodes: 10 };

/** Random programs with subnormal inputs: mismatches there show a driver flushing subnormals (counted apart from the totals). */
const INFORMATIONAL = 'random/default variants, subnormal inputs (informational)';

/** Section b. */
export async function checkCorrectness(report: Report, rec: Record<string, unknown>, be: WebgpuBackend, variants: Variants, deadline: () => number): Promise<void> {
  const n = sizes(report.settings.quick);
  const groups: Record<string, unknown> = {};
  rec.groups = groups;
  const show = (name: string, g: GroupResult) => {
    groups[name] = g;
    const kernels = Object.entries(g.kernels)
      .sort((a, b) => b[1] - a[1])
      .map(([k, v]) => `${k} x${v}`)
      .join(', ');
    log(report, `${name}: ${g.passed} passed, ${g.failed} failed${g.not_run ? `, ${g.not_run} not run (time)` : ''}; worst error ${g.worst_tolerance_ratio.toFixed(3)} of the tolerance; ${g.seconds} s; kernels: ${kernels}`);
    report.save();
  };
  // Cheap, high-value groups first; then each group gets a share of the time left in proportion to its cost (a guess, weighted up for
  // the few-but-valuable groups), so a slow adapter still runs some of every group.
  const G = (name: string, cost: number, run: (d: () => number) => Promise<GroupResult>) => ({ name, cost, run });
  const plan = [
    G('attention/small', 3 * n.attentionSmall, (d) => attentionGroup(report, be, 'attention/small', attentionCases(4001, n.attentionSmall, { tq: 6, tk: 7, d: 5, dv: 4 }), d)),
    G('attention/large', 10 * n.attentionLarge, (d) => attentionGroup(report, be, 'attention/large', attentionCases(4002, n.attentionLarge, { tq: 150, tk: 80, d: 64, dv: 64 }), d)),
    G('fixtures vs PyTorch', 60, (d) => fixtureGroup(report, 'fixtures vs PyTorch', d)),
    G('random/default variants', n.random, (d) => randomGroup(report, be, 'random/default variants', GENERIC, 1001, n.random, {}, d)),
    G('random/attention=workgroup (generic)', Math.ceil(n.forced / 2), (d) => randomGroup(report, be, 'random/attention=workgroup (generic)', GENERIC, 5001, Math.ceil(n.forced / 2), { attention: 'workgroup' }, d)),
    G('random/attention=row (generic)', Math.ceil(n.forced / 2), (d) => randomGroup(report, be, 'random/attention=row (generic)', GENERIC, 5001, Math.ceil(n.forced / 2), { attention: 'row' }, d)),
    G(INFORMATIONAL, n.forced, (d) => randomGroup(report, be, INFORMATIONAL, WITH_SUBNORMALS, 1001, n.forced, {}, d)),
  ];
  const half = Math.ceil(n.forced / 2);
  // precision 'f16' (where the adapter has shader-f16) on the two matmuls it changes, early: the device is the only place it runs for real.
  if (be.adapter.f16) {
    for (const v of ['splitk', 'tiled'] as const) {
      const name = `random/matmul=${v}, precision f16 (matmul programs)`;
      plan.splice(3, 0, G(name, half, (d) => randomGroup(report, be, name, MATMUL_FOCUS, 2003, half, { matmul: v, precision: 'f16' }, d)));
    }
  } else log(report, 'precision f16: not checked, the adapter has no shader-f16');
  for (const v of variants.matmul) {
    const forced = { matmul: v as VariantOverrides['matmul'] };
    plan.push(G(`random/matmul=${v} (generic)`, half, (d) => randomGroup(report, be, `random/matmul=${v} (generic)`, GENERIC, 2001, half, forced, d)));
    plan.push(G(`random/matmul=${v} (matmul programs)`, n.forced - half, (d) => randomGroup(report, be, `random/matmul=${v} (matmul programs)`, MATMUL_FOCUS, 2002, n.forced - half, forced, d)));
  }
  for (const v of variants.reduce) {
    const forced = { reduce: v as VariantOverrides['reduce'] };
    plan.push(G(`random/reduce=${v} (generic)`, half, (d) => randomGroup(report, be, `random/reduce=${v} (generic)`, GENERIC, 3001, half, forced, d)));
    plan.push(G(`random/reduce=${v} (reduction programs)`, n.forced - half, (d) => randomGroup(report, be, `random/reduce=${v} (reduction programs)`, REDUCE_FOCUS, 3002, n.forced - half, forced, d)));
  }
  let costLeft = plan.reduce((a, g) => a + g.cost, 0);
  for (const g of plan) {
    const end = performance.now() + Math.max(0, deadline()) * 1000 * (g.cost / costLeft);
    costLeft -= g.cost;
    show(g.name, await g.run(() => Math.min(deadline(), (end - performance.now()) / 1000)));
  }
  let passed = 0;
  let failed = 0;
  for (const [name, g] of Object.entries(groups) as [string, GroupResult][]) {
    if (name === INFORMATIONAL) continue;
    passed += g.passed;
    failed += g.failed;
  }
  rec.passed = passed;
  rec.failed = failed;
  log(report, `correctness total: ${passed} passed, ${failed} failed`);
}
