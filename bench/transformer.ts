/**
 * Transformer benchmark (issue 16): the encoder-decoder Transformer at the
 * size of "Attention Is All You Need"'s base model (d_model 512, 8 heads,
 * feed-forward 2048, 6 + 6 layers; vocabularies of 8000) with the same
 * seeded random weights in every runtime: Tessera's CPU backend (wasm, 1 and
 * 2 threads, and int8 on 2) next to onnxruntime-web's wasm backend (fp32 and
 * the quantize_dynamic int8 model, 2 threads) and onnxruntime-node (2
 * intra-op threads), each in a child process of its own, timed round robin
 * (bench/runners.ts).
 *
 * The measured work is the same in every runtime: one teacher-forced
 * forward pass, batch 1, a source of S and a target of T tokens, giving
 * every target position's logits at once; tokens/s = T / median latency.
 * The logits are checked against ort-node's and PyTorch's (float64). Extra
 * Tessera-only rows time its greedy generator, fp32 and int8 (the encoder
 * once, then T KV-cached decoder steps of one token each): another
 * computation, with its tokens checked against PyTorch's greedy decoding.
 *
 * The model comes from tools/export_transformer_onnx.py --int8, run on
 * demand into bench/.models (git-ignored) with TESSERA_BENCH_PYTHON (default
 * /usr/bin/python3; e.g. /work/pyenv/bin/python). Without it the
 * onnxruntime rows are skipped with the reason and Tessera runs on seeded
 * weights and tokens.
 *
 * `tsx bench/transformer.ts` runs this benchmark alone (TESSERA_BENCH_ROUNDS=N:
 * N timed rounds instead of 9).
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TransformerConfig } from '@tessera/models';
import { readSafetensorsFile } from '@tessera/ir/node';
import { type InputSpec, MODELS_DIR, type Measured, type RunnerArgs, type RuntimeSpec, agreementLine, benchRounds, detailCells, ensureExports, maxAbsDiff, measureRoundRobin, medianOf, ms, noteLoad, ratio } from './runners.ts';
import { printTable } from './timing.ts';

const THIS_FILE = fileURLToPath(import.meta.url);
const NAME = 'transformer-base';
const ROUNDS = 9;

/** The config tools/export_transformer_onnx.py writes (for Tessera's seeded-weights run when it cannot). */
const BASE: TransformerConfig = {
  model: 'transformer',
  d_model: 512,
  nhead: 8,
  num_encoder_layers: 6,
  num_decoder_layers: 6,
  dim_feedforward: 2048,
  src_vocab: 8000,
  tgt_vocab: 8000,
  pad_id: 0,
  bos_id: 1,
  eos_id: 2,
  layer_norm_eps: 1e-5,
};
/** Source and target lengths without the export (with it: the io file's). */
const SEQ_LEN = 32;

const RUNTIMES: readonly RuntimeSpec[] = [
  { key: 't1', label: 'tessera wasm 1t', kind: 'tessera', threads: 1 },
  { key: 't2', label: 'tessera wasm 2t', kind: 'tessera', threads: 2 },
  { key: 'q2', label: 'tessera int8 2t', kind: 'tessera', threads: 2, int8: true },
  { key: 'w2', label: 'ort-web wasm 2t', kind: 'ort-web', threads: 2 },
  { key: 'qw2', label: 'ort-web int8 2t', kind: 'ort-web', threads: 2, int8: true },
  { key: 'n2', label: 'ort-node 2t', kind: 'ort-node', threads: 2 },
  { key: 'g2', label: 'tessera generate 2t', kind: 'tessera-generate', threads: 2 },
  { key: 'gq2', label: 'tessera generate int8 2t', kind: 'tessera-generate', threads: 2, int8: true },
];

const path = (ext: string) => join(MODELS_DIR, NAME + ext);
const EXPORT_FILES = ['.onnx', '.int8.onnx', '.safetensors', '.json', '.io.safetensors'];

