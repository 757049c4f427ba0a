/**
 * ONNX models on the command line: `--model model.onnx` (or a positional
 * `model.onnx` for compile) imported with @tessera/onnx, its --input types
 * completing the file's, its initializers bound as the weights, its inputs
 * read by their ONNX names (I64 token ids accepted).
 */
import { statSync } from 'node:fs';
import { type RefTensor, SafetensorsError, TesseraError, formatType, refTensor, safetensorToRef } from '@tessera/ir';
import { readSafetensorsFile } from '@tessera/ir/node';
import type { OnnxImport, OnnxInputSpec } from '@tessera/onnx';
import { readOnnxFile } from '@tessera/onnx/node';
import type { TensorData } from '@tessera/kernel';
import type { InputOverride } from './trace-config.ts';
import type { Timings } from './timings.ts';

/** What `--model PATH` names: an ONNX file, or a Hugging Face folder (config.json and model.safetensors). */
export function modelPathKind(path: string): 'onnx' | 'hf' {
  if (path.toLowerCase().endsWith('.onnx')) return 'onnx';
  let dir: boolean | undefined;
  try {
    dir = statSync(path).isDirectory();
  } catch {
    // Neither a file nor a folder: said below.
  }
  if (dir) return 'hf';
  const takes = '--model takes an ONNX file (model.onnx) or a Hugging Face folder (config.json and model.safetensors)';
  throw new TesseraError(dir === undefined ? `${path}: no such file or folder (${takes})` : `--model ${path}: not a folder or an .onnx file (${takes})`);
}

/** The --input overrides as importOnnx takes them (dtypes checked against the file's by the importer). */
function inputSpecs(inputs: Readonly<Record<string, InputOverride>>): Record<string, OnnxInputSpec> {
  return Object.fromEntries(Object.entries(inputs).map(([k, o]) => [k, { dtype: o.dtype as OnnxInputSpec['dtype'], shape: o.shape }]));
}

const cache = new Map<string, OnnxImport>();

/** Imports an ONNX file with --input types (once per process and types: compare reads the program and the weights). */
export async function loadOnnxModel(path: string, inputs: Readonly<Record<string, InputOverride>>, timings?: Timings): Promise<OnnxImport> {
  const key = JSON.stringify([path, inputs]);
  let imp = cache.get(key);
  if (!imp) {
    const load = () => readOnnxFile(path, { inputs: inputSpecs(inputs) });
    imp = timings ? await timings.time('import', load) : load();
    cache.set(key, imp);
  }
  return imp;
}

/** An import's weights as host tensors by parameter name. */
export function onnxWeights(imp: OnnxImport): Record<string, TensorData> {
  return imp.weights;
}

/**
 * The values of an imported model's inputs: activations from the --inputs
 * file by ONNX name (shapes and dtypes checked; I64 as i32 in range),
 * parameters from the model's initializers. A missing or extra tensor is
 * named in one error.
 */
export async function bindOnnxInputs(imp: OnnxImport, inputsPath: string | undefined): Promise<Record<string, RefTensor>> {
  const { program } = imp;
  const bound: Record<string, RefTensor> = {};
  for (const p of program.inputs) if (p.kind === 'parameter') bound[p.name] = refTensor(p.type, Float64Array.from(imp.weights[p.name]!));
  const wanted = Object.entries(imp.inputNames);
  if (wanted.length === 0) return bound;
  if (inputsPath === undefined) throw new TesseraError(`missing --inputs: the model takes ${wanted.map(([n]) => `'${n}'`).join(', ')}`);
  const file = await readSafetensorsFile(inputsPath);
  const types = new Map(program.inputs.map((i) => [i.name, i.type]));
  const missing = wanted.filter(([onnx]) => !file.tensors.has(onnx)).map(([onnx, ir]) => `'${onnx}' (${formatType(types.get(ir)!)})`);
  const extra = [...file.tensors.keys()].filter((n) => !(n in imp.inputNames)).map((n) => `'${n}'`);
  const problems = [...(missing.length ? [`missing ${missing.join(', ')}`] : []), ...(extra.length ? [`unexpected ${extra.join(', ')}`] : [])];
  if (problems.length) throw new TesseraError(`${inputsPath}: ${problems.join('; ')} (the model's inputs are ${wanted.map(([n]) => `'${n}'`).join(', ')})`);
  for (const [onnx, ir] of wanted) {
    try {
      bound[ir] = safetensorToRef(onnx, file.tensors.get(onnx)!, types.get(ir)!, inputsPath);
    } catch (e) {
      if (e instanceof SafetensorsError) throw new TesseraError(e.message);
      throw e;
    }
  }
  return bound;
}
