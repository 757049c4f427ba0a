/**
 * Runtimes side by side, as the peer benchmarks (bench/vit.ts,
 * bench/transformer.ts) measure them: each runtime with its model lives in a
 * child process of its own (onnxruntime-web fixes its thread count once per
 * process, and each gets its own memory), and the parent times them round
 * robin, one run of each per round, so a change of machine load hits all of
 * them alike. The children send their first output (a wrong computation
 * would otherwise benchmark well) and the peak RSS of their process.
 *
 * This file is also the child: `--bench-runner ARGS` serves one runtime.
 */
import { type ChildProcess, fork, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createCpuBackend, enableRelaxedSimd } from '@tessera/backend-cpu';
import { readSafetensorsFile } from '@tessera/ir/node';
import { idleGap, seededArray, timeIt } from './timing.ts';

export const ROOT = resolve(import.meta.dirname, '..');
/** Exported models (git-ignored), made on demand by the tools/export_*_onnx.py scripts. */
export const MODELS_DIR = join(ROOT, 'bench', '.models');
const PYTHON = process.env.TESSERA_BENCH_PYTHON ?? '/usr/bin/python3';
const THIS_FILE = fileURLToPath(import.meta.url);
const RUNNER_FLAG = '--bench-runner';
export const MIB = 1024 * 1024;

/**
 * What runs the model: Tessera's compiled model, onnxruntime-web's wasm
 * backend, onnxruntime-node, or Tessera's greedy generator (a Transformer's
 * KV-cached decoding: another computation than the model's forward pass).
 */
export type RuntimeKind = 'tessera' | 'ort-web' | 'ort-node' | 'tessera-generate';

/** One column or row of a comparison: a runtime on some threads. */
export interface RuntimeSpec {
  readonly key: string;
  readonly label: string;
  readonly kind: RuntimeKind;
  readonly threads: number;
  /** Int8: Tessera's quantize 'int8', onnxruntime-web's quantize_dynamic model. */
  readonly int8?: boolean;
}

/** A model input: read by name from the io file, or seeded when there is none. */
export interface InputSpec {
  readonly name: string;
  /** 'f32', or 'int' (i32 for Tessera, int64 for onnxruntime). */
  readonly dtype: 'f32' | 'int';
  readonly shape: readonly number[];
  /** Seed of the values made without an io file: floats in [-1, 1), integers in [0, below). */
  readonly seed: number;
  readonly below?: number;
}

/** What a runner child is told: the runtime, the model files and the inputs. */
export interface RunnerArgs {
  readonly kind: RuntimeKind;
  readonly threads: number;
  readonly config: string;
  /** Absent: Tessera's seeded weights. */
  readonly weights?: string;
  readonly onnx?: string;
  /** NAME.io.safetensors with the inputs by name; absent: seeded inputs. */
  readonly io?: string;
  readonly inputs: readonly InputSpec[];
  /** The output whose values the child sends back (e.g. logits). */
  readonly output: string;
  /** Tessera (and its generator): compile with quantize 'int8'. */
  readonly int8?: boolean;
  /** tessera-generate: tokens generated after bos. */
  readonly newTokens?: number;
}

/** Messages from a runner child. */
type RunnerMessage =
  | { type: 'ready'; logits: number[] }
  | { type: 'time'; ms: number; cpuMs: number }
  | { type: 'done'; peakRss: number }
  | { type: 'error'; message: string };

/** Timed rounds: `fallback`, or TESSERA_BENCH_ROUNDS (fewer while developing). */
export function benchRounds(fallback: number): number {
  const n = Number(process.env.TESSERA_BENCH_ROUNDS);
  return Number.isInteger(n) && n > 0 ? n : fallback;
}

/**
 * Makes sure the exported models exist, running `tools/SCRIPT --out
 * bench/.models --int8 [NAME ...]` for the missing ones (`names`: what the
 * script takes as arguments; empty when it exports one model); returns why
 * they cannot be made when PyTorch is missing.
 */
export function ensureExports(script: string, models: readonly string[], files: readonly string[], names: (missing: string[]) => string[]): string | undefined {
  const missing = models.filter((m) => files.some((ext) => !existsSync(join(MODELS_DIR, m + ext))));
  if (missing.length === 0) return undefined;
  const probe = spawnSync(PYTHON, ['-c', 'import torch, onnxruntime.quantization'], { stdio: 'ignore' });
  if (probe.error || probe.status !== 0) return `${PYTHON} with torch and onnxruntime is not available to export ${missing.join(', ')} (tools/${script} --int8; set TESSERA_BENCH_PYTHON)`;
  console.log(`exporting ${missing.join(', ')} with PyTorch (tools/${script}, once; into bench/.models)...`);
  const r = spawnSync(PYTHON, [join(ROOT, 'tools', script), '--out', MODELS_DIR, '--int8', ...names(missing)], { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'inherit', 'pipe'] });
  if (r.status !== 0) return `tools/${script} failed (exit ${r.status}): ${r.stderr.trim().split('\n').slice(-3).join(' | ')}`;
  return undefined;
}

