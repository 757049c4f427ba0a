/**
 * `tessera bench (FILE.ts | FILE.tir | --config C.json) [--weights W.safetensors]
 * [--backend cpu|webgpu] [--threads N] [--runs N] [--input NAME=DTYPE[SHAPE]]...
 * [--profile] [--trace OUT.json] [--json]`: times one model (the program `tessera compile` traces) and
 * reports the median, min and max latency and the process's peak RSS, for
 * scripts outside the project (one JSON object with --json); with --profile
 * (cpu and webgpu) also the time of each kernel in one more run, and with
 * --trace that run as a Chrome trace, each kernel named by its module path.
 *
 * Weights are placed in the executable one tensor at a time through one
 * reused scratch buffer (read from a config model's checkpoint, or seeded
 * random values; a model file's or program's checkpoint is read whole)
 * that is released before the runs, so the process never holds a second
 * copy of the parameters: the peak RSS is the executable's memory plus the
 * runtime. (`tessera run` reads the whole checkpoint first: for ViT-B its
 * peak is about twice the parameter bytes.)
 */
import { open } from 'node:fs/promises';
import { type DType, type Program, SafetensorsError, type SafetensorsTensor, TesseraError, byteSize, decodeSafetensorsData, numel, parseSafetensorsHeader, safetensorsHeaderLength, toHost } from '@tessera/ir';
import { fsErrorReason } from '@tessera/ir/node';
import { type ModelConfig, bindCheckpoint, buildModel } from '@tessera/models';
import { readModelConfig } from '@tessera/models/node';
import { MAX_THREADS, createCpuBackend, defaultThreads } from '@tessera/backend-cpu';
import { type KernelTiming, slowestFirst, totalsByKind } from '@tessera/kernel';
import { type BackendName, type Executable, type Outputs, type TensorData, compile, getBackend, registerBackend } from '@tessera/compiler';
import { compileProgram } from '@tessera/passes';
import { chromeTrace } from '@tessera/viz';
import { backendFlag, parseCommandArgs, positiveFlag } from '../args.ts';
import { type Command, UsageError } from '../command.ts';
import { type ModelArgs, loadModelProgram, modelInput, parseModelArgs, withModelFlags } from '../model-source.ts';
import { type CommandInput, refuseInputAsOutput, writeOutput } from '../outputs.ts';
import { Timings, withTimings } from '../timings.ts';
import { bindInputFiles } from './eval.ts';
import { MODEL_BACKENDS, usageWithBackends } from './run.ts';

/** Timed runs at most: a typo such as --runs 1000000000 must not run for days. */
const MAX_RUNS = 10_000;

const USAGE = `usage: tessera bench (FILE.ts | FILE.tir | --config C.json) [--weights W.safetensors]
                     [--backend ${MODEL_BACKENDS}] [--threads N] [--runs N] [--input NAME=DTYPE[SHAPE]]...
                     [--profile] [--trace OUT.json] [--json] [--no-typecheck] [--timings]

  Times one model (the program tessera compile traces: a model file, an IR
  program, or a ViT or Transformer config): compiles it, places the weights
  once, runs it once to warm up, then times --runs runs on seeded random inputs
  (integer inputs that index a table are drawn in range for it).

  --weights FILE    a safetensors checkpoint, by parameter name (default: seeded random weights)
  --backend NAME    where to run (default cpu; available here: \${available})
  --threads N       cpu backend: threads, this one included (default: every core; at most ${MAX_THREADS})
  --runs N          timed runs (default 10, at most ${MAX_RUNS})
  --input NAME=DTYPE[SHAPE]   set an input's type (of a model file: another shape, the same dtype),
                    e.g. --input pixel_values=f32[4,3,224,224]
  --profile         after the timed runs, one more run timing each kernel (cpu: on the
                    host, from its start to the barrier after it; webgpu: GPU timestamps
                    where the device has timestamp-query, else a submit per kernel timed
                    on the host, which adds its overhead to each); prints the kernels
                    slowest first and the totals per kind
  --trace OUT.json  with --profile: write that run as a Chrome trace (chrome://tracing,
                    Perfetto): one event per kernel, named by the module path it computes
                    (e.g. encoder.layers.encoder_layer_3.mlp.0), kernel and variant in its args
  --json            print one JSON object: model, backend, threads, runs, median_ms,
                    min_ms, max_ms, compile_ms, parameter_bytes, peak_rss_bytes,
                    start_rss_bytes (and kernels: {name, kind, variant, ms, dispatch,
                    method} in launch order, with --profile)
  --no-typecheck    skip the TypeScript check of FILE.ts
  --timings         print the time of each phase on stderr (start-up, type check, load,
                    trace, compile, weights, runs)`;

