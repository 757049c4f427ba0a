import { fileURLToPath } from 'node:url';
import { OpTypeError, TesseraError, allOps, verify } from '@tessera/ir';
import { describe, expect, it } from 'vitest';
import { Module, Parameter, type Tensor, nn, ops, parseTypeSpec, trace } from '../src/index.ts';
import { expectClose, positionOf, run, shownPath } from './helpers.ts';

const THIS_FILE = fileURLToPath(import.meta.url);
const SHOWN = shownPath(import.meta.url);

describe('trace', () => {
  it('emits one node per Tensor method, in call order, with inputs in spec order', () => {
    const p = trace((x: Tensor, w: Tensor, b: Tensor) => x.matmul(w).add(b).exp().sum(-1), { x: 'f32[2,3]', w: 'f32[3,4]', b: { dtype: 'f32', shape: [4] } });
    expect(p.inputs.map((i) => [i.name, i.kind])).toEqual([
      ['x', 'activation'],
      ['w', 'activation'],
      ['b', 'activation'],
    ]);
    expect(p.nodes.map((n) => n.op)).toEqual(['matmul', 'add', 'exp', 'reduce_sum']);
    expect(p.nodes[3]!.attrs).toEqual({ axes: [1], keepdims: false });
    expect(p.outputs).toEqual([{ name: 'output', value: p.nodes[3]!.name }]);
    expect(verify(p)).toEqual([]);
  });

  it('turns numbers into scalar constants of the other operand dtype', () => {
    const p = trace((x: Tensor, i: Tensor) => ({ f: ops.sub(1, x).mul(2), n: i.add(3), c: i.gt(0) }), { x: 'f32[2]', i: 'i32[2]' });
    const consts = p.nodes.filter((n) => n.op === 'constant');
    expect(consts.map((n) => [n.attrs.dtype, n.attrs.value, n.type.shape])).toEqual([
      ['f32', [1], []],
      ['f32', [2], []],
      ['i32', [3], []],
      ['i32', [0], []],
    ]);
    expect(p.outputs.map((o) => o.name)).toEqual(['f', 'n', 'c']);
    const out = { f: run(p, { x: [0.5, 4], i: [1, -2] }, 'f'), n: run(p, { x: [0.5, 4], i: [1, -2] }, 'n'), c: run(p, { x: [0.5, 4], i: [1, -2] }, 'c') };
    expect(out).toEqual({ f: [1, -6], n: [4, 1], c: [1, 0] });
  });

  it('declares only the parameters forward uses, named by path, after the activations and in model order', () => {
    class M extends Module {
      readonly unused = new nn.Linear(3, 3);
      readonly a = new nn.Linear(3, 4);
      readonly b = new nn.Linear(4, 2, { bias: false });
      forward(x: Tensor): Tensor {
        // Use b's weight before a's parameters: input order must still follow the model.
        const wb = this.b.weight;
        return this.a.forward(x).matmul(wb.T);
      }
    }
    const p = trace(new M(), { x: 'f32[5,3]' });
    expect(p.inputs.map((i) => `${i.kind}:${i.name}:${i.type.shape.join('x')}`)).toEqual([
      'activation:x:5x3',
      'parameter:a.weight:4x3',
      'parameter:a.bias:4',
      'parameter:b.weight:2x4',
    ]);
  });

  it('names the program and records named outputs', () => {
    const p = trace((x: Tensor) => ({ y: x.neg(), z: x.abs() }), { x: 'f32[]' }, { name: 'two' });
    expect(p.name).toBe('two');
    expect(p.outputs.map((o) => o.name)).toEqual(['y', 'z']);
    expect(p.inputs[0]!.type).toEqual({ dtype: 'f32', shape: [] });
  });

  it('locates every node at the user call site in this file', () => {
    const p = trace((x: Tensor) => ops.softmax(x.mul(x), -1).add(x.mT.mT), { x: 'f32[2,3]' }); // loc-marker
    for (const n of p.nodes) expect(n.loc?.file).toBe(SHOWN);
    const { line } = positionOf(THIS_FILE, '// loc-marker', 'ops.softmax');
    expect(new Set(p.nodes.map((n) => n.loc!.line))).toEqual(new Set([line]));
    // Each op sits at its own column: the method name (or ops function) that emitted it.
    const col = (needle: string) => positionOf(THIS_FILE, '// loc-marker', needle).col;
    const byOp = Object.fromEntries(p.nodes.map((n) => [n.op, n.loc!.col]));
    expect(byOp.mul).toBe(col('mul(x)'));
    expect(byOp.softmax).toBe(col('softmax('));
    expect(byOp.add).toBe(col('add('));
  });

  it('locates parameters where the user created their module', () => {
    class M extends Module {
      readonly fc = new nn.Linear(2, 2); // param-marker
      forward(x: Tensor): Tensor {
        return this.fc.forward(x);
      }
    }
    const p = trace(new M(), { x: 'f32[1,2]' });
    const { line, col } = positionOf(THIS_FILE, '// param-marker', 'new nn.Linear');
    for (const i of p.inputs.filter((i) => i.kind === 'parameter')) expect(i.loc).toEqual({ file: SHOWN, line, col });
  });

  it('reports shape errors at the user line with the op, operand types and what was expected', () => {
    let err: unknown;
    try {
      trace((x: Tensor, y: Tensor) => x.add(y).matmul(y), { x: 'f32[2,3]', y: 'f32[2,3]' }); // shape-marker
    } catch (e) {
      err = e;
    }
    const { line, col } = positionOf(THIS_FILE, '// shape-marker', 'matmul(y)');
    expect(err).toBeInstanceOf(OpTypeError);
    const msg = (err as Error).message;
    expect(msg.startsWith(`${SHOWN}:${line}:${col}: matmul(f32[2,3], f32[2,3]): `)).toBe(true);
    expect(msg).toContain('contraction extents differ');
  });

  it('reports a parameter that no property of the model holds', () => {
    const hidden = new Parameter([2, 2]);
    class M extends Module {
      forward(x: Tensor): Tensor {
        return x.matmul(hidden);
      }
    }
    expect(() => trace(new M(), { x: 'f32[2,2]' })).toThrow(/parameter of type f32\[2,2\] \(created at .*trace\.test\.ts:\d+:\d+\) is used but is not registered/);
  });

  it('rejects tensors from another trace, ops outside a trace, and bad forward results', () => {
    let kept: Tensor | undefined;
    trace((x: Tensor) => (kept = x.neg()), { x: 'f32[2]' });
    expect(() => trace((x: Tensor) => x.add(kept!), { x: 'f32[2]' })).toThrow(/belongs to another trace/);
    expect(() => kept!.neg()).toThrow(/only work while tracing/);
    expect(() => trace(() => 3 as unknown as Tensor, { x: 'f32[2]' })).toThrow(/forward returned number 3; expected a Tensor or a record/);
    expect(() => trace((x: Tensor) => ({ a: x, b: 1 as unknown as Tensor }), { x: 'f32[2]' })).toThrow(/output 'b' is number 1/);
    expect(() => trace((x: Tensor) => x.add('s' as unknown as Tensor), { x: 'f32[2]' })).toThrow(TesseraError);
  });

  it('returns an input or a parameter unchanged as an output', () => {
    class M extends Module {
      readonly w = this.parameter([3]);
      forward(): Record<string, Tensor> {
        return { w: this.w };
      }
    }
    const p = trace(new M(), {});
    expect(p.inputs.map((i) => i.name)).toEqual(['w']);
    expect(p.outputs).toEqual([{ name: 'w', value: 'w' }]);
  });
});

