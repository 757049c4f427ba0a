/**
 * `--model DIR`: a Hugging Face folder (config.json + model.safetensors or
 * its shards, as save_pretrained writes them) in the commands that run a
 * model. Inputs and outputs keep transformers' names: ViT `pixel_values`;
 * BERT `input_ids`, `attention_mask`, `token_type_ids`; GPT-2 `input_ids`.
 * The traced shape comes from the --inputs file (run), --input flags, or
 * defaults (batch 1, 16 tokens or the position table's length if shorter).
 */
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { type Program, type RefTensor, type SafetensorsFile, type SafetensorsTensor, TesseraError, formatShape, toHost } from '@tessera/ir';
import { readSafetensorsFile } from '@tessera/ir/node';
import { type HfConfig, type HfShape, buildHfModel, hfInputNames, maxPositions, traceHf } from '@tessera/models';
import { type LoadedHfModel, loadHfFolder, readHfConfig } from '@tessera/models/node';
import type { TensorData } from '@tessera/kernel';
import { bindInputs, runProgramToFile } from './commands/eval.ts';
import type { CommandInput } from './outputs.ts';
import type { Timings } from './timings.ts';
import type { InputOverride } from './trace-config.ts';

/** BERT inputs transformers fills when they are not given: attention_mask all ones, token_type_ids all zeros. */
const BERT_DEFAULTS: Readonly<Record<string, bigint>> = { attention_mask: 1n, token_type_ids: 0n };

/** Sequence length when nothing sets it. */
const DEFAULT_TOKENS = 16;

/** Checks that `dir` is a folder (a .onnx file or anything else is named as such). */
export function checkHfFolder(dir: string): void {
  let isDir = false;
  try {
    isDir = statSync(dir).isDirectory();
  } catch {
    throw new TesseraError(`${dir}: no such folder (--model takes a Hugging Face folder with config.json and model.safetensors)`);
  }
  if (!isDir) throw new TesseraError(`${dir}: not a folder (--model takes a Hugging Face folder with config.json and model.safetensors)`);
}

/** Every file of the folder, as command inputs: an --out that names one (the weights!) is refused. */
export function hfFolderInputs(dir: string): CommandInput[] {
  let files: string[] = [];
  try {
    files = readdirSync(dir);
  } catch {
    // A missing folder is reported when it is read.
  }
  return files.map((f) => ({ what: 'file of the --model folder', path: join(dir, f) }));
}

/** The traced shape `--input` flags give (the other inputs take the same batch and length), or the defaults. */
function shapeFromOverrides(config: HfConfig, inputs: Readonly<Record<string, InputOverride>>): HfShape {
  const names = hfInputNames(config);
  let shape: HfShape | undefined;
  for (const [name, o] of Object.entries(inputs)) {
    if (!names.includes(name)) throw new TesseraError(`--input ${name}: a ${config.architecture} takes ${names.join(', ')}`);
    const s = shapeOf(config, `--input ${name}`, o.shape, o.dtype.toUpperCase());
    if (shape && (shape.batch !== s.batch || shape.seqLen !== s.seqLen)) throw new TesseraError(`--input ${name}: its shape ${formatShape(o.shape)} differs from the other inputs' [${shape.batch}, ${shape.seqLen}]`);
    shape = s;
  }
  const limit = maxPositions(config);
  return shape ?? { batch: 1, seqLen: Math.min(DEFAULT_TOKENS, limit?.value ?? DEFAULT_TOKENS) };
}

/** The traced shape of one input tensor, checked against the config (`what` names it in errors). */
function shapeOf(config: HfConfig, what: string, shape: readonly number[], dtype: string): HfShape {
  if (config.model_type === 'vit') {
    const want = [config.num_channels, config.image_size, config.image_size];
    if (shape.length !== 4 || shape.slice(1).some((d, i) => d !== want[i])) throw new TesseraError(`${what} has shape ${formatShape(shape)}, expected [B, ${want.join(', ')}] (num_channels, image_size, image_size)`);
    if (!['F32', 'F16', 'BF16'].includes(dtype)) throw new TesseraError(`${what} has dtype ${dtype}, expected F32, F16 or BF16`);
    return { batch: shape[0]!, seqLen: 1 };
  }
  if (shape.length !== 2) throw new TesseraError(`${what} has shape ${formatShape(shape)}, expected [batch, tokens]`);
  if (!['I64', 'I32'].includes(dtype)) throw new TesseraError(`${what} has dtype ${dtype}, expected I64 or I32`);
  return { batch: shape[0]!, seqLen: shape[1]! };
}

/** The program of a Hugging Face folder's config (no weights read), shaped by --input flags or the defaults. */
export async function hfProgram(dir: string, inputs: Readonly<Record<string, InputOverride>>): Promise<Program> {
  checkHfFolder(dir);
  const config = await readHfConfig(dir);
  return traceHf(buildHfModel(config), shapeFromOverrides(config, inputs));
}