/** Parsed command line of `tessera bench`. */
export interface BenchOptions {
  /** The model: FILE.ts, FILE.tir or --config, with --input and --no-typecheck. */
  readonly model: ModelArgs;
  readonly weights?: string;
  readonly backend: BackendName;
  /** cpu backend threads (undefined: every core). */
  readonly threads?: number;
  readonly runs: number;
  readonly json: boolean;
  /** Time each kernel in one more run (webgpu only); absent when not asked for. */
  readonly profile?: true;
  /** With profile: where to write the profiled run as a Chrome trace. */
  readonly trace?: string;
  /** --timings: the time of each phase on stderr. */
  readonly timings?: boolean;
}

/** What `tessera bench --json` prints. */
export interface BenchResult {
  /** The model's path (FILE.ts, FILE.tir or the config file). */
  readonly model: string;
  readonly backend: string;
  /** Threads of the cpu backend; null for the others. */
  readonly threads: number | null;
  readonly runs: number;
  readonly median_ms: number;
  readonly min_ms: number;
  readonly max_ms: number;
  /** Tracing (or reading a program) and compiling; weights, a model file's type check and its import not included. */
  readonly compile_ms: number;
  /** Bytes of the program's parameters. */
  readonly parameter_bytes: number;
  /** This process's peak resident set size, read after the runs. */
  readonly peak_rss_bytes: number;
  /** The resident set size when the bench began: the runtime and the loaded code, before any model. */
  readonly start_rss_bytes: number;
  /** With --profile: each dispatched kernel of one run after the timed ones, in launch order. */
  readonly kernels?: readonly KernelTiming[];
}

/** A bench result with the last run's inputs and outputs (tests check what was computed). */
export interface BenchRun {
  readonly result: BenchResult;
  readonly inputs: Readonly<Record<string, TensorData>>;
  readonly outputs: Readonly<Outputs>;
  /** The program that ran (the kernel profile's kernels are its lowering's). */
  readonly program: Program;
}

const DEFAULT_RUNS = 10;

/** Parses `bench`'s arguments (`--flag VALUE` or `--flag=VALUE`; `--input` repeats), or throws UsageError. */
export function parseBenchArgs(args: readonly string[]): BenchOptions {
  const parsed = parseCommandArgs(args, withModelFlags({ values: ['--weights', '--backend', '--threads', '--runs', '--trace'], booleans: ['--profile', '--json'] }));
  const model = parseModelArgs(parsed, ['file', 'program', 'config']);
  const values = parsed.values;
  const profile = parsed.booleans.has('--profile');
  const backend = backendFlag(values);
  const threads = positiveFlag(values, '--threads', MAX_THREADS, 'each thread is a worker with its own copy of the kernels');
  if (threads !== undefined && backend !== 'cpu') throw new UsageError(`--threads applies to the cpu backend, not '${backend}'`);
  if (profile && backend !== 'webgpu' && backend !== 'cpu') throw new UsageError(`--profile times the kernels of the cpu and webgpu backends, not '${backend}'`);
  const weights = values.get('--weights');
  const trace = values.get('--trace');
  if (trace !== undefined && !profile) throw new UsageError('--trace writes the kernel profile: add --profile');
  return {
    model,
    ...(weights !== undefined ? { weights } : {}),
    backend,
    ...(threads !== undefined ? { threads } : {}),
    runs: positiveFlag(values, '--runs', MAX_RUNS) ?? DEFAULT_RUNS,
    json: parsed.booleans.has('--json'),
    ...(profile ? { profile: true as const } : {}),
    ...(trace !== undefined ? { trace } : {}),
    ...(parsed.booleans.has('--timings') ? { timings: true } : {}),
  };
}

/** xorshift32: the same stream for the same seed, in every run and on every machine. */
function xorshift(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 4294967296;
  };
}