/** A runner child: one runtime with one model, answering run requests. */
class Runner {
  private readonly proc: ChildProcess;
  private readonly queue: RunnerMessage[] = [];
  private waiting: ((m: RunnerMessage) => void) | undefined;
  private stderr = '';

  constructor(args: RunnerArgs) {
    this.proc = fork(THIS_FILE, [RUNNER_FLAG, JSON.stringify(args)], { cwd: ROOT, execArgv: ['--import', 'tsx'], stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
    this.proc.stderr!.on('data', (d: Buffer) => (this.stderr = (this.stderr + d.toString()).slice(-2000)));
    this.proc.on('message', (m: RunnerMessage) => this.deliver(m));
    this.proc.on('exit', (code) => this.deliver({ type: 'error', message: `runner exited (code ${code}): ${this.stderr.trim().split('\n').slice(-4).join(' | ')}` }));
  }

  private deliver(m: RunnerMessage): void {
    const w = this.waiting;
    this.waiting = undefined;
    if (w) w(m);
    else this.queue.push(m);
  }

  /** The next message, or throws the child's error. */
  async next<T extends RunnerMessage['type']>(type: T): Promise<Extract<RunnerMessage, { type: T }>> {
    const m = this.queue.shift() ?? (await new Promise<RunnerMessage>((r) => (this.waiting = r)));
    if (m.type === 'error') throw new Error(m.message);
    if (m.type !== type) throw new Error(`runner sent '${m.type}', expected '${type}'`);
    return m as Extract<RunnerMessage, { type: T }>;
  }

  /** Times one run in the child. */
  async run(): Promise<{ ms: number; cpuMs: number }> {
    this.proc.send('run');
    return this.next('time');
  }

  /** Ends the child; resolves to its peak RSS. */
  async close(): Promise<number> {
    this.proc.send('exit');
    return (await this.next('done')).peakRss;
  }

  kill(): void {
    if (this.proc.exitCode === null) this.proc.kill();
  }
}

/** An input's values as Tessera takes them (f32, or i32 tokens) and as onnxruntime does (f32, or int64). */
interface InputValues {
  readonly spec: InputSpec;
  readonly f32?: Float32Array;
  readonly i32?: Int32Array;
}

/** The inputs from the io file, or seeded. */
async function readInputs(args: RunnerArgs): Promise<InputValues[]> {
  const io = args.io ? (await readSafetensorsFile(args.io)).tensors : undefined;
  return args.inputs.map((spec) => {
    const data = io?.get(spec.name)?.data;
    if (io && !data) throw new Error(`${args.io}: no tensor '${spec.name}'`);
    const n = spec.shape.reduce((a, b) => a * b, 1);
    if (spec.dtype === 'f32') return { spec, f32: data ? (data as Float32Array) : seededArray(n, spec.seed) };
    if (data) return { spec, i32: Int32Array.from(data as ArrayLike<number | bigint>, Number) };
    const below = spec.below ?? 1;
    return { spec, i32: Int32Array.from(seededArray(n, spec.seed), (u) => Math.min(below - 1, Math.floor(((u + 1) / 2) * below))) };
  });
}

/** onnxruntime's feeds (either package's Tensor class) of the inputs. */
function ortFeeds<T>(Tensor: new (type: 'float32' | 'int64', data: Float32Array | BigInt64Array, dims: readonly number[]) => T, inputs: readonly InputValues[]): Record<string, T> {
  return Object.fromEntries(inputs.map((x) => [x.spec.name, x.f32 ? new Tensor('float32', x.f32, x.spec.shape) : new Tensor('int64', BigInt64Array.from(x.i32!, BigInt), x.spec.shape)]));
}

/** Loads the runtime with its model; returns one run (its output's values) and how to release it. */
async function loadRuntime(args: RunnerArgs, inputs: readonly InputValues[]): Promise<{ runOnce: () => Promise<ArrayLike<number>>; dispose: () => void }> {
  if (args.kind === 'tessera-generate') {
    const { compileGenerator } = await import('@tessera/models');
    const { loadModel } = await import('@tessera/models/node');
    const loaded = await loadModel(args.config, args.weights!);
    if (loaded.kind !== 'transformer') throw new Error(`${args.config}: the generator row needs a Transformer, not ${loaded.kind}`);
    const src = inputs.find((x) => x.spec.name === 'src')!;
    const generator = await compileGenerator(loaded.model, loaded.weights, { backend: createCpuBackend({ threads: args.threads }), batch: 1, srcLen: src.spec.shape[1]!, maxNewTokens: args.newTokens!, ...(args.int8 ? { quantize: 'int8' as const } : {}) });
    return { runOnce: () => generator.generate(src.i32!), dispose: () => generator.dispose() };
  }
  if (args.kind === 'tessera') {
    const { prepareModel } = await import('../packages/cli/src/commands/bench.ts');
    const { configModel } = await import('../packages/cli/src/model-source.ts');
    // The inputs' shapes as --input would set them (a Transformer config traces 16 tokens unless told).
    const shapes = Object.fromEntries(inputs.map((x) => [x.spec.name, { dtype: x.f32 ? 'f32' : 'i32', shape: x.spec.shape }]));
    const model = await prepareModel({ model: { ...configModel(args.config, shapes), ...(args.int8 ? { quantize: 'int8' as const } : {}) }, ...(args.weights ? { weights: args.weights } : {}), backend: 'cpu', threads: args.threads });
    const feeds = Object.fromEntries(inputs.map((x) => [x.spec.name, x.f32 ?? x.i32!]));
    return { runOnce: async () => (await model.run(feeds))[args.output]!.data as Float32Array, dispose: () => model.dispose() };
  }
  if (args.kind === 'ort-web') {
    const ort = await import('onnxruntime-web');
    // Read once, when the wasm backend starts: hence one process per thread count.
    ort.env.wasm.numThreads = args.threads;
    const session = await ort.InferenceSession.create(args.onnx!, { executionProviders: ['wasm'], graphOptimizationLevel: 'all' });
    const feeds = ortFeeds(ort.Tensor, inputs);
    return { runOnce: async () => (await session.run(feeds))[args.output]!.data as Float32Array, dispose: () => {} };
  }
  const ort = await import('onnxruntime-node');
  const session = await ort.InferenceSession.create(args.onnx!, { executionProviders: ['cpu'], intraOpNumThreads: args.threads, interOpNumThreads: 1, executionMode: 'sequential', graphOptimizationLevel: 'all' });
  const feeds = ortFeeds(ort.Tensor, inputs);
  return { runOnce: async () => (await session.run(feeds))[args.output]!.data as Float32Array, dispose: () => {} };
}

/** The child side: loads the runtime, sends the warm-up output, then times runs on request. */
async function serve(args: RunnerArgs): Promise<void> {
  const send = (m: RunnerMessage) => process.send!(m);
  try {
    // As the CLI does: relaxed SIMD on in Node 20 (fused multiply-adds), unless TESSERA_WASM_RELAXED_SIMD=0.
    if (args.kind === 'tessera' || args.kind === 'tessera-generate') enableRelaxedSimd();
    const { runOnce, dispose } = await loadRuntime(args, await readInputs(args));
    send({ type: 'ready', logits: Array.from(await runOnce()) });
    process.on('message', (m: string) => {
      void (async () => {
        try {
          if (m === 'run') {
            const cpu = process.cpuUsage();
            const { median } = await timeIt(runOnce, { runs: 1, warmup: 0 });
            const used = process.cpuUsage(cpu);
            send({ type: 'time', ms: median, cpuMs: (used.user + used.system) / 1000 });
          } else {
            dispose();
            send({ type: 'done', peakRss: process.resourceUsage().maxRSS * 1024 });
            process.disconnect();
            process.exit(0);
          }
        } catch (e) {
          send({ type: 'error', message: e instanceof Error ? e.message : String(e) });
        }
      })();
    });
  } catch (e) {
    send({ type: 'error', message: e instanceof Error ? (e.stack ?? e.message) : String(e) });
    process.exitCode = 1;
    process.disconnect();
  }
}

/** Per-runtime measurements of one model. */
export interface Measured {
  readonly times: number[];
  cpuMs: number;
  /** The output of the warm-up run (logits, or a generator's tokens). */
  logits?: Float32Array;
  peakRss?: number;
  error?: string;
}

export const median = (xs: readonly number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** The largest elementwise |a - b|. */
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i]! - b[i]!));
  return d;
}

