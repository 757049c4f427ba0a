import { type Program, interpret, numel, parseProgram } from '@tessera/ir';
import { type Backend, type KernelProgram, evaluatorBackend, kernelStores } from '@tessera/kernel';
import { compileProgram } from '@tessera/passes';
import { WebgpuUnavailableError } from '@tessera/backend-webgpu';
import { getBackend, registerBackend } from '@tessera/compiler';
import { describe, expect, it } from 'vitest';
import {
  BackendsDisagreeError,
  type Fault,
  compareBackends,
  corruptStore,
  expectBackendsAgree,
  faultyBackend,
  formatCompareReport,
  gatherIndexInputs,
  insertProbes,
  localiseDivergence,
  longestReduction,
  misplace,
  strayStore,
  modelInputsFor,
} from '../src/index.ts';
import { ILL_CONDITIONED, ILL_CONDITIONED_INPUTS } from './ill-conditioned.ts';

/** A Linear, then an MLP-Mixer block: token mixing (LayerNorm, transpose, matmul, GELU, transpose, residual add), channel mixing with a residual add. */
const MIXER = `program @mixer
input %x : f32[2,16,32]
param %embed : f32[32,32]
param %norm.weight : f32[32]
param %norm.bias : f32[32]
param %token : f32[16,16]
param %channel : f32[32,32]
%h = matmul(%x, %embed) : f32[2,16,32]
%n = layer_norm(%h, %norm.weight, %norm.bias) {eps = 0.00001} : f32[2,16,32]
%t = transpose(%n) {perm = [0, 2, 1]} : f32[2,32,16]
%m = matmul(%t, %token) : f32[2,32,16]
%g = gelu(%m) {approximate = "none"} : f32[2,32,16]
%mt = transpose(%g) {perm = [0, 2, 1]} : f32[2,16,32]
%u = add(%h, %mt) : f32[2,16,32]
%c = matmul(%u, %channel) : f32[2,16,32]
%y = add(%u, %c) : f32[2,16,32]
output y = %y
`;
const mixer = parseProgram(MIXER, 'mixer.tir');

/** 1-based line of the definition of %name in MIXER (what the localiser must point at). */
const lineOf = (name: string) => MIXER.split('\n').findIndex((l) => l.startsWith(`%${name} =`)) + 1;

/** The compiled kernel program of `p`, as compileBackends compiles it for the cpu backend. */
const kernelsOf = (p: Program) => compileProgram(p, { maxBuffersPerKernel: getBackend('cpu').limits.maxBuffersPerKernel }).kernels;

/** The name of the kernel that stores graph value `value`. */
function writerOf(kp: KernelProgram, value: string): string {
  const b = kp.buffers.findIndex((d) => d.name === value);
  return kp.kernels.find((k) => kernelStores(k).some((s) => s.buffer === b))!.name;
}

/** Runs `fn` with backend `name` replaced by the same backend with a fault injected, then puts it back. */
async function withFault<T>(name: string, fault: Fault, fn: () => Promise<T>): Promise<T> {
  const original = getBackend(name);
  registerBackend(faultyBackend(original, fault));
  try {
    return await fn();
  } finally {
    registerBackend(original);
  }
}

describe('insertProbes', () => {
  it('copies each written buffer after its last writer and before each reader, leaving buffers, arena offsets and kernels as they were', () => {
    const kp = kernelsOf(mixer);
    const { program, probes } = insertProbes(kp, (b) => kp.buffers[b]!.role === 'temp');
    expect(program.buffers.slice(0, kp.buffers.length)).toEqual(kp.buffers);
    expect(program.arenaBytes).toBe(kp.arenaBytes);
    expect(program.kernels.filter((k) => !k.name.startsWith('probe'))).toEqual(kp.kernels);
    expect(program.outputs.slice(0, kp.outputs.length)).toEqual(kp.outputs);
    // Every probe copies into an output of its own, outside the arena.
    for (const p of probes) {
      const out = program.buffers[program.outputs.find((o) => o.name === p.output)!.buffer]!;
      expect(out.arenaOffset).toBeUndefined();
      expect(out.size).toBe(kp.buffers[p.buffer]!.size);
    }
    // %h: after k0 (its writer), before k1 and k3 (its readers), in launch order.
    const h = kp.buffers.findIndex((b) => b.name === 'h');
    expect(probes.filter((p) => p.buffer === h).map((p) => `${p.when} ${kp.kernels[p.kernel]!.name}`)).toEqual(['after k0_matmul', 'before k1_layer_norm', 'before k3_add']);
    const order = program.kernels.map((k) => k.name);
    expect(order.indexOf('probe0')).toBeGreaterThan(order.indexOf('k0_matmul'));
    expect(order.indexOf('probe0')).toBeLessThan(order.indexOf('k1_layer_norm'));
  });

  it('probed values are the interpreter values of the graph nodes the buffers are named after (kernel evaluator)', async () => {
    const inputs = modelInputsFor(mixer, 3);
    const { graph, kernels } = compileProgram(mixer);
    expect(await localiseDivergence({ graph, kernels, backend: evaluatorBackend, inputs, reductionLength: longestReduction(mixer) })).toBeUndefined();
  });
});

