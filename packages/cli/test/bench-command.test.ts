/**
 * `tessera bench`: the JSON it prints, the checkpoint streamed one tensor at
 * a time (F32 and F16) computing exactly what loadCheckpoint's weights do and
 * PyTorch's logits, seeded weights and inputs, errors. Tiny fixture models,
 * a few runs each, so the file runs in seconds.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { type SafetensorsTensor, writeSafetensors } from '@tessera/ir';
import { readSafetensorsFile } from '@tessera/ir/node';
import { buildModel, weightsFor } from '@tessera/models';
import { loadCheckpoint, readModelConfig } from '@tessera/models/node';
import { compileProgram } from '@tessera/passes';
import { compile } from '@tessera/compiler';
import type { WebgpuExecutable } from '@tessera/backend-webgpu';
import { type BenchResult, benchModel, parseBenchArgs, prepareModel } from '../src/commands/bench.ts';
import { traceConfig } from '../src/trace-config.ts';
import { configModel } from '../src/model-source.ts';
import { main } from '../src/main.ts';
import { type Captured, capture } from './capture.ts';

const FIXTURES = join(import.meta.dirname, '..', '..', 'models', 'fixtures');
const VIT = join(FIXTURES, 'vit-torchvision-37tok-3head');
const TRANSFORMER = join(FIXTURES, 'transformer-vocab41-3head');
const tmp = mkdtempSync(join(tmpdir(), 'tessera-bench-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** Runs the CLI in-process, capturing what it writes. */
const run = (...args: string[]): Promise<Captured> => capture(() => main(args));

/** Runs `tessera bench ... --json`, which must succeed quietly with one line of JSON, and parses it. */
async function benchJson(...args: string[]): Promise<BenchResult> {
  const r = await run('bench', ...args, '--json');
  expect(r.err).toBe('');
  expect(r.code).toBe(0);
  expect(r.out.trim().split('\n')).toHaveLength(1);
  return JSON.parse(r.out) as BenchResult;
}

/** The fixture's checkpoint rewritten with `edit` applied to its tensors. */
async function checkpointWith(name: string, edit: (t: Map<string, SafetensorsTensor>) => void): Promise<string> {
  const tensors = new Map((await readSafetensorsFile(`${VIT}.safetensors`)).tensors);
  edit(tensors);
  const path = join(tmp, name);
  writeFileSync(path, writeSafetensors(tensors));
  return path;
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i]! - b[i]!));
  return d;
}