/** Starts every runtime (its arguments by key), times them round robin for `rounds` rounds after a warm-up one, and stops them. */
export async function measureRoundRobin(runtimes: ReadonlyMap<string, RunnerArgs>, rounds: number): Promise<Map<string, Measured>> {
  const runners = new Map<string, Runner>();
  const results = new Map<string, Measured>();
  for (const [key, args] of runtimes) {
    runners.set(key, new Runner(args));
    results.set(key, { times: [], cpuMs: 0 });
  }
  const live = new Map<string, Runner>();
  // The runtimes load in parallel (not timed); one that fails is reported and left out.
  await Promise.all(
    [...runners].map(async ([key, r]) => {
      try {
        results.get(key)!.logits = Float32Array.from((await r.next('ready')).logits);
        live.set(key, r);
      } catch (e) {
        results.get(key)!.error = (e as Error).message;
        r.kill();
      }
    }),
  );
  try {
    for (let round = -1; round < rounds; round++) {
      for (const [key, r] of [...live]) {
        const res = results.get(key)!;
        try {
          await idleGap();
          const t = await r.run();
          if (round < 0) continue; // warm-up round
          res.times.push(t.ms);
          res.cpuMs += t.cpuMs;
        } catch (e) {
          res.error = (e as Error).message;
          live.delete(key);
          r.kill();
        }
      }
    }
    for (const [key, r] of live) results.get(key)!.peakRss = await r.close();
  } finally {
    for (const r of runners.values()) r.kill();
  }
  return results;
}

