/**
 * The RNN encoder-decoder with attention against PyTorch
 * (tools/make_rnn_fixtures.py: random weights of odd sizes for GRU and LSTM
 * with dot, general and additive scores, padded source rows, outputs in
 * float64): teacher-forced logits and attention weights on every backend
 * under the tolerance policy (with the alignment output, and for dot and
 * general also through the fused attention kernel without it); greedy
 * generation (one decoder step per token carrying the state) gives
 * PyTorch's tokens, and its per-step alignment is the teacher-forced one
 * along the generated tokens. Also nn.GRU and nn.LSTM alone (two layers,
 * bidirectional) against torch on every backend.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { type SafetensorsTensor, readSafetensors } from '@tessera/ir';
import { compile, enableRelaxedSimd } from '@tessera/compiler';
import { type Tensor, nn } from '@tessera/frontend';
import { afterAll, describe, expect, it } from 'vitest';
import { ALIGNMENT, type Seq2SeqRnnConfig, Seq2SeqRNN, type Weights, bindCheckpoint, compileGenerator, compileSeq2Seq, parseModelConfig, traceEntry, traceRnnSeq2Seq } from '../src/index.ts';
import { FIXTURES, type FixtureShape, comparePyTorch, int32, longestReduction, maxAbsDiff, testBackends, worstByBackend } from './support.ts';

enableRelaxedSimd();
const DIR = join(FIXTURES, 'rnn');
const names = readdirSync(DIR).filter((f) => f.endsWith('.json')).map((f) => f.slice(0, -'.json'.length)).sort();
const backends = testBackends();

interface RnnFixture {
  readonly config: Seq2SeqRnnConfig;
  readonly shape: Required<FixtureShape>;
  readonly model: Seq2SeqRNN;
  readonly weights: Weights;
  readonly io: Map<string, SafetensorsTensor>;
}

function load(name: string): RnnFixture {
  const path = (ext: string) => join(DIR, name + ext);
  const json = JSON.parse(readFileSync(path('.json'), 'utf8')) as Record<string, unknown>;
  const config = parseModelConfig(json, path('.json')) as Seq2SeqRnnConfig;
  const model = new Seq2SeqRNN(config);
  const weights = bindCheckpoint(model, readSafetensors(readFileSync(path('.safetensors'))).tensors, path('.safetensors'));
  return { config, shape: json.fixture as Required<FixtureShape>, model, weights, io: readSafetensors(readFileSync(path('.io.safetensors'))).tensors };
}

afterAll(() => {
  const lines = [...worstByBackend].map(([b, w]) => `  ${b.padEnd(8)} worst |Δ| vs PyTorch (float64) ${w.diff.toExponential(2)} (${w.where})`);
  console.info(`RNN fixtures: ${names.length} fixtures x ${backends.length} backends\n${lines.join('\n')}`);
});

describe('RNN seq2seq fixtures (PyTorch)', () => {
  it('cover GRU and LSTM with every score form, two layers, padded sources', () => {
    const configs = names.map((n) => load(n).config);
    for (const cell of ['gru', 'lstm']) for (const a of ['dot', 'general', 'additive']) expect(configs.some((c) => c.cell === cell && c.attention === a), `${cell} ${a}`).toBe(true);
    expect(configs.some((c) => c.num_layers === 2)).toBe(true);
    for (const n of names) {
      const f = load(n);
      expect(int32(f.io.get('src')!).some((t) => t === f.config.pad_id), `${n} has a padded source row`).toBe(true);
    }
  });

  it("the parameter names are PyTorch's (the fixtures' state_dicts bind with nothing missing or left over)", () => {
    const f = load('gru-general-2layer');
    expect([...f.model.namedParameters()].map(([n]) => n).filter((n) => !n.includes('_l1'))).toEqual([
      'src_embed.weight', 'encoder.weight_ih_l0', 'encoder.weight_hh_l0', 'encoder.bias_ih_l0', 'encoder.bias_hh_l0',
      'tgt_embed.weight', 'decoder.weight_ih_l0', 'decoder.weight_hh_l0', 'decoder.bias_ih_l0', 'decoder.bias_hh_l0',
      'attn.W.weight', 'combine.weight', 'combine.bias', 'generator.weight', 'generator.bias',
    ]);
    expect([...load('lstm-additive-vocab14').model.namedParameters()].map(([n]) => n).filter((n) => n.startsWith('attn.'))).toEqual(['attn.W_q.weight', 'attn.W_q.bias', 'attn.W_k.weight', 'attn.W_k.bias', 'attn.v.weight']);
  });

  it('the alignment output is [B, 1, T, S]; without it the program has logits only', () => {
    const f = load('gru-dot-vocab17');
    const s = f.shape;
    const p = traceRnnSeq2Seq(f.model, { batch: s.batch, srcLen: s.src_len }, s.tgt_len, { attentions: true });
    expect(p.outputs.map((o) => o.name)).toEqual(['logits', ALIGNMENT.output]);
    expect(p.nodes.find((n) => n.name === p.outputs[1]!.value)!.type.shape).toEqual([s.batch, 1, s.tgt_len, s.src_len]);
    expect(traceRnnSeq2Seq(f.model, { batch: s.batch, srcLen: s.src_len }, s.tgt_len).outputs.map((o) => o.name)).toEqual(['logits']);
  });

  for (const name of names) {
    for (const backend of backends) {
      it(`${name} on ${backend}: logits and attention weights match PyTorch; greedy tokens equal PyTorch's`, async () => {
        const f = load(name);
        const s = f.shape;
        const src = int32(f.io.get('src')!);
        const tgt = int32(f.io.get('tgt')!);
        const expected = f.io.get('logits')!;
        const shape = { backend, batch: s.batch, srcLen: s.src_len, tgtLen: s.tgt_len };
        const withWeights = await compileSeq2Seq(f.model, f.weights, { ...shape, attentions: true });
        const r = await withWeights.run(src, tgt);
        withWeights.dispose();
        const L = longestReduction(withWeights.program);
        expect(comparePyTorch(backend, `${name} logits`, r.logits, expected.data as Float32Array, expected.shape, L)).toBeUndefined();
        const attention = f.io.get('attention')!;
        expect(comparePyTorch(backend, `${name} attention`, r.attentions[ALIGNMENT.file]!, attention.data as Float32Array, attention.shape, L)).toBeUndefined();
        if (f.config.attention !== 'additive' && f.config.num_layers === 1) {
          // Without the alignment output, dot and general scores run as the fused attention kernel (one-layer fixtures: test time).
          const fused = await compileSeq2Seq(f.model, f.weights, shape);
          expect(fused.program.nodes.some((n) => n.op === 'attention')).toBe(true);
          const logits = await fused.logits(src, tgt);
          fused.dispose();
          expect(comparePyTorch(backend, `${name} logits (fused)`, logits, expected.data as Float32Array, expected.shape, longestReduction(fused.program))).toBeUndefined();
        }

        const g = await compileGenerator(f.model, f.weights, { backend, batch: s.batch, srcLen: s.src_len, maxNewTokens: s.max_new_tokens, attentions: true });
        const out = await g.generate(src);
        const stepWeights = g.attentions[ALIGNMENT.file]!;
        const steps = g.steps;
        g.dispose();
        expect(Array.from(out)).toEqual(Array.from(int32(f.io.get('generated')!)));
        if (backend !== 'cpu') return;
        // Without input feeding the decoder never sees the attention: each step's weights are the teacher-forced ones along the
        // output, for the steps run (a batch whose rows have all ended stops; its later steps stay zero).
        const n = s.max_new_tokens;
        const along = await compileSeq2Seq(f.model, f.weights, { ...shape, tgtLen: n, attentions: true });
        const teacher = (await along.run(src, Int32Array.from({ length: s.batch * n }, (_, i) => out[Math.floor(i / n) * (n + 1) + (i % n)]!))).attentions[ALIGNMENT.file]!;
        along.dispose();
        const ran = (w: Float32Array) => w.filter((_, i) => Math.floor(i / s.src_len) % n < steps);
        expect(maxAbsDiff(ran(stepWeights), ran(teacher))).toBeLessThan(1e-5);
        expect(stepWeights.subarray(0, s.src_len).some((v) => v > 0)).toBe(true);
      });
    }
  }
});

describe('nn.GRU and nn.LSTM, two layers, bidirectional, on every backend (the frontend\'s torch fixtures)', () => {
  const CELLS = join(import.meta.dirname, '..', '..', 'frontend', 'test', 'fixtures');
  for (const name of ['nn-gru-2layer-bidirectional', 'nn-lstm-2layer-bidirectional']) {
    for (const backend of backends) {
      it(`${name} on ${backend}: outputs and final states match PyTorch`, async () => {
        const spec = JSON.parse(readFileSync(join(CELLS, `${name}.json`), 'utf8')) as { cell: string; input_size: number; hidden_size: number; num_layers: number };
        const all = readSafetensors(readFileSync(join(CELLS, `${name}.safetensors`))).tensors;
        const io = (k: string) => all.get(`io.${k}`)!;
        const lstm = spec.cell === 'lstm';
        const rnn = new (lstm ? nn.LSTM : nn.GRU)(spec.input_size, spec.hidden_size, { numLayers: spec.num_layers, bidirectional: true, batchFirst: true });
        const type = (t: SafetensorsTensor) => `f32[${t.shape.join(',')}]`;
        const specs: Record<string, string> = { x: type(io('input')), h0: type(io('h0')), ...(lstm ? { c0: type(io('c0')) } : {}) };
        const program = traceEntry(
          rnn,
          (x, h0, c0): Record<string, Tensor> => {
            if (rnn instanceof nn.LSTM) {
              const [output, [h, c]] = rnn.forward(x!, [h0!, c0!]);
              return { output, h_n: h, c_n: c };
            }
            const [output, h] = rnn.forward(x!, h0);
            return { output, h_n: h };
          },
          specs,
          'cell',
        );
        const weights = Object.fromEntries([...all].filter(([k]) => !k.startsWith('io.')).map(([k, t]) => [k, t.data as Float32Array]));
        const exe = await compile(program, { backend, weights });
        const out = await exe.run({ x: io('input').data as Float32Array, h0: io('h0').data as Float32Array, ...(lstm ? { c0: io('c0').data as Float32Array } : {}) });
        exe.dispose();
        for (const k of lstm ? ['output', 'h_n', 'c_n'] : ['output', 'h_n']) {
          expect(comparePyTorch(backend, `${name} ${k}`, out[k]!.data as Float32Array, io(k).data as Float32Array, io(k).shape, longestReduction(program))).toBeUndefined();
        }
      });
    }
  }
});
