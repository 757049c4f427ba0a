/**
 * `tessera run --config C.json --weights W.safetensors --inputs IN.safetensors
 * --out OUT.safetensors [--backend interp|cpu|webgpu] [--batch-size N]`:
 * runs a ViT or Transformer described by a JSON config on a checkpoint.
 * ViT: input `pixel_values` f32 [B,3,H,W] -> output `logits` f32 [B,num_classes].
 * Transformer: inputs `src` [B,S] and `tgt` [B,T] (I64 or I32) -> `logits`
 * f32 [B,T,tgt_vocab]. The helpers here (flags, token tensors, progress
 * bar) are shared with `tessera generate`.
 */
import { type SafetensorsTensor, TesseraError, formatShape } from '@tessera/ir';
import { readSafetensorsFile, writeSafetensorsFile } from '@tessera/ir/node';
import { type Progress, compileSeq2Seq, compileVit } from '@tessera/models';
import { type LoadedModel, loadModel } from '@tessera/models/node';
import { type BackendName, availableBackends } from '@tessera/compiler';
import { type Command, UsageError } from '../command.ts';
import { type CommandInput, refuseInputAsOutput } from '../outputs.ts';
import { summarize } from './eval.ts';

/** Backends the model commands name in their usage (any available one is accepted). */
export const MODEL_BACKENDS = 'interp|cpu|webgpu';

const USAGE = `usage: tessera run --config C.json --weights W.safetensors --inputs IN.safetensors
                   --out OUT.safetensors [--backend ${MODEL_BACKENDS}] [--batch-size N]

  Runs the model a JSON config describes ("model": "vit" or "transformer")
  with the weights of a PyTorch state_dict saved as safetensors.

  ViT:          input  pixel_values  f32 [B, 3, image_size, image_size] (F32, F16 or BF16)
                output logits        f32 [B, num_classes]
  Transformer:  inputs src [B, S] and tgt [B, T], token ids (I64 or I32)
                output logits        f32 [B, T, tgt_vocab]

  --backend NAME    where to run (default cpu; available here: ${'${available}'})
  --batch-size N    run N rows at a time (default: all at once); a progress bar
                    is shown on a terminal`;

/** Usage text with the backends available in this process. */
export function usageWithBackends(text: string): string {
  return text.replace('${available}', availableBackends().join(', '));
}

/** Parses `--flag VALUE` / `--flag=VALUE` arguments, all of them named in `flags`; no positionals. */
export function parseFlags(args: readonly string[], flags: readonly string[]): Map<string, string> {
  const values = new Map<string, string>();
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (!a.startsWith('--')) throw new UsageError(`unexpected argument '${a}' (every argument is a --flag with a value)`);
    const eq = a.indexOf('=');
    const flag = eq >= 0 ? a.slice(0, eq) : a;
    if (!flags.includes(flag)) throw new UsageError(`unknown option '${flag}' (expected ${flags.join(', ')})`);
    const value = eq >= 0 ? a.slice(eq + 1) : args[++i];
    if (value === undefined || value === '') throw new UsageError(`option '${flag}' needs a value`);
    if (values.has(flag)) throw new UsageError(`option '${flag}' is given twice`);
    values.set(flag, value);
  }
  return values;
}

/** The files `run` and `generate` read, for refusing an --out that names one of them. */
export function modelCommandInputs(config: string, weights: string, inputs: string): CommandInput[] {
  return [
    { what: '--config file', path: config },
    { what: '--weights file', path: weights },
    { what: '--inputs file', path: inputs },
  ];
}

/** A required flag's value. */
export function required(values: Map<string, string>, flag: string, what: string): string {
  const v = values.get(flag);
  if (v === undefined) throw new UsageError(`missing ${flag} ${what}`);
  return v;
}

/** A positive integer flag, at most `max` (`why` says where the bound comes from), or undefined when absent. */
export function positiveFlag(values: Map<string, string>, flag: string, max = Number.MAX_SAFE_INTEGER, why = ''): number | undefined {
  const v = values.get(flag);
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`${flag} must be a positive integer, got '${v}'`);
  if (n > max) throw new UsageError(`${flag} must be at most ${max}${why ? ` (${why})` : ''}, got ${v}`);
  return n;
}

/** The --backend value (default cpu), checked against the backends available in this process. */
export function backendFlag(values: Map<string, string>): BackendName {
  const b = values.get('--backend') ?? 'cpu';
  const available = availableBackends();
  if (!available.includes(b)) throw new UsageError(`unknown or unavailable backend '${b}' (available: ${available.join(', ')})`);
  return b as BackendName;
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

/** The `run` command: a model from config + checkpoint on safetensors inputs. */
export const runCommand: Command = {
  name: 'run',
  summary: 'run a ViT or Transformer (JSON config + safetensors checkpoint) on safetensors inputs',
  get usage() {
    return usageWithBackends(USAGE);
  },
  async run(args) {
    const flags = parseFlags(args, ['--config', '--weights', '--inputs', '--out', '--backend', '--batch-size']);
    const config = required(flags, '--config', 'C.json');
    const weights = required(flags, '--weights', 'W.safetensors');
    const inputsPath = required(flags, '--inputs', 'IN.safetensors');
    const out = required(flags, '--out', 'OUT.safetensors');
    const backend = backendFlag(flags);
    const batchSize = positiveFlag(flags, '--batch-size');
    try {
      refuseInputAsOutput('--out', out, modelCommandInputs(config, weights, inputsPath));
      const m = await loadModel(config, weights);
      const inputs = await readInputs(inputsPath, m.kind === 'vit' ? ['pixel_values'] : ['src', 'tgt'], m.kind === 'vit' ? 'ViT' : 'Transformer');
      const outputs = m.kind === 'vit' ? await runVit(m, inputsPath, inputs, backend, batchSize) : await runTransformer(m, inputsPath, inputs, backend, batchSize);
      await writeSafetensorsFile(out, outputs, { format: 'tessera', model: m.kind, backend });
      const t = outputs.logits;
      process.stdout.write(`${summarize('logits', `f32${formatShape(t.shape)}`, t.data as Float32Array)}\n`);
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
