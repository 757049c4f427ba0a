import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { trace } from '@tessera/frontend';
import { loadModelFile } from '@tessera/frontend/node';
import { type Program, type SafetensorsTensor, writeSafetensors } from '@tessera/ir';
import { kernelStores } from '@tessera/kernel';
import { compileProgram } from '@tessera/passes';
import { type CompareReport, corruptStore, expectBackendsAgree, faultyBackend, modelInputsFor } from '@tessera/harness';
import { getBackend, registerBackend } from '@tessera/compiler';
import { describe, expect, it } from 'vitest';
import { UsageError } from '../src/command.ts';
import { parseCompareArgs } from '../src/commands/compare.ts';
import { main } from '../src/main.ts';
import { type Captured, EMBED, MIXER, capture, tempFolder } from './capture.ts';
import mixer, { inputs as mixerInputs } from './fixtures/mixer.ts';

const { put } = tempFolder('tessera-compare-');

/** Runs the CLI in-process, capturing what it writes. */
const run = (...args: string[]): Promise<Captured> => capture(() => main(args));

/** The result rows of the text report: [backend, output, verdict]. */
const rowsOf = (out: string) => [...out.matchAll(/^(eval|cpu|webgpu) +(\S+) .*?(pass|FAIL.*|ERROR.*|unavailable.*)$/gm)].map((m) => [m[1], m[2], m[3]]);

/** The fixture traced as `tessera compare` traces it, and its compiled kernel program. */
async function tracedMixer(): Promise<{ program: Program; kernelOf: (value: string) => { index: number; name: string } }> {
  const m = await loadModelFile(MIXER, { typeCheck: false });
  const program = trace(m.model, m.inputs, { name: 'mixer' });
  const { kernels } = compileProgram(program);
  const kernelOf = (value: string) => {
    const b = kernels.buffers.findIndex((d) => d.name === value);
    const index = kernels.kernels.findIndex((k) => kernelStores(k).some((s) => s.buffer === b));
    return { index, name: kernels.kernels[index]!.name };
  };
  return { program, kernelOf };
}

/** 1-based line and column of `needle` in the fixture. */
function positionOf(needle: string): { line: number; col: number } {
  const lines = readFileSync(MIXER, 'utf8').split('\n');
  const i = lines.findIndex((l) => l.includes(needle));
  return { line: i + 1, col: lines[i]!.indexOf(needle) + 1 };
}

const TRANSFORMER = { model: 'transformer', d_model: 16, nhead: 2, num_encoder_layers: 1, num_decoder_layers: 1, dim_feedforward: 32, src_vocab: 23, tgt_vocab: 19, pad_id: 0, bos_id: 1, eos_id: 2 };

