import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { arbProgram } from '@tessera/harness';
import { type Program, parseProgram, printProgram } from '../../src/index.ts';
import { NUM_RUNS } from './runs.ts';

/** The program without source locations (parsing records them, building does not). */
function withoutLocs(p: Program): Program {
  const strip = <T extends { loc?: unknown }>(x: T): T => {
    const { loc: _loc, ...rest } = x;
    return rest as T;
  };
  return { name: p.name, inputs: p.inputs.map(strip), nodes: p.nodes.map(strip), outputs: p.outputs.map(strip) };
}

describe('text format round trip on generated programs', () => {
  it('parse(print(p)) equals p, ignoring locations', () => {
    fc.assert(
      fc.property(arbProgram(), (p) => {
        expect(withoutLocs(parseProgram(printProgram(p)))).toEqual(withoutLocs(p));
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it('printing is idempotent: print(parse(print(p))) is print(p)', () => {
    fc.assert(
      fc.property(arbProgram(), (p) => {
        const text = printProgram(p);
        expect(printProgram(parseProgram(text))).toBe(text);
      }),
      { numRuns: NUM_RUNS },
    );
  });
});