describe('localiseDivergence', () => {
  it.each(['eval', 'cpu', 'webgpu'])('names the kernel whose store is broken, its graph nodes and their IR lines (%s)', async (backend) => {
    const kp = kernelsOf(mixer);
    const inputs = modelInputsFor(mixer, 1);
    const { graph, kernels } = compileProgram(mixer, { maxBuffersPerKernel: getBackend(backend).limits.maxBuffersPerKernel });
    const d = await localiseDivergence({ graph, kernels, backend: faultyBackend(getBackend(backend), corruptStore('u')), inputs, reductionLength: 32 });
    expect(d).toBeDefined();
    expect(d!.cause).toBe('computed');
    expect(d!.kernel.name).toBe(writerOf(kp, 'u'));
    expect(d!.kernel.nodes.map((n) => n.name)).toEqual(['u']);
    expect(d!.value).toMatchObject({ name: 'u', op: 'add', operands: ['h', 'mt'], loc: { file: 'mixer.tir', line: lineOf('u') } });
    // Its inputs were right when it ran: the fault is in this kernel.
    expect([...d!.inputsMatched].sort()).toEqual(['h', 'mt']);
    expect(d!.mismatch).toMatch(/^1024 of 1024 elements differ; worst at \[\d+,\d+,\d+\]: /);
  });

  it('a memory plan with a partial in-place overlap (the Mixer bug) is refused at compile time on every backend, naming both buffers', async () => {
    const kp = kernelsOf(mixer);
    // %u written half a buffer into %mt, one of its operands: each store would overwrite an element of %mt not yet read.
    const fault = misplace('u', 'mt', (kp.buffers.find((b) => b.name === 'mt')!.size * 4) / 2);
    const report = await compareBackends(mixer, { backends: ['eval', 'cpu', 'webgpu'], rewriteKernels: fault });
    expect(report.agree).toBe(false);
    expect(report.rows.map((r) => [r.backend, r.status])).toEqual([
      ['eval', 'error'],
      ['cpu', 'error'],
      ['webgpu', 'error'],
    ]);
    for (const r of report.rows) expect(r.message).toMatch(/memory plan: %mt \(bytes \d+\.\.\d+, .*\) and %u \(bytes \d+\.\.\d+, .*\) share bytes while both are live/);
  });

  it('names the kernel that writes over a live value (a stray store), the value and its line', async () => {
    const kp = kernelsOf(mixer);
    // The kernel of %mt also writes %h, which the residual add reads later.
    const report = await compareBackends(mixer, { backends: ['cpu'], rewriteKernels: strayStore('mt', 'h') });
    const d = report.localised[0]!.divergence!;
    expect(d.cause).toBe('computed');
    expect(d.value.name).toBe('h');
    expect(d.kernel.name).toBe(writerOf(kp, 'mt'));
    expect(d.kernel.nodes.map((n) => n.name)).toEqual(['m', 'g', 'mt']);
  });

  it('passes over a value off only by the spread of f32 rounding (an ill-conditioned layer norm) and names the kernel after it that is wrong', async () => {
    const p = parseProgram(`program @ill_then_matmul
input %x : f32[2]
param %w : f32[2]
param %b : f32[2]
param %m : f32[2,3]
%n = layer_norm(%x, %w, %b) {eps = 0.01} : f32[2]
%r = reshape(%n) {shape = [1, 2]} : f32[1,2]
%y = matmul(%r, %m) : f32[1,3]
output y = %y
`);
    const inputs = { ...ILL_CONDITIONED_INPUTS, m: Float32Array.from([1, 0.5, -2, 0.25, 1, 3]) };
    const { graph, kernels } = compileProgram(p);
    expect(kernels.kernels.length).toBeGreaterThan(1);
    // The layer norm stored 3e-5 off, as an f32 one is here; the matmul stored 1 off.
    const fault = (k: KernelProgram) => corruptStore('y', 1)(corruptStore('r', 3e-5)(k));
    const d = await localiseDivergence({ graph, kernels, backend: faultyBackend(getBackend('eval'), fault), inputs, reductionLength: 2 });
    expect(d!.value.name).toBe('y');
    expect(d!.inputsMatched).toEqual(['r']);
  });

  it("brackets a value overwritten behind the compiler's back between its writer and its reader", async () => {
    const kp = kernelsOf(mixer);
    const inputs = modelInputsFor(mixer, 1);
    const { graph, kernels } = compileProgram(mixer, { maxBuffersPerKernel: getBackend('cpu').limits.maxBuffersPerKernel });
    const d = await localiseDivergence({ graph, kernels, backend: faultyBackend(getBackend('cpu'), strayStore('mt', 'h')), inputs, reductionLength: 32 });
    expect(d!.cause).toBe('overwritten');
    expect(d!.value.name).toBe('h');
    expect(d!.writer!.name).toBe(writerOf(kp, 'h'));
    expect(d!.reader!.name).toBe(writerOf(kp, 'u'));
  });
});

