/** What the @tessera/onnx tests share: the exported-model fixtures and a tiny ONNX model writer for error cases. */
import { readFileSync } from 'node:fs';
import { type SafetensorsTensor, numel } from '@tessera/ir';
import { readSafetensors } from '@tessera/ir';
import { encodeModel } from '../src/proto.ts';

/** The folder of the exported models. */
export const FIXTURES = new URL('../fixtures/', import.meta.url).pathname;

/** The exported models (tools/make_onnx_fixtures.py), each written by both exporters. */
export const EXPORTED_MODELS = ['torchvision-vit', 'torchvision-vit-opset14', 'seq2seq', 'hf-vit', 'hf-bert', 'hf-gpt2', 'convnet'] as const;
export const EXPORTERS = ['torchscript', 'dynamo'] as const;

/** The exporters a fixture was written by (the opset-14 ViT: TorchScript only, its layer norms decomposed). */
export function exportersOf(name: string): readonly (typeof EXPORTERS)[number][] {
  return name.endsWith('-opset14') ? ['torchscript'] : EXPORTERS;
}

/** A fixture's tensors: inputs by ONNX name, `expected.logits` (PyTorch, float64 rounded to f32), `ort.KIND.logits`. */
export function fixtureTensors(name: string): Map<string, SafetensorsTensor> {
  return readSafetensors(readFileSync(`${FIXTURES}${name}.io.safetensors`)).tensors;
}

/** A tensor's values as a Tessera host array: I64 token ids as i32. */
export function hostValues(t: SafetensorsTensor): Float32Array | Int32Array | Uint8Array {
  if (t.dtype === 'I64') return Int32Array.from(t.data as BigInt64Array, Number);
  return t.data as Float32Array | Int32Array | Uint8Array;
}

/** A node of a hand-written test model. */
export interface TestNode {
  readonly op: string;
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];
  readonly name?: string;
  readonly domain?: string;
  readonly attrs?: Readonly<Record<string, number | number[] | string>>;
}

/** A graph value: name, ONNX element type (1 float, 7 int64, 9 bool) and dims (a string is a symbolic dimension). */
export interface TestValue {
  readonly name: string;
  readonly type: number;
  readonly dims: readonly (number | string)[];
}

/** A float or int64 initializer. */
export interface TestInitializer {
  readonly name: string;
  readonly type: 1 | 7;
  readonly dims: readonly number[];
  readonly values: readonly number[];
}

function attribute(name: string, v: number | number[] | string) {
  if (typeof v === 'string') return { name, type: 3, s: new TextEncoder().encode(v) };
  if (Array.isArray(v)) return { name, type: 7, ints: v };
  return Number.isInteger(v) ? { name, type: 2, i: v } : { name, type: 1, f: v };
}

const valueInfo = (v: TestValue) => ({
  name: v.name,
  type: { tensor_type: { elem_type: v.type, shape: { dim: v.dims.map((d) => (typeof d === 'string' ? { dim_param: d } : { dim_value: d })) } } },
});

/** Serializes a one-graph ModelProto (encodeModel: the same descriptor the importer decodes with). */
export function writeModel(g: { nodes: TestNode[]; inputs: TestValue[]; outputs: TestValue[]; initializers?: TestInitializer[]; opset?: number }): Uint8Array {
  return encodeModel({
    ir_version: 8,
    producer_name: 'tessera-test',
    opset_import: [{ domain: '', version: g.opset ?? 17 }],
    graph: {
      name: 'test',
      node: g.nodes.map((n, i) => ({
        op_type: n.op,
        input: n.inputs,
        output: n.outputs,
        name: n.name ?? `n${i}`,
        domain: n.domain ?? '',
        attribute: Object.entries(n.attrs ?? {}).map(([k, v]) => attribute(k, v)),
      })),
      input: g.inputs.map(valueInfo),
      output: g.outputs.map(valueInfo),
      initializer: (g.initializers ?? []).map((t) => ({
        name: t.name,
        data_type: t.type,
        dims: t.dims,
        ...(t.type === 1 ? { float_data: t.values } : { int64_data: t.values }),
      })),
    },
  });
}

/** Seeded values in [-1, 1). */
export function seeded(n: number, seed = 1): number[] {
  let s = seed >>> 0;
  return Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 31 - 1;
  });
}

export { numel };