/**
 * The activations of an inputs file for a folder's model, by transformers'
 * names: every tensor must be one of the model's inputs, with one shape;
 * BERT's attention_mask and token_type_ids default as in transformers.
 */
export function hfActivations(m: LoadedHfModel, file: SafetensorsFile, path: string): { shape: HfShape; tensors: Map<string, SafetensorsTensor> } {
  const names = hfInputNames(m.config);
  const extra = [...file.tensors.keys()].filter((n) => !names.includes(n));
  if (extra.length) throw new TesseraError(`${path}: unexpected ${extra.map((n) => `'${n}'`).join(', ')} (a ${m.config.architecture} takes ${names.map((n) => `'${n}'`).join(', ')})`);
  const main = names[0]!;
  const first = file.tensors.get(main);
  if (!first) throw new TesseraError(`${path}: missing '${main}' (a ${m.config.architecture} takes ${names.map((n) => `'${n}'`).join(', ')})`);
  const shape = shapeOf(m.config, `${path}: '${main}'`, first.shape, first.dtype);
  const limit = maxPositions(m.config);
  if (limit && shape.seqLen > limit.value) throw new TesseraError(`${path}: '${main}' has ${shape.seqLen} tokens per row, more than the config's "${limit.field}" (${limit.value})`);
  const tensors = new Map(file.tensors);
  for (const n of names.slice(1)) {
    const t = tensors.get(n);
    if (t === undefined) {
      tensors.set(n, { dtype: 'I64', shape: [shape.batch, shape.seqLen], data: new BigInt64Array(shape.batch * shape.seqLen).fill(BERT_DEFAULTS[n]!) });
      continue;
    }
    const s = shapeOf(m.config, `${path}: '${n}'`, t.shape, t.dtype);
    if (s.batch !== shape.batch || s.seqLen !== shape.seqLen) throw new TesseraError(`${path}: '${n}' has shape ${formatShape(t.shape)}, expected ${formatShape(first.shape)} as '${main}'`);
  }
  return { shape, tensors };
}

/** The folder's weights as a tensor file keyed by the program's parameter names (for binding with the inputs). */
export function hfWeightsFile(m: LoadedHfModel): { path: string; file: SafetensorsFile } {
  const shapes = new Map([...m.model.namedParameters()].map(([n, p]) => [n, p.shape]));
  const tensors = new Map<string, SafetensorsTensor>(Object.entries(m.weights).map(([n, data]) => [n, { dtype: 'F32', shape: shapes.get(n)!, data }]));
  return { path: m.dir, file: { tensors, metadata: {} } };
}

/** Loads the folder's model and weights (errors name the file and the field or tensor). */
export async function loadHfModel(dir: string): Promise<LoadedHfModel> {
  checkHfFolder(dir);
  return loadHfFolder(dir);
}

/** A folder's model traced for the shape of an inputs file, with every input bound (weights from the folder). */
async function boundFromFile(dir: string, inputsPath: string, timings?: Timings): Promise<{ program: Program; bound: Record<string, RefTensor> }> {
  const m = timings ? await timings.time('load', () => loadHfModel(dir)) : await loadHfModel(dir);
  const { shape, tensors } = hfActivations(m, await readSafetensorsFile(inputsPath), inputsPath);
  const program = traceHf(m.model, shape);
  return { program, bound: bindInputs(program, { path: inputsPath, file: { tensors, metadata: {} } }, hfWeightsFile(m)) };
}

/** `run --model DIR`: the folder's model on the inputs file, its outputs written by transformers' names. */
export async function runHfFolder(dir: string, inputsPath: string, backend: string, out: string, timings?: Timings): Promise<void> {
  const { program, bound } = await boundFromFile(dir, inputsPath, timings);
  await runProgramToFile(program, bound, backend, out, timings);
}

/**
 * `compare --model DIR`: the program and the values compare is given: the
 * folder's weights, and the activations of --inputs when given (their shape
 * sets the program's), else the program shaped by --input (activations drawn).
 */
export async function hfCompareValues(dir: string, overrides: Readonly<Record<string, InputOverride>>, inputsPath: string | undefined): Promise<{ program: Program; given: Record<string, TensorData> }> {
  if (inputsPath !== undefined) {
    const { program, bound } = await boundFromFile(dir, inputsPath);
    return { program, given: Object.fromEntries(Object.entries(bound).map(([k, t]) => [k, toHost(t)])) };
  }
  const m = await loadHfModel(dir);
  const program = traceHf(m.model, shapeFromOverrides(m.config, overrides));
  return { program, given: { ...m.weights } };
}