describe('compareBackends', () => {
  it('one row per backend and output with max |diff|, relative error and the policy tolerance', async () => {
    const r = await compareBackends(mixer, { backends: ['interp', 'eval', 'cpu', 'webgpu'], trials: 2 });
    expect(r.agree).toBe(true);
    expect(r.backends).toEqual(['eval', 'cpu', 'webgpu']);
    expect(r.reductionLength).toBe(32);
    expect(r.rows.map((row) => [row.backend, row.output, row.status])).toEqual([
      ['eval', 'y', 'pass'],
      ['cpu', 'y', 'pass'],
      ['webgpu', 'y', 'pass'],
    ]);
    for (const row of r.rows) {
      expect(row.tolerance).toEqual({ atol: 1e-5 * Math.sqrt(32), rtol: 1e-4 * Math.sqrt(32) });
      expect(row.elements).toBe(2 * 1024);
      expect(row.maxAbsDiff).toBeLessThan(row.tolerance!.atol);
    }
  });

  it('measures what differs: max |diff| and the count of elements outside the tolerance', async () => {
    const r = await withFault('cpu', corruptStore('y', 0.5), () => compareBackends(mixer, { backends: ['cpu'] }));
    const row = r.rows[0]!;
    expect(row).toMatchObject({ backend: 'cpu', output: 'y', status: 'fail', mismatches: 1024, elements: 1024 });
    expect(row.maxAbsDiff).toBeCloseTo(0.5, 4);
    const expected = interpret(mixer, modelInputsFor(mixer, 1)).y!.data;
    expect(row.relError).toBeCloseTo(0.5 / Math.max(...Array.from(expected, Math.abs)), 4);
  });

  it('an output outside the policy but within the spread of f32 rounding through an ill-conditioned model passes, and says so; a larger error still fails', async () => {
    const [ill, inputs] = [ILL_CONDITIONED, ILL_CONDITIONED_INPUTS];
    const near = await compareBackends(ill, { backends: ['eval'], inputs, rewriteKernels: corruptStore('0', 3e-5) });
    expect(near.rows[0]).toMatchObject({ status: 'pass', withinSpread: 2, elements: 2 });
    expect(formatCompareReport(near)).toContain('pass (2 of 2 elements only within the leeway of f32 rounding)');
    const far = await compareBackends(ill, { backends: ['eval'], inputs, rewriteKernels: corruptStore('0', 1e-3) });
    expect(far.rows[0]).toMatchObject({ status: 'fail', mismatches: 2 });
    expect(far.rows[0]!.withinSpread).toBeUndefined();
  });

  it('a backend unavailable here is skipped with its reason by default, and disagrees when named', async () => {
    const original = getBackend('webgpu');
    const missing: Backend = { name: 'webgpu', limits: original.limits, compile: () => Promise.reject(new WebgpuUnavailableError('no WebGPU adapter available (test)')) };
    registerBackend(missing);
    try {
      const byDefault = await compareBackends(mixer);
      expect(byDefault.agree).toBe(true);
      expect(byDefault.rows.find((row) => row.backend === 'webgpu')).toEqual({ backend: 'webgpu', status: 'unavailable', message: 'no WebGPU adapter available (test)' });
      expect(formatCompareReport(byDefault)).toMatch(/^webgpu +- +- +- +- +unavailable: no WebGPU adapter available \(test\)$/m);
      expect((await compareBackends(mixer, { backends: ['webgpu'] })).agree).toBe(false);
    } finally {
      registerBackend(original);
    }
  });
});

