import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { REQUIRED_VARIANTS, arbProgram, missingGenerators, opCoverage } from '@tessera/harness';
import { allOps } from '../../src/index.ts';
import { COVERAGE_SAMPLES } from './runs.ts';

describe('generator coverage', () => {
  it('every registered op has a program generator', () => {
    expect(missingGenerators(), 'ops without a generator in packages/harness/src/gen/op-generators.ts').toEqual([]);
  });

  it('a sample of generated programs uses every registered op and every required variant', () => {
    const programs = fc.sample(arbProgram(), { numRuns: COVERAGE_SAMPLES, seed: 20240611 });
    const seen = opCoverage(programs);
    const missingOps = allOps()
      .map((d) => d.name)
      .filter((n) => !seen.has(n));
    expect(missingOps, `ops never generated in ${COVERAGE_SAMPLES} programs`).toEqual([]);
    expect(REQUIRED_VARIANTS.filter((v) => !seen.has(v)), 'variants never generated').toEqual([]);
  });
});