/** The token inputs src [1, S] and tgt [1, T]: the io file's shapes, or SEQ_LEN each. */
function tokenInputs(io: ReadonlyMap<string, { readonly shape: readonly number[] }> | undefined): InputSpec[] {
  const shape = (name: string) => io?.get(name)?.shape ?? [1, SEQ_LEN];
  return [
    { name: 'src', dtype: 'int', shape: shape('src'), seed: 11, below: BASE.src_vocab },
    { name: 'tgt', dtype: 'int', shape: shape('tgt'), seed: 12, below: BASE.tgt_vocab },
  ];
}

/** Where each int8 runtime's greedy choice (argmax per target position) agrees with ort-node's fp32 one, and how far its logits moved. */
function int8Line(runtimes: readonly RuntimeSpec[], res: ReadonlyMap<string, Measured>, vocab: number): string | undefined {
  const ref = res.get('n2')?.logits;
  if (!ref) return undefined;
  const argmaxAt = (x: Float32Array, p: number) => {
    let best = p * vocab;
    for (let i = best + 1; i < (p + 1) * vocab; i++) if (x[i]! > x[best]!) best = i;
    return best;
  };
  const positions = ref.length / vocab;
  const parts = runtimes
    .filter((rt) => rt.int8 && rt.kind !== 'tessera-generate' && res.get(rt.key)!.logits)
    .map((rt) => {
      const l = res.get(rt.key)!.logits!;
      let same = 0;
      for (let p = 0; p < positions; p++) if (argmaxAt(l, p) === argmaxAt(ref, p)) same++;
      return `${rt.label} argmax same at ${same}/${positions} positions, max |Δ| ${maxAbsDiff(l, ref).toExponential(1)}`;
    });
  return parts.length ? `Transformer int8 vs ort-node fp32: ${parts.join('; ')}` : undefined;
}

/**
 * Whether the generators' tokens are PyTorch's greedy ones (float64, by full
 * recomputation): fp32 must give the same; int8 may part from them where
 * two logits are nearly tied (as it may in the int8 forward pass's argmax).
 */
function generatedLine(runtimes: readonly RuntimeSpec[], res: ReadonlyMap<string, Measured>, torch: ArrayLike<number | bigint>): string | undefined {
  const theirs = Array.from(torch, Number);
  const parts = runtimes
    .filter((rt) => rt.kind === 'tessera-generate' && res.get(rt.key)!.logits)
    .map((rt) => {
      const ours = res.get(rt.key)!.logits!;
      const first = theirs.findIndex((t, i) => t !== ours[i]);
      const same = first < 0 && ours.length === theirs.length;
      return `${rt.label} ${same ? 'same' : `${rt.int8 ? 'different' : 'DIFFERENT'} from position ${first}`}`;
    });
  return parts.length ? `Transformer greedy generation, ${theirs.length} tokens (bos included) vs PyTorch's: ${parts.join('; ')}` : undefined;
}