describe('parseTypeSpec', () => {
  it('parses dtype[extents] strings and objects', () => {
    expect(parseTypeSpec('f32[2,16]')).toEqual({ dtype: 'f32', shape: [2, 16] });
    expect(parseTypeSpec(' i32[ 7 ] ')).toEqual({ dtype: 'i32', shape: [7] });
    expect(parseTypeSpec('bool[]')).toEqual({ dtype: 'bool', shape: [] });
    expect(parseTypeSpec({ dtype: 'f32', shape: [1, 2] })).toEqual({ dtype: 'f32', shape: [1, 2] });
  });
  it('says what is wrong and what was expected', () => {
    expect(() => parseTypeSpec('f64[2]', "input 'x'")).toThrow("input 'x': unknown dtype 'f64', expected one of f32, i32, bool");
    expect(() => parseTypeSpec('f32[2,', "input 'x'")).toThrow(/is not a tensor type, expected dtype\[d0,d1,...\]/);
    expect(() => parseTypeSpec('f32[2,0]')).toThrow(/extent 0 at axis 1/);
  });
});

describe('every IR op is reachable from the DSL', () => {
  it('one trace uses every registered op', () => {
    const p = trace(
      (x: Tensor, idx: Tensor) => {
        const u = [x.neg(), x.abs(), x.exp(), x.log(), x.sqrt(), x.rsqrt(), x.tanh(), x.erf(), x.sin(), x.cos(), x.recip()];
        const b = [x.add(1), x.sub(x), x.mul(2), x.div(3), x.maximum(0), x.minimum(x), x.pow(2)];
        const c = [x.eq(x), x.ne(1), x.lt(x), x.le(x), x.gt(x), x.ge(0)].map((m) => ops.where(m, x, 0));
        const red = [x.sum(-1, true), x.max(-1, true), x.mean(-1, true)];
        const moved = [x.reshape([3, 2]).reshape(2, 3), x.T.T, x.sum(0, true).broadcastTo([2, 3]), ops.pad(x.slice(1, 0, 2), [0, 0], [0, 1])];
        const cat = ops.concat([...u, ...b, ...c, ...red.map((r) => r.broadcastTo([2, 3])), ...moved], 0);
        const emb = ops.gather(x, idx, 0).sum();
        const made = ops.iota([2, 3], 1, 'f32').add(ops.constant([[1, 2, 3], [4, 5, 6]])).mul(idx.cast('f32').sum());
        const att = ops.attention(x.unsqueeze(0), x.unsqueeze(0), x.unsqueeze(0), { mask: ops.causalMask(2) }).add(ops.attentionProbs(x.unsqueeze(0), x.unsqueeze(0)).sum());
        const nn_ = ops.layerNorm(ops.gelu(x.matmul(x.T), 'tanh'), ops.ones([2]), ops.zeros([2])).softmax(-1).add(ops.matmulInt8(x, x.T));
        const folds = [x.min(-1), x.prod(0), x.any(1), x.all(), x.logsumexp(1), x.argmax(1), x.argmin(), x.cumsum(1), x.logSoftmax(0)];
        const conv = ops.rmsNorm(ops.conv2d(x.reshape(1, 1, 2, 3), ops.ones([1, 1, 1, 2])), 2).tril().triu(-1);
        const pooled = ops.maxPool2d(x.reshape(1, 1, 2, 3), 2, { stride: 1 }).add(ops.avgPool2d(x.reshape(1, 1, 2, 3), [1, 2], { stride: 1 })).add(ops.groupNorm(x.reshape(1, 2, 3), 1).sum()).add(ops.convTranspose2d(x.reshape(1, 1, 2, 3), ops.ones([1, 1, 1, 1])).sum()).add(ops.interpolate(x.reshape(1, 1, 2, 3), { size: [3, 5], mode: 'bilinear' }).sum());
        const rounded = [x.floor(), x.ceil(), x.round(), x.sign(), x.sigmoid(), x.relu(), ops.silu(x), x.clamp(-1, 1), x.isnan().logicalXor(x.isinf()).cast('f32')];
        const ints = idx.floorDivide(2).add(idx.remainder(3));
        return { cat, emb, made, att, nn_, conv, pooled, ints, ...Object.fromEntries([...folds, ...rounded].map((f, i) => [`fold${i}`, f])) };
      },
      { x: 'f32[2,3]', idx: 'i32[4]' },
    );
    const used = new Set(p.nodes.map((n) => n.op));
    const missing = allOps()
      .map((d) => d.name)
      .filter((n) => !used.has(n));
    expect(missing).toEqual([]);
  });
});

