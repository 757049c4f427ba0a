import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { arbProgram } from '@tessera/harness';
import { verify } from '../../src/index.ts';
import { NUM_RUNS } from './runs.ts';

describe('generated programs verify', () => {
  it('every generated program over the whole op set verifies', () => {
    fc.assert(
      fc.property(arbProgram(), (p) => {
        expect(verify(p)).toEqual([]);
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it('every generated float-only, tame program with up to 20 ops verifies', () => {
    fc.assert(
      fc.property(arbProgram({ floatOnly: true, tame: true, maxNodes: 20 }), (p) => {
        expect(verify(p)).toEqual([]);
      }),
      { numRuns: NUM_RUNS },
    );
  });
});
