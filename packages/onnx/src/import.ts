/**
 * importOnnx: an ONNX ModelProto as a Tessera graph program and its
 * weights. Graph inputs become activation inputs (their shapes from the
 * file or the caller), initializers parameters named as in ONNX (small and
 * integer ones constants), nodes IR ops through the converters (folding
 * whatever is constant), graph outputs the program's outputs by name. Any
 * node that cannot be converted is a TesseraError naming it; nothing
 * partial comes back.
 */
import { type DType, type Program, ProgramBuilder, TesseraError, type TensorType, TypeRuleError, numel, refTensor } from '@tessera/ir';
import { type NodeContext, UnsupportedError, tensorConstant } from './context.ts';
import { NameTable } from './names.ts';
import { CONVERTERS } from './ops/index.ts';
import { recognisePatterns } from './patterns.ts';
import { type GraphProto, type ModelProto, type NodeProto, type ValueInfoProto, decodeModel, int64 } from './proto.ts';
import { prune } from './prune.ts';
import { type ExternalDataReader, type OnnxTensor, computeDType, float32Values, onnxDTypeName, storeAs, tensorDims } from './tensor.ts';
import { FoldingEmitter, type Val, type Weight, constant } from './values.ts';

/** The oldest and newest default-domain opsets the importer takes (newer opsets only widened types of the ops it converts). */
export const MIN_OPSET = 13;
export const MAX_OPSET = 28;

/** An input's type given by the caller: `--input NAME=DTYPE[SHAPE]` (i64 is computed as i32). */
export interface OnnxInputSpec {
  readonly dtype?: DType | 'i64';
  readonly shape: readonly number[];
}

/** Options of importOnnx. */
export interface ImportOnnxOptions {
  /** Input types replacing (or completing: symbolic dimensions) the file's, by ONNX input name. */
  readonly inputs?: Readonly<Record<string, OnnxInputSpec>>;
  /**
   * Inputs fixed at import, by ONNX input name: they become constants and
   * fold (a shape or axes fed as a graph input), and are no longer inputs.
   */
  readonly constants?: Readonly<Record<string, OnnxTensor>>;
  /** Reads external data files (paths relative to the model file); @tessera/onnx/node's readOnnxFile supplies one. */
  readonly readExternal?: ExternalDataReader;
  /** The program's name (default: the graph's name as a value name, or `onnx`). */
  readonly name?: string;
  /** Where the bytes come from, for messages (a file name). */
  readonly source?: string;
  /** Rewrite the exporters' decomposed softmax, layer norm, gelu and attention into the IR's ops (default true). */
  readonly patterns?: boolean;
}

/** What importOnnx returns: the program, the weights its parameters are bound to, and how ONNX names map to it. */
export interface OnnxImport {
  readonly program: Program;
  /** Parameter values by parameter name (compile(program, { weights })). */
  readonly weights: Record<string, Float32Array | Int32Array | Uint8Array>;
  /** ONNX input and output names -> the program's (equal unless the ONNX name is not a valid value name). */
  readonly inputNames: Readonly<Record<string, string>>;
  readonly outputNames: Readonly<Record<string, string>>;
  /** The default-domain opset the model imports. */
  readonly opset: number;
  /** The exporter that wrote the model (producer_name producer_version). */
  readonly producer: string;
}

/** The default-domain opset of a model, checked to be one the importer takes. */
export function modelOpset(model: ModelProto, source: string): number {
  const entry = model.opset_import.find((o) => o.domain === '' || o.domain === 'ai.onnx');
  if (!entry) throw new TesseraError(`${source}: the model imports no default-domain (ai.onnx) opset`);
  const v = int64(entry.version);
  if (v < MIN_OPSET || v > MAX_OPSET) throw new TesseraError(`${source}: opset ${v} is not supported (Tessera imports opsets ${MIN_OPSET} to ${MAX_OPSET}; re-export with a newer opset_version)`);
  return v;
}

/** How a node is named in messages: `node 'NAME' (#INDEX, OpType, opset N)`. */
export function describeNode(node: NodeProto, index: number, opset: number): string {
  const domain = node.domain && node.domain !== 'ai.onnx' ? `${node.domain}.` : '';
  return `node '${node.name || node.output[0] || '?'}' (#${index}, ${domain}${node.op_type}, opset ${opset})`;
}

