/**
 * ViT benchmark: ViT-Ti/16, ViT-S/16 and ViT-B/16 (batch 1, 224x224) with
 * the same seeded random weights in every runtime: Tessera's CPU backend
 * (wasm, 1 and 2 threads) next to onnxruntime-web's wasm backend (1 and 2
 * threads) and onnxruntime-node (native CPU, 2 intra-op threads), all in
 * this run. Each runtime lives in a child process of its own (onnxruntime-web
 * fixes its thread count once per process, and each gets its own memory);
 * the parent times them round robin, one run of each per round, so a change
 * of machine load hits all of them alike. The logits of every runtime are
 * compared (a wrong computation would otherwise benchmark well), and the
 * peak RSS of ViT-B/16 is measured in a `tessera bench` process of its own.
 *
 * Int8 (issue 16): Tessera's `quantize: 'int8'` next to onnxruntime-web on
 * the dynamically quantized ONNX model (onnxruntime.quantization's
 * quantize_dynamic, what a transformers.js user runs), both on 2 threads, in
 * the same rounds; their logits are checked against ort-node's fp32 ones by
 * the predicted class and the largest difference.
 *
 * The models come from tools/export_vit_onnx.py --int8 (PyTorch, and
 * onnxruntime for the int8 model), run on demand into bench/.models
 * (git-ignored) with TESSERA_BENCH_PYTHON (default /usr/bin/python3; e.g.
 * /work/pyenv/bin/python). Without them the onnxruntime columns are skipped
 * with the reason and Tessera runs on seeded weights.
 *
 * `tsx bench/vit.ts` runs this benchmark alone; `--vit-runner SPEC` is the
 * child process mode.
 */
import { type ChildProcess, fork, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { enableRelaxedSimd } from '@tessera/backend-cpu';
import { readSafetensorsFile } from '@tessera/ir/node';
import { VIT_PRESETS } from '@tessera/models';
import { idleGap, printTable, seededArray, timeIt } from './timing.ts';

const ROOT = resolve(import.meta.dirname, '..');
const MODELS_DIR = join(ROOT, 'bench', '.models');
const PYTHON = process.env.TESSERA_BENCH_PYTHON ?? '/usr/bin/python3';
const THIS_FILE = fileURLToPath(import.meta.url);
const MIB = 1024 * 1024;

interface ModelSpec {
  readonly name: string;
  readonly label: string;
  /** Timed rounds (one run of every runtime each), after one warm-up round. */
  readonly rounds: number;
}

// Few rounds for ViT-B keep the whole benchmark within minutes on 2 cores.
const MODELS: readonly ModelSpec[] = [
  { name: 'vit-ti-16', label: 'ViT-Ti/16', rounds: 11 },
  { name: 'vit-s-16', label: 'ViT-S/16', rounds: 7 },
  { name: 'vit-b-16', label: 'ViT-B/16', rounds: 5 },
];

type RuntimeKind = 'tessera' | 'ort-web' | 'ort-node';

interface RuntimeSpec {
  readonly key: string;
  readonly label: string;
  readonly kind: RuntimeKind;
  readonly threads: number;
  /** Int8: Tessera's quantize 'int8', onnxruntime-web's quantize_dynamic model. */
  readonly int8?: boolean;
}

const RUNTIMES: readonly RuntimeSpec[] = [
  { key: 't1', label: 'tessera wasm 1t', kind: 'tessera', threads: 1 },
  { key: 't2', label: 'tessera wasm 2t', kind: 'tessera', threads: 2 },
  { key: 'w1', label: 'ort-web wasm 1t', kind: 'ort-web', threads: 1 },
  { key: 'w2', label: 'ort-web wasm 2t', kind: 'ort-web', threads: 2 },
  { key: 'n2', label: 'ort-node 2t', kind: 'ort-node', threads: 2 },
  { key: 'q2', label: 'tessera int8 2t', kind: 'tessera', threads: 2, int8: true },
  { key: 'qw2', label: 'ort-web int8 2t', kind: 'ort-web', threads: 2, int8: true },
];

/** What a runner child is told: the runtime, the model files and the input. */
interface RunnerArgs {
  readonly kind: RuntimeKind;
  readonly threads: number;
  readonly config: string;
  /** Absent: Tessera's seeded weights. */
  readonly weights?: string;
  readonly onnx?: string;
  /** NAME.io.safetensors (pixel_values); absent: a seeded input. */
  readonly io?: string;
  /** Tessera: compile with quantize 'int8'. */
  readonly int8?: boolean;
}

/** Messages from a runner child. */
type RunnerMessage =
  | { type: 'ready'; logits: number[] }
  | { type: 'time'; ms: number; cpuMs: number }
  | { type: 'done'; peakRss: number }
  | { type: 'error'; message: string };

const path = (name: string, ext: string) => join(MODELS_DIR, name + ext);
const EXPORT_FILES = ['.onnx', '.int8.onnx', '.safetensors', '.json', '.io.safetensors'];

/**
 * Makes sure the exported models exist, running tools/export_vit_onnx.py for
 * the missing ones; returns why they cannot be made when PyTorch is missing.
 */
function ensureExports(): string | undefined {
  const missing = MODELS.filter((m) => EXPORT_FILES.some((ext) => !existsSync(path(m.name, ext)))).map((m) => m.name);
  if (missing.length === 0) return undefined;
  const probe = spawnSync(PYTHON, ['-c', 'import torch, onnxruntime.quantization'], { stdio: 'ignore' });
  if (probe.error || probe.status !== 0) return `${PYTHON} with torch and onnxruntime is not available to export ${missing.join(', ')} (tools/export_vit_onnx.py --int8; set TESSERA_BENCH_PYTHON)`;
  console.log(`exporting ${missing.join(', ')} with PyTorch (tools/export_vit_onnx.py, once; into bench/.models)...`);
  const r = spawnSync(PYTHON, [join(ROOT, 'tools', 'export_vit_onnx.py'), '--out', MODELS_DIR, '--int8', ...missing], { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'inherit', 'pipe'] });
  if (r.status !== 0) return `tools/export_vit_onnx.py failed (exit ${r.status}): ${r.stderr.trim().split('\n').slice(-3).join(' | ')}`;
  return undefined;
}