describe('tessera compare', () => {
  it("runs a user's model file (type-checked) on interp, eval, cpu and webgpu: one passing row per backend and output, exit 0", async () => {
    const r = await run('compare', MIXER, '--backends', 'interp,eval,cpu,webgpu');
    expect(r.err).not.toMatch(/error/i);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^@mixer: eval, cpu, webgpu against interp \(the reference interpreter, float64\) on inputs drawn with seed 1; L = 64$/m);
    expect(r.out).toMatch(/^backend +output +max \|diff\| +rel err +tolerance +result$/m);
    expect(rowsOf(r.out)).toEqual([
      ['eval', 'output', 'pass'],
      ['cpu', 'output', 'pass'],
      ['webgpu', 'output', 'pass'],
    ]);
    // The tolerance of the policy for L = 64: 1e-5 and 1e-4 scaled by sqrt(64).
    expect(r.out).toContain('8.00e-5 + 8.00e-4*|e|');
    expect(r.out).toMatch(/every backend agrees with the interpreter\n$/);
  });

  it('runs an IR program, drawing token ids in range for its gather table; --json prints the report', async () => {
    const r = await run('compare', EMBED, '--json', '--random-inputs', '3', '--seed', '5');
    expect(r.code).toBe(0);
    const report = JSON.parse(r.out) as CompareReport & { model: string; inputs: string };
    expect(report).toMatchObject({ program: 'embed', backends: ['eval', 'cpu', 'webgpu'], seed: 5, trials: 3, reductionLength: 8, agree: true, localised: [], inputs: '3 input sets drawn with seeds 5..7' });
    expect(report.model).toMatch(/embed\.tir$/);
    for (const row of report.rows) {
      expect(Object.keys(row).sort()).toEqual(['backend', 'elements', 'maxAbsDiff', 'mismatches', 'output', 'relError', 'status', 'tolerance']);
      expect(row).toMatchObject({ output: 'y', status: 'pass', mismatches: 0, elements: 3 * 30, tolerance: { atol: 1e-5 * Math.sqrt(8), rtol: 1e-4 * Math.sqrt(8) } });
    }
  });

  it('runs a --config model (a Transformer: token ids in range of both vocabularies)', async () => {
    const config = put('t.json', JSON.stringify(TRANSFORMER));
    const r = await run('compare', '--config', config, '--input', 'src=i32[2,5]', '--input', 'tgt=i32[2,4]', '--backends', 'eval,cpu');
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(rowsOf(r.out)).toEqual([
      ['eval', 'logits', 'pass'],
      ['cpu', 'logits', 'pass'],
    ]);
  });

  it('runs an exported ONNX BERT with no --inputs: token type ids drawn in range through the Gather wrap of negative indices', async () => {
    // They index a table of 2 rows through where(i < 0, i + 2, i); drawn as plain integers they were out of range.
    const bert = resolve(import.meta.dirname, '../../onnx/fixtures/hf-bert.torchscript.onnx');
    const r = await run('compare', '--model', bert, '--backends', 'eval,cpu');
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(rowsOf(r.out).map(([backend, , verdict]) => [backend, verdict])).toEqual([
      ['eval', 'pass'],
      ['cpu', 'pass'],
    ]);
  });

  it('a broken kernel: exit 1, and the first divergence names the kernel, its graph nodes and the line of the model', async () => {
    const { program, kernelOf } = await tracedMixer();
    const at = positionOf('h.add(mixed)');
    const add = program.nodes.find((n) => n.op === 'add' && n.loc?.line === at.line)!;
    const kernel = kernelOf(add.name);
    const cpu = getBackend('cpu');
    registerBackend(faultyBackend(cpu, corruptStore(add.name)));
    let r: Captured;
    try {
      r = await run('compare', MIXER, '--backends', 'eval,cpu', '--no-typecheck');
    } finally {
      registerBackend(cpu);
    }
    expect(r.code).toBe(1);
    expect(rowsOf(r.out)).toEqual([
      ['eval', 'output', 'pass'],
      ['cpu', 'output', 'FAIL (1024 of 1024 elements)'],
    ]);
    const [a, b] = add.operands;
    expect(r.out).toContain(`cpu: first divergence at kernel ${kernel.index} (${kernel.name}, map), which computes %${add.name} wrong: 1024 of 1024 elements differ`);
    expect(r.out).toContain(`  the stored values it reads agree with the interpreter just before it runs: %${a}, %${b}`);
    expect(r.out).toContain(`  ${kernel.name} computes:\n    %${add.name} = add(%${a}, %${b}) at ${MIXER}:${at.line}:${at.col + 'h.'.length}\n`);
    expect(r.out).toMatch(/backends DISAGREE with the interpreter\n$/);
  });

  it('--json reports the localised kernel with its nodes and their source locations', async () => {
    const { program, kernelOf } = await tracedMixer();
    const at = positionOf('u.add(c)');
    const add = program.nodes.find((n) => n.op === 'add' && n.loc?.line === at.line)!;
    const cpu = getBackend('cpu');
    registerBackend(faultyBackend(cpu, corruptStore(add.name)));
    let r: Captured;
    try {
      r = await run('compare', MIXER, '--backends', 'cpu', '--no-typecheck', '--json');
    } finally {
      registerBackend(cpu);
    }
    expect(r.code).toBe(1);
    const report = JSON.parse(r.out) as CompareReport;
    expect(report.agree).toBe(false);
    const d = report.localised[0]!.divergence!;
    expect(d).toMatchObject({ backend: 'cpu', cause: 'computed', kernel: { name: kernelOf(add.name).name, kind: 'matmul' }, value: { name: add.name, op: 'add', loc: { file: MIXER, line: at.line } } });
    // The fused kernel computes the channel matmul, its bias and the residual add: every node on its own line.
    expect(d.kernel.nodes.map((n) => n.op)).toEqual(['matmul', 'add', 'add']);
    expect(d.kernel.nodes.every((n) => n.loc?.file === MIXER)).toBe(true);
  });

  it('takes activations and weights from safetensors files, binding them as eval does', async () => {
    const { program } = await tracedMixer();
    const values = modelInputsFor(program, 9);
    const tensor = (name: string): SafetensorsTensor => ({ dtype: 'F32', shape: [...program.inputs.find((i) => i.name === name)!.type.shape], data: values[name] as Float32Array });
    const params = program.inputs.filter((i) => i.kind === 'parameter').map((i) => i.name);
    const inputs = put('in.safetensors', writeSafetensors({ x: tensor('x') }));
    const weights = put('w.safetensors', writeSafetensors(Object.fromEntries(params.map((n) => [n, tensor(n)]))));
    const r = await run('compare', MIXER, '--inputs', inputs, '--weights', weights, '--backends', 'cpu', '--no-typecheck');
    expect(r.code).toBe(0);
    expect(r.out).toContain(`on inputs from ${inputs}, weights from ${weights}`);
    // A weights file that lacks a parameter: the binder's error, exit 1.
    const partial = put('partial.safetensors', writeSafetensors(Object.fromEntries(params.slice(1).map((n) => [n, tensor(n)]))));
    const bad = await run('compare', MIXER, '--weights', partial, '--backends', 'cpu', '--no-typecheck');
    expect(bad.code).toBe(1);
    expect(bad.err).toMatch(new RegExp(`^tessera compare: missing input of program @mixer, not found in ${partial}: ${params[0]!.replace('.', '\\.')}: f32\\[32,32\\] \\(param\\)`));
  });

  it("expectBackendsAgree on the user's traced model, as the README shows it", async () => {
    const report = await expectBackendsAgree(trace(mixer, mixerInputs), { backends: ['eval', 'cpu', 'webgpu'] });
    expect(report.rows.map((row) => [row.backend, row.status])).toEqual([
      ['eval', 'pass'],
      ['cpu', 'pass'],
      ['webgpu', 'pass'],
    ]);
  });

  it('rejects bad arguments with the usage (exit 2)', async () => {
    expect(() => parseCompareArgs(['m.ts', '--inputs', 'a', '--random-inputs', '2'])).toThrow(new UsageError('--inputs and --random-inputs exclude each other'));
    expect(() => parseCompareArgs(['m.ts', '--backends', 'cpu,gpu'])).toThrow(/unknown backend 'gpu' in --backends \(known: interp, eval, cpu, webgpu/);
    expect(() => parseCompareArgs(['m.py'])).toThrow(new UsageError('m.py: expected a model FILE.ts, FILE.tir, --config C.json, --model MODEL.onnx or --model DIR'));
    expect(() => parseCompareArgs(['m.ts', '--random-inputs', '0'])).toThrow(new UsageError("--random-inputs must be an integer >= 1, got '0'"));
    expect(() => parseCompareArgs(['m.ts', '--random-inputs', '1e9'])).toThrow(new UsageError("--random-inputs must be at most 1000, got '1e9'"));
    expect(() => parseCompareArgs(['m.ts', '--frobnicate'])).toThrow(UsageError);
    expect(() => parseCompareArgs(['m.tir', '--input', 'x=f32[2]'])).toThrow(/--input sets the input types of a model file or --config model; the program m.tir declares its own/);
    expect(() => parseCompareArgs([])).toThrow(/expected one model/);
    expect(parseCompareArgs(['m.tir', '--backends', 'cpu,webgpu', '--seed', '3'])).toEqual({
      model: { source: { kind: 'program', path: 'm.tir' }, inputs: {}, typeCheck: true },
      trials: 1,
      seed: 3,
      backends: ['cpu', 'webgpu'],
      json: false,
      timings: false,
    });
    const r = await run('compare', 'm.ts', '--json=yes');
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/^tessera compare: .*\n\nusage: tessera compare/);
  });
});
