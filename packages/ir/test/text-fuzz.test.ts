/**
 * Fuzz target "IR text": the fixture programs (every op, every attribute
 * kind) printed, then mutated: characters, lines (dropped, doubled,
 * swapped, taken from another program), numbers (huge, negative,
 * fractional, beyond 2^53), names, ops, dtypes. Every case either fails with
 * a located ParseError, or parses to a program whose printed form is
 * canonical, which the verifier reports on with located diagnostics and
 * which, when it verifies and is small, the interpreter runs. See
 * packages/harness/src/fuzz.ts for the budget (TESSERA_FUZZ_BUDGET).
 */
import { type ErrorVerdict, type FuzzRng, type FuzzTarget, expectCleanFuzz, fuzzBudget, fuzzTestTimeout } from '@tessera/harness';
import { describe, it } from 'vitest';
import { ParseError, TesseraError, allOps, checkProgramText, interpret, parseProgram, printProgram } from '../src/index.ts';
import { FIXTURES } from './text-fixtures.ts';

const TEXTS = FIXTURES.map(([, make]) => printProgram(make()));
/** Characters that matter to the lexer, plus some that it must reject. */
const CHARS = ['%', '@', '"', '#', '=', ':', ',', '(', ')', '{', '}', '[', ']', '\n', ' ', '-', '+', 'e', '.', '0', '1', '9', 'x', 'f32', ';', '\\', 'inf', 'nan', '\u00e9', '\t'];
/** Numbers that break assumptions: zero, negative, fractional, past i32, past 2^53, out of float range. */
const NUMBERS = ['0', '-1', '1', '2', '3', '7', '-0', '1.5', '1e20', '2147483648', '4294967296', '9007199254740993', '99999999999999999999999', '1e-400', '1e400', '0x10', '1_000', 'nan', 'inf', '-inf'];
const OPS = allOps().map((o) => o.name);
const DTYPES = ['f32', 'i32', 'bool', 'f64', 'i64'];
/** Programs the interpreter runs: the inputs and every node at most this many elements. */
const MAX_ELEMENTS = 20_000;

/** Replaces one random match of `re` in `t` with `by(match)`. */
function replaceOne(rng: FuzzRng, t: string, re: RegExp, by: (m: string) => string): string {
  const hits = [...t.matchAll(re)];
  if (!hits.length) return t;
  const m = rng.pick(hits);
  return t.slice(0, m.index) + by(m[0]) + t.slice(m.index + m[0].length);
}

/** One mutation of a program text. */
function mutate(rng: FuzzRng, t: string): string {
  const lines = t.split('\n');
  const line = () => rng.int(lines.length);
  switch (rng.int(9)) {
    case 0: {
      const at = rng.int(t.length + 1);
      const ins = Array.from({ length: rng.int(4) }, () => rng.pick(CHARS)).join('');
      return t.slice(0, at) + ins + t.slice(at + rng.int(4));
    }
    case 1:
      lines.splice(line(), 1);
      return lines.join('\n');
    case 2: {
      const i = line();
      lines.splice(i, 0, lines[i]!);
      return lines.join('\n');
    }
    case 3: {
      const [i, j] = [line(), line()];
      [lines[i], lines[j]] = [lines[j]!, lines[i]!];
      return lines.join('\n');
    }
    case 4: {
      const other = rng.pick(TEXTS).split('\n');
      lines.splice(line(), 0, rng.pick(other));
      return lines.join('\n');
    }
    case 5:
      return replaceOne(rng, t, /-?\d+(\.\d+)?(e[+-]?\d+)?/g, () => rng.pick(NUMBERS));
    case 6: {
      const names = [...t.matchAll(/%[\w.]+/g)].map((m) => m[0]);
      return replaceOne(rng, t, /%[\w.]+/g, () => (rng.chance(0.8) && names.length ? rng.pick(names) : '%nowhere'));
    }
    case 7:
      return replaceOne(rng, t, /= (\w+)\(/g, () => `= ${rng.pick(OPS)}(`);
    default:
      return replaceOne(rng, t, /\b(f32|i32|bool)\b/g, () => rng.pick(DTYPES));
  }
}

/** Values for a program's inputs: small integers (valid gather indices mostly) as f64 numbers. */
function inputsFor(p: ReturnType<typeof parseProgram>, rng: FuzzRng): Record<string, number[]> {
  return Object.fromEntries(
    p.inputs.map((i) => {
      const n = i.type.shape.reduce((a, b) => a * b, 1);
      const value = () => (i.type.dtype === 'f32' ? rng.float() * 4 - 2 : i.type.dtype === 'bool' ? rng.int(2) : rng.int(3));
      return [i.name, Array.from({ length: n }, value)];
    }),
  );
}

interface TextCase {
  readonly text: string;
  readonly seed: FuzzRng;
}

const target: FuzzTarget<TextCase> = {
  name: 'ir-text',
  generate(rng) {
    let text = rng.pick(TEXTS);
    for (let k = rng.range(1, 3); k > 0; k--) text = mutate(rng, text);
    return { text, seed: rng };
  },
  run({ text, seed }) {
    const p = parseProgram(text, 'f.tir');
    const printed = printProgram(p);
    let again: string;
    try {
      again = printProgram(parseProgram(printed, 'printed.tir'));
    } catch (e) {
      // Not the user's error: what the printer wrote must parse.
      throw new Error(`the printed form does not parse: ${e instanceof Error ? e.message : String(e)}`);
    }
    if (again !== printed) throw new Error(`printed form is not canonical:\n${printed}\n---\n${again}`);
    const { diagnostics } = checkProgramText(text, 'f.tir');
    for (const d of diagnostics) if (!(d.loc.line >= 1 && d.loc.line <= text.split('\n').length)) throw new Error(`diagnostic outside the text: ${JSON.stringify(d)}`);
    if (diagnostics.length) return;
    const big = [...p.inputs.map((i) => i.type), ...p.nodes.map((n) => n.type)].some((t) => t.shape.reduce((a, b) => a * b, 1) > MAX_ELEMENTS);
    if (!big) interpret(p, inputsFor(p, seed));
  },
  classify(e, { text }): ErrorVerdict {
    if (e instanceof ParseError) return e.loc.line >= 1 && e.loc.line <= text.split('\n').length && e.message.startsWith('f.tir:') ? 'located' : 'unlocated';
    if (e instanceof TesseraError) return e.loc ? 'located' : 'unlocated';
    return 'crash';
  },
  show: ({ text }) => text,
};

describe('fuzz: IR text', () => {
  const budget = fuzzBudget(4000, 5000);
  it(
    'mutated program texts: located errors or canonical, verified, interpretable programs; no crash, hang or unlocated error',
    () => expectCleanFuzz(target, budget),
    fuzzTestTimeout(budget),
  );
});