/** An input type, refusing empty tensors (Tessera has none). */
function checkedShape(name: string, dtype: DType, shape: readonly number[], source: string): TensorType {
  if (shape.some((d) => !(d > 0))) throw new TesseraError(`${source}: input '${name}' has shape [${shape.join(',')}]; Tessera has no empty tensors`);
  return { dtype, shape: [...shape] };
}

/** The type of a graph input: from the file, with the caller's spec filling or replacing it. */
function inputType(vi: ValueInfoProto, spec: OnnxInputSpec | undefined, source: string): TensorType {
  const tt = vi.type?.tensor_type;
  if (!tt) throw new TesseraError(`${source}: input '${vi.name}' is not a tensor (sequences, maps and optionals are not supported)`);
  const dtype = computeDType(tt.elem_type);
  if (!dtype) throw new TesseraError(`${source}: input '${vi.name}' has element type ${onnxDTypeName(tt.elem_type)}; Tessera computes float, the integer types (as i32) and bool`);
  if (spec) {
    const want = spec.dtype === 'i64' ? 'i32' : spec.dtype;
    if (want !== undefined && want !== dtype) throw new TesseraError(`input '${vi.name}' is ${onnxDTypeName(tt.elem_type)} in ${source}, but was given as ${spec.dtype}`);
    const dims = tt.shape?.dim;
    if (dims && dims.length !== spec.shape.length) throw new TesseraError(`input '${vi.name}' has rank ${dims.length} in ${source}, but was given the shape [${spec.shape.join(',')}]`);
    dims?.forEach((d, i) => {
      const v = d.dim_value === null || d.dim_value === undefined ? 0 : int64(d.dim_value);
      if (v > 0 && v !== spec.shape[i]) throw new TesseraError(`input '${vi.name}' has extent ${v} on axis ${i} in ${source}, but was given ${spec.shape[i]}`);
    });
    return checkedShape(vi.name, dtype, spec.shape, source);
  }
  if (!tt.shape) throw new TesseraError(`input '${vi.name}' has no shape in ${source}: give one (--input ${vi.name}=${dtype}[...])`);
  const shape = tt.shape.dim.map((d, i) => {
    const v = d.dim_value === null || d.dim_value === undefined ? 0 : int64(d.dim_value);
    if (v > 0) return v;
    const what = d.dim_param ? `the symbolic dimension '${d.dim_param}'` : 'an unknown dimension';
    if (v === 0 && d.dim_value !== null && d.dim_value !== undefined && !d.dim_param) return 0;
    throw new TesseraError(`input '${vi.name}' has ${what} on axis ${i} in ${source}: give its shape (--input ${vi.name}=${tt.elem_type === 7 ? 'i64' : dtype}[...], or importOnnx's inputs)`);
  });
  return checkedShape(vi.name, dtype, shape, source);
}

/** An input fixed at import: a constant of the input's type holding the given values. */
function constantInput(vi: ValueInfoProto, t: OnnxTensor, source: string): Val {
  const elem = vi.type?.tensor_type?.elem_type ?? t.dataType;
  const dtype = computeDType(elem);
  if (!dtype) throw new TesseraError(`${source}: input '${vi.name}' has element type ${onnxDTypeName(elem)}; Tessera computes float, the integer types (as i32) and bool`);
  return constant(refTensor({ dtype, shape: [...t.dims] }, storeAs(dtype, t.values)));
}

/** Initializers: f32 tensors of more than one element are weights (parameters); the rest are constants. */
function readInitializers(graph: GraphProto, names: NameTable, readExternal: ExternalDataReader | undefined, env: Map<string, Val>): void {
  for (const t of graph.initializer) {
    const shape = tensorDims(t);
    if (t.data_type === 1 && numel(shape) > 1) {
      const w: Weight = { kind: 'weight', name: names.claim(t.name), type: { dtype: 'f32', shape }, data: float32Values(t, readExternal) };
      env.set(t.name, w);
    } else {
      try {
        env.set(t.name, tensorConstant(t, readExternal));
      } catch (e) {
        if (e instanceof UnsupportedError) throw new TesseraError(`initializer '${t.name}': ${e.message}`);
        throw e;
      }
    }
  }
}

