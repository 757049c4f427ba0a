import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { interpret } from '@tessera/ir';
import { type AttentionCase, attentionInputs, buildAttentionCase, describeMismatch, maskedProbabilityMismatch } from '@tessera/harness';
import type { AttentionVariant } from '../src/index.ts';
import { releaseBackend, runKernels } from './support.ts';

afterAll(releaseBackend);

type Case = AttentionCase;

const arbCase = (max: { tq: number; tk: number; d: number; dv: number }): fc.Arbitrary<Case> =>
  fc.record({
    b: fc.integer({ min: 1, max: 2 }),
    tq: fc.integer({ min: 1, max: max.tq }),
    tk: fc.integer({ min: 1, max: max.tk }),
    d: fc.integer({ min: 1, max: max.d }),
    dv: fc.integer({ min: 1, max: max.dv }),
    causal: fc.option(fc.integer({ min: 0, max: 2 }), { nil: undefined }),
    keep: fc.boolean(),
    bias: fc.boolean(),
    seed: fc.integer({ min: 1, max: 1e6 }),
    probe: fc.boolean(),
  });

async function check(c: Case, attention: AttentionVariant): Promise<void> {
  const { kp, graph } = buildAttentionCase(c);
  const inputs = attentionInputs(kp, c.seed);
  const expected = interpret(graph, inputs);
  const got = await runKernels(kp, inputs, { attention });
  for (const name of c.probe ? ['o', 'p'] : ['o']) {
    const why = describeMismatch(got[name]!, expected[name]!.data, { reductionLength: c.tk * c.d });
    if (why) throw new Error(`${JSON.stringify(c)}: ${name}: ${why}`);
  }
  const zeros = c.probe ? maskedProbabilityMismatch(got.p!, expected.p!.data) : undefined;
  if (zeros) throw new Error(`${JSON.stringify(c)}: ${zeros}`);
}

for (const attention of ['row', 'workgroup'] as const) {
  describe(`attention kernel: WebGPU (online softmax; ${attention === 'row' ? 'one invocation' : 'one workgroup'} per query row) = graph interpreter`, () => {
    it('agrees on small random sizes, causal bounds, keep masks and additive biases (30 cases)', async () => {
      await fc.assert(fc.asyncProperty(arbCase({ tq: 6, tk: 7, d: 5, dv: 4 }), (c) => check(c, attention)), { numRuns: 30 });
    });

    it('agrees past one workgroup of rows or keys and at head sizes of real models (6 cases up to tq 150, tk 150, d 64, dv 80)', async () => {
      await fc.assert(fc.asyncProperty(arbCase({ tq: 150, tk: 150, d: 64, dv: 80 }), (c) => check(c, attention)), { numRuns: 6 });
    });

    it('gives NaN for a query row whose keys are all masked', async () => {
      const c: Case = { b: 1, tq: 2, tk: 3, d: 2, dv: 2, keep: true, bias: false, seed: 1 };
      const { kp } = buildAttentionCase(c);
      const inputs = { ...attentionInputs(kp, 1), keep: Uint8Array.from([0, 0, 0, 1, 0, 1]) };
      const o = (await runKernels(kp, inputs, { attention })).o!;
      expect(Array.from(o.slice(0, 2))).toEqual([NaN, NaN]);
      expect(o.slice(2).every((v) => Number.isFinite(v))).toBe(true);
    });
  });
}
