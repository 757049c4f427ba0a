/**
 * Model files and IR programs in every command that runs a model: `run`
 * (inputs from --inputs by the program's input names, parameters from
 * --weights, outputs written by the program's output names), `bench` and
 * `compare`, with --input giving a model file's input another shape, and
 * --timings. What they compute is checked against the reference
 * interpreter on the same values.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type Program, type SafetensorsTensor, interpret, parseProgram, writeSafetensors } from '@tessera/ir';
import { readSafetensorsFile } from '@tessera/ir/node';
import { trace } from '@tessera/frontend';
import { createWebgpuBackend } from '@tessera/backend-webgpu';
import { loadModelFile } from '@tessera/frontend/node';
import { allClose, modelInputsFor } from '@tessera/harness';
import { describe, expect, it } from 'vitest';
import { benchModel, parseBenchArgs } from '../src/commands/bench.ts';
import { parseRunArgs } from '../src/commands/run.ts';
import { main } from '../src/main.ts';
import { type Captured, EMBED, MIXER, capture, tempFolder } from './capture.ts';

const { dir: tmp, put } = tempFolder('tessera-model-commands-');

/** Runs the CLI in-process, capturing what it writes. */
const tessera = (...args: string[]): Promise<Captured> => capture(() => main(args));

/** The fixture traced as the commands trace it (named after the file), with `x` of `shape`. */
async function mixerProgram(shape = [2, 16, 32]): Promise<Program> {
  const m = await loadModelFile(MIXER, { typeCheck: false });
  return trace(m.model, { ...m.inputs, x: { dtype: 'f32', shape } }, { name: 'mixer' });
}

/** Seeded values for every input of `p`, and safetensors files of its activations and of its parameters. */
function valueFiles(p: Program, name: string, seed = 3): { values: Record<string, Float32Array | Int32Array | Uint8Array>; inputs: string; weights: string } {
  const values = modelInputsFor(p, seed) as Record<string, Float32Array | Int32Array | Uint8Array>;
  const file = (kind: string) => {
    const tensors: Record<string, SafetensorsTensor> = {};
    for (const i of p.inputs.filter((x) => x.kind === kind)) tensors[i.name] = { dtype: i.type.dtype === 'f32' ? 'F32' : i.type.dtype === 'i32' ? 'I32' : 'BOOL', shape: [...i.type.shape], data: values[i.name]! } as SafetensorsTensor;
    return writeSafetensors(tensors);
  };
  return { values, inputs: put(`${name}-in.safetensors`, file('activation')), weights: put(`${name}-w.safetensors`, file('parameter')) };
}

/** What the reference interpreter computes for output `name` of `p` on `values`. */
function reference(p: Program, values: Record<string, ArrayLike<number>>, name = 'output'): Float64Array {
  return interpret(p, values as Record<string, Float32Array>)[name]!.data;
}

