/**
 * `tessera run (FILE.ts | FILE.tir) [--inputs IN.safetensors] [--weights W.safetensors]
 * --out OUT.safetensors [--backend ...]`: runs a model file (traced) or an
 * IR program on tensors named as its inputs and writes its outputs by name.
 * `tessera run --config C.json --weights W.safetensors --inputs
 * IN.safetensors --out OUT.safetensors [--batch-size N]`: runs a ViT or
 * Transformer described by a JSON config on a checkpoint.
 * ViT: input `pixel_values` f32 [B,3,H,W] -> output `logits` f32 [B,num_classes].
 * Transformer: inputs `src` [B,S] and `tgt` [B,T] (I64 or I32) -> `logits`
 * f32 [B,T,tgt_vocab]. The helpers here (token tensors, progress bar) are
 * shared with `tessera generate`.
 */
import { type Program, type SafetensorsTensor, TesseraError, formatShape } from '@tessera/ir';
import { readSafetensorsFile, writeSafetensorsFile } from '@tessera/ir/node';
import { type Progress, compileSeq2Seq, compileVit, traceSeq2Seq, traceVit, weightsFor } from '@tessera/models';
import type { AttentionSelection } from '@tessera/frontend';
import { type LoadedModel, loadModel } from '@tessera/models/node';
import { type BackendName, availableBackends, compile } from '@tessera/compiler';
import { backendFlag, parseCommandArgs, positiveFlag, required } from '../args.ts';
import { type Command, UsageError } from '../command.ts';
import { type ModelArgs, attentionsFlag, loadModelProgram, modelInput, parseModelArgs, withModelFlags } from '../model-source.ts';
import { type CommandInput, refuseInputAsOutput } from '../outputs.ts';
import { type Timings, withTimings } from '../timings.ts';
import { bindInputFiles, runProgramToFile, summarize } from './eval.ts';

/** Backends the model commands name in their usage (any available one is accepted). */
export const MODEL_BACKENDS = 'interp|cpu|webgpu';

const USAGE = `usage: tessera run (FILE.ts | FILE.tir) [--inputs IN.safetensors] [--weights W.safetensors]
                   --out OUT.safetensors [--backend ${MODEL_BACKENDS}] [--input NAME=DTYPE[SHAPE]]...
                   [--no-typecheck] [--timings] [--attentions[=PATH,...]]
       tessera run --config C.json --weights W.safetensors --inputs IN.safetensors
                   --out OUT.safetensors [--backend ${MODEL_BACKENDS}] [--batch-size N] [--timings]
                   [--attentions[=PATH,...]]

  Runs a model and writes its outputs (safetensors) by name.

  FILE.ts is a model file (type-checked and traced, as for compile; --input
  gives an input another shape); FILE.tir a program in the IR text format.
  Its inputs are read by name from --inputs, its parameters (state_dict
  names) from --weights or --inputs: every one must be found, with its shape.
  The outputs are written named as the program's outputs.

  --config runs the model a JSON config describes ("model": "vit" or
  "transformer") with the weights of a PyTorch state_dict saved as safetensors.

  ViT:          input  pixel_values  f32 [B, 3, image_size, image_size] (F32, F16 or BF16)
                output logits        f32 [B, num_classes]
  Transformer:  inputs src [B, S] and tgt [B, T], token ids (I64 or I32)
                output logits        f32 [B, T, tgt_vocab]

  --backend NAME    where to run (default cpu; available here: ${'${available}'})
  --batch-size N    --config models: run N rows at a time (default: all at once); a
                    progress bar is shown on a terminal
  --attentions      also write each attention module's probabilities after masking,
                    [B, heads, queries, keys], as 'attn/<module path>' next to the outputs
                    (attn/transformer.encoder.layers.0.self_attn, ...); =PATH,... for
                    those module paths only
  --no-typecheck    skip the TypeScript check of FILE.ts
  --timings         print the time of each phase on stderr (start-up, type check, load,
                    trace, compile, run)`;

/** Usage text with the backends available in this process. */
export function usageWithBackends(text: string): string {
  return text.replace('${available}', availableBackends().join(', '));
}

/** The files `run` and `generate` read, for refusing an --out that names one of them. */
export function modelCommandInputs(config: string, weights: string, inputs: string): CommandInput[] {
  return [
    { what: '--config file', path: config },
    { what: '--weights file', path: weights },
    { what: '--inputs file', path: inputs },
  ];
}

/** The tensors of an inputs file, checked to be exactly `names` (a missing or extra tensor is an error naming it). */
export async function readInputs(path: string, names: readonly string[], model: string): Promise<Map<string, SafetensorsTensor>> {
  const file = await readSafetensorsFile(path);
  const missing = names.filter((n) => !file.tensors.has(n));
  const extra = [...file.tensors.keys()].filter((n) => !names.includes(n));
  const problems = [
    ...(missing.length ? [`missing ${missing.map((n) => `'${n}'`).join(', ')}`] : []),
    ...(extra.length ? [`unexpected ${extra.map((n) => `'${n}'`).join(', ')}`] : []),
  ];
  if (problems.length) throw new TesseraError(`${path}: ${problems.join('; ')} (a ${model} takes ${names.map((n) => `'${n}'`).join(', ')})`);
  return file.tensors;
}

