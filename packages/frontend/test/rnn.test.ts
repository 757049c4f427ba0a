/**
 * nn.GRU and nn.LSTM against PyTorch: the state_dict names in PyTorch's
 * order, and two-layer bidirectional batch-first layers on fixtures
 * (tools/make_rnn_fixtures.py: torch's outputs and final states computed in
 * float64 from the stored float32 weights and inputs) in the float64
 * interpreter; the sequence-first and unbatched layouts are the same numbers
 * moved; bad shapes are DSL errors naming what was expected.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type SafetensorsTensor, interpret, readSafetensors } from '@tessera/ir';
import { describe, expect, it } from 'vitest';
import { Module, type Tensor, nn, trace } from '../src/index.ts';
import { expectClose, randoms, rng } from './helpers.ts';

const FIXTURES = join(import.meta.dirname, 'fixtures');

interface CellFixture {
  readonly spec: { cell: 'gru' | 'lstm'; input_size: number; hidden_size: number; num_layers: number; batch: number; seq_len: number };
  /** The state_dict in torch's order. */
  readonly state: [string, SafetensorsTensor][];
  readonly io: Map<string, SafetensorsTensor>;
}

function loadCell(name: string): CellFixture {
  const spec = JSON.parse(readFileSync(join(FIXTURES, `${name}.json`), 'utf8')) as CellFixture['spec'];
  const all = [...readSafetensors(readFileSync(join(FIXTURES, `${name}.safetensors`))).tensors];
  const io = new Map(all.filter(([n]) => n.startsWith('io.')).map(([n, t]) => [n.slice(3), t]));
  return { spec, state: all.filter(([n]) => !n.startsWith('io.')), io };
}

/** Wraps a layer so its outputs are named: output, h_n (and c_n). */
class Named extends Module {
  constructor(readonly rnn: nn.GRU | nn.LSTM) {
    super();
  }
  forward(x: Tensor, h0?: Tensor, c0?: Tensor): Record<string, Tensor> {
    if (this.rnn instanceof nn.LSTM) {
      const [output, [h, c]] = this.rnn.forward(x, h0 && c0 ? [h0, c0] : undefined);
      return { output, h_n: h, c_n: c };
    }
    const [output, h] = this.rnn.forward(x, h0);
    return { output, h_n: h };
  }
}

const values = (t: SafetensorsTensor) => Array.from(t.data as Float32Array);
const shapeSpec = (t: SafetensorsTensor) => `f32[${t.shape.join(',')}]`;