describe('DSL semantics against hand-computed values', () => {
  const x = [1, -2, 3, 4, 5, -6]; // [[1,-2,3],[4,5,-6]]
  const one = (f: (t: Tensor) => Tensor, spec = 'f32[2,3]', values: readonly number[] = x) => run(trace(f, { t: spec }), { t: values });

  it('pooling as PyTorch: nn.MaxPool2d with padding and ceil mode, nn.AvgPool2d with and without the padding counted, the adaptive global average; an uneven adaptive size is refused', () => {
    // [[1, -2, 3], [4, 5, -6]] as one 2x3 image.
    const image = (f: (t: Tensor) => Tensor) => one((t) => f(t.reshape(1, 1, 2, 3)));
    // 2x2 windows, stride 2, padding 1: windows over {pad, 1}, {-2, 3}, {4, pad}, {5, -6}.
    expect(image((t) => new nn.MaxPool2d(2, { padding: 1 }).forward(t))).toEqual([1, 3, 4, 5]);
    expect(image((t) => new nn.AvgPool2d(2, { padding: 1 }).forward(t))).toEqual([1 / 4, 1 / 4, 4 / 4, -1 / 4]);
    expect(image((t) => new nn.AvgPool2d(2, { padding: 1, countIncludePad: false }).forward(t))).toEqual([1, 0.5, 4, -0.5]);
    // Ceil mode keeps the last, partial window: [1, -2 | 3], [4, 5 | -6].
    expect(image((t) => new nn.MaxPool2d([1, 2], { ceilMode: true }).forward(t))).toEqual([1, 3, 5, -6]);
    expect(image((t) => new nn.AdaptiveAvgPool2d(1).forward(t))).toEqual([5 / 6]);
    expect(() => trace((t: Tensor) => ops.adaptiveAvgPool2d(t, [1, 2]), { t: 'f32[1,1,2,3]' })).toThrow(/output size \[1, 2\] must divide the input's \[2, 3\]/);
  });

  it('reductions: sum, mean, max, min over axes and all axes', () => {
    expect(one((t) => t.sum(-1))).toEqual([2, 3]);
    expect(one((t) => t.sum())).toEqual([5]);
    expect(one((t) => t.mean(0))).toEqual([2.5, 1.5, -1.5]);
    expect(one((t) => t.max(1))).toEqual([3, 5]);
    expect(one((t) => t.min(1, true))).toEqual([-2, -6]);
    expect(one((t) => t.min())).toEqual([-6]);
    expect(one((t) => t.max(t.neg()))).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it('reductions as PyTorch: prod, any/all (bool results), logsumexp, min on i32 and bool, argmax/argmin (flattened without an axis), cumsum', () => {
    expect(one((t) => t.prod(1))).toEqual([-6, -120]);
    expect(one((t) => t.gt(4).any(1))).toEqual([0, 1]);
    expect(one((t) => t.any(0, true))).toEqual([1, 1, 1]);
    expect(one((t) => t.gt(-3).all(1))).toEqual([1, 0]);
    expect(one((t) => t.all())).toEqual([1]);
    expect(trace((t: Tensor) => t.any(), { t: 'f32[2,3]' }).nodes.at(-1)!.type).toEqual({ dtype: 'bool', shape: [] });
    expectClose(one((t) => t.logsumexp(-1)), [Math.log(Math.exp(1) + Math.exp(-2) + Math.exp(3)), Math.log(Math.exp(4) + Math.exp(5) + Math.exp(-6))]);
    expect(one((t) => t.min(1), 'i32[2,3]', [5, -2147483648, 3, 0, 1, 2])).toEqual([-2147483648, 0]);
    expect(one((t) => t.gt(0).min(1).cast('i32').cast('f32'))).toEqual([0, 0]);
    expect(one((t) => t.gt(0).max(1).cast('f32'))).toEqual([1, 1]);
    expect(one((t) => t.argmax(1))).toEqual([2, 1]);
    expect(one((t) => t.argmin(0, true))).toEqual([0, 0, 1]);
    expect(one((t) => t.argmax())).toEqual([4]);
    expect(one((t) => t.argmin())).toEqual([5]);
    expect(trace((t: Tensor) => t.argmax(undefined, true), { t: 'f32[2,3]' }).nodes.at(-1)!.type).toEqual({ dtype: 'i32', shape: [1, 1] });
    expect(one((t) => t.cumsum(1))).toEqual([1, -1, 2, 4, 9, 3]);
    expect(one((t) => t.cumsum(0))).toEqual([1, -2, 3, 5, 3, -3]);
    expect(one((t) => t.gt(0).cumsum(-1).cast('f32'))).toEqual([1, 1, 2, 1, 2, 2]);
    expect(one((t) => t.prod(), 'bool[2]', [1, 1])).toEqual([1]);
    expect(one((t) => t.cumsum(0), 'f32[]', [7])).toEqual([7]);
    expect(one((t) => t.argmax(0), 'f32[]', [7])).toEqual([0]);
    expect(one((t) => t.logsumexp(), 'i32[2]', [0, 0])).toEqual([Math.LN2]);
  });

  it('log_softmax as a method, ops.logSoftmax and nn.LogSoftmax (and nn.Softmax) along a dim', () => {
    const row0 = Math.log(Math.exp(1) + Math.exp(-2) + Math.exp(3));
    const row1 = Math.log(Math.exp(4) + Math.exp(5) + Math.exp(-6));
    const want = [1 - row0, -2 - row0, 3 - row0, 4 - row1, 5 - row1, -6 - row1];
    expectClose(one((t) => t.logSoftmax()), want);
    expectClose(one((t) => ops.logSoftmax(t, 1)), want);
    class M extends Module {
      readonly ls = new nn.LogSoftmax(0);
      readonly sm = new nn.Softmax(0);
      forward(v: Tensor): Record<string, Tensor> {
        return { ls: this.ls.forward(v), sm: this.sm.forward(v) };
      }
    }
    const p = trace(new M(), { v: 'f32[2]' });
    const e = Math.E;
    expectClose(run(p, { v: [0, 1] }, 'ls'), [-Math.log(1 + e), 1 - Math.log(1 + e)]);
    expectClose(run(p, { v: [0, 1] }, 'sm'), [1 / (1 + e), e / (1 + e)]);
    expect(() => trace((t: Tensor) => t.logSoftmax(), { t: 'i32[3]' })).toThrow(/log_softmax\(i32\[3\]\): operand x has dtype i32, expected f32/);
  });

  it('movement: transpose, .T, select, slice with ranges and steps, flatten, squeeze', () => {
    expect(one((t) => t.T)).toEqual([1, 4, -2, 5, 3, -6]);
    expect(one((t) => t.transpose(0, 1))).toEqual([1, 4, -2, 5, 3, -6]);
    expect(one((t) => t.select(1, -1))).toEqual([3, -6]);
    expect(one((t) => t.slice([null, [0, 3, 2]]))).toEqual([1, 3, 4, -6]);
    expect(one((t) => t.slice([[-1]]))).toEqual([4, 5, -6]);
    expect(one((t) => t.unsqueeze(1).flatten(0, 1).squeeze())).toEqual(x);
    expect(one((t) => t.reshape(3, -1).T)).toEqual([1, 3, 5, -2, 4, -6]);
    expect(trace((t: Tensor) => t.unsqueeze(-1).squeeze(2), { t: 'f32[2,3]' }).nodes.map((n) => n.type.shape)).toEqual([[2, 3, 1], [2, 3]]);
  });

  it('activations, where, logic and masks', () => {
    expect(one((t) => ops.relu(t))).toEqual([1, 0, 3, 4, 5, 0]);
    expect(one((t) => ops.where(t.gt(0), t, -1))).toEqual([1, -1, 3, 4, 5, -1]);
    expect(one((t) => t.gt(0).logicalAnd(t.lt(4)).cast('i32').cast('f32'))).toEqual([1, 0, 1, 0, 0, 0]);
    expect(one((t) => t.gt(4).logicalOr(t.lt(-3)).logicalNot().cast('f32'))).toEqual([1, 1, 1, 1, 0, 0]);
    const causal = run(trace(() => ({ output: ops.causalMask(3) }), {}), {});
    expect(causal).toEqual([1, 0, 0, 1, 1, 0, 1, 1, 1]);
    // With two cached keys in front, the last query sees every key.
    expect(run(trace(() => ({ output: ops.causalMask(2, 4) }), {}), {})).toEqual([1, 1, 1, 0, 1, 1, 1, 1]);
  });

  it('sources, gather/embedding, concat and pad', () => {
    expect(run(trace(() => ({ output: ops.arange(4).add(ops.full([4], 2, 'i32')) }), {}), {})).toEqual([2, 3, 4, 5]);
    expect(one((t) => ops.embedding(ops.constant([2, 0], { dtype: 'i32' }), t.T))).toEqual([3, -6, 1, 4]);
    expect(one((t) => ops.concat([t.slice(0, 1, 2), t.slice(0, 0, 1)], 0))).toEqual([4, 5, -6, 1, -2, 3]);
    expect(one((t) => ops.pad(t.slice(0, 0, 1), [0, 1], [1, 0], 9))).toEqual([9, 1, -2, 3, 9, 9, 9, 9]);
    expect(() => trace(() => ({ output: ops.constant([[1, 2], [3]]) }), {})).toThrow(/ragged nested array/);
    const bools = trace(() => ({ output: ops.constant([[true], [false]]) }), {});
    expect(bools.nodes[0]!.type).toEqual({ dtype: 'bool', shape: [2, 1] });
    expect(run(bools, {})).toEqual([1, 0]);
    expect(run(trace(() => ({ output: ops.constant(new Int32Array([7, 8]), { dtype: 'i32', shape: [2, 1] }) }), {}), {})).toEqual([7, 8]);
  });

  it('nn.Linear computes x Wᵀ + b (hand-computed)', () => {
    class M extends Module {
      readonly lin = new nn.Linear(2, 3);
      forward(v: Tensor): Tensor {
        return this.lin.forward(v);
      }
    }
    const p = trace(new M(), { v: 'f32[2]' });
    // W = [[1,2],[3,4],[5,6]], b = [10,20,30], v = [1,-1] -> [-1+10, -1+20, -1+30]
    expect(run(p, { v: [1, -1], 'lin.weight': [1, 2, 3, 4, 5, 6], 'lin.bias': [10, 20, 30] })).toEqual([9, 19, 29]);
  });

  it('nn.LayerNorm without affine parameters uses constants and normalises', () => {
    class M extends Module {
      readonly ln = new nn.LayerNorm(2, { elementwiseAffine: false, eps: 0 });
      forward(v: Tensor): Tensor {
        return this.ln.forward(v);
      }
    }
    const p = trace(new M(), { v: 'f32[2]' });
    expect(p.inputs.map((i) => i.name)).toEqual(['v']);
    expectClose(run(p, { v: [1, 3] }), [-1, 1]);
  });
});
