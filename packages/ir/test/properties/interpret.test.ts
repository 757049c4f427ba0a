import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { arbProgramWithInputs } from '@tessera/harness';
import { formatType, interpret, numel, valueTypes } from '../../src/index.ts';
import { NUM_RUNS } from './runs.ts';

describe('generated programs interpret', () => {
  it('every generated program runs in the interpreter and each output has its declared type and valid elements', () => {
    fc.assert(
      fc.property(arbProgramWithInputs(), ({ program, inputs }) => {
        const out = interpret(program, inputs);
        const types = valueTypes(program);
        expect(Object.keys(out).sort()).toEqual(program.outputs.map((o) => o.name).sort());
        for (const o of program.outputs) {
          const t = out[o.name]!;
          expect(formatType(t.type), `output ${o.name}`).toBe(formatType(types.get(o.value)!));
          expect(t.data.length).toBe(numel(t.type.shape));
          for (const v of t.data) {
            if (t.type.dtype === 'bool') expect(v === 0 || v === 1, `bool output ${o.name} holds ${v}`).toBe(true);
            if (t.type.dtype === 'i32') expect(Number.isInteger(v) && v >= -(2 ** 31) && v < 2 ** 31, `i32 output ${o.name} holds ${v}`).toBe(true);
          }
        }
      }),
      { numRuns: NUM_RUNS },
    );
  });
});