describe('tessera bench --json', () => {
  it('prints one JSON object: latency statistics of the runs, the parameter bytes, peak RSS read after the runs', async () => {
    const rssBefore = process.memoryUsage().rss;
    const s = await benchJson('--config', `${VIT}.json`, '--weights', `${VIT}.safetensors`, '--threads', '1', '--runs', '3');
    expect(s).toMatchObject({ model: `${VIT}.json`, backend: 'cpu', threads: 1, precision: 'f32', runs: 3 });
    expect(s.min_ms).toBeGreaterThan(0);
    expect(s.min_ms).toBeLessThanOrEqual(s.median_ms);
    expect(s.median_ms).toBeLessThanOrEqual(s.max_ms);
    // Parameter bytes: every tensor of the checkpoint is an F32 parameter.
    const file = await readSafetensorsFile(`${VIT}.safetensors`);
    expect(s.parameter_bytes).toBe([...file.tensors.values()].reduce((n, t) => n + 4 * t.data.length, 0));
    // The peak is at least any resident size seen earlier in this process.
    expect(s.peak_rss_bytes).toBeGreaterThanOrEqual(rssBefore);
    expect(s.start_rss_bytes).toBeGreaterThan(0);
    expect(s.start_rss_bytes).toBeLessThanOrEqual(s.peak_rss_bytes);
  });

  it('without --json prints a one-line summary', async () => {
    const r = await run('bench', '--config', `${VIT}.json`, '--threads', '2', '--runs', '2');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^\S+vit-torchvision-37tok-3head\.json \(cpu, 2 threads\): median [\d.]+ ms \(min [\d.]+, max [\d.]+\) over 2 runs; parameters [\d.]+ MiB, peak RSS [\d.]+ MiB\n$/);
  });

  it('usage errors exit 2 and name the problem', async () => {
    const cases: [string[], RegExp][] = [
      [[], /expected one model \(FILE\.ts, FILE\.tir or --config C\.json\), got none/],
      [['--config', `${VIT}.json`, '--threads', '0'], /--threads must be a positive integer, got '0'/],
      [['--config', `${VIT}.json`, '--runs', 'x'], /--runs must be a positive integer/],
      [['--config', `${VIT}.json`, '--threads', '1000'], /--threads must be at most 256 \(each thread is a worker with its own copy of the kernels\), got 1000/],
      [['--config', `${VIT}.json`, '--runs', '1000000000'], /--runs must be at most 10000, got 1000000000/],
      [['--config', `${VIT}.json`, '--threads', '2', '--backend', 'interp'], /--threads applies to the cpu backend, not 'interp'/],
      [['--config', `${VIT}.json`, '--input', 'pixel_values=f64[1]'], /expected NAME=DTYPE\[SHAPE\]/],
      [['--config', `${VIT}.json`, '--warmup', '3'], /unknown option '--warmup'/],
      [['--config', `${VIT}.json`, '--runs', '2', '--runs', '3'], /'--runs' is given twice/],
      [['--config', `${VIT}.json`, '--backend', 'nope'], /unknown or unavailable backend 'nope'/],
      [['--config', `${VIT}.json`, '--backend', 'interp', '--profile', '--json'], /--profile times the kernels of the cpu and webgpu backends, not 'interp'/],
      [['--config', `${VIT}.json`, '--precision', 'f16'], /--precision f16 applies to the webgpu backend, not 'cpu'/],
      [['--config', `${VIT}.json`, '--backend', 'webgpu', '--precision', 'bf16'], /--precision must be f32 or f16, got 'bf16'/],
    ];
    for (const [args, message] of cases) {
      const r = await run('bench', ...args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.err).toMatch(message);
      expect(r.err).toContain('usage: tessera bench');
    }
    const help = await run('bench', '--help');
    expect(help.code).toBe(0);
    expect(help.out).toContain('--weights FILE');
  });

  it('parses repeated --input and --flag=value forms', () => {
    const o = parseBenchArgs(['--config=c.json', '--input', 'src=i64[2,9]', '--input=tgt=i32[2,7]', '--json']);
    expect(o).toEqual({ model: configModel('c.json', { src: { dtype: 'i64', shape: [2, 9] }, tgt: { dtype: 'i32', shape: [2, 7] } }), backend: 'cpu', runs: 10, json: true });
    expect(parseBenchArgs(['--config', 'c.json', '--profile', '--backend=webgpu'])).toEqual({ model: configModel('c.json'), backend: 'webgpu', runs: 10, json: false, profile: true });
    expect(parseBenchArgs(['--config', 'c.json', '--backend=webgpu', '--precision', 'f16'])).toEqual({ model: configModel('c.json'), backend: 'webgpu', precision: 'f16', runs: 10, json: false });
    expect(parseBenchArgs(['--config', 'c.json', '--precision=f32'])).toEqual({ model: configModel('c.json'), backend: 'cpu', runs: 10, json: false });
  });
});

