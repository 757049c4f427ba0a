import { type Program, ProgramBuilder, numel, tensorType, stridesOf } from '@tessera/ir';
import { type AttentionKernel, E, type KernelProgram, assertKernelProgram } from '@tessera/kernel';
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
}

/** A hand-built attention kernel over dense [b, t, d] buffers, and the same computation as a graph program (the backends' attention tests share it). */
export function buildAttentionCase(c: AttentionCase): { kp: KernelProgram; graph: Program } {
  const { b, tq, tk, d, dv } = c;
  const buffers = [
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
  const kp: KernelProgram = {
    name: 'att',
    buffers,
    kernels: [kernel],
    inputs: ['q', 'k', 'v', 'keep', 'bias'].map((name, buffer) => ({ name, buffer })),
    outputs: [{ name: 'o', buffer: 5 }],
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
  return { kp, graph: g.build() };
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
