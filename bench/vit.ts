/**
 * ViT benchmark: ViT-Ti/16, ViT-S/16 and ViT-B/16 (batch 1, 224x224) with
 * the same seeded random weights in every runtime: Tessera's CPU backend
 * (wasm, 1 and 2 threads) next to onnxruntime-web's wasm backend (1 and 2
 * threads) and onnxruntime-node (native CPU, 2 intra-op threads), all in
 * this run, each in a child process of its own, timed round robin
 * (bench/runners.ts). The logits of every runtime are
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
 * `tsx bench/vit.ts` runs this benchmark alone (TESSERA_BENCH_ROUNDS=N: N
 * timed rounds per model instead of 11, 7 and 5).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readSafetensorsFile } from '@tessera/ir/node';
import { VIT_PRESETS } from '@tessera/models';
import { MIB, MODELS_DIR, ROOT, type RunnerArgs, type RuntimeSpec, agreementLine, benchRounds, detailCells, ensureExports, maxAbsDiff, measureRoundRobin, medianOf, ms, noteLoad, ratio } from './runners.ts';
import { printTable } from './timing.ts';

const THIS_FILE = fileURLToPath(import.meta.url);

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

const RUNTIMES: readonly RuntimeSpec[] = [
  { key: 't1', label: 'tessera wasm 1t', kind: 'tessera', threads: 1 },
  { key: 't2', label: 'tessera wasm 2t', kind: 'tessera', threads: 2 },
  { key: 'w1', label: 'ort-web wasm 1t', kind: 'ort-web', threads: 1 },
  { key: 'w2', label: 'ort-web wasm 2t', kind: 'ort-web', threads: 2 },
  { key: 'n2', label: 'ort-node 2t', kind: 'ort-node', threads: 2 },
  { key: 'q2', label: 'tessera int8 2t', kind: 'tessera', threads: 2, int8: true },
  { key: 'qw2', label: 'ort-web int8 2t', kind: 'ort-web', threads: 2, int8: true },
];

const path = (name: string, ext: string) => join(MODELS_DIR, name + ext);
const EXPORT_FILES = ['.onnx', '.int8.onnx', '.safetensors', '.json', '.io.safetensors'];
/** One image, 224x224: from NAME.io.safetensors, or seeded without the exports. */
const PIXELS = [{ name: 'pixel_values', dtype: 'f32', shape: [1, 3, 224, 224], seed: 5 }] as const;

/** Starts every runtime on one model, times them round robin and stops them. */
function measureModel(m: ModelSpec, runtimes: readonly RuntimeSpec[], exported: boolean) {
  const args = (rt: RuntimeSpec): RunnerArgs => {
    const common = { kind: rt.kind, threads: rt.threads, config: path(m.name, '.json'), inputs: PIXELS, output: 'logits', int8: rt.int8 ?? false };
    return exported ? { ...common, weights: path(m.name, '.safetensors'), onnx: path(m.name, rt.int8 ? '.int8.onnx' : '.onnx'), io: path(m.name, '.io.safetensors') } : common;
  };
  return measureRoundRobin(new Map(runtimes.map((rt) => [rt.key, args(rt)])), benchRounds(m.rounds));
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

/** Runs the ViT benchmark and prints its tables and the issue 7 and 16 targets. */
export async function benchVit(): Promise<void> {
  const loadBefore = loadavg()[0]!;
  const skipped = ensureExports('export_vit_onnx.py', MODELS.map((m) => m.name), EXPORT_FILES, (missing) => missing);
  const exported = skipped === undefined;
  if (!exported) {
    console.log(`\nViT: onnxruntime-web and onnxruntime-node skipped: ${skipped}. Tessera runs on seeded random weights.`);
    mkdirSync(MODELS_DIR, { recursive: true });
    for (const m of MODELS) if (!existsSync(path(m.name, '.json'))) writeFileSync(path(m.name, '.json'), JSON.stringify(VIT_PRESETS[m.name]));
  }
  const runtimes = exported ? RUNTIMES : RUNTIMES.filter((r) => r.kind === 'tessera');
  const rows: string[][] = [];
  const int8Rows: string[][] = [];
  const int8Checks: string[] = [];
  const detail: string[][] = [];
  const checks: string[] = [];
  const targets: string[] = [];
  for (const m of MODELS) {
    const res = await measureModel(m, runtimes, exported);
    const med = (key: string) => medianOf(res, key);
    const [t1, t2, w1, w2, n2] = ['t1', 't2', 'w1', 'w2', 'n2'].map(med);
    rows.push([m.label, ms(t1), ms(t2), ms(w1), ms(w2), ms(n2), ratio(t2, w2), ratio(t2, n2)]);
    const [q2, qw2] = ['q2', 'qw2'].map(med);
    int8Rows.push([m.label, ms(t2), ms(q2), ms(w2), ms(qw2), ms(n2), ratio(q2, t2), ratio(q2, n2), ratio(q2, qw2)]);
    for (const rt of runtimes) detail.push([m.label, ...detailCells(rt, res.get(rt.key)!)]);
    // The outputs must agree, or the table compares different computations.
    const ref = res.get('n2')?.logits;
    if (exported && ref) {
      const torch = (await readSafetensorsFile(path(m.name, '.io.safetensors'))).tensors.get('logits')!.data as Float32Array;
      // Int8 answers differ from fp32 by the quantization: the same predicted class, and how far the logits moved.
      const argmax = (x: Float32Array) => x.indexOf(Math.max(...x));
      const int8Parts = runtimes
        .filter((rt) => rt.int8 && res.get(rt.key)!.logits)
        .map((rt) => `${rt.label} class ${argmax(res.get(rt.key)!.logits!) === argmax(ref) ? 'same' : 'DIFFERENT'}, max |Δ| ${maxAbsDiff(res.get(rt.key)!.logits!, ref).toExponential(1)}`);
      if (int8Parts.length) int8Checks.push(`${m.label} int8 vs ort-node fp32: ${int8Parts.join('; ')}`);
      checks.push(agreementLine(m.label, runtimes, res, torch)!);
    }
    if (m.name === 'vit-b-16') {
      // The fastest runs are the least disturbed by other load: their ratios are shown too.
      const best = (key: string) => {
        const r = res.get(key);
        return r && r.times.length ? Math.min(...r.times) : undefined;
      };
      targets.push(
        `ViT-B/16 tessera 2 threads: ${ratio(t2, w2)} ORT-web wasm 2 threads (target <= 0.5x; issue 7: 0.7x), ${ratio(t2, n2)} ORT-node 2 threads (target <= 3.0x; issue 7: 4.5x); ` +
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
  noteLoad(loadBefore);
}

if (process.argv[1] === THIS_FILE) await benchVit();