describe('tessera bench --backend webgpu --profile', () => {
  it('--json adds kernels: every kernel of one run after the timed ones, in launch order (parameter packs done by then)', async () => {
    const s = await benchJson('--config', `${VIT}.json`, '--backend', 'webgpu', '--runs', '1', '--profile');
    expect(s).toMatchObject({ backend: 'webgpu', runs: 1 });
    // The same shaders a compile of the same program gets, less the prepasses that pack parameters (they ran in the warm-up).
    const exe = (await compile(await traceConfig(`${VIT}.json`, {}), { backend: 'webgpu' })) as WebgpuExecutable;
    const expected = exe.shaders.flatMap((k) => [...(k.prepasses ?? []).filter((p) => !p.paramsOnly), k]).map(({ name, kind, variant }) => ({ name, kind, variant }));
    exe.dispose();
    expect(s.kernels!.map(({ name, kind, variant }) => ({ name, kind, variant }))).toEqual(expected);
    expect(new Set(s.kernels!.map((k) => k.kind))).toEqual(new Set(['map', 'matmul', 'reduce', 'attention']));
    for (const k of s.kernels!) {
      expect(k.ms).toBeGreaterThanOrEqual(0);
      expect(['timestamp', 'wall']).toContain(k.method);
    }
  });

  it('without --json prints the summary, then the kernels slowest first with their share, then the totals per kind', async () => {
    const r = await run('bench', '--config', `${VIT}.json`, '--backend', 'webgpu', '--runs', '1', '--profile');
    expect(r.code).toBe(0);
    const lines = r.out.trimEnd().split('\n');
    expect(lines[0]).toMatch(/ \(webgpu\): median [\d.]+ ms .* over 1 runs; /);
    const head = /^kernels of one run \((GPU timestamps|a submit per kernel timed on the host)\): (\d+) dispatches, ([\d.]+) ms in all$/.exec(lines[1]!);
    expect(head).not.toBeNull();
    const n = Number(head![2]);
    const rows = lines.slice(3, 3 + n).map((l) => /^ +([\d.]+) +([\d.]+)% {2}(\S+) +(\S.*)$/.exec(l));
    expect(rows.every((m) => m !== null)).toBe(true);
    const ms = rows.map((m) => Number(m![1]));
    expect(ms).toEqual([...ms].sort((a, b) => b - a));
    // The shares add up to 100% (each rounded to 0.1), the times to the total.
    expect(Math.abs(rows.reduce((t, m) => t + Number(m![2]), 0) - 100)).toBeLessThan(0.05 * n + 0.1);
    expect(Math.abs(ms.reduce((a, b) => a + b, 0) - Number(head![3]))).toBeLessThan(0.001 * n + 0.001);
    expect(lines[3 + n]).toBe('by kind:');
    const kinds = lines.slice(4 + n).map((l) => /^ +([\d.]+) +[\d.]+% {2}(\w+) \((\d+) dispatch(es)?\)$/.exec(l));
    expect(kinds.every((m) => m !== null)).toBe(true);
    expect(kinds.reduce((t, m) => t + Number(m![3]), 0)).toBe(n);
  });
});