/** Token ids [B, L] from an I64 or I32 tensor, checked to lie in [0, vocab). */
export function tokenTensor(path: string, name: string, t: SafetensorsTensor, vocab: number, vocabKey: string): { rows: number; len: number; data: Int32Array } {
  if (t.dtype !== 'I64' && t.dtype !== 'I32') throw new TesseraError(`${path}: '${name}' has dtype ${t.dtype}, expected I64 or I32 token ids`);
  if (t.shape.length !== 2) throw new TesseraError(`${path}: '${name}' has shape ${formatShape(t.shape)}, expected [B, length]`);
  const data = new Int32Array(t.data.length);
  for (let i = 0; i < data.length; i++) {
    const v = Number(t.data[i]!);
    if (!(v >= 0 && v < vocab)) {
      throw new TesseraError(`${path}: '${name}' element ${i} (row ${Math.floor(i / t.shape[1]!)}) is ${v}, expected a token id in [0, ${vocab}) ("${vocabKey}")`);
    }
    data[i] = v;
  }
  return { rows: t.shape[0]!, len: t.shape[1]!, data };
}

/** A progress bar on stderr when it is a terminal (nothing otherwise, so logs and pipes stay clean). */
export function progressBar(label: string, stream: NodeJS.WriteStream = process.stderr): Progress | undefined {
  if (!stream.isTTY) return undefined;
  const width = 30;
  return (done, total) => {
    const filled = Math.round((width * done) / total);
    stream.write(`\r${label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${total}${done === total ? '\n' : ''}`);
  };
}

async function runVit(m: Extract<LoadedModel, { kind: 'vit' }>, path: string, inputs: Map<string, SafetensorsTensor>, backend: BackendName, batchSize: number | undefined) {
  const c = m.model.config;
  const t = inputs.get('pixel_values')!;
  const want = [3, c.image_size, c.image_size];
  if (t.shape.length !== 4 || t.shape.slice(1).some((d, i) => d !== want[i])) {
    throw new TesseraError(`${path}: 'pixel_values' has shape ${formatShape(t.shape)}, expected [B, ${want.join(', ')}] for this config`);
  }
  if (!['F32', 'F16', 'BF16'].includes(t.dtype)) throw new TesseraError(`${path}: 'pixel_values' has dtype ${t.dtype}, expected F32, F16 or BF16`);
  const b = t.shape[0]!;
  const vit = await compileVit(m.model, m.weights, { backend, batch: Math.min(batchSize ?? b, b) });
  try {
    const logits = await vit.logits(t.data as Float32Array, progressBar('images'));
    return { logits: { dtype: 'F32', shape: [b, c.num_classes], data: logits } as SafetensorsTensor };
  } finally {
    vit.dispose();
  }
}

async function runTransformer(m: Extract<LoadedModel, { kind: 'transformer' }>, path: string, inputs: Map<string, SafetensorsTensor>, backend: BackendName, batchSize: number | undefined) {
  const c = m.model.config;
  const src = tokenTensor(path, 'src', inputs.get('src')!, c.src_vocab, 'src_vocab');
  const tgt = tokenTensor(path, 'tgt', inputs.get('tgt')!, c.tgt_vocab, 'tgt_vocab');
  if (src.rows !== tgt.rows) throw new TesseraError(`${path}: 'src' has ${src.rows} rows and 'tgt' ${tgt.rows}, expected the same batch size`);
  const b = src.rows;
  const runner = await compileSeq2Seq(m.model, m.weights, { backend, batch: Math.min(batchSize ?? b, b), srcLen: src.len, tgtLen: tgt.len });
  try {
    const logits = await runner.logits(src.data, tgt.data, progressBar('sequences'));
    return { logits: { dtype: 'F32', shape: [b, tgt.len, c.tgt_vocab], data: logits } as SafetensorsTensor };
  } finally {
    runner.dispose();
  }
}

/** Parsed command line of `tessera run`. */
export interface RunOptions {
  readonly model: ModelArgs;
  readonly weights?: string;
  readonly inputs?: string;
  readonly out: string;
  readonly backend: BackendName;
  readonly batchSize?: number;
  readonly timings: boolean;
  /** --attentions[=PATH,...]: every attention module's probabilities, or those listed, as outputs `attn/<path>`. */
  readonly attentions?: AttentionSelection;
}

