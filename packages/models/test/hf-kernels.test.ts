/**
 * The masks of the Hugging Face models stay inside the fused attention
 * kernel: BERT's padding mask from attention_mask is an index predicate
 * on the keys (no mask tensor is materialised), GPT-2's causal mask is the
 * loop bound j <= i, and one decoding step's cache mask is a predicate on
 * the key slot. One attention kernel per layer, and no temporary of the
 * scores' shape.
 */
import { describe, expect, it } from 'vitest';
import { type AttentionKernel, printExpr } from '@tessera/kernel';
import { compileProgram } from '@tessera/passes';
import type { Program } from '@tessera/ir';
import { HfGpt2LMHeadModel, buildHfModel, parseHfConfig, traceGpt2Step, traceHf } from '../src/index.ts';

/** The attention kernels of a program, each keep predicate printed, and the temporaries' shapes. */
function attentionOf(p: Program): { kernels: AttentionKernel[]; keep: string[]; temps: string[] } {
  const { kernels } = compileProgram(p);
  const attention = kernels.kernels.filter((k): k is AttentionKernel => k.kind === 'attention');
  const names = kernels.buffers.map((b) => b.name);
  return {
    kernels: attention,
    keep: attention.map((k) => (k.keep ? printExpr(k.keep, names) : '')),
    temps: kernels.buffers.filter((b) => b.role === 'temp').map((b) => b.shape.join('x')),
  };
}

describe('attention masks of the Hugging Face models', () => {
  it("BERT: attention_mask is a predicate on the keys inside each layer's attention kernel", () => {
    const config = parseHfConfig({ model_type: 'bert', vocab_size: 30, hidden_size: 12, num_hidden_layers: 2, num_attention_heads: 3, intermediate_size: 20, max_position_embeddings: 16 });
    const { kernels, keep, temps } = attentionOf(traceHf(buildHfModel(config), { batch: 2, seqLen: 7 }));
    expect(kernels).toHaveLength(2);
    for (const k of kernels) expect(k.causalOffset).toBeUndefined();
    // Key j of row b is kept when attention_mask[b, j] != 0.
    expect(keep).toEqual(['ne(%attention_mask[7*a0 + a3], 0:i32)', 'ne(%attention_mask[7*a0 + a3], 0:i32)']);
    expect(temps.filter((s) => s.endsWith('7x7'))).toEqual([]);
  });

  it("GPT-2: the causal mask is the attention kernel's loop bound; a decoding step's cache mask a predicate on the slot", () => {
    const config = parseHfConfig({ model_type: 'gpt2', architectures: ['GPT2LMHeadModel'], vocab_size: 30, n_embd: 12, n_layer: 2, n_head: 3, n_positions: 16 });
    const model = buildHfModel(config) as HfGpt2LMHeadModel;
    const full = attentionOf(traceHf(model, { batch: 2, seqLen: 7 }));
    expect(full.kernels).toHaveLength(2);
    for (const k of full.kernels) {
      expect(k.causalOffset).toBe(0);
      expect(k.keep).toBeUndefined();
    }
    expect(full.temps.filter((s) => s.endsWith('7x7'))).toEqual([]);
    const step = attentionOf(traceGpt2Step(model, 2, 9));
    expect(step.kernels).toHaveLength(2);
    for (const k of step.keep) expect(k).toMatch(/%pos/);
  });
});