/** ES2024's resizable ArrayBuffer (in Node 20; TypeScript's ES2022 library does not declare it). */
type ResizableArrayBuffer = ArrayBuffer & { resize(bytes: number): void };
const resizable = typeof (ArrayBuffer.prototype as Partial<ResizableArrayBuffer>).resize === 'function';

/**
 * One buffer reused for every tensor on its way into the executable, and
 * given back when the weights are placed: a resizable ArrayBuffer releases
 * its pages on resize(0) at once, where a plain one would wait for a garbage
 * collection and count in the peak RSS of the runs (9 MiB for ViT-B).
 */
class Scratch {
  private buf: ArrayBuffer;

  constructor(maxBytes: number) {
    this.buf = resizable ? new (ArrayBuffer as unknown as new (n: number, o: { maxByteLength: number }) => ArrayBuffer)(0, { maxByteLength: maxBytes }) : new ArrayBuffer(maxBytes);
  }

  /** A typed array of `dtype` over the first `n` elements. */
  view(dtype: DType, n: number): TensorData {
    const bytes = n * byteSize(dtype);
    if (this.buf.byteLength < bytes) (this.buf as ResizableArrayBuffer).resize(bytes);
    return dtype === 'f32' ? new Float32Array(this.buf, 0, n) : dtype === 'i32' ? new Int32Array(this.buf, 0, n) : new Uint8Array(this.buf, 0, n);
  }

  /** Gives the memory back (the views become empty). */
  release(): void {
    if (resizable) (this.buf as ResizableArrayBuffer).resize(0);
    else this.buf = new ArrayBuffer(0);
  }
}

/** Receives one parameter's values; the array is only valid during the call (its memory is reused). */
type PlaceWeight = (name: string, data: TensorData) => void;

/**
 * Seeded random parameters, scaled like a trained model's (uniform with
 * variance ~1/fan-in for matrices, small for vectors) so activations stay finite.
 */
function seededWeights(program: Program, place: PlaceWeight): void {
  const params = program.inputs.filter((p) => p.kind === 'parameter');
  const scratch = new Scratch(Math.max(0, ...params.map((p) => numel(p.type.shape) * byteSize(p.type.dtype))));
  let seed = 1;
  for (const p of params) {
    const { dtype, shape } = p.type;
    const data = scratch.view(dtype, numel(shape));
    const next = xorshift(seed++ * 0x9e3779b1);
    if (dtype === 'f32') {
      const scale = shape.length >= 2 ? Math.sqrt(3 / numel(shape.slice(1))) : 0.1;
      for (let i = 0; i < data.length; i++) data[i] = (next() * 2 - 1) * scale;
    } else data.fill(0);
    place(p.name, data);
  }
  scratch.release();
}

/**
 * Streams a checkpoint's parameters: the header is read and validated by
 * the safetensors reader (the checks `tessera run` makes: every entry
 * well-formed, the tensors tiling the data exactly), then checked against
 * the model by bindCheckpoint (names, shapes, dtypes; every problem listed);
 * then each tensor the program uses is read into one reused buffer and
 * decoded (F16/BF16 widened), never the whole file at once.
 */
async function checkpointWeights(path: string, config: ModelConfig, program: Program, place: PlaceWeight): Promise<void> {
  let file;
  try {
    file = await open(path, 'r');
  } catch (e) {
    throw new SafetensorsError(path, `cannot read file: ${fsErrorReason(e)}`);
  }
  try {
    const size = (await file.stat()).size;
    const readAt = async (target: Uint8Array, position: number) => {
      let bytesRead: number;
      try {
        ({ bytesRead } = await file.read(target, 0, target.length, position));
      } catch (e) {
        // A directory opens but cannot be read (EISDIR): the message `tessera run` gives.
        throw new SafetensorsError(path, `cannot read file: ${fsErrorReason(e)}`);
      }
      // The header was checked against the size; a file that shrank meanwhile is still a clean error.
      if (bytesRead !== target.length) throw new SafetensorsError(path, `bytes ${position}..${position + target.length} run past the end of the ${size}-byte file`);
    };
    const lenBytes = new Uint8Array(8);
    await readAt(lenBytes.subarray(0, Math.min(8, size)), 0);
    const headerLen = safetensorsHeaderLength(lenBytes, size, path);
    const headerBytes = new Uint8Array(headerLen);
    await readAt(headerBytes, 8);
    const dataStart = 8 + headerLen;
    const header = parseSafetensorsHeader(headerBytes, size - dataStart, path);
    const entries = new Map(header.entries.map((e) => [e.name, e]));
    // bindCheckpoint reads only names, shapes and dtypes: empty data lets it check the header before any tensor is read.
    bindCheckpoint(buildModel(config), new Map(header.entries.map((e) => [e.name, { dtype: e.dtype, shape: e.shape, data: new Float32Array(0) } as SafetensorsTensor])), path);
    const params = program.inputs.filter((p) => p.kind === 'parameter').map((p) => entries.get(p.name) ?? missingParameter(path, p.name));
    const scratch = new Scratch(Math.max(0, ...params.map((e) => e.end - e.begin)));
    for (const e of params) {
      const bytes = scratch.view('bool', e.end - e.begin) as Uint8Array;
      await readAt(bytes, dataStart + e.begin);
      place(e.name, decodeSafetensorsData(e, bytes, path) as TensorData);
    }
    scratch.release();
  } finally {
    await file.close();
  }
}