/** Parses `run`'s arguments, or throws UsageError. */
export function parseRunArgs(args: readonly string[]): RunOptions {
  const parsed = parseCommandArgs(args, withModelFlags({ values: ['--weights', '--inputs', '--out', '--backend', '--batch-size'], optionalValues: ['--attentions'] }));
  const model = parseModelArgs(parsed, ['file', 'program', 'config']);
  const v = parsed.values;
  const config = model.source.kind === 'config';
  if (config) {
    required(v, '--weights', 'W.safetensors');
    required(v, '--inputs', 'IN.safetensors');
    if (Object.keys(model.inputs).length) throw new UsageError('--input: a --config model takes its input shapes from the --inputs file');
  } else if (v.has('--batch-size')) throw new UsageError('--batch-size applies to --config models');
  const batchSize = positiveFlag(v, '--batch-size');
  const attentions = attentionsFlag(parsed, model);
  if (attentions !== undefined && batchSize !== undefined) throw new UsageError('--attentions runs the whole batch at once: leave out --batch-size');
  return {
    model,
    out: required(v, '--out', 'OUT.safetensors'),
    backend: backendFlag(v),
    timings: parsed.booleans.has('--timings'),
    ...(v.has('--weights') ? { weights: v.get('--weights')! } : {}),
    ...(v.has('--inputs') ? { inputs: v.get('--inputs')! } : {}),
    ...(batchSize !== undefined ? { batchSize } : {}),
    ...(attentions !== undefined ? { attentions } : {}),
  };
}

/** A config model traced with attention probes and run once on the whole batch: `logits` and every `attn/<path>`. */
async function runWithAttentions(m: LoadedModel, path: string, inputs: Map<string, SafetensorsTensor>, backend: BackendName, attentions: AttentionSelection): Promise<Record<string, SafetensorsTensor>> {
  let program: Program;
  let values: Record<string, Float32Array | Int32Array>;
  if (m.kind === 'vit') {
    const t = inputs.get('pixel_values')!;
    program = traceVit(m.model, t.shape[0]!, attentions);
    values = { pixel_values: t.data as Float32Array };
  } else {
    const c = m.model.config;
    const src = tokenTensor(path, 'src', inputs.get('src')!, c.src_vocab, 'src_vocab');
    const tgt = tokenTensor(path, 'tgt', inputs.get('tgt')!, c.tgt_vocab, 'tgt_vocab');
    if (src.rows !== tgt.rows) throw new TesseraError(`${path}: 'src' has ${src.rows} rows and 'tgt' ${tgt.rows}, expected the same batch size`);
    program = traceSeq2Seq(m.model, { batch: src.rows, srcLen: src.len }, tgt.len, attentions);
    values = { src: src.data, tgt: tgt.data };
  }
  using exe = await compile(program, { backend, weights: weightsFor(program, m.weights) });
  const out = await exe.run(values);
  return Object.fromEntries(program.outputs.map(({ name }) => [name, { dtype: 'F32', shape: [...out[name]!.dims], data: out[name]!.data } as SafetensorsTensor]));
}

/** Runs a model config on its checkpoint and inputs, writing `logits`. */
async function runConfig(o: RunOptions, config: string, weights: string, inputsPath: string, timings: Timings | undefined): Promise<void> {
  const timed = <T>(name: string, f: () => Promise<T>) => (timings ? timings.time(name, f) : f());
  const m = await timed('load', () => loadModel(config, weights));
  const inputs = await readInputs(inputsPath, m.kind === 'vit' ? ['pixel_values'] : ['src', 'tgt'], m.kind === 'vit' ? 'ViT' : 'Transformer');
  const outputs = await timed('run', () =>
    o.attentions !== undefined ? runWithAttentions(m, inputsPath, inputs, o.backend, o.attentions) : m.kind === 'vit' ? runVit(m, inputsPath, inputs, o.backend, o.batchSize) : runTransformer(m, inputsPath, inputs, o.backend, o.batchSize),
  );
  await writeSafetensorsFile(o.out, outputs, { format: 'tessera', model: m.kind, backend: o.backend });
  const t = outputs.logits;
  process.stdout.write(`${summarize('logits', `f32${formatShape(t.shape)}`, t.data as Float32Array)}\n`);
}

/** The files `run` reads, for refusing an --out that names one of them. */
function runInputs(o: RunOptions): CommandInput[] {
  return [
    modelInput(o.model.source),
    ...(o.weights !== undefined ? [{ what: '--weights file', path: o.weights }] : []),
    ...(o.inputs !== undefined ? [{ what: '--inputs file', path: o.inputs }] : []),
  ];
}

/** The `run` command: a model file or program on safetensors inputs, or a model from config + checkpoint. */
export const runCommand: Command = {
  name: 'run',
  summary: 'run a model (FILE.ts, FILE.tir, or a ViT/Transformer config + checkpoint) on safetensors inputs',
  get usage() {
    return usageWithBackends(USAGE);
  },
  async run(args) {
    const o = parseRunArgs(args);
    try {
      refuseInputAsOutput('--out', o.out, runInputs(o));
      await withTimings(o.timings, async (timings) => {
        if (o.model.source.kind === 'config') return runConfig(o, o.model.source.path, o.weights!, o.inputs!, timings);
        const program = await loadModelProgram(o.model, timings, undefined, o.attentions);
        await runProgramToFile(program, await bindInputFiles(program, o.inputs, o.weights), o.backend, o.out, timings);
      });
      return 0;
    } catch (e) {
      if (e instanceof TesseraError) {
        process.stderr.write(`tessera run: ${e.message}\n`);
        return 1;
      }
      throw e;
    }
  },
};
