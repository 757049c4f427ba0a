import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { interpret } from '@tessera/ir';
import { evaluateKernelProgram } from '@tessera/kernel';
import { type AttentionCase, attentionInputs, buildAttentionCase, describeMismatch, maskedProbabilityMismatch } from '@tessera/harness';
import { compileJs, compileWasm, enableRelaxedSimd } from '../src/index.ts';

// Both micro-kernels: fused multiply-adds (relaxed SIMD, turned on here for Node 20) and mul + add.
const relaxedSimd = enableRelaxedSimd();

/** An attention case, with the depth of the wasm products' packed slices (KC; small values split d and tk into several slices) and whether they fuse multiply-adds. */
type Case = AttentionCase & { kc?: number; fma?: boolean };

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
  fma: fc.boolean(),
  probe: fc.boolean(),
});

/** Runs a case on the kernel evaluator, the JS target and the wasm target (1 and 2 threads) and checks each against the graph interpreter. */
async function checkCase(c: Case): Promise<void> {
  const { kp, graph } = buildAttentionCase(c);
  const inputs = attentionInputs(kp, c.seed);
  const reference = interpret(graph, inputs);
  /** Checks the outputs (o, and with a probe p: its masked keys exactly 0) of one target. */
  const agrees = (got: Readonly<Record<string, ArrayLike<number>>>, what: string, tolerance: Parameters<typeof describeMismatch>[2]) => {
    for (const name of c.probe ? ['o', 'p'] : ['o']) expect(describeMismatch(got[name]!, reference[name]!.data, tolerance), `${what}: ${name}`).toBeUndefined();
    if (c.probe) expect(maskedProbabilityMismatch(got.p!, reference.p!.data), what).toBeUndefined();
  };
  const data = (out: Record<string, { data: ArrayLike<number> }>) => Object.fromEntries(Object.entries(out).map(([n, t]) => [n, t.data]));
  agrees(evaluateKernelProgram(kp, inputs), 'kernel evaluator', { atol: 1e-9, rtol: 1e-9 });
  agrees(data(await compileJs(kp).run(inputs)), 'js', { reductionLength: c.tk * c.d });
  for (const threads of [1, 2]) {
    // minParallelWork 0: even these small kernels are split across the threads.
    const exe = await compileWasm(kp, { threads, minParallelWork: 0, relaxedSimd: c.fma ?? relaxedSimd, ...(c.kc ? { blocking: { mc: 256, kc: c.kc, nc: 2048 } } : {}) });
    agrees(data(await exe.run(inputs)), `${threads} thread(s)`, { reductionLength: c.tk * c.d });
    exe.dispose();
  }
}

describe('attention kernel: evaluator = JS (online softmax) = wasm (two micro-kernel products around a softmax, 1 and 2 threads) = graph interpreter, with and without a probe of its probabilities', () => {
  it('has relaxed SIMD to test (Node >= 20.16, turned on by enableRelaxedSimd)', () => {
    expect(relaxedSimd).toBe(true);
  });

  it('agrees on random sizes, causal bounds, keep masks, additive biases, slice depths, with and without fused multiply-adds (200 cases)', async () => {
    await fc.assert(fc.asyncProperty(arbCase, checkCase), { numRuns: 200 });
  });

  it.each([
    { b: 2, tq: 70, tk: 75, d: 13, dv: 9, keep: true, bias: true, seed: 7 },
    { b: 1, tq: 130, tk: 131, d: 8, dv: 12, causal: 0, keep: false, bias: false, seed: 8, kc: 3 },
    { b: 1, tq: 65, tk: 300, d: 5, dv: 3, keep: true, bias: false, seed: 9 },
    { b: 2, tq: 70, tk: 75, d: 13, dv: 9, causal: 1, keep: true, bias: true, seed: 10, probe: true },
  ])('agrees across several query blocks and key slices: %o', async (c) => {
    await checkCase(c);
  });
});