describe('tessera run FILE.ts | FILE.tir', () => {
  it('runs a model file on inputs and weights named as the program\'s, writes the outputs by name: what the interpreter computes', async () => {
    const p = await mixerProgram();
    const { values, inputs, weights } = valueFiles(p, 'mixer');
    const expected = reference(p, values);
    for (const backend of ['cpu', 'interp']) {
      const out = join(tmp, `mixer-${backend}.safetensors`);
      const r = await tessera('run', MIXER, '--inputs', inputs, '--weights', weights, '--out', out, '--backend', backend, '--no-typecheck');
      expect(r.err).toBe('');
      expect(r.code).toBe(0);
      expect(r.out).toMatch(/^output: f32\[2,16,32\] min=\S+ max=\S+ mean=\S+\n$/);
      const written = await readSafetensorsFile(out);
      expect([...written.tensors.keys()]).toEqual(['output']);
      const t = written.tensors.get('output')!;
      expect([t.dtype, t.shape]).toEqual(['F32', [2, 16, 32]]);
      expect(allClose(t.data as Float32Array, expected, { reductionLength: 64 })).toBe(true);
    }
  });

  it('--input gives the model file\'s input another shape: the inputs file then has that shape', async () => {
    const p = await mixerProgram([3, 16, 32]);
    const { values, inputs, weights } = valueFiles(p, 'mixer3', 5);
    const out = join(tmp, 'mixer3.safetensors');
    const r = await tessera('run', MIXER, '--input', 'x=f32[3,16,32]', '--inputs', inputs, '--weights', weights, '--out', out);
    expect(r.code).toBe(0);
    const t = (await readSafetensorsFile(out)).tensors.get('output')!;
    expect(t.shape).toEqual([3, 16, 32]);
    expect(allClose(t.data as Float32Array, reference(p, values), { reductionLength: 64 })).toBe(true);
    // The same inputs file without --input: the shape it has is not the model's, named with both shapes.
    const wrong = await tessera('run', MIXER, '--inputs', inputs, '--weights', weights, '--out', out, '--no-typecheck');
    expect(wrong.code).toBe(1);
    expect(wrong.err).toBe(`tessera run: ${inputs}: tensor 'x': shape [3,16,32] differs from the expected [2,16,32] (f32[2,16,32])\n`);
  });

  it('runs an IR program (FILE.tir), gathers included; outputs named as the program\'s', async () => {
    const p = parseProgram(readFileSync(EMBED, 'utf8'), EMBED);
    const { values, inputs, weights } = valueFiles(p, 'embed');
    const out = join(tmp, 'embed-out.safetensors');
    const r = await tessera('run', EMBED, '--inputs', inputs, '--weights', weights, '--out', out);
    expect([r.code, r.err]).toEqual([0, '']);
    expect(r.out).toMatch(/^y: f32\[2,5,3\] /);
    const t = (await readSafetensorsFile(out)).tensors.get('y')!;
    expect(allClose(t.data as Float32Array, reference(p, values, 'y'), { reductionLength: 8 })).toBe(true);
  });

  it('names what is missing or wrong: parameters without --weights, flags that belong to --config models, the output', async () => {
    const p = await mixerProgram();
    const { inputs } = valueFiles(p, 'mixer-missing');
    const out = join(tmp, 'never.safetensors');
    const missing = await tessera('run', MIXER, '--inputs', inputs, '--out', out, '--no-typecheck');
    expect(missing.code).toBe(1);
    expect(missing.err).toMatch(new RegExp(`^tessera run: missing inputs of program @mixer, not found in ${inputs.replace(/[.]/g, '\\.')}: embed\\.weight: f32\\[32,32\\] \\(param\\), embed\\.bias: f32\\[32\\] \\(param\\),`));
    const usage = async (args: string[], message: string) => {
      const r = await tessera('run', ...args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.err).toContain(message);
      expect(r.err).toContain('usage: tessera run');
    };
    await usage([MIXER, '--inputs', inputs, '--out', out, '--batch-size', '2'], '--batch-size applies to --config models');
    await usage([MIXER, '--inputs', inputs], 'missing --out OUT.safetensors');
    await usage(['--config', 'c.json', '--weights', 'w', '--inputs', 'i', '--out', out, '--input', 'src=i64[2,9]'], '--input: a --config model takes its input shapes from the --inputs file');
    await usage(['m.json', '--out', out], 'm.json: expected a model FILE.ts, FILE.tir or --config C.json');
    await usage([MIXER, inputs, '--out', out], `expected one model (FILE.ts, FILE.tir or --config C.json), got ${MIXER} ${inputs}`);
    // A model file's out path that names the model is refused before any work.
    const self = await tessera('run', MIXER, '--out', MIXER);
    expect([self.code, self.err]).toEqual([1, `tessera run: --out ${MIXER} is the model file (${MIXER}): refusing to overwrite an input; choose another output path\n`]);
    expect(parseRunArgs([MIXER, '--out', out, '--timings']).timings).toBe(true);
    await usage([MIXER, '--inputs', inputs, '--out', out, '--precision', 'f16'], "--precision f16 applies to the webgpu backend, not 'cpu'");
    expect(parseRunArgs([MIXER, '--out', out, '--backend', 'webgpu', '--precision', 'f16']).precision).toBe('f16');
  });

  it("--precision f16 reaches the WebGPU backend, which refuses it cleanly on an adapter without shader-f16 (exit 1)", async () => {
    const p = parseProgram(readFileSync(EMBED, 'utf8'), EMBED);
    const { inputs, weights } = valueFiles(p, 'embed-f16');
    const r = await tessera('run', EMBED, '--inputs', inputs, '--weights', weights, '--out', join(tmp, 'embed-f16-out.safetensors'), '--backend', 'webgpu', '--precision', 'f16');
    const be = await createWebgpuBackend();
    const f16 = be.adapter.f16;
    be.destroy();
    if (f16) expect([r.code, r.err]).toEqual([0, '']);
    else expect([r.code, r.err]).toEqual([1, expect.stringMatching(/^tessera run: webgpu: precision 'f16' needs the adapter's shader-f16 feature/)]);
  });
});

describe('tessera bench FILE.ts | FILE.tir', () => {
  it('times a model file; with --weights it computes what the interpreter does on the same values', async () => {
    const p = await mixerProgram();
    const { values, weights } = valueFiles(p, 'bench-mixer', 7);
    const r = await benchModel(parseBenchArgs([MIXER, '--weights', weights, '--threads', '1', '--runs', '2', '--no-typecheck']));
    expect(r.result).toMatchObject({ model: MIXER, backend: 'cpu', threads: 1, runs: 2 });
    expect(r.result.parameter_bytes).toBe(p.inputs.filter((i) => i.kind === 'parameter').reduce((s, i) => s + 4 * i.type.shape.reduce((a, b) => a * b, 1), 0));
    expect(r.result.compile_ms).toBeGreaterThan(0);
    const expected = reference(p, { ...values, x: r.inputs.x! });
    expect(allClose(r.outputs.output!.data as Float32Array, expected, { reductionLength: 64 })).toBe(true);
  });

  it('an IR program with a gather: token ids drawn in range for the table; --json from the command line', async () => {
    const r = await benchModel(parseBenchArgs([EMBED, '--runs', '1', '--threads', '1']));
    const tokens = r.inputs.tokens as Int32Array;
    expect(tokens.every((t) => t >= 0 && t < 11)).toBe(true);
    expect(new Set(tokens).size).toBeGreaterThan(2);
    const cli = await tessera('bench', EMBED, '--runs', '1', '--json');
    expect(cli.code).toBe(0);
    expect(JSON.parse(cli.out)).toMatchObject({ model: EMBED, runs: 1 });
  });

  it('--timings on stderr: start-up, type check, load, trace, compile, weights, runs', async () => {
    const r = await tessera('bench', MIXER, '--runs', '1', '--json', '--timings');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out)).toMatchObject({ model: MIXER });
    expect([...r.err.matchAll(/^ {2}(\S+(?: \S+)*?) +\d+\.\d$/gm)].map((m) => m[1])).toEqual(['startup', 'type check', 'load', 'trace', 'compile', 'weights', 'warm-up run', '1 timed run', 'total']);
  });
});

describe('tessera compare FILE.ts --input', () => {
  it('compares the model with its input given another shape; --timings adds the phases on stderr', async () => {
    const r = await tessera('compare', MIXER, '--input', 'x=f32[1,16,32]', '--backends', 'eval,cpu', '--json', '--timings');
    expect(r.code).toBe(0);
    const report = JSON.parse(r.out) as { model: string; agree: boolean; rows: { backend: string; status: string }[] };
    expect(report).toMatchObject({ model: MIXER, agree: true });
    expect(report.rows.map((x) => [x.backend, x.status])).toEqual([
      ['eval', 'pass'],
      ['cpu', 'pass'],
    ]);
    expect([...r.err.matchAll(/^ {2}(\S+(?: \S+)*?) +\d+\.\d$/gm)].map((m) => m[1])).toEqual(['startup', 'type check', 'load', 'trace', 'compare', 'total']);
    const bad = await tessera('compare', MIXER, '--input', 'y=f32[1,16,32]', '--no-typecheck');
    expect([bad.code, bad.err]).toEqual([1, `tessera compare: ${MIXER}: no input 'y' to set the type of (the model's inputs: x)\n`]);
  });
});