/** A runner child: one runtime with one model, answering run requests. */
class Runner {
  private readonly proc: ChildProcess;
  private readonly queue: RunnerMessage[] = [];
  private waiting: ((m: RunnerMessage) => void) | undefined;
  private stderr = '';

  constructor(args: RunnerArgs) {
    this.proc = fork(THIS_FILE, ['--vit-runner', JSON.stringify(args)], { cwd: ROOT, execArgv: ['--import', 'tsx'], stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
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

/** The child side: loads the runtime, sends the warm-up logits, then times runs on request. */
async function serve(args: RunnerArgs): Promise<void> {
  const send = (m: RunnerMessage) => process.send!(m);
  try {
    const pixels = args.io ? ((await readSafetensorsFile(args.io)).tensors.get('pixel_values')!.data as Float32Array) : seededArray(3 * 224 * 224, 5);
    let runOnce: () => Promise<Float32Array>;
    let dispose = () => {};
    if (args.kind === 'tessera') {
      // As the CLI does: relaxed SIMD on in Node 20 (fused multiply-adds), unless TESSERA_WASM_RELAXED_SIMD=0.
      enableRelaxedSimd();
      const { prepareModel } = await import('../packages/cli/src/commands/bench.ts');
      const { configModel } = await import('../packages/cli/src/model-source.ts');
      const model = await prepareModel({ model: { ...configModel(args.config), ...(args.int8 ? { quantize: 'int8' as const } : {}) }, ...(args.weights ? { weights: args.weights } : {}), backend: 'cpu', threads: args.threads });
      runOnce = async () => (await model.run({ pixel_values: pixels })).logits!.data as Float32Array;
      dispose = () => model.dispose();
    } else if (args.kind === 'ort-web') {
      const ort = await import('onnxruntime-web');
      // Read once, when the wasm backend starts: hence one process per thread count.
      ort.env.wasm.numThreads = args.threads;
      const session = await ort.InferenceSession.create(args.onnx!, { executionProviders: ['wasm'], graphOptimizationLevel: 'all' });
      runOnce = async () => (await session.run({ pixel_values: new ort.Tensor('float32', pixels, [1, 3, 224, 224]) })).logits!.data as Float32Array;
    } else {
      const ort = await import('onnxruntime-node');
      const session = await ort.InferenceSession.create(args.onnx!, { executionProviders: ['cpu'], intraOpNumThreads: args.threads, interOpNumThreads: 1, executionMode: 'sequential', graphOptimizationLevel: 'all' });
      runOnce = async () => (await session.run({ pixel_values: new ort.Tensor('float32', pixels, [1, 3, 224, 224]) })).logits!.data as Float32Array;
    }
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
interface Measured {
  readonly times: number[];
  cpuMs: number;
  logits?: Float32Array;
  peakRss?: number;
  error?: string;
}

const median = (xs: readonly number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

function maxAbsDiff(a: Float32Array, b: ArrayLike<number>): number {
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i]! - b[i]!));
  return d;
}

/** Starts every runtime on one model, times them round robin and stops them. */
async function measureModel(m: ModelSpec, runtimes: readonly RuntimeSpec[], exported: boolean): Promise<Map<string, Measured>> {
  const runners = new Map<string, Runner>();
  const results = new Map<string, Measured>();
  for (const rt of runtimes) {
    const args: RunnerArgs = exported
      ? { kind: rt.kind, threads: rt.threads, config: path(m.name, '.json'), weights: path(m.name, '.safetensors'), onnx: path(m.name, rt.int8 ? '.int8.onnx' : '.onnx'), io: path(m.name, '.io.safetensors'), int8: rt.int8 ?? false }
      : { kind: rt.kind, threads: rt.threads, config: path(m.name, '.json'), int8: rt.int8 ?? false };
    runners.set(rt.key, new Runner(args));
    results.set(rt.key, { times: [], cpuMs: 0 });
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
    for (let round = -1; round < m.rounds; round++) {
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

/** How the `tessera bench` process for the peak-RSS figure is started. */
interface RssLaunch {
  readonly label: string;
  /** Node arguments before `bench ...`. */
  readonly argv: readonly string[];
}

/**
 * The CLI bundled into one JavaScript file (esbuild, the bundler tsx itself
 * uses), to measure memory as a deployment runs it: plain Node, without the
 * TypeScript loader's thread (about 36 MiB of RSS).
 */
async function bundledCli(): Promise<string> {
  const require = createRequire(import.meta.url);
  const esbuild = createRequire(require.resolve('tsx'))('esbuild') as { build(options: object): Promise<{ errors: unknown[] }> };
  const outfile = join(MODELS_DIR, 'tessera-cli.mjs');
  await esbuild.build({
    entryPoints: [join(ROOT, 'packages', 'cli', 'src', 'main.ts')],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    outfile,
    // Resolved from node_modules at run time; the bench command loads none of them.
    external: ['typescript', 'onnxruntime-*', '@tensorflow/*', '@jax-js/*', 'playwright-core'],
    logLevel: 'error',
  });
  return outfile;
}

/** Peak RSS of `tessera bench --json` on ViT-B/16 in a process of its own. */
function tesseraBenchRss(launch: RssLaunch, threads: number): { peak: number; start: number; params: number } | string {
  const name = 'vit-b-16';
  const weights = existsSync(path(name, '.safetensors')) ? ['--weights', path(name, '.safetensors')] : [];
  const r = spawnSync(process.execPath, [...launch.argv, 'bench', '--config', path(name, '.json'), ...weights, '--threads', String(threads), '--runs', '2', '--json'], { cwd: ROOT, encoding: 'utf8' });
  if (r.status !== 0) return `tessera bench failed (exit ${r.status}): ${r.stderr.trim().split('\n').slice(-3).join(' | ')}`;
  const s = JSON.parse(r.stdout) as { peak_rss_bytes: number; start_rss_bytes: number; parameter_bytes: number };
  return { peak: s.peak_rss_bytes, start: s.start_rss_bytes, params: s.parameter_bytes };
}

/** Node's arguments in the root package.json's `tessera` script (`node FLAGS... main.ts`), so the bench launches the CLI exactly as `pnpm tessera` does. */
function pnpmTesseraArgv(): string[] {
  const script = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts.tessera!;
  const [node, ...args] = script.split(/\s+/);
  if (node !== 'node') throw new Error(`package.json's tessera script does not start with node: ${script}`);
  return args.map((a) => (a.endsWith('.ts') ? join(ROOT, a) : a));
}

/** The ViT-B/16 peak-RSS table (as `pnpm tessera` runs it under tsx, and bundled on plain Node); returns the target lines. */
async function measureRss(): Promise<string[]> {
  const launches: RssLaunch[] = [{ label: 'pnpm tessera (tsx)', argv: pnpmTesseraArgv() }];
  let bundleError = '';
  try {
    launches.push({ label: 'bundled JS, plain node', argv: [await bundledCli()] });
  } catch (e) {
    bundleError = `bundling the CLI failed (${(e as Error).message.split('\n')[0]}): no plain-node row`;
  }
  const rows: string[][] = [];
  const verdicts: string[] = [];
  for (const launch of launches) {
    for (const threads of [2, 1]) {
      const r = tesseraBenchRss(launch, threads);
      if (typeof r === 'string') {
        rows.push([launch.label, String(threads), r, '', '', '']);
        continue;
      }
      const limit = r.params + 128 * MIB;
      const verdict = r.peak <= limit ? 'met' : `not met (+${((r.peak - limit) / MIB).toFixed(1)} MiB)`;
      rows.push([launch.label, String(threads), (r.peak / MIB).toFixed(1), (r.start / MIB).toFixed(1), ((r.peak - r.params) / MIB).toFixed(1), verdict]);
      if (threads === 2) verdicts.push(`${launch.label} ${(r.peak / MIB).toFixed(1)} MiB against ${(limit / MIB).toFixed(1)} MiB (${verdict})`);
    }
  }
  printTable(
    'ViT-B/16 peak RSS of `tessera bench --json` in a process of its own (start: the runtime with Tessera loaded, before the model)',
    ['launched as', 'threads', 'peak MiB', 'start MiB', 'peak - params MiB', 'target params + 128 MiB'],
    rows,
  );
  if (bundleError) console.log(bundleError);
  return verdicts.length ? [`ViT-B/16 peak RSS, 2 threads (target: parameters + 128 MiB): ${verdicts.join(', ')}`] : [];
}

/** Runs the ViT benchmark and prints its tables and the issue 7 targets. */
export async function benchVit(): Promise<void> {
  const loadBefore = loadavg()[0]!;
  const skipped = ensureExports();
  const exported = skipped === undefined;
  if (!exported) {
    console.log(`\nViT: onnxruntime-web and onnxruntime-node skipped: ${skipped}. Tessera runs on seeded random weights.`);
    mkdirSync(MODELS_DIR, { recursive: true });
    for (const m of MODELS) if (!existsSync(path(m.name, '.json'))) writeFileSync(path(m.name, '.json'), JSON.stringify(VIT_PRESETS[m.name]));
  }
  const runtimes = exported ? RUNTIMES : RUNTIMES.filter((r) => r.kind === 'tessera');
  const ms = (x: number | undefined) => (x === undefined ? 'n/a' : x.toFixed(x < 100 ? 1 : 0));
  const rows: string[][] = [];
  const int8Rows: string[][] = [];
  const int8Checks: string[] = [];
  const detail: string[][] = [];
  const checks: string[] = [];
  const targets: string[] = [];
  for (const m of MODELS) {
    const res = await measureModel(m, runtimes, exported);
    const med = (key: string) => {
      const r = res.get(key);
      return r && r.times.length ? median(r.times) : undefined;
    };
    const ratio = (a: number | undefined, b: number | undefined) => (a === undefined || b === undefined ? 'n/a' : `${(a / b).toFixed(2)}x`);
    const [t1, t2, w1, w2, n2] = ['t1', 't2', 'w1', 'w2', 'n2'].map(med);
    rows.push([m.label, ms(t1), ms(t2), ms(w1), ms(w2), ms(n2), ratio(t2, w2), ratio(t2, n2)]);
    const [q2, qw2] = ['q2', 'qw2'].map(med);
    int8Rows.push([m.label, ms(t2), ms(q2), ms(w2), ms(qw2), ms(n2), ratio(q2, t2), ratio(q2, n2), ratio(q2, qw2)]);
    for (const rt of runtimes) {
      const r = res.get(rt.key)!;
      const wall = r.times.reduce((a, b) => a + b, 0);
      detail.push([m.label, rt.label, ms(med(rt.key)), r.times.length ? ms(Math.min(...r.times)) : 'n/a', wall ? (r.cpuMs / wall).toFixed(2) : 'n/a', r.peakRss ? (r.peakRss / MIB).toFixed(0) : 'n/a', r.error ? `failed: ${r.error.slice(0, 160)}` : '']);
    }
    // The outputs must agree, or the table compares different computations.
    const ref = res.get('n2')?.logits;
    if (exported && ref) {
      const torch = (await readSafetensorsFile(path(m.name, '.io.safetensors'))).tensors.get('logits')!.data as Float32Array;
      const scale = Math.max(...Array.from(torch, Math.abs));
      const parts = runtimes
        .filter((rt) => rt.key !== 'n2' && !rt.int8 && res.get(rt.key)!.logits)
        .map((rt) => `${rt.label} ${maxAbsDiff(res.get(rt.key)!.logits!, ref).toExponential(1)}`);
      const t2l = res.get('t2')?.logits;
      const vsTorch = t2l ? ` (tessera 2t vs PyTorch ${maxAbsDiff(t2l, torch).toExponential(1)})` : '';
      const worst = Math.max(...runtimes.filter((rt) => rt.kind === 'tessera' && !rt.int8 && res.get(rt.key)!.logits).map((rt) => maxAbsDiff(res.get(rt.key)!.logits!, ref)));
      // Int8 answers differ from fp32 by the quantization: the same predicted class, and how far the logits moved.
      const argmax = (x: Float32Array) => x.indexOf(Math.max(...x));
      const int8Parts = runtimes
        .filter((rt) => rt.int8 && res.get(rt.key)!.logits)
        .map((rt) => `${rt.label} class ${argmax(res.get(rt.key)!.logits!) === argmax(ref) ? 'same' : 'DIFFERENT'}, max |Δ| ${maxAbsDiff(res.get(rt.key)!.logits!, ref).toExponential(1)}`);
      if (int8Parts.length) int8Checks.push(`${m.label} int8 vs ort-node fp32: ${int8Parts.join('; ')}`);
      const verdict = worst <= 1e-3 * Math.max(1, scale) ? 'agree' : 'DISAGREE: the timings compare different computations';
      checks.push(`${m.label}: max |Δ logit| vs ort-node: ${parts.join(', ')}${vsTorch}; |logits| up to ${scale.toFixed(2)}: ${verdict}`);
    }
    if (m.name === 'vit-b-16') {
      // The fastest runs are the least disturbed by other load: their ratios are shown too.
      const best = (key: string) => {
        const r = res.get(key);
        return r && r.times.length ? Math.min(...r.times) : undefined;
      };
      targets.push(
        `ViT-B/16 tessera 2 threads: ${ratio(t2, w2)} ORT-web wasm 2 threads (target <= 0.7x), ${ratio(t2, n2)} ORT-node 2 threads (target <= 4.5x); ` +
          `fastest runs: ${ratio(best('t2'), best('w2'))} and ${ratio(best('t2'), best('n2'))}`,
      );
      targets.push(
        `ViT-B/16 tessera int8 2 threads: ${ratio(q2, t2)} tessera fp32 (target <= 0.5x), ${ratio(q2, n2)} ORT-node fp32 (target <= 1.5x), ${ratio(q2, qw2)} ORT-web int8; ` +
          `fastest runs: ${ratio(best('q2'), best('t2'))}, ${ratio(best('q2'), best('n2'))} and ${ratio(best('q2'), best('qw2'))}`,
      );
    }
  }
  printTable(
    'ViT, batch 1, 224x224 (median ms of round-robin runs, each runtime in its own process; ratios: tessera 2 threads over the peer)',
    ['model', 'tessera 1t', 'tessera 2t', 'ort-web 1t', 'ort-web 2t', 'ort-node 2t', 't2/web2t', 't2/node'],
    rows,
  );
  printTable(
    'ViT int8 on 2 threads, same rounds (median ms): Tessera quantize int8, onnxruntime-web on the quantize_dynamic ONNX model; fp32 for reference',
    ['model', 'tessera fp32', 'tessera int8', 'ort-web fp32', 'ort-web int8', 'ort-node fp32', 'int8/fp32', 'int8/node', 'int8/web int8'],
    int8Rows,
  );
  if (int8Checks.length) console.log(`\n${int8Checks.join('\n')}`);
  printTable('ViT per runtime (cores: CPU time over wall time of the timed runs; peak RSS of the runtime process)', ['model', 'runtime', 'median ms', 'min ms', 'cores', 'peak RSS MiB', ''], detail);
  if (checks.length) console.log(`\n${checks.join('\n')}`);
  // Peak memory, in processes of their own after the timing (no runner of ours still running).
  targets.push(...(await measureRss()));
  console.log(`\nissue 7 and 16 targets: ${targets.join('; ')}`);
  const load = Math.max(loadBefore, loadavg()[0]!);
  const cores = cpus().length;
  if (load > cores / 2) console.log(`note: load average up to ${load.toFixed(1)} on ${cores} cores while measuring: other processes share the cores, so the 2-thread figures in particular are unreliable`);
}

const runnerAt = process.argv.indexOf('--vit-runner');
if (runnerAt >= 0 && process.argv[1] === THIS_FILE) await serve(JSON.parse(process.argv[runnerAt + 1]!) as RunnerArgs);
else if (process.argv[1] === THIS_FILE) await benchVit();