/** Runs the Transformer benchmark and prints its tables. */
export async function benchTransformer(): Promise<void> {
  const loadBefore = loadavg()[0]!;
  const skipped = ensureExports('export_transformer_onnx.py', [NAME], EXPORT_FILES, () => []);
  const exported = skipped === undefined;
  if (!exported) {
    console.log(`\nTransformer: onnxruntime-web, onnxruntime-node and the generator skipped: ${skipped}. Tessera runs on seeded random weights.`);
    mkdirSync(MODELS_DIR, { recursive: true });
    if (!existsSync(path('.json'))) writeFileSync(path('.json'), JSON.stringify(BASE));
  }
  const runtimes = exported ? RUNTIMES : RUNTIMES.filter((r) => r.kind === 'tessera');
  const c = JSON.parse(readFileSync(path('.json'), 'utf8')) as TransformerConfig;
  const io = exported ? (await readSafetensorsFile(path('.io.safetensors'))).tensors : undefined;
  const inputs = tokenInputs(io);
  const [srcLen, tgtLen] = inputs.map((x) => x.shape[1]!);
  const args = (rt: RuntimeSpec): RunnerArgs => {
    const common = { kind: rt.kind, threads: rt.threads, config: path('.json'), inputs, output: 'logits', int8: rt.int8 ?? false, newTokens: tgtLen };
    return exported ? { ...common, weights: path('.safetensors'), onnx: path(rt.int8 ? '.int8.onnx' : '.onnx'), io: path('.io.safetensors') } : common;
  };
  const res = await measureRoundRobin(new Map(runtimes.map((rt) => [rt.key, args(rt)])), benchRounds(ROUNDS));
  const med = (key: string) => medianOf(res, key);
  const perSecond = (tokens: number, t: number | undefined) => (t === undefined ? 'n/a' : ((1000 * tokens) / t).toFixed(0));
  const forward = runtimes.filter((rt) => rt.kind !== 'tessera-generate');
  const generate = runtimes.filter((rt) => rt.kind === 'tessera-generate');
  const cells = (rt: RuntimeSpec) => detailCells(rt, res.get(rt.key)!);
  printTable(
    `Transformer base (d_model ${c.d_model}, ${c.nhead} heads, ff ${c.dim_feedforward}, ${c.num_encoder_layers}+${c.num_decoder_layers} layers, vocabularies ${c.src_vocab}/${c.tgt_vocab}), batch 1, ` +
      `source ${srcLen} and target ${tgtLen} tokens: one teacher-forced forward pass (every target position's logits), round robin, each runtime in its own process; ` +
      'tokens/s = target tokens / median; cores: CPU time over wall time',
    ['runtime', 'median ms', 'tokens/s', 'min ms', 'cores', 'peak RSS MiB', ''],
    forward.map((rt) => {
      const [label, median, ...rest] = cells(rt);
      return [label!, median!, perSecond(tgtLen!, med(rt.key)), ...rest];
    }),
  );
  // The fastest runs are the least disturbed by other load: their ratios are shown too.
  const fastest = (key: string) => (res.get(key)?.times.length ? Math.min(...res.get(key)!.times) : undefined);
  const ratios = (label: string, of: (key: string) => number | undefined) => {
    const [t1, t2, q2, w2, qw2, n2] = ['t1', 't2', 'q2', 'w2', 'qw2', 'n2'].map(of);
    return [label, ratio(t2, w2), ratio(t2, n2), ratio(t2, t1), ratio(q2, t2), ratio(qw2, w2), ratio(q2, qw2), ratio(q2, n2)];
  };
  printTable(
    'Transformer base latency ratios (same rounds; below 1x: the first is faster)',
    ['of runs', 't2/web2t', 't2/node', 't2/t1', 'int8/fp32', 'web int8/fp32', 'int8/web int8', 'int8/node'],
    [ratios('median', med), ratios('fastest', fastest)],
  );
  if (generate.length) {
    printTable(
      `Tessera greedy generation (another computation: the encoder once, then ${tgtLen} KV-cached decoder steps of one token each; batch 1, source ${srcLen} tokens)`,
      ['runtime', 'median ms', 'tokens/s', 'ms per token', 'min ms', 'cores', 'peak RSS MiB', ''],
      generate.map((rt) => {
        const [label, median, ...rest] = cells(rt);
        const t = med(rt.key);
        return [label!, median!, perSecond(tgtLen!, t), t === undefined ? 'n/a' : (t / tgtLen!).toFixed(1), ...rest];
      }),
    );
  }
  if (io) {
    // The outputs must agree, or the tables compare different computations.
    const lines = [
      agreementLine('Transformer base', runtimes, res, io.get('logits')!.data as Float32Array),
      int8Line(runtimes, res, c.tgt_vocab),
      generatedLine(runtimes, res, io.get('generated')!.data as ArrayLike<number | bigint>),
    ].filter((l) => l !== undefined);
    if (lines.length) console.log(`\n${lines.join('\n')}`);
  }
  noteLoad(loadBefore);
}

if (process.argv[1] === THIS_FILE) await benchTransformer();