/** A parameter of the program that the checkpoint lacks (bindCheckpoint has listed the model's; the program's are a subset). */
function missingParameter(path: string, name: string): never {
  throw new SafetensorsError(path, `no tensor '${name}' (a parameter of the program)`);
}

/**
 * Seeded inputs of a program: floats in [0, 1), integers below the extent
 * of the table they index (`extents`: a config's vocabularies, or what
 * gatherIndexInputs finds in a traced program) and 0 where they index none,
 * masks all true.
 */
function seededInputs(program: Program, extents: ReadonlyMap<string, number>): Record<string, TensorData> {
  const out: Record<string, TensorData> = {};
  let seed = 1000;
  for (const i of program.inputs) {
    if (i.kind === 'parameter') continue;
    const n = numel(i.type.shape);
    const next = xorshift(seed++ * 0x85ebca6b);
    const { dtype } = i.type;
    if (dtype === 'f32') out[i.name] = Float32Array.from({ length: n }, next);
    else if (dtype === 'i32') out[i.name] = Int32Array.from({ length: n }, () => Math.floor(next() * (extents.get(i.name) ?? 1)));
    else out[i.name] = new Uint8Array(n).fill(1);
  }
  return out;
}

/** The table extent each integer input indexes: a config's vocabularies, else found in the program (the harness, loaded only for this). */
async function indexExtents(program: Program, config: ModelConfig | undefined): Promise<ReadonlyMap<string, number>> {
  if (config) return new Map(config.model === 'transformer' ? [['src', config.src_vocab], ['tgt', config.tgt_vocab]] : []);
  const { gatherIndexInputs } = await import('@tessera/harness/compare');
  return gatherIndexInputs(program);
}

/** Places a checkpoint read whole, bound to the program's parameters as `eval` binds them (names, shapes, dtypes; every problem listed). */
async function wholeCheckpointWeights(path: string, program: Program, place: PlaceWeight): Promise<void> {
  const params = { ...program, inputs: program.inputs.filter((i) => i.kind === 'parameter') };
  const bound = await bindInputFiles(params, undefined, path);
  for (const [name, t] of Object.entries(bound)) place(name, toHost(t) as TensorData);
}

/** Compiles with the public API; a cpu thread count is honoured by registering a cpu backend with it for this compile. */
async function compileFor(program: Program, backend: BackendName, threads: number | undefined): Promise<Executable> {
  if (backend !== 'cpu' || threads === undefined) return compile(program, { backend });
  const previous = getBackend('cpu');
  registerBackend(createCpuBackend({ threads }));
  try {
    return await compile(program, { backend });
  } finally {
    registerBackend(previous);
  }
}

/** A compiled model with its weights placed, ready to run (what `tessera bench` times). */
export interface PreparedModel {
  readonly program: Program;
  /** Milliseconds to trace (or read) and compile, weights not included (nor a model file's type check and import). */
  readonly compileMs: number;
  /** Bytes of the program's parameters. */
  readonly parameterBytes: number;
  /** Seeded inputs of the program (every input that is not a parameter). */
  readonly inputs: Readonly<Record<string, TensorData>>;
  /** Runs on `inputs` (default: the seeded ones). */
  run(inputs?: Readonly<Record<string, TensorData>>): Promise<Outputs>;
  /** Times each kernel of one run on `inputs` (cpu and webgpu; undefined for the oracles). */
  readonly profile?: (inputs?: Readonly<Record<string, TensorData>>) => Promise<KernelTiming[]>;
  dispose(): void;
}

