/**
 * ViT (torchvision's VisionTransformer, names as its state_dict) written as
 * an ONNX model in memory from a dict of weights, for onnxruntime-web where
 * PyTorch is not at hand (the device machine: a ViT-B/16 file is 330 MB and
 * cannot be carried). The graph is what torch.onnx.export makes of the model
 * with constant folding: Conv patch embedding, LayerNormalization (opset
 * 17), MatMul + Add with the weights stored transposed, attention as
 * MatMul / Softmax / MatMul per head, GELU written with Erf (which
 * onnxruntime's optimiser fuses). Batch size is fixed per model. The
 * ModelProto is serialized by @tessera/onnx's encodeModel (protobufjs, the
 * descriptor its importer decodes with).
 */
import type { SafetensorsTensor } from '@tessera/ir';
import type { VitConfig } from '@tessera/models';
import { type ModelProto, type ProtoInit, encodeModel } from '@tessera/onnx';

/** The ViT hyper-parameters the graph needs. */
export type OnnxVitConfig = Pick<VitConfig, 'image_size' | 'patch_size' | 'num_layers' | 'num_heads' | 'hidden_dim' | 'num_classes' | 'layer_norm_eps'>;

type Graph = NonNullable<ProtoInit<ModelProto>['graph']>;
type NodeInit = NonNullable<Graph['node']>[number];
type TensorInit = NonNullable<Graph['initializer']>[number];
type ValueInfoInit = NonNullable<Graph['input']>[number];

/** TensorProto.DataType codes. */
const FLOAT = 1;
const INT64 = 7;
/** AttributeProto.AttributeType codes. */
const ATTR_FLOAT = 1;
const ATTR_INT = 2;
const ATTR_INTS = 7;

type Attr = number | number[] | { f: number };

/** A TensorProto with its data as raw_data (little-endian, as ONNX stores it). */
function tensorProto(name: string, dims: readonly number[], type: number, raw: Uint8Array): TensorInit {
  return { dims, data_type: type, name, raw_data: raw };
}

/** ValueInfoProto for a float tensor of static shape. */
function valueInfo(name: string, dims: readonly number[]): ValueInfoInit {
  return { name, type: { tensor_type: { elem_type: FLOAT, shape: { dim: dims.map((d) => ({ dim_value: d })) } } } };
}

/** An AttributeProto: an int, a list of ints or a float (`{ f }`). */
function attribute(name: string, v: Attr) {
  if (typeof v === 'number') return { name, i: v, type: ATTR_INT };
  if (Array.isArray(v)) return { name, ints: v, type: ATTR_INTS };
  return { name, f: v.f, type: ATTR_FLOAT };
}

/** Builds a GraphProto node by node; names are made unique by a counter. */
class GraphWriter {
  private readonly nodes: NodeInit[] = [];
  private readonly inits: TensorInit[] = [];
  private n = 0;

  /** A float initializer (its bytes are copied into the model). */
  weight(name: string, dims: readonly number[], data: Float32Array): string {
    this.inits.push(tensorProto(name, dims, FLOAT, new Uint8Array(data.buffer, data.byteOffset, data.byteLength)));
    return name;
  }
  /** An int64 constant initializer (shapes, split sizes, indices). */
  ints(values: readonly number[], dims: readonly number[] = [values.length]): string {
    const name = `c${this.n++}`;
    this.inits.push(tensorProto(name, dims, INT64, new Uint8Array(BigInt64Array.from(values.map(BigInt)).buffer)));
    return name;
  }
  /** A float scalar constant. */
  scalar(v: number): string {
    return this.weight(`s${this.n++}`, [], new Float32Array([v]));
  }
  /** A node with `outputs` outputs (a count, or their names); returns their names. */
  node(op: string, inputs: readonly string[], attrs: Record<string, Attr> = {}, outputs: number | string[] = 1): string[] {
    const k = this.n++;
    const names = typeof outputs === 'number' ? Array.from({ length: outputs }, (_, i) => `${op.toLowerCase()}${k}_${i}`) : outputs;
    this.nodes.push({ input: inputs, output: names, name: `${op}_${k}`, op_type: op, attribute: Object.entries(attrs).map(([a, v]) => attribute(a, v)) });
    return names;
  }
  one(op: string, inputs: readonly string[], attrs: Record<string, Attr> = {}): string {
    return this.node(op, inputs, attrs)[0]!;
  }
  /** The ModelProto (ir_version 8, opset 17) with one input and one output. */
  model(input: [string, number[]], output: [string, number[]]): Uint8Array {
    return encodeModel({
      ir_version: 8,
      producer_name: 'tessera-bench',
      graph: { node: this.nodes, name: 'vit', initializer: this.inits, input: [valueInfo(...input)], output: [valueInfo(...output)] },
      opset_import: [{ domain: '', version: 17 }],
    });
  }
}

