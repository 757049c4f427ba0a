import { type Program, ProgramBuilder, numel, tensorType, stridesOf } from '@tessera/ir';
import { type AttentionKernel, type BufferDecl, E, type Kernel, type KernelProgram, assertKernelProgram } from '@tessera/kernel';
import { type ProbeSource, probabilityExpr, probeKernel, statStores } from '@tessera/passes';
import { makeRng } from './gen/choices.ts';

/** One attention case: sizes, mask kinds and the seed of its inputs. */
export interface AttentionCase {
  b: number;
  tq: number;
  tk: number;
  d: number;
  dv: number;
  causal?: number;
  keep: boolean;
  bias: boolean;
  seed: number;
  /** Also the attention's probabilities (an attention probe): output `p` [b, tq, tk], from the kernel's row statistics. */
  probe?: boolean;
}

/**
 * A hand-built attention kernel over dense [b, t, d] buffers, and the same
 * computation as a graph program (the backends' attention tests share it);
 * with `probe`, the kernel stores its row statistics and a probe kernel (as
 * the lowering builds them) turns them into output `p`, attention_probs in
 * the graph.
 */
export function buildAttentionCase(c: AttentionCase): { kp: KernelProgram; graph: Program } {
  const { b, tq, tk, d, dv } = c;
  const buffers: BufferDecl[] = [
    { name: 'q', dtype: 'f32' as const, shape: [b, tq, d], size: b * tq * d, role: 'input' as const },
    { name: 'k', dtype: 'f32' as const, shape: [b, tk, d], size: b * tk * d, role: 'input' as const },
    { name: 'v', dtype: 'f32' as const, shape: [b, tk, dv], size: b * tk * dv, role: 'input' as const },
    { name: 'keep', dtype: 'bool' as const, shape: [tq, tk], size: tq * tk, role: 'input' as const },
    { name: 'bias', dtype: 'f32' as const, shape: [b, tk], size: b * tk, role: 'input' as const },
    { name: 'o', dtype: 'f32' as const, shape: [b, tq, dv], size: b * tq * dv, role: 'output' as const },
  ];
  // Axes [b, i, j, c].
  const kernel: AttentionKernel = {
    kind: 'attention',
    name: 'k0_attention',
    batch: [b],
    tq,
    tk,
    d,
    dv,
    scale: Math.fround(1 / Math.sqrt(d)),
    readQ: E.load('f32', 0, { offset: 0, strides: [tq * d, d, 0, 1] }),
    readK: E.load('f32', 1, { offset: 0, strides: [tk * d, 0, d, 1] }),
    readV: E.load('f32', 2, { offset: 0, strides: [tk * dv, 0, dv, 1] }),
    ...(c.keep ? { keep: E.load('bool', 3, { offset: 0, strides: [0, tk, 1, 0] }) } : {}),
    ...(c.bias ? { bias: E.load('f32', 4, { offset: 0, strides: [tk, 0, 1, 0] }) } : {}),
    ...(c.causal !== undefined ? { causalOffset: c.causal } : {}),
    stores: [{ buffer: 5, map: { offset: 0, strides: [...stridesOf([b, tq, dv]).slice(0, 2), 0, 1] }, value: E.binary('mul', E.ref('f32', 'out'), E.const('f32', 2)) }],
  };
  const kernels: Kernel[] = [kernel];
  const outputs = [{ name: 'o', buffer: 5 }];
  if (c.probe) {
    buffers.push({ name: 'stats', dtype: 'f32', shape: [b, tq, 2], size: b * tq * 2, role: 'temp' }, { name: 'p', dtype: 'f32', shape: [b, tq, tk], size: b * tq * tk, role: 'output' });
    kernels[0] = { ...kernel, statStores: statStores([b], tq, 6) };
    const { readQ, readK, keep, bias, causalOffset, scale } = kernel;
    const src: ProbeSource & { stats: number } = { batch: [b], tq, tk, d, scale, readQ, readK, ...(keep ? { keep } : {}), ...(bias ? { bias } : {}), ...(causalOffset !== undefined ? { causalOffset } : {}), stats: 6 };
    kernels.push(probeKernel('k1_attention_probs', src, [{ buffer: 7, map: { offset: 0, strides: [tq * tk, tk, 1, 0] }, value: probabilityExpr(src) }]));
    outputs.push({ name: 'p', buffer: 7 });
  }
  const kp: KernelProgram = {
    name: 'att',
    buffers,
    kernels,
    inputs: ['q', 'k', 'v', 'keep', 'bias'].map((name, buffer) => ({ name, buffer })),
    outputs,
  };
  assertKernelProgram(kp);
  const g = new ProgramBuilder('att');
  const q = g.input('q', tensorType('f32', [b, tq, d]));
  const k = g.input('k', tensorType('f32', [b, tk, d]));
  const v = g.input('v', tensorType('f32', [b, tk, dv]));
  let keep = g.input('keep', tensorType('bool', [tq, tk]));
  const bias = g.input('bias', tensorType('f32', [b, tk]));
  if (!c.keep) keep = g.emit('constant', [], { shape: [tq, tk], dtype: 'bool', value: [1] });
  if (c.causal !== undefined) {
    const i = g.emit('iota', [], { shape: [tq, tk], axis: 0 });
    const j = g.emit('iota', [], { shape: [tq, tk], axis: 1 });
    const limit = g.emit('add', [i, g.emit('constant', [], { shape: [], dtype: 'i32', value: [c.causal] })]);
    keep = g.emit('where', [g.emit('le', [j, limit]), keep, g.emit('constant', [], { shape: [], dtype: 'bool', value: [0] })]);
  }
  const scores = g.emit('reshape', [bias], { shape: [b, 1, tk] });
  const zero = g.emit('mul', [scores, g.emit('constant', [], { shape: [], value: [c.bias ? 1 : 0] })]);
  const keepB = g.emit('broadcast_to', [keep], { shape: [b, tq, tk] });
  const mask = g.emit('where', [keepB, g.emit('broadcast_to', [zero], { shape: [b, tq, tk] }), g.emit('constant', [], { shape: [], value: [-Infinity] })]);
  const out = g.emit('attention', [q, k, v, mask]);
  g.output('o', g.emit('mul', [out, g.emit('constant', [], { shape: [], value: [2] })]));
  if (c.probe) g.output('p', g.emit('attention_probs', [q, k, mask]));
  return { kp, graph: g.build() };
}

/** Where the expected probabilities are exactly 0 (masked keys), whether the computed ones are too: a message for the first that is not, else undefined. */
export function maskedProbabilityMismatch(got: ArrayLike<number>, expected: ArrayLike<number>): string | undefined {
  for (let i = 0; i < expected.length; i++) {
    if (expected[i] === 0 && got[i] !== 0) return `probability ${i} of a masked key is ${got[i]}, expected exactly 0`;
  }
  return undefined;
}

/** Inputs of a case's kernel program: values in [-2, 2); keep masks attend 80% of the time, so some rows are fully masked (NaN everywhere). */
export function attentionInputs(kp: KernelProgram, seed: number): Record<string, Float32Array | Uint8Array> {
  const rng = makeRng(seed);
  return Object.fromEntries(
    kp.inputs.map(({ name, buffer }) => {
      const n = numel(kp.buffers[buffer]!.shape);
      return [name, kp.buffers[buffer]!.dtype === 'bool' ? Uint8Array.from({ length: n }, () => (rng() < 0.8 ? 1 : 0)) : Float32Array.from({ length: n }, () => rng() * 4 - 2)];
    }),
  );
}