/** Traces and compiles the model and places its weights (streamed from a config model's checkpoint, read whole for others, or seeded). */
export async function prepareModel(options: Pick<BenchOptions, 'model' | 'weights' | 'backend' | 'threads'>, timings?: Timings): Promise<PreparedModel> {
  const { source } = options.model;
  const config = source.kind === 'config' ? await readModelConfig(source.path) : undefined;
  // The phases are timed whether or not --timings asked: compile_ms leaves out a model file's type check and import.
  const phases = timings ?? new Timings();
  const t0 = performance.now();
  const program = await loadModelProgram(options.model, phases);
  const exe = await phases.time('compile', () => compileFor(program, options.backend, options.threads));
  const compileMs = performance.now() - t0 - phases.total('type check') - (source.kind === 'file' ? phases.total('load') : 0);
  try {
    const t2 = performance.now();
    // Backends that cannot hold weights (the interpreter) get them with every run.
    const perRun: Record<string, TensorData> = {};
    const place: PlaceWeight = exe.setInputs ? (name, data) => exe.setInputs!({ [name]: data }) : (name, data) => (perRun[name] = data.slice());
    if (options.weights === undefined) seededWeights(program, place);
    else if (config) await checkpointWeights(options.weights, config, program, place);
    else await wholeCheckpointWeights(options.weights, program, place);
    timings?.add('weights', performance.now() - t2);
    const inputs = seededInputs(program, await indexExtents(program, config));
    const parameterBytes = program.inputs.filter((i) => i.kind === 'parameter').reduce((s, p) => s + numel(p.type.shape) * byteSize(p.type.dtype), 0);
    const profiled = 'profile' in exe ? (exe as Executable & { profile(inputs: Readonly<Record<string, TensorData>>): Promise<KernelTiming[]> }) : undefined;
    return {
      program,
      compileMs,
      parameterBytes,
      inputs,
      run: (given = inputs) => exe.run({ ...perRun, ...given }),
      ...(profiled ? { profile: (given = inputs) => profiled.profile({ ...perRun, ...given }) } : {}),
      dispose: () => exe.dispose(),
    };
  } catch (e) {
    exe.dispose();
    throw e;
  }
}

/** Times one model as `tessera bench` does: one warm-up run, then `runs` timed runs; the result plus the last run's inputs and outputs. */
export async function benchModel(options: BenchOptions, timings?: Timings): Promise<BenchRun> {
  const startRss = process.memoryUsage().rss;
  const model = await prepareModel(options, timings);
  try {
    const t0 = performance.now();
    await model.run();
    timings?.add('warm-up run', performance.now() - t0);
    const times: number[] = [];
    let outputs: Outputs = {};
    for (let r = 0; r < options.runs; r++) {
      const t = performance.now();
      outputs = await model.run();
      times.push(performance.now() - t);
    }
    timings?.add(`${options.runs} timed run${options.runs === 1 ? '' : 's'}`, times.reduce((a, b) => a + b, 0));
    times.sort((a, b) => a - b);
    let kernels: KernelTiming[] | undefined;
    if (options.profile) {
      if (!model.profile) throw new TesseraError(`--profile: the ${options.backend} backend's executable cannot time its kernels (cpu's and webgpu's can)`);
      const profile = model.profile;
      kernels = await (timings ? timings.time('profiled run', () => profile()) : profile());
    }
    const result: BenchResult = {
      model: options.model.source.path,
      backend: options.backend,
      threads: options.backend === 'cpu' ? (options.threads ?? (await defaultThreads())) : null,
      runs: options.runs,
      median_ms: times[Math.floor(times.length / 2)]!,
      min_ms: times[0]!,
      max_ms: times[times.length - 1]!,
      compile_ms: model.compileMs,
      parameter_bytes: model.parameterBytes,
      peak_rss_bytes: process.resourceUsage().maxRSS * 1024,
      start_rss_bytes: startRss,
      ...(kernels ? { kernels } : {}),
    };
    return { result, inputs: model.inputs, outputs, program: model.program };
  } finally {
    model.dispose();
  }
}