/** Milliseconds as the tables print them. */
export const ms = (x: number | undefined) => (x === undefined ? 'n/a' : x.toFixed(x < 100 ? 1 : 0));

/** a / b as a ratio cell. */
export const ratio = (a: number | undefined, b: number | undefined) => (a === undefined || b === undefined ? 'n/a' : `${(a / b).toFixed(2)}x`);

/** The median of a runtime's timed runs (undefined when it has none). */
export function medianOf(res: ReadonlyMap<string, Measured>, key: string): number | undefined {
  const r = res.get(key);
  return r && r.times.length ? median(r.times) : undefined;
}

/** A runtime's detail cells: label, median ms, min ms, cores (CPU over wall time of the timed runs), peak RSS MiB, failure. */
export function detailCells(rt: RuntimeSpec, r: Measured): string[] {
  const wall = r.times.reduce((a, b) => a + b, 0);
  return [rt.label, ms(r.times.length ? median(r.times) : undefined), r.times.length ? ms(Math.min(...r.times)) : 'n/a', wall ? (r.cpuMs / wall).toFixed(2) : 'n/a', r.peakRss ? (r.peakRss / MIB).toFixed(0) : 'n/a', r.error ? `failed: ${r.error.slice(0, 160)}` : ''];
}

/**
 * The fp32 agreement line of one model: each fp32 runtime's largest logit
 * difference from ort-node's, Tessera 2 threads' from PyTorch's, and whether
 * Tessera's are within 1e-3 of the logits' scale (else the timings compare
 * different computations). Undefined without ort-node's logits.
 */
export function agreementLine(label: string, runtimes: readonly RuntimeSpec[], res: ReadonlyMap<string, Measured>, torch: Float32Array): string | undefined {
  const ref = res.get('n2')?.logits;
  if (!ref) return undefined;
  const scale = torch.reduce((m, x) => Math.max(m, Math.abs(x)), 0);
  const fp32 = runtimes.filter((rt) => rt.kind !== 'tessera-generate' && !rt.int8 && res.get(rt.key)!.logits);
  const parts = fp32.filter((rt) => rt.key !== 'n2').map((rt) => `${rt.label} ${maxAbsDiff(res.get(rt.key)!.logits!, ref).toExponential(1)}`);
  const t2l = res.get('t2')?.logits;
  const vsTorch = t2l ? ` (tessera 2t vs PyTorch ${maxAbsDiff(t2l, torch).toExponential(1)})` : '';
  const worst = Math.max(...fp32.filter((rt) => rt.kind === 'tessera').map((rt) => maxAbsDiff(res.get(rt.key)!.logits!, ref)));
  const verdict = worst <= 1e-3 * Math.max(1, scale) ? 'agree' : 'DISAGREE: the timings compare different computations';
  return `${label}: max |Δ logit| vs ort-node: ${parts.join(', ')}${vsTorch}; |logits| up to ${scale.toFixed(2)}: ${verdict}`;
}

/** Prints a note when other processes loaded the cores while measuring (the load average since `loadBefore`, read at the start). */
export function noteLoad(loadBefore: number): void {
  const load = Math.max(loadBefore, loadavg()[0]!);
  const cores = cpus().length;
  if (load > cores / 2) console.log(`note: load average up to ${load.toFixed(1)} on ${cores} cores while measuring: other processes share the cores, so the 2-thread figures in particular are unreliable`);
}

const runnerAt = process.argv.indexOf(RUNNER_FLAG);
if (runnerAt >= 0 && process.argv[1] === THIS_FILE) await serve(JSON.parse(process.argv[runnerAt + 1]!) as RunnerArgs);
