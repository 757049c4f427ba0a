import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ParseError, checkProgramText, parseProgram, printProgram } from '../src/index.ts';
import { FIXTURES } from './text-fixtures.ts';

const TEXTS = FIXTURES.map(([, make]) => printProgram(make()));
/** Characters that matter to the lexer, plus some that it must reject. */
const CHARS = ['%', '@', '"', '#', '=', ':', ',', '(', ')', '{', '}', '[', ']', '\n', ' ', '-', '+', 'e', '.', '0', '1', '9', 'x', 'f32', ';', '\\', 'inf', 'nan'];

/** One edit of a text: delete, insert or replace a short span. */
const edit = fc.record({
  at: fc.nat(),
  del: fc.nat({ max: 3 }),
  ins: fc.array(fc.constantFrom(...CHARS), { maxLength: 3 }).map((a) => a.join('')),
});

describe('text format: robustness', () => {
  it('edited text either parses to a program whose printed form is canonical, or fails with a located ParseError', () => {
    fc.assert(
      fc.property(fc.constantFrom(...TEXTS), fc.array(edit, { minLength: 1, maxLength: 3 }), (text, edits) => {
        let t = text;
        for (const e of edits) {
          const at = e.at % (t.length + 1);
          t = t.slice(0, at) + e.ins + t.slice(at + e.del);
        }
        let p;
        try {
          p = parseProgram(t, 'f.ir');
        } catch (e) {
          expect(e).toBeInstanceOf(ParseError);
          const loc = (e as ParseError).loc;
          expect(loc.line).toBeGreaterThanOrEqual(1);
          expect(loc.line).toBeLessThanOrEqual(t.split('\n').length);
          expect((e as ParseError).message).toMatch(/^f\.ir:\d+:\d+: /);
          return;
        }
        const printed = printProgram(p);
        expect(printProgram(parseProgram(printed))).toBe(printed);
        // The verifier must cope with whatever parsed (it reports, never crashes).
        checkProgramText(t, 'f.ir');
      }),
      { numRuns: 1000 },
    );
  });
});