/** Converts one node, binding its outputs in `env`; errors name the node. */
function convertNode(node: NodeProto, index: number, opset: number, e: FoldingEmitter, env: Map<string, Val>, readExternal: ExternalDataReader | undefined): void {
  const where = describeNode(node, index, opset);
  if (node.domain && node.domain !== 'ai.onnx') throw new TesseraError(`${where}: ops of domain '${node.domain}' are not supported (Tessera converts the default ONNX domain)`);
  const convert = CONVERTERS[node.op_type];
  if (!convert) throw new TesseraError(`${where}: op ${node.op_type} is not supported by Tessera (\`tessera onnx ops\` lists what a model needs)`);
  const inputs = node.input.map((name) => {
    if (name === '') return undefined;
    const v = env.get(name);
    if (!v) throw new TesseraError(`${where}: input '${name}' is not defined before it (the graph is not in topological order, or refers to an unknown value)`);
    return v;
  });
  const ctx: NodeContext = {
    node,
    opset,
    inputs,
    outputCount: node.output.length,
    wants: (i) => (node.output[i] ?? '') !== '',
    e,
    ...(readExternal ? { readExternal } : {}),
  };
  e.hint = node.output[0] || undefined;
  let results: Val | readonly Val[];
  try {
    results = convert(ctx);
  } catch (err) {
    if (err instanceof TesseraError || err instanceof TypeRuleError) throw new TesseraError(`${where}: ${err.message}`);
    throw err;
  }
  const list = Array.isArray(results) ? (results as readonly Val[]) : [results as Val];
  node.output.forEach((name, i) => {
    if (name === '') return;
    const v = list[i];
    if (!v) unsupportedAt(where, `output ${i} ('${name}') is not produced by Tessera's conversion`);
    env.set(name, v);
  });
}

function unsupportedAt(where: string, detail: string): never {
  throw new TesseraError(`${where}: ${detail}`);
}

/**
 * Imports an ONNX model (the bytes of an .onnx file) as a program and its
 * weights. Compile it like any other program:
 * `const { program, weights } = importOnnx(bytes); await compile(program, { backend, weights })`.
 */
export function importOnnx(bytes: Uint8Array, options: ImportOnnxOptions = {}): OnnxImport {
  const source = options.source ?? '<onnx bytes>';
  const model = decodeModel(bytes, source);
  const opset = modelOpset(model, source);
  const graph = model.graph!;
  const names = new NameTable();
  const env = new Map<string, Val>();
  readInitializers(graph, names, options.readExternal, env);

  const b = new ProgramBuilder(options.name ?? (graph.name ? names.claim(graph.name) : 'onnx'));
  const given = options.inputs ?? {};
  const inputNames: Record<string, string> = {};
  const activations = graph.input.filter((vi) => !env.has(vi.name));
  const unknown = [...Object.keys(given), ...Object.keys(options.constants ?? {})].filter((k) => !activations.some((vi) => vi.name === k));
  if (unknown.length) throw new TesseraError(`${source}: no input named ${unknown.map((k) => `'${k}'`).join(', ')} (the inputs are ${activations.map((vi) => `'${vi.name}'`).join(', ') || 'none'})`);
  for (const vi of activations) {
    const fixed = options.constants?.[vi.name];
    if (fixed) {
      env.set(vi.name, constantInput(vi, fixed, source));
      continue;
    }
    const name = names.claim(vi.name);
    inputNames[vi.name] = name;
    env.set(vi.name, { kind: 'value', v: b.input(name, inputType(vi, given[vi.name], source)) });
  }

  const e = new FoldingEmitter(b);
  // Every weight is declared before any node, so no node takes a weight's name (unused ones are pruned).
  for (const v of env.values()) if (v.kind === 'weight') e.value(v);
  graph.node.forEach((node, i) => convertNode(node, i, opset, e, env, options.readExternal));

  const outputNames: Record<string, string> = {};
  for (const vo of graph.output) {
    const v = env.get(vo.name);
    if (!v) throw new TesseraError(`${source}: output '${vo.name}' is not computed by any node`);
    const name = names.claim(vo.name);
    outputNames[vo.name] = name;
    e.hint = undefined;
    b.output(name, e.value(v));
  }
  let program = prune(b.build());
  if (options.patterns ?? true) program = recognisePatterns(program);
  const params = new Set(program.inputs.filter((i) => i.kind === 'parameter').map((i) => i.name));
  const weights = Object.fromEntries([...e.usedWeights].filter(([n]) => params.has(n)).map(([n, w]) => [n, w.data]));
  return { program, weights, inputNames, outputNames, opset, producer: `${model.producer_name} ${model.producer_version}`.trim() };
}