describe('nn.GRU and nn.LSTM', () => {
  for (const name of ['nn-gru-2layer-bidirectional', 'nn-lstm-2layer-bidirectional']) {
    it(`${name}: PyTorch's parameter names, shapes and order`, () => {
      const f = loadCell(name);
      const s = f.spec;
      const Layer = s.cell === 'gru' ? nn.GRU : nn.LSTM;
      const rnn = new Layer(s.input_size, s.hidden_size, { numLayers: s.num_layers, bidirectional: true, batchFirst: true });
      expect([...rnn.namedParameters()].map(([n, p]) => `${n} [${p.shape.join(',')}]`)).toEqual(f.state.map(([n, t]) => `${n} [${t.shape.join(',')}]`));
    });

    it(`${name}: outputs and final states match PyTorch (float64 interpreter)`, () => {
      const f = loadCell(name);
      const s = f.spec;
      const Layer = s.cell === 'gru' ? nn.GRU : nn.LSTM;
      const model = new Named(new Layer(s.input_size, s.hidden_size, { numLayers: s.num_layers, bidirectional: true, batchFirst: true }));
      const inputs: Record<string, string> = { x: shapeSpec(f.io.get('input')!), h0: shapeSpec(f.io.get('h0')!) };
      if (s.cell === 'lstm') inputs.c0 = shapeSpec(f.io.get('c0')!);
      const p = trace(model, inputs);
      const feeds: Record<string, number[]> = { x: values(f.io.get('input')!), h0: values(f.io.get('h0')!) };
      if (s.cell === 'lstm') feeds.c0 = values(f.io.get('c0')!);
      for (const [n, t] of f.state) feeds[`rnn.${n}`] = values(t);
      const out = interpret(p, feeds);
      for (const k of s.cell === 'lstm' ? ['output', 'h_n', 'c_n'] : ['output', 'h_n']) {
        expect(out[k]!.type.shape).toEqual(f.io.get(k)!.shape);
        // float64 on both sides from the same float32 values: only the stored outputs' float32 rounding differs.
        expectClose(Array.from(out[k]!.data), values(f.io.get(k)!), 1e-6);
      }
    });
  }

  it('sequence-first and unbatched inputs give the batch-first numbers, moved; absent states are zeros', () => {
    const [b, t, i, h] = [2, 3, 4, 5];
    const r = rng(7);
    for (const Layer of [nn.GRU, nn.LSTM]) {
      const first = new Named(new Layer(i, h, { bidirectional: true, batchFirst: true }));
      const seq = new Named(new Layer(i, h, { bidirectional: true }));
      const pFirst = trace(first, { x: `f32[${b},${t},${i}]` });
      const pSeq = trace(seq, { x: `f32[${t},${b},${i}]` });
      const pOne = trace(seq, { x: `f32[${t},${i}]` });
      const pZeros = trace(first, Layer === nn.LSTM ? { x: `f32[${b},${t},${i}]`, h0: `f32[2,${b},${h}]`, c0: `f32[2,${b},${h}]` } : { x: `f32[${b},${t},${i}]`, h0: `f32[2,${b},${h}]` });
      const weights = Object.fromEntries(pFirst.inputs.filter((p) => p.kind === 'parameter').map((p) => [p.name, randoms(r, p.type.shape.reduce((a, d) => a * d, 1))]));
      const x = randoms(r, b * t * i);
      const xSeq = Array.from({ length: t * b * i }, (_, n) => x[(Math.floor(n / i) % b) * t * i + Math.floor(n / (b * i)) * i + (n % i)]!);
      const a = interpret(pFirst, { x, ...weights });
      const s = interpret(pSeq, { x: xSeq, ...weights });
      const asFirst = Array.from({ length: b * t * 2 * h }, (_, n) => s.output!.data[(Math.floor(n / (2 * h)) % t) * b * 2 * h + Math.floor(n / (t * 2 * h)) * 2 * h + (n % (2 * h))]!);
      expectClose(asFirst, Array.from(a.output!.data));
      expectClose(Array.from(s.h_n!.data), Array.from(a.h_n!.data));
      // Row 0 alone, unbatched: the first row of the batch.
      const one = interpret(pOne, { x: Array.from({ length: t * i }, (_, n) => x[n]!), ...weights });
      expect(one.output!.type.shape).toEqual([t, 2 * h]);
      expectClose(Array.from(one.output!.data), Array.from(a.output!.data).slice(0, t * 2 * h));
      const zero = new Array<number>(2 * b * h).fill(0);
      const z = interpret(pZeros, { x, h0: zero, ...(Layer === nn.LSTM ? { c0: zero } : {}), ...weights });
      expectClose(Array.from(z.output!.data), Array.from(a.output!.data));
    }
  });

  it('wrong input features, state shapes and sizes are DSL errors naming what was expected', () => {
    expect(() => trace(new Named(new nn.GRU(4, 3, { batchFirst: true })), { x: 'f32[2,5,6]' })).toThrow(/GRU: input has 6 features, expected input_size 4/);
    expect(() => trace(new Named(new nn.LSTM(4, 3, { numLayers: 2 })), { x: 'f32[5,2,4]', h0: 'f32[1,2,3]', c0: 'f32[2,2,3]' })).toThrow(/LSTM: h0 has shape \[1, 2, 3\], expected \[2, 2, 3\]/);
    expect(() => new nn.GRU(4, 0)).toThrow(/GRU: hiddenSize must be a positive integer, got 0/);
  });
});
