import { describe, expect, it } from 'vitest';
import { Module, type Tensor, nn, trace } from '../src/index.ts';

const names = (m: Module) => [...m.namedParameters()].map(([n, p]) => `${n}:${p.shape.join('x')}`);

/** torch.nn.TransformerEncoderLayer's layout, written with the DSL (norm_first, batch_first). */
class EncoderLayer extends Module {
  readonly selfAttn: nn.MultiHeadAttention;
  readonly linear1: nn.Linear;
  readonly dropout = new nn.Dropout(0.1);
  readonly linear2: nn.Linear;
  readonly norm1: nn.LayerNorm;
  readonly norm2: nn.LayerNorm;

  constructor(d: number, h: number, ff: number) {
    super();
    this.selfAttn = this.registerModule('self_attn', new nn.MultiHeadAttention(d, h));
    this.linear1 = new nn.Linear(d, ff);
    this.linear2 = new nn.Linear(ff, d);
    this.norm1 = new nn.LayerNorm(d);
    this.norm2 = new nn.LayerNorm(d);
  }

  forward(x: Tensor): Tensor {
    const h = this.norm1.forward(x);
    const a = x.add(this.selfAttn.forward(h));
    return a.add(this.linear2.forward(this.dropout.forward(this.linear1.forward(this.norm2.forward(a)).maximum(0))));
  }
}

class Encoder extends Module {
  readonly layers: nn.ModuleList<EncoderLayer>;
  constructor(n: number) {
    super();
    this.layers = new nn.ModuleList(Array.from({ length: n }, () => new EncoderLayer(4, 2, 8)));
  }
  forward(x: Tensor): Tensor {
    let y = x;
    for (const l of this.layers) y = l.forward(y);
    return y;
  }
}

class Model extends Module {
  readonly embed = new nn.Embedding(10, 4);
  readonly encoder = new Encoder(2);
  forward(ids: Tensor): Tensor {
    return this.encoder.forward(this.embed.forward(ids));
  }
}

describe('PyTorch state_dict names', () => {
  it('names nested modules, module lists and explicitly registered children as PyTorch does', () => {
    const layer = (i: number) => [
      `encoder.layers.${i}.self_attn.in_proj_weight:12x4`,
      `encoder.layers.${i}.self_attn.in_proj_bias:12`,
      `encoder.layers.${i}.self_attn.out_proj.weight:4x4`,
      `encoder.layers.${i}.self_attn.out_proj.bias:4`,
      `encoder.layers.${i}.linear1.weight:8x4`,
      `encoder.layers.${i}.linear1.bias:8`,
      `encoder.layers.${i}.linear2.weight:4x8`,
      `encoder.layers.${i}.linear2.bias:4`,
      `encoder.layers.${i}.norm1.weight:4`,
      `encoder.layers.${i}.norm1.bias:4`,
      `encoder.layers.${i}.norm2.weight:4`,
      `encoder.layers.${i}.norm2.bias:4`,
    ];
    const m = new Model();
    expect(names(m)).toEqual(['embed.weight:10x4', ...layer(0), ...layer(1)]);
    expect([...m.namedModules()].map(([n]) => n)).toContain('encoder.layers.1.self_attn.out_proj');
  });

  it('traces the model into params with exactly those names', () => {
    const m = new Model();
    const p = trace(m, { ids: 'i32[2,3]' });
    expect(p.inputs.filter((i) => i.kind === 'parameter').map((i) => i.name)).toEqual([...m.namedParameters()].map(([n]) => n));
    expect(p.outputs[0]).toBeDefined();
    expect(p.nodes.find((n) => n.op === 'gather')?.type.shape).toEqual([2, 3, 4]);
  });

  it('MultiHeadAttention with kdim/vdim has separate q/k/v projection weights; bias: false drops biases', () => {
    expect(names(new nn.MultiHeadAttention(6, 2, { kdim: 5, vdim: 3 }))).toEqual([
      'q_proj_weight:6x6',
      'k_proj_weight:6x5',
      'v_proj_weight:6x3',
      'in_proj_bias:18',
      'out_proj.weight:6x6',
      'out_proj.bias:6',
    ]);
    expect(names(new nn.MultiHeadAttention(4, 1, { bias: false }))).toEqual(['in_proj_weight:12x4', 'out_proj.weight:4x4']);
  });

  it('Sequential names its layers 0, 1, 2 and skips layers without parameters', () => {
    const s = new nn.Sequential(new nn.Linear(3, 4), new nn.ReLU(), new nn.LayerNorm(4), new nn.Dropout(), new nn.Linear(4, 1, { bias: false }));
    expect(names(s)).toEqual(['0.weight:4x3', '0.bias:4', '2.weight:4', '2.bias:4', '4.weight:1x4']);
    const p = trace(s, { x: 'f32[2,3]' });
    expect(p.nodes.map((n) => n.op)).toEqual(['transpose', 'matmul', 'add', 'relu', 'layer_norm', 'transpose', 'matmul']);
  });

  it('lists a module’s own parameters before its children’s, and a tied weight once under its first name', () => {
    class Tied extends Module {
      readonly embed = new nn.Embedding(5, 3);
      readonly scale = this.parameter([3]);
      readonly head = new nn.Linear(3, 5, { bias: false });
      constructor() {
        super();
        (this.head as { weight: unknown }).weight = this.embed.weight;
      }
      forward(ids: Tensor): Tensor {
        return this.head.forward(this.embed.forward(ids).mul(this.scale));
      }
    }
    const m = new Tied();
    expect(names(m)).toEqual(['scale:3', 'embed.weight:5x3']);
    const p = trace(m, { ids: 'i32[2]' });
    expect(p.inputs.map((i) => i.name)).toEqual(['ids', 'scale', 'embed.weight']);
  });

  it('explicit registration names a member independently of its property, also when no property holds it', () => {
    class M extends Module {
      readonly fooBar: nn.Linear;
      constructor() {
        super();
        this.fooBar = this.registerModule('foo_bar', new nn.Linear(1, 1));
        this.registerParameter('extra', this.parameter([2]));
      }
    }
    expect(names(new M())).toEqual(['extra:2', 'foo_bar.weight:1x1', 'foo_bar.bias:1']);
    expect(() => new M().registerModule('a.b', new nn.ReLU())).toThrow(/'a.b' is not a valid module or parameter name/);
  });

  it('ModuleList supports push, at, length and iteration', () => {
    const l = new nn.ModuleList<nn.Linear>().push(new nn.Linear(1, 2)).push(new nn.Linear(2, 3));
    expect(l.length).toBe(2);
    expect(l.at(-1).outFeatures).toBe(3);
    expect([...l].map((x) => x.inFeatures)).toEqual([1, 2]);
    expect(names(l)).toEqual(['0.weight:2x1', '0.bias:2', '1.weight:3x2', '1.bias:3']);
    expect(() => l.at(2)).toThrow(/out of range/);
  });
});
