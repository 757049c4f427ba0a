import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ProgramBuilder, interpret, numel, tensorType } from '@tessera/ir';
import { type AttentionKernel, E, type KernelProgram, assertKernelProgram, denseStrides, evaluateKernelProgram } from '@tessera/kernel';
import { describeMismatch, makeRng } from '@tessera/harness';
import { compileJs, compileWasm } from '../src/index.ts';

interface Case {
  b: number;
  tq: number;
  tk: number;
  d: number;
  dv: number;
  causal?: number;
  keep: boolean;
  bias: boolean;
  seed: number;
  /** Depth of the packed slices of both products (KC); small values split d and tk into several slices. */
  kc?: number;
}

/** A hand-built attention kernel over dense [b, t, d] buffers, and the same computation as a graph program. */
function build(c: Case): { kp: KernelProgram; graph: ReturnType<ProgramBuilder['build']> } {
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
    stores: [{ buffer: 5, map: { offset: 0, strides: [...denseStrides([b, tq, dv]).slice(0, 2), 0, 1] }, value: E.binary('mul', E.ref('f32', 'out'), E.const('f32', 2)) }],
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

// Channel counts reach past 4 and 8 so the f32x4 dot products, row updates and their scalar tails all run.
const arbCase: fc.Arbitrary<Case> = fc.record({
  b: fc.integer({ min: 1, max: 2 }),
  tq: fc.integer({ min: 1, max: 6 }),
  tk: fc.integer({ min: 1, max: 9 }),
  d: fc.integer({ min: 1, max: 13 }),
  dv: fc.integer({ min: 1, max: 11 }),
  causal: fc.option(fc.integer({ min: 0, max: 2 }), { nil: undefined }),
  keep: fc.boolean(),
  bias: fc.boolean(),
  seed: fc.integer({ min: 1, max: 1e6 }),
  kc: fc.option(fc.integer({ min: 1, max: 5 }), { nil: undefined }),
});

/** Runs a case on the kernel evaluator, the JS target and the wasm target (1 and 2 threads) and checks each against the graph interpreter. */
async function checkCase(c: Case): Promise<void> {
  const { kp, graph } = build(c);
  const rng = makeRng(c.seed);
  const inputs = Object.fromEntries(
    kp.inputs.map(({ name, buffer }) => {
      const decl = kp.buffers[buffer]!;
      const n = numel(decl.shape);
      // Keep masks attend mostly, so some rows are fully masked and give NaN everywhere.
      return [name, decl.dtype === 'bool' ? Uint8Array.from({ length: n }, () => (rng() < 0.8 ? 1 : 0)) : Float32Array.from({ length: n }, () => rng() * 4 - 2)];
    }),
  );
  const expected = interpret(graph, inputs).o!.data;
  expect(describeMismatch(evaluateKernelProgram(kp, inputs).o!, expected, { atol: 1e-9, rtol: 1e-9 }), 'kernel evaluator').toBeUndefined();
  expect(describeMismatch((await compileJs(kp).run(inputs)).o!, expected, { reductionLength: c.tk * c.d }), 'js').toBeUndefined();
  for (const threads of [1, 2]) {
    // minParallelWork 0: even these small kernels are split across the threads.
    const exe = await compileWasm(kp, { threads, minParallelWork: 0, ...(c.kc ? { blocking: { mc: 256, kc: c.kc, nc: 2048 } } : {}) });
    const got = (await exe.run(inputs)).o!;
    exe.dispose();
    expect(describeMismatch(got, expected, { reductionLength: c.tk * c.d }), `${threads} thread(s)`).toBeUndefined();
  }
}

describe('attention kernel: evaluator = JS (online softmax) = wasm (two micro-kernel products around a softmax, 1 and 2 threads) = graph interpreter', () => {
  it('agrees on random sizes, causal bounds, keep masks, additive biases and slice depths (200 cases)', async () => {
    await fc.assert(fc.asyncProperty(arbCase, checkCase), { numRuns: 200 });
  });

  it.each([
    { b: 2, tq: 70, tk: 75, d: 13, dv: 9, keep: true, bias: true, seed: 7 },
    { b: 1, tq: 130, tk: 131, d: 8, dv: 12, causal: 0, keep: false, bias: false, seed: 8, kc: 3 },
    { b: 1, tq: 65, tk: 300, d: 5, dv: 3, keep: true, bias: false, seed: 9 },
  ])('agrees across several query blocks and key slices: %o', async (c) => {
    await checkCase(c);
  });
});