const MIB = 1024 * 1024;

/** The one-line human summary of a result. */
export function formatBenchResult(r: BenchResult): string {
  const where = r.threads === null ? r.backend : `${r.backend}, ${r.threads} thread${r.threads === 1 ? '' : 's'}`;
  const ms = (x: number) => x.toFixed(x < 10 ? 2 : 1);
  return `${r.model} (${where}): median ${ms(r.median_ms)} ms (min ${ms(r.min_ms)}, max ${ms(r.max_ms)}) over ${r.runs} runs; parameters ${(r.parameter_bytes / MIB).toFixed(1)} MiB, peak RSS ${(r.peak_rss_bytes / MIB).toFixed(1)} MiB`;
}

const METHOD_TEXT = { timestamp: 'GPU timestamps', wall: 'a submit per kernel timed on the host', host: 'each kernel timed on the host up to the barrier after it' } as const;

/** The kernel profile as text: every kernel slowest first (ms and share of the total), then the totals per kind. */
export function formatKernelProfile(kernels: readonly KernelTiming[]): string {
  const total = kernels.reduce((s, k) => s + k.ms, 0);
  const pct = (ms: number) => `${(total > 0 ? (100 * ms) / total : 0).toFixed(1)}%`.padStart(6);
  const ms = (x: number) => x.toFixed(3).padStart(10);
  const methods = [...new Set(kernels.map((k) => METHOD_TEXT[k.method]))].join(', ') || 'nothing dispatched';
  const nameWidth = Math.max(6, ...kernels.map((k) => k.name.length));
  const lines = [`kernels of one run (${methods}): ${kernels.length} dispatches, ${total.toFixed(3)} ms in all`, `${'ms'.padStart(10)} ${'%'.padStart(6)}  ${'kernel'.padEnd(nameWidth)}  variant`];
  for (const k of slowestFirst(kernels)) lines.push(`${ms(k.ms)} ${pct(k.ms)}  ${k.name.padEnd(nameWidth)}  ${k.variant}`);
  lines.push('by kind:');
  for (const t of totalsByKind(kernels)) lines.push(`${ms(t.ms)} ${pct(t.ms)}  ${t.kind} (${t.dispatches} dispatch${t.dispatches === 1 ? '' : 'es'})`);
  return lines.join('\n');
}

/** A profiled run as a Chrome trace: the kernels are those of the program's lowering for the backend (the same pipeline and limits as compile()). */
export function traceOf(result: BenchResult, program: Program) {
  const { kernels } = compileProgram(program, { verify: false, maxBuffersPerKernel: getBackend(result.backend as BackendName).limits.maxBuffersPerKernel });
  const where = result.threads === null ? result.backend : `${result.backend} (${result.threads} thread${result.threads === 1 ? '' : 's'})`;
  return chromeTrace(result.kernels ?? [], kernels, program, { backend: where });
}

/** The `bench` command: latency and peak memory of one model. */
export const benchCommand: Command = {
  name: 'bench',
  summary: 'time a model (FILE.ts, FILE.tir or a ViT/Transformer config; optional checkpoint): median latency and peak RSS',
  get usage() {
    return usageWithBackends(USAGE);
  },
  async run(args) {
    const { timings: timed, ...options } = parseBenchArgs(args);
    const inputs: CommandInput[] = [modelInput(options.model.source), ...(options.weights !== undefined ? [{ what: '--weights', path: options.weights }] : [])];
    if (options.trace !== undefined) refuseInputAsOutput('--trace', options.trace, inputs);
    try {
      const { result, program } = await withTimings(timed === true, (timings) => benchModel(options, timings));
      if (options.trace !== undefined && result.kernels) writeOutput('--trace', options.trace, `${JSON.stringify(traceOf(result, program))}\n`, inputs);
      const text = result.kernels ? `${formatBenchResult(result)}\n${formatKernelProfile(result.kernels)}` : formatBenchResult(result);
      process.stdout.write(`${options.json ? JSON.stringify(result) : text}\n`);
      return 0;
    } catch (e) {
      if (e instanceof TesseraError) {
        process.stderr.write(`tessera bench: ${e.message}\n`);
        return 1;
      }
      throw e;
    }
  },
};