describe('modelInputsFor', () => {
  const EMBED = parseProgram(`program @embed
input %tokens : i32[3,7]
input %more : i32[4]
param %table : f32[11,8]
param %small : f32[5,8]
param %w : f32[8,64]
%r = reshape(%tokens) {shape = [21]} : i32[21]
%e = gather(%table, %r) : f32[21,8]
%s = gather(%small, %tokens) : f32[3,7,8]
%f = gather(%table, %more) : f32[4,8]
%h = matmul(%e, %w) : f32[21,64]
output h = %h
output s = %s
output f = %f
`);

  it('token ids lie in range of every table they index (the smallest), through movement ops', () => {
    expect(gatherIndexInputs(EMBED)).toEqual(new Map([['tokens', 5], ['more', 11]]));
    for (let seed = 0; seed < 20; seed++) {
      const v = modelInputsFor(EMBED, seed);
      expect(Math.min(...v.tokens!)).toBeGreaterThanOrEqual(0);
      expect(Math.max(...v.tokens!)).toBeLessThan(5);
      expect(Math.max(...v.more!)).toBeLessThan(11);
    }
    // Every id is drawn somewhere over enough draws.
    expect(new Set(Array.from({ length: 10 }, (_, s) => [...modelInputsFor(EMBED, s).tokens!]).flat()).size).toBe(5);
  });

  it("token ids that an ONNX Gather wraps for negative values (where(i < 0, i + n, i)) lie in range too", () => {
    // BERT's token_type_ids, imported from ONNX, index a table of 2 rows through the wrap; drawn as plain integers they were out of range.
    const p = parseProgram(`program @wrapped
input %ids : i32[2,3]
param %table : f32[2,4]
%zero = constant() {shape = [], dtype = i32, value = [0]} : i32[]
%rows = constant() {shape = [], dtype = i32, value = [2]} : i32[]
%neg = lt(%ids, %zero) : bool[2,3]
%up = add(%ids, %rows) : i32[2,3]
%i = where(%neg, %up, %ids) : i32[2,3]
%e = gather(%table, %i) {axis = 0} : f32[2,3,4]
output e = %e
`);
    expect(gatherIndexInputs(p)).toEqual(new Map([['ids', 2]]));
    for (let seed = 0; seed < 10; seed++) expect(Math.max(...modelInputsFor(p, seed).ids!)).toBeLessThan(2);
  });

  it('weights scaled by fan-in (variance 1/fan-in), given values kept, the same values for the same seed', () => {
    const v = modelInputsFor(EMBED, 7, { more: Int32Array.of(1, 2, 3, 4) });
    const bound = Math.sqrt(3 / 64);
    expect(Math.max(...Array.from(v.w!, Math.abs))).toBeLessThanOrEqual(bound);
    expect(Math.max(...Array.from(v.w!, Math.abs))).toBeGreaterThan(bound / 2);
    expect([...v.more!]).toEqual([1, 2, 3, 4]);
    expect(modelInputsFor(EMBED, 7)).toEqual(modelInputsFor(EMBED, 7));
    expect(modelInputsFor(EMBED, 7).table).not.toEqual(modelInputsFor(EMBED, 8).table);
    expect(v.table!.length).toBe(numel([11, 8]));
  });
});

describe('expectBackendsAgree', () => {
  it('resolves to the report when every backend agrees', async () => {
    const r = await expectBackendsAgree(mixer, { backends: ['eval', 'cpu', 'webgpu'] });
    expect(r.rows.every((row) => row.status === 'pass')).toBe(true);
  });

  it('rejects with a short message: the output that differs and the localised kernel with its line, no values', async () => {
    const error = await withFault('cpu', corruptStore('u'), () => expectBackendsAgree(mixer, { backends: ['eval', 'cpu'] })).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(BackendsDisagreeError);
    const message = (error as Error).message;
    const kernel = writerOf(kernelsOf(mixer), 'u');
    expect(message.split('\n')).toEqual([
      'backends disagree with the interpreter on @mixer (inputs drawn with seed 1):',
      expect.stringMatching(/^ {2}cpu output 'y': \d+ of 1024 elements differ, max \|diff\| [\d.e+-]+ \(tolerance 5\.66e-5 \+ 5\.66e-4\*\|e\|\)$/),
      expect.stringMatching(new RegExp(`^  cpu: first divergence at kernel \\d+ \\(${kernel}, map\\), which computes %u = add\\(%h, %mt\\) at mixer\\.tir:${lineOf('u')}:1; 1024 of 1024 elements differ; worst at `)),
    ]);
    expect((error as BackendsDisagreeError).report.rows.map((row) => row.status)).toEqual(['pass', 'fail']);
  });
});