/** [rows, cols] -> [cols, rows] (a Linear weight [out, in] to the MatMul operand [in, out]). */
function transposed(t: SafetensorsTensor): Float32Array {
  const [r, c] = t.shape as [number, number];
  const src = t.data as Float32Array;
  const out = new Float32Array(r * c);
  for (let i = 0; i < r; i++) for (let j = 0; j < c; j++) out[j * r + i] = src[i * c + j]!;
  return out;
}

/**
 * The ONNX model of torchvision's ViT at batch `batch` on `weights`
 * (state_dict names): input pixel_values [batch, 3, S, S], output logits
 * [batch, classes].
 */
export function vitOnnxModel(config: OnnxVitConfig, weights: Readonly<Record<string, SafetensorsTensor>>, batch: number): Uint8Array {
  const { image_size: size, patch_size: ps, num_layers: layers, num_heads: heads, hidden_dim: d, num_classes: classes, layer_norm_eps: eps } = config;
  const g = new GraphWriter();
  const p = (name: string) => {
    const t = weights[name];
    if (!t) throw new Error(`vitOnnxModel: no weight ${name}`);
    return t;
  };
  const w = (name: string) => g.weight(name, p(name).shape, p(name).data as Float32Array);
  const wT = (name: string) => {
    const t = p(name);
    return g.weight(`${name}.T`, [t.shape[1]!, t.shape[0]!], transposed(t));
  };
  const grid = size / ps;
  const tokens = grid * grid + 1;
  const dh = d / heads;
  const linear = (x: string, prefix: string) => g.one('Add', [g.one('MatMul', [x, wT(`${prefix}.weight`)]), w(`${prefix}.bias`)]);
  const norm = (x: string, prefix: string) => g.one('LayerNormalization', [x, w(`${prefix}.weight`), w(`${prefix}.bias`)], { axis: -1, epsilon: { f: eps } });
  const sqrt2 = g.scalar(Math.SQRT2);
  const one = g.scalar(1);
  const half = g.scalar(0.5);
  const gelu = (x: string) => g.one('Mul', [g.one('Mul', [x, g.one('Add', [g.one('Erf', [g.one('Div', [x, sqrt2])]), one])]), half]);

  const conv = g.one('Conv', ['pixel_values', w('conv_proj.weight'), w('conv_proj.bias')], { kernel_shape: [ps, ps], strides: [ps, ps] });
  const patches = g.one('Transpose', [g.one('Reshape', [conv, g.ints([batch, d, grid * grid])])], { perm: [0, 2, 1] });
  const cls = g.one('Expand', [w('class_token'), g.ints([batch, 1, d])]);
  let h = g.one('Add', [g.one('Concat', [cls, patches], { axis: 1 }), w('encoder.pos_embedding')]);
  const headShape = g.ints([batch, tokens, heads, dh]);
  const scale = g.scalar(1 / Math.sqrt(dh));
  for (let i = 0; i < layers; i++) {
    const l = `encoder.layers.encoder_layer_${i}`;
    const qkv = g.one('Add', [g.one('MatMul', [norm(h, `${l}.ln_1`), wT(`${l}.self_attention.in_proj_weight`)]), w(`${l}.self_attention.in_proj_bias`)]);
    const [q, k, v] = g.node('Split', [qkv, g.ints([d, d, d])], { axis: 2 }, 3).map((t) => g.one('Reshape', [t, headShape]));
    const qh = g.one('Transpose', [q!], { perm: [0, 2, 1, 3] });
    const kt = g.one('Transpose', [k!], { perm: [0, 2, 3, 1] });
    const vh = g.one('Transpose', [v!], { perm: [0, 2, 1, 3] });
    const probs = g.one('Softmax', [g.one('Mul', [g.one('MatMul', [qh, kt]), scale])], { axis: -1 });
    const att = g.one('Reshape', [g.one('Transpose', [g.one('MatMul', [probs, vh])], { perm: [0, 2, 1, 3] }), g.ints([batch, tokens, d])]);
    h = g.one('Add', [h, linear(att, `${l}.self_attention.out_proj`)]);
    h = g.one('Add', [h, linear(gelu(linear(norm(h, `${l}.ln_2`), `${l}.mlp.0`)), `${l}.mlp.3`)]);
  }
  const first = g.one('Gather', [norm(h, 'encoder.ln'), g.ints([0], [])], { axis: 1 });
  const logits = linear(first, 'heads.head');
  g.node('Identity', [logits], {}, ['logits']);
  return g.model(['pixel_values', [batch, 3, size, size]], ['logits', [batch, classes]]);
}