describe('tessera bench --profile (cpu)', () => {
  it('--json adds kernels: every kernel of the program in launch order, each timed on the host up to the barrier after it', async () => {
    const s = await benchJson('--config', `${VIT}.json`, '--threads', '2', '--runs', '1', '--profile');
    expect(s).toMatchObject({ backend: 'cpu', threads: 2, runs: 1 });
    const program = await traceConfig(`${VIT}.json`, {});
    const expected = compileProgram(program).kernels.kernels.map(({ name, kind }) => ({ name, kind }));
    expect(s.kernels!.map(({ name, kind }) => ({ name, kind }))).toEqual(expected);
    expect(new Set(s.kernels!.map((k) => k.kind))).toEqual(new Set(['map', 'matmul', 'reduce', 'attention']));
    for (const k of s.kernels!) {
      expect(k.ms).toBeGreaterThanOrEqual(0);
      expect(k.method).toBe('host');
      expect(k.variant).toMatch(/^wasm, 2 threads$|^js \(/);
    }
    // One run's kernels take no longer than the slowest timed run and the profile's own bookkeeping.
    expect(s.kernels!.reduce((t, k) => t + k.ms, 0)).toBeLessThan(s.max_ms * 3 + 50);
  });

  it('without --json prints the kernels slowest first, then the totals per kind', async () => {
    const r = await run('bench', '--config', `${VIT}.json`, '--runs', '1', '--profile');
    expect(r.code).toBe(0);
    const lines = r.out.trimEnd().split('\n');
    expect(lines[1]).toMatch(/^kernels of one run \(each kernel timed on the host up to the barrier after it\): \d+ dispatches, [\d.]+ ms in all$/);
    expect(lines).toContain('by kind:');
  });
});

describe('weights streamed from the checkpoint', () => {
  it("compute PyTorch's logits on the fixture's images", async () => {
    const io = (await readSafetensorsFile(`${VIT}.io.safetensors`)).tensors;
    const m = await prepareModel({ model: configModel(`${VIT}.json`, { pixel_values: { dtype: 'f32', shape: [2, 3, 24, 24] } }), weights: `${VIT}.safetensors`, backend: 'cpu', threads: 1 });
    const out = await m.run({ pixel_values: io.get('pixel_values')!.data as Float32Array });
    m.dispose();
    const expected = io.get('logits')!.data as Float32Array;
    // PyTorch computed in float64; f32 over reductions of a few dozen terms.
    expect(maxAbsDiff(out.logits!.data as Float32Array, expected)).toBeLessThan(1e-4);
  });

  for (const dtype of ['F32', 'F16', 'BF16'] as const) {
    it(`${dtype}: the same outputs, bit for bit, as loadCheckpoint's weights on the same backend`, async () => {
      const path =
        dtype === 'F32'
          ? `${VIT}.safetensors`
          : await checkpointWith(`vit-${dtype}.safetensors`, (t) => {
              for (const [k, v] of t) t.set(k, { ...v, dtype });
            });
      const config = `${VIT}.json`;
      const inputs = { pixel_values: { dtype: 'f32', shape: [2, 3, 24, 24] } };
      const m = await prepareModel({ model: configModel(config, inputs), weights: path, backend: 'cpu' });
      const streamed = await m.run();
      m.dispose();
      const program = await traceConfig(config, inputs);
      const weights = await loadCheckpoint(buildModel(await readModelConfig(config)), path);
      const exe = await compile(program, { backend: 'cpu', weights: weightsFor(program, weights) });
      const loaded = await exe.run(m.inputs);
      exe.dispose();
      expect(Array.from(streamed.logits!.data)).toEqual(Array.from(loaded.logits!.data));
    });
  }

  it('a checkpoint that does not fit the model: exit 1, every problem named', async () => {
    const path = await checkpointWith('misfit.safetensors', (t) => {
      t.delete('heads.head.bias');
      const w = t.get('encoder.ln.weight')!;
      t.set('encoder.ln.weight', { ...w, shape: [4, 6] });
      t.set('extra.tensor', { dtype: 'F32', shape: [2], data: new Float32Array(2) });
    });
    const r = await run('bench', '--config', `${VIT}.json`, '--weights', path, '--runs', '1');
    expect(r.code).toBe(1);
    expect(r.err).toContain('missing 1 tensor(s): heads.head.bias [7]');
    expect(r.err).toContain('wrong shape: encoder.ln.weight: expected [24], found [4, 6]');
    expect(r.err).toContain('unexpected 1 tensor(s): extra.tensor [2]');
  });

  /** A checkpoint file: the fixture's header rewritten by `edit` (JSON text in, JSON text out), then `data` (default: the fixture's data). */
  function rewrittenHeader(name: string, edit: (header: string) => string, data?: Uint8Array): string {
    const bytes = readFileSync(`${VIT}.safetensors`);
    const n = Number(bytes.readBigUInt64LE(0));
    let text = edit(bytes.subarray(8, 8 + n).toString('utf8'));
    text += ' '.repeat((8 - (Buffer.byteLength(text) % 8)) % 8);
    const len = Buffer.alloc(8);
    len.writeBigUInt64LE(BigInt(Buffer.byteLength(text)));
    const path = join(tmp, name);
    writeFileSync(path, Buffer.concat([len, Buffer.from(text), data ?? bytes.subarray(8 + n)]));
    return path;
  }

  const setEntry = (name: string, value: string) => (h: string) => h.replace(new RegExp(`"${name.replace(/\./g, '\\.')}":\\{[^}]*\\}`), `"${name}":${value}`);

  it('a malformed checkpoint: exit 1 with the message tessera run gives (the same validation), never an internal error', async () => {
    const bytes = readFileSync(`${VIT}.safetensors`);
    const deep = `${'['.repeat(100_000)}${']'.repeat(100_000)}`;
    const cases: [string, RegExp][] = [
      [rewrittenHeader('bad-offsets.safetensors', (h) => h.replace(/("encoder\.ln\.bias":\{[^}]*"data_offsets":)\[\d+,\d+\]/, '$1[96,0]')), /tensor 'encoder\.ln\.bias' \(F32 \[\d+\]\): data_offsets \[96,0\] have begin > end/],
      [rewrittenHeader('bad-shape.safetensors', setEntry('encoder.ln.bias', '{"dtype":"F32","shape":"bad","data_offsets":[0,4]}')), /tensor 'encoder\.ln\.bias': "shape" must be an array of integers, got "bad"/],
      [rewrittenHeader('no-dtype.safetensors', setEntry('encoder.ln.bias', '{"shape":[12],"data_offsets":[0,48]}')), /tensor 'encoder\.ln\.bias': entry is missing "dtype"/],
      [rewrittenHeader('deep.safetensors', setEntry('encoder.ln.bias', deep)), /tensor 'encoder\.ln\.bias': entry must be an object \{dtype, shape, data_offsets\}, got \[\[\[\[.*\.\.\.\n/],
      [rewrittenHeader('not-json.safetensors', (h) => h.slice(0, -3)), /header is not valid JSON/],
      [(() => {
        const path = join(tmp, 'truncated.safetensors');
        writeFileSync(path, bytes.subarray(0, bytes.length - 100));
        return path;
      })(), /data_offsets \[\d+,\d+\] run past the end of the \d+-byte data buffer/],
      [join(tmp, 'none.safetensors'), /none\.safetensors: cannot read file: no such file or directory/],
      [tmp, /: cannot read file: is a directory/],
    ];
    for (const [path, message] of cases) {
      const bench = await run('bench', '--config', `${VIT}.json`, '--weights', path, '--runs', '1', '--threads', '1');
      const viaRun = await run('run', '--config', `${VIT}.json`, '--weights', path, '--inputs', `${VIT}.io.safetensors`, '--out', join(tmp, 'out.safetensors'));
      expect(bench.code, path).toBe(1);
      expect(viaRun.code, path).toBe(1);
      expect(bench.err, path).toMatch(message);
      expect(bench.err.replace(/^tessera bench: /, '')).toBe(viaRun.err.replace(/^tessera run: /, ''));
      expect(bench.err.length).toBeLessThan(400);
    }
  });
});

describe('seeded weights and inputs', () => {
  it('are the same in every run and on every backend (the interpreter gets the weights with each run)', async () => {
    const opts = { model: configModel(`${VIT}.json`), backend: 'cpu' as const, threads: 1, runs: 1, json: true };
    const a = await benchModel(opts);
    const b = await benchModel({ ...opts, threads: 2 });
    const c = await benchModel({ ...opts, backend: 'interp', threads: undefined });
    expect(c.result.threads).toBeNull();
    expect(Array.from(a.inputs.pixel_values!)).toEqual(Array.from(c.inputs.pixel_values!));
    const logits = a.outputs.logits!.data as Float32Array;
    expect(logits.every(Number.isFinite)).toBe(true);
    // Not degenerate: the classes get different logits.
    expect(new Set(logits).size).toBeGreaterThan(1);
    expect(maxAbsDiff(logits, b.outputs.logits!.data as Float32Array)).toBeLessThan(1e-5);
    expect(maxAbsDiff(logits, c.outputs.logits!.data as Float32Array)).toBeLessThan(1e-4);
  });

  it('Transformer: token ids below each vocabulary, finite logits, --input shapes honoured', async () => {
    const config = JSON.parse(readFileSync(`${TRANSFORMER}.json`, 'utf8')) as { src_vocab: number; tgt_vocab: number };
    const o = parseBenchArgs(['--config', `${TRANSFORMER}.json`, '--input', 'src=i64[3,5]', '--input', 'tgt=i64[3,4]', '--threads', '1', '--runs', '2']);
    const r = await benchModel(o);
    const { src, tgt } = r.inputs as { src: Int32Array; tgt: Int32Array };
    expect([src.length, tgt.length]).toEqual([15, 12]);
    expect(src.every((v) => v >= 0 && v < config.src_vocab)).toBe(true);
    expect(tgt.every((v) => v >= 0 && v < config.tgt_vocab)).toBe(true);
    // Not all the same token: the seeded ids cover the vocabulary.
    expect(new Set(src).size).toBeGreaterThan(3);
    expect(r.outputs.logits!.data.length).toBe(3 * 4 * config.tgt_vocab);
    expect((r.outputs.logits!.data as Float32Array).every(Number.isFinite)).toBe(true);
  });
});
