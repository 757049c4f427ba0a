/**
 * Attention probes in the fused lowering: the attention stays one fused
 * kernel that also stores its row statistics, each probe is one matmul
 * kernel over them, and nothing else in the program changes; probes no
 * attention kernel can serve are expanded and still right.
 */
import { describe, expect, it } from 'vitest';
import { type Program, ProgramBuilder, type Value, interpret, tensorType } from '@tessera/ir';
import { type Kernel, type KernelProgram, evaluateKernelProgram } from '@tessera/kernel';
import { describeMismatch, inputsFor, maskedProbabilityMismatch } from '@tessera/harness';
import { compileProgram } from '../src/index.ts';

const [B, H, T, D] = [2, 3, 6, 4];

interface Options {
  /** Probe the attention (an output `attn/probe` of its probabilities). */
  readonly probe: boolean;
  /** The probe's place: after the attention (as trace emits it), or before it. */
  readonly probeFirst?: boolean;
  /** A consumer of the probe placed before the attention's epilogue ends (so the probe cannot wait for its kernel). */
  readonly earlyConsumer?: boolean;
  /** Another scale than the attention's (so no kernel serves the probe). */
  readonly otherScale?: boolean;
}

/** Multi-head attention with a causal keep mask and a key-padding bias, heads merged after it, as the models have it. */
function program(o: Options): Program {
  const b = new ProgramBuilder('att');
  const q = b.input('q', tensorType('f32', [B, H, T, D]));
  const k = b.input('k', tensorType('f32', [B, H, T, D]));
  const v = b.input('v', tensorType('f32', [B, H, T, D]));
  const pad = b.input('pad', tensorType('f32', [B, 1, 1, T]));
  const i = b.emit('iota', [], { shape: [T, T], axis: 0 });
  const j = b.emit('iota', [], { shape: [T, T], axis: 1 });
  const causal = b.emit('where', [b.emit('le', [j, i]), pad, b.emit('constant', [], { shape: [], value: [-Infinity] })]);
  const probe = (): Value => b.emit('attention_probs', [q, k, causal], o.otherScale ? { scale: 0.25 } : {});
  const early = o.probeFirst ? probe() : undefined;
  const att = b.emit('attention', [q, k, v, causal]);
  const p = early ?? (o.probe ? probe() : undefined);
  const consumed = p && o.earlyConsumer ? b.emit('mul', [p, b.emit('constant', [], { shape: [], value: [2] })]) : undefined;
  const merged = b.emit('reshape', [b.emit('transpose', [att], { perm: [0, 2, 1, 3] })], { shape: [B, T, H * D] });
  b.output('o', merged);
  if (p) b.output('attn/probe', p);
  if (consumed) b.output('twice', consumed);
  return b.build();
}

/** Compiles (under a buffer limit if given), checks every output against the interpreter (masked probabilities exactly 0) and returns the kernel program. */
function compileChecked(p: Program, maxBuffersPerKernel?: number): KernelProgram {
  const { kernels } = compileProgram(p, maxBuffersPerKernel ? { maxBuffersPerKernel } : {});
  const inputs = { ...inputsFor(p, 5), pad: Float32Array.from({ length: B * T }, (_, n) => (n === T - 1 ? -Infinity : 0)) };
  const expected = interpret(p, inputs);
  const actual = evaluateKernelProgram(kernels, inputs);
  for (const o of p.outputs) expect(describeMismatch(actual[o.name]!, expected[o.name]!.data, { atol: 1e-9, rtol: 1e-9 }), o.name).toBeUndefined();
  if (expected['attn/probe']) expect(maskedProbabilityMismatch(actual['attn/probe']!, expected['attn/probe'].data)).toBeUndefined();
  return kernels;
}

/** A kernel's kind and iteration space: what stays the same when a probe is added (names and buffer numbers shift). */
const shapeOf = (k: Kernel) => `${k.kind} ${k.kind === 'matmul' ? [...k.batch, k.m, k.n, k.k] : k.kind === 'attention' ? [...k.batch, k.tq, k.tk, k.d, k.dv] : k.shape}`;

describe('attention probes in the lowering', () => {
  it('keep the attention one fused kernel, add one matmul kernel per probe and change nothing else', () => {
    const plain = compileChecked(program({ probe: false }));
    const probed = compileChecked(program({ probe: true }));
    expect(probed.kernels).toHaveLength(plain.kernels.length + 1);
    const probeKernels = probed.kernels.filter((k) => k.name.endsWith('attention_probs'));
    expect(probeKernels.map(shapeOf)).toEqual([`matmul ${[B, H, T, T, D]}`]);
    expect(probed.kernels.filter((k) => !probeKernels.includes(k)).map(shapeOf)).toEqual(plain.kernels.map(shapeOf));
    const attention = probed.kernels.find((k) => k.kind === 'attention')!;
    expect(attention.kind === 'attention' && attention.statStores?.length).toBe(2);
    // The probe reads the attention's statistics, stored after the attention's kernel (its epilogue: the heads merged).
    expect(probed.kernels.indexOf(probeKernels[0]!)).toBe(probed.kernels.indexOf(attention) + 1);
    const temps = (kp: KernelProgram) => kp.buffers.filter((x) => x.role === 'temp').map((x) => `${x.shape}`);
    expect(temps(probed)).toEqual([...temps(plain), `${[B, H, T, 2]}`]);
  });

  it('places a probe written before its attention after the attention\'s kernel', () => {
    const kp = compileChecked(program({ probe: true, probeFirst: true }));
    expect(kp.kernels.filter((k) => k.kind === 'attention')).toHaveLength(1);
    expect(kp.kernels.filter((k) => k.name.endsWith('attention_probs'))).toHaveLength(1);
  });

  it('expands a probe no attention kernel serves: another scale, or consumed before the attention\'s kernel is emitted', () => {
    for (const o of [{ probe: true, otherScale: true }, { probe: true, probeFirst: true, earlyConsumer: true }]) {
      const kp = compileChecked(program(o));
      expect(kp.kernels.filter((k) => k.name.endsWith('attention_probs')), JSON.stringify(o)).toHaveLength(0);
      const attention = kp.kernels.find((k) => k.kind === 'attention')!;
      expect(attention.kind === 'attention' && attention.statStores, JSON.stringify(o)).toBeUndefined();
    }
  });

  it('store the masked scores and normalise them in a row kernel when the attention kernel has no room for the statistics', () => {
    // The attention kernel binds q, k, v, the padding bias and its output: 5 buffers, the limit.
    const kp = compileChecked(program({ probe: true }), 5);
    const attention = kp.kernels.find((k) => k.kind === 'attention')!;
    expect(attention.kind === 'attention' && attention.statStores).toBeUndefined();
    expect(kp.kernels.filter((k) => k.name.includes('attention_')).map(shapeOf)).toEqual([`matmul ${[B, H, T, T, D]}`, `reduce ${[B, H, T, T]}`]);
  });
});
