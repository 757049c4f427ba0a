/**
 * Attention probes (trace's `attentions`): one output per attention module,
 * `attn/<module path>`, [batch, heads, queries, keys], the probabilities
 * after masking, in the IR (printed and parsed) and the interpreter.
 */
import { interpret, parseProgram, printProgram } from '@tessera/ir';
import { describe, expect, it } from 'vitest';
import { Module, type Tensor, nn, trace } from '../src/index.ts';
import { expectClose, randoms, rng } from './helpers.ts';

const [B, T, E, H] = [2, 5, 6, 3];

/** Two self-attention layers; the second masks padded keys (true = padding) and is causal. */
class TwoLayers extends Module {
  layers = new nn.ModuleList([new nn.MultiHeadAttention(E, H), new nn.MultiHeadAttention(E, H)]);
  forward(x: Tensor, padding: Tensor): Tensor {
    const [a, b] = [...this.layers] as [nn.MultiHeadAttention, nn.MultiHeadAttention];
    const y = a.forward(x);
    return b.forward(y, y, y, { keyPaddingMask: padding, isCausal: true });
  }
}

const specs = { x: `f32[${B},${T},${E}]`, padding: `bool[${B},${T}]` };
// Batch entry 1 has its last two tokens padded: their query rows still attend to the real keys.
const padding = [0, 0, 0, 0, 0, 0, 0, 0, 1, 1];

function inputs(model: Module) {
  const r = rng(7);
  const values: Record<string, number[]> = { x: randoms(r, B * T * E), padding };
  for (const [name, p] of model.namedParameters()) values[name] = randoms(r, p.shape.reduce((a, d) => a * d, 1));
  return values;
}

describe('attention probes', () => {
  it('adds attn/<module path> outputs [batch, heads, queries, keys] after forward\'s, and nothing without the option', () => {
    const model = new TwoLayers();
    const plain = trace(model, specs);
    const probed = trace(model, specs, { attentions: true });
    expect(plain.outputs.map((o) => o.name)).toEqual(['output']);
    expect(probed.outputs.map((o) => o.name)).toEqual(['output', 'attn/layers.0', 'attn/layers.1']);
    const types = new Map(probed.nodes.map((n) => [n.name, n.type.shape]));
    expect(probed.outputs.slice(1).map((o) => types.get(o.value))).toEqual([
      [B, H, T, T],
      [B, H, T, T],
    ]);
    // The probes add nodes only: the program's own nodes are the same.
    expect(probed.nodes.filter((n) => n.op !== 'attention_probs').map((n) => n.op)).toEqual(plain.nodes.map((n) => n.op));
    const selected = trace(model, specs, { attentions: ['layers.1'] });
    expect(selected.outputs.map((o) => o.name)).toEqual(['output', 'attn/layers.1']);
  });

  it('prints and parses back as IR text', () => {
    const p = trace(new TwoLayers(), specs, { attentions: true });
    const text = printProgram(p);
    expect(text).toContain('output attn/layers.1 = %');
    expect(text).toContain('attention_probs(');
    expect(printProgram(parseProgram(text))).toBe(text);
  });

  it('gives the weights attention applies: rows sum to 1, masked keys exactly 0, padded query rows a distribution over the real keys', () => {
    const model = new TwoLayers();
    const p = trace(model, specs, { attentions: true });
    const values = inputs(model);
    const out = interpret(p, values);
    const probs = Array.from(out['attn/layers.1']!.data);
    for (let b = 0; b < B; b++) {
      for (let h = 0; h < H; h++) {
        for (let i = 0; i < T; i++) {
          const row = probs.slice(((b * H + h) * T + i) * T, ((b * H + h) * T + i + 1) * T);
          row.forEach((pj, j) => {
            const masked = j > i || padding[b * T + j] === 1;
            if (masked) expect(pj).toBe(0);
            else expect(pj).toBeGreaterThan(0);
          });
          expectClose([row.reduce((a, v) => a + v, 0)], [1], 1e-12);
        }
      }
    }
  });

  it('names every call of a module called twice, and rejects a path that is no attention module', () => {
    class Twice extends Module {
      attn = new nn.MultiHeadAttention(E, H);
      forward(x: Tensor): Tensor {
        return this.attn.forward(this.attn.forward(x));
      }
    }
    expect(trace(new Twice(), { x: `f32[1,${T},${E}]` }, { attentions: true }).outputs.map((o) => o.name)).toEqual(['output', 'attn/attn', 'attn/attn/2']);
    expect(() => trace(new TwoLayers(), specs, { attentions: ['layers.2', 'layers'] })).toThrow(/no attention module at 'layers.2', 'layers' was called by forward; attention modules: layers.0, layers.1/);
  });
});
