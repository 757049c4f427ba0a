/**
 * ViT (torchvision's VisionTransformer, names as its state_dict) written as
 * an ONNX model in memory from a dict of weights, for onnxruntime-web where
 * PyTorch is not at hand (the device machine: a ViT-B/16 file is 330 MB and
 * cannot be carried). The graph is what torch.onnx.export makes of the model
 * with constant folding: Conv patch embedding, LayerNormalization (opset
 * 17), MatMul + Add with the weights stored transposed, attention as
 * MatMul / Softmax / MatMul per head, GELU written with Erf (which
 * onnxruntime's optimiser fuses). Batch size is fixed per model. The
 * protobuf encoder covers just the ONNX messages and fields used here.
 */
import type { SafetensorsTensor } from '@tessera/ir';
import type { VitConfig } from '@tessera/models';

/** The ViT hyper-parameters the graph needs. */
export type OnnxVitConfig = Pick<VitConfig, 'image_size' | 'patch_size' | 'num_layers' | 'num_heads' | 'hidden_dim' | 'num_classes' | 'layer_norm_eps'>;

// ---- protobuf wire format (varint, 64-bit little-endian fixed, length-delimited) ----

/** A growing byte buffer with the protobuf primitives. */
class Pb {
  private parts: Uint8Array[] = [];
  private cur: number[] = [];
  length = 0;

  private flush(): void {
    if (this.cur.length) {
      this.parts.push(Uint8Array.from(this.cur));
      this.cur = [];
    }
  }
  private byte(b: number): void {
    this.cur.push(b);
    this.length++;
  }
  varint(v: number): void {
    // Non-negative integers below 2^53 (ONNX dims, enums, lengths); negative int64 take ten bytes.
    if (v < 0) {
      let big = BigInt.asUintN(64, BigInt(v));
      for (let i = 0; i < 10; i++) {
        const b = Number(big & 0x7fn);
        big >>= 7n;
        this.byte(big ? b | 0x80 : b);
        if (!big) return;
      }
      return;
    }
    while (v >= 0x80) {
      this.byte((v % 0x80) | 0x80);
      v = Math.floor(v / 0x80);
    }
    this.byte(v);
  }
  tag(field: number, wire: number): void {
    this.varint(field * 8 + wire);
  }
  int(field: number, v: number): void {
    this.tag(field, 0);
    this.varint(v);
  }
  float(field: number, v: number): void {
    this.tag(field, 5);
    const b = new Uint8Array(new Float32Array([v]).buffer);
    for (const x of b) this.byte(x);
  }
  bytes(field: number, data: Uint8Array): void {
    this.tag(field, 2);
    this.varint(data.length);
    this.flush();
    this.parts.push(data);
    this.length += data.length;
  }
  string(field: number, s: string): void {
    this.bytes(field, new TextEncoder().encode(s));
  }
  message(field: number, m: Pb): void {
    this.bytes(field, m.finish());
  }
  finish(): Uint8Array {
    this.flush();
    if (this.parts.length === 1) return this.parts[0]!;
    const out = new Uint8Array(this.length);
    let o = 0;
    for (const p of this.parts) {
      out.set(p, o);
      o += p.length;
    }
    this.parts = [out];
    return out;
  }
}

const FLOAT = 1;
const INT64 = 7;

type Attr = number | number[] | { f: number };

/** TensorProto: dims 1, data_type 2, name 8, raw_data 9. */
function tensorProto(name: string, dims: readonly number[], type: number, raw: Uint8Array): Pb {
  const t = new Pb();
  for (const d of dims) t.int(1, d);
  t.int(2, type);
  t.string(8, name);
  t.bytes(9, raw);
  return t;
}

/** ValueInfoProto for a float tensor of static shape. */
function valueInfo(name: string, dims: readonly number[]): Pb {
  const shape = new Pb();
  for (const d of dims) {
    const dim = new Pb();
    dim.int(1, d);
    shape.message(1, dim);
  }
  const tensor = new Pb();
  tensor.int(1, FLOAT);
  tensor.message(2, shape);
  const type = new Pb();
  type.message(1, tensor);
  const v = new Pb();
  v.string(1, name);
  v.message(2, type);
  return v;
}

/** Builds a GraphProto node by node; names are made unique by a counter. */
class GraphWriter {
  private readonly nodes: Pb[] = [];
  private readonly inits: Pb[] = [];
  private n = 0;

  /** A float initializer (copied into the model). */
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
    const p = new Pb();
    for (const i of inputs) p.string(1, i);
    for (const o of names) p.string(2, o);
    p.string(3, `${op}_${k}`);
    p.string(4, op);
    for (const [name, v] of Object.entries(attrs)) {
      const a = new Pb();
      a.string(1, name);
      if (typeof v === 'number') {
        a.int(3, v);
        a.int(20, 2);
      } else if (Array.isArray(v)) {
        for (const x of v) a.int(8, x);
        a.int(20, 7);
      } else {
        a.float(2, v.f);
        a.int(20, 1);
      }
      p.message(5, a);
    }
    this.nodes.push(p);
    return names;
  }
  one(op: string, inputs: readonly string[], attrs: Record<string, Attr> = {}): string {
    return this.node(op, inputs, attrs)[0]!;
  }
  /** The ModelProto (ir_version 8, opset 17) with one input and one output. */
  model(input: [string, number[]], output: [string, number[]]): Uint8Array {
    const g = new Pb();
    for (const n of this.nodes) g.message(1, n);
    g.string(2, 'vit');
    for (const t of this.inits) g.message(5, t);
    g.message(11, valueInfo(...input));
    g.message(12, valueInfo(...output));
    const opset = new Pb();
    opset.string(1, '');
    opset.int(2, 17);
    const m = new Pb();
    m.int(1, 8);
    m.string(2, 'tessera-bench');
    m.message(7, g);
    m.message(8, opset);
    return m.finish();
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
