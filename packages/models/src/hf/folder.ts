/**
 * Reading a Hugging Face folder as `save_pretrained` writes it (Node):
 * `config.json` and either `model.safetensors` or the shards
 * `model-0000X-of-0000N.safetensors` listed by `model.safetensors.index.json`.
 * Parsing the config and binding the tensors are browser-safe (config.ts,
 * checkpoint.ts); this module only reads the files.
 */
import { readFile, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { type SafetensorsTensor, TesseraError, previewJson } from '@tessera/ir';
import { fsErrorReason, readSafetensorsFile } from '@tessera/ir/node';
import type { Weights } from '../checkpoint.ts';
import { type HfModel, buildHfModel } from './build.ts';
import { bindHfCheckpoint } from './checkpoint.ts';
import { type HfConfig, parseHfConfigText } from './config.ts';

/** A Hugging Face folder's model with its parameter values. */
export interface LoadedHfModel {
  readonly dir: string;
  readonly config: HfConfig;
  readonly model: HfModel;
  readonly weights: Weights;
}

const SINGLE = 'model.safetensors';
const INDEX = 'model.safetensors.index.json';

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

/** Reads and parses `DIR/config.json`. */
export async function readHfConfig(dir: string): Promise<HfConfig> {
  const path = join(dir, 'config.json');
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    throw new TesseraError(`${path}: cannot read the config: ${fsErrorReason(e)} (a Hugging Face folder holds config.json and model.safetensors, as save_pretrained writes them)`);
  }
  return parseHfConfigText(text, path);
}

/** The shard files of an index, checked: a weight_map of tensor names to file names inside the folder. */
function shardMap(json: unknown, path: string): Map<string, string> {
  const map = (json as { weight_map?: unknown } | null)?.weight_map;
  if (typeof map !== 'object' || map === null || Array.isArray(map)) throw new TesseraError(`${path}: expected an object with a "weight_map" of tensor names to shard files, got ${previewJson(json)}`);
  const out = new Map<string, string>();
  for (const [name, file] of Object.entries(map)) {
    // A shard is a file in the folder: no path may lead out of it.
    if (typeof file !== 'string' || file !== basename(file) || file === '' || file === '.' || file === '..') {
      throw new TesseraError(`${path}: "weight_map" gives tensor '${name}' the file ${previewJson(file)}; expected a file name in the folder`);
    }
    out.set(name, file);
  }
  return out;
}

/** Every tensor of the folder's checkpoint: model.safetensors, or the shards its index lists (each tensor in the shard the index names). */
export async function readHfTensors(dir: string): Promise<{ tensors: Map<string, SafetensorsTensor>; source: string }> {
  const single = join(dir, SINGLE);
  if (await exists(single)) return { tensors: (await readSafetensorsFile(single)).tensors, source: single };
  const indexPath = join(dir, INDEX);
  if (!(await exists(indexPath))) {
    const bin = (await exists(join(dir, 'pytorch_model.bin'))) ? '; it has pytorch_model.bin, which Tessera does not read (save with safe_serialization=True)' : '';
    throw new TesseraError(`${dir}: no ${SINGLE} or ${INDEX} (the weights as save_pretrained writes them)${bin}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(await readFile(indexPath, 'utf8'));
  } catch (e) {
    throw new TesseraError(`${indexPath}: cannot read the index: ${e instanceof SyntaxError ? `not valid JSON: ${e.message}` : fsErrorReason(e)}`);
  }
  const map = shardMap(json, indexPath);
  const tensors = new Map<string, SafetensorsTensor>();
  const problems: string[] = [];
  for (const file of new Set(map.values())) {
    const shard = await readSafetensorsFile(join(dir, file));
    for (const [name, t] of shard.tensors) {
      if (map.get(name) !== file) problems.push(`${file} holds '${name}', which the index ${map.has(name) ? `places in ${map.get(name)}` : 'does not list'}`);
      else tensors.set(name, t);
    }
  }
  for (const [name, file] of map) if (!tensors.has(name) && !problems.some((p) => p.includes(`'${name}'`))) problems.push(`'${name}' is not in ${file}, where the index places it`);
  if (problems.length) throw new TesseraError(`${indexPath}: the shards do not match the index:\n  ${problems.join('\n  ')}`);
  return { tensors, source: indexPath };
}

/** Reads a Hugging Face folder: its config, the model it describes, and the weights bound by name (errors name the file and the field or tensor). */
export async function loadHfFolder(dir: string): Promise<LoadedHfModel> {
  const config = await readHfConfig(dir);
  const model = buildHfModel(config);
  const { tensors, source } = await readHfTensors(dir);
  return { dir, config, model, weights: bindHfCheckpoint(model, tensors, source) };
}
