import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type Program, formatType, interpret, numel, parseProgram, valueTypes, verify } from '@tessera/ir';
import {
  TAME_LIMIT,
  arbInputs,
  arbProgram,
  arbProgramWithInputs,
  arbRecipe,
  buildProgram,
  formatCounterexample,
  generatedOps,
  inputsFor,
} from '../src/index.ts';

/** Runs of each property in this file. */
const NUM_RUNS = 100;

/** Ops that adapters may emit whatever `ops` says (see ProgramGenOptions.ops). */
const ADAPTER_OPS = new Set(['cast', 'reshape', 'broadcast_to', 'slice', 'pad', 'constant', 'abs', 'add', 'max', 'min']);

const allValues = (p: Program) => [...valueTypes(p).entries()];

describe('arbProgram options', () => {
  it('respects maxElements, maxInputs, maxOutputs and maxNodes', () => {
    fc.assert(
      fc.property(arbRecipe({ maxNodes: 5, maxInputs: 2, maxOutputs: 2 }), (r) => {
        const p = buildProgram(r, { maxNodes: 5, maxInputs: 2, maxOutputs: 2, maxElements: 32 });
        for (const [name, t] of allValues(p)) expect(numel(t.shape), `%${name}: ${formatType(t)}`).toBeLessThanOrEqual(32);
        expect(p.inputs.length).toBeGreaterThanOrEqual(1);
        // Blocks declare their own parameters (and key masks) besides the free inputs.
        expect(p.inputs.filter((i) => !i.name.startsWith('blk.')).length).toBeLessThanOrEqual(2);
        expect(p.outputs.length).toBeGreaterThanOrEqual(1);
        expect(p.outputs.length).toBeLessThanOrEqual(2);
        expect(verify(p)).toEqual([]);
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it('restricts generated ops to `ops` (adapters aside)', () => {
    fc.assert(
      fc.property(arbProgram({ ops: ['matmul', 'exp'] }), (p) => {
        const others = p.nodes.filter((n) => !['matmul', 'exp'].includes(n.op) && !ADAPTER_OPS.has(n.op));
        expect(others.map((n) => n.op)).toEqual([]);
        expect(p.nodes.some((n) => n.op === 'matmul' || n.op === 'exp')).toBe(true);
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it('floatOnly programs hold only f32 values', () => {
    fc.assert(
      fc.property(arbProgram({ floatOnly: true }), (p) => {
        expect(allValues(p).filter(([, t]) => t.dtype !== 'f32')).toEqual([]);
      }),
      { numRuns: NUM_RUNS },
    );
    expect(generatedOps({ floatOnly: true }).map((o) => o.name)).not.toContain('gather');
  });

  it('tame programs give finite results within TAME_LIMIT on generated inputs', () => {
    fc.assert(
      fc.property(arbProgramWithInputs({ tame: true }), ({ program, inputs }) => {
        const out = interpret(program, inputs);
        for (const [name, t] of Object.entries(out)) {
          const bad = Array.from(t.data).find((v) => !(Math.abs(v) <= TAME_LIMIT));
          expect(bad, `output ${name}`).toBeUndefined();
        }
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it('rejects unknown op names and impossible options, naming them', () => {
    expect(() => arbProgram({ ops: ['matmul', 'no_such_op'] })).toThrow(/'no_such_op', which is not a registered op/);
    expect(() => arbProgram({ ops: ['gather'], floatOnly: true })).toThrow(/no op can be generated/);
    expect(() => arbProgram({ maxNodes: 0 })).toThrow(/maxNodes is 0, expected an integer >= 1/);
  });
});

describe('recipes', () => {
  it('build the same program every time', () => {
    fc.assert(
      fc.property(arbRecipe(), (r) => {
        expect(buildProgram(r)).toEqual(buildProgram(r));
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it('build valid programs after any shrink-like edit (steps dropped, numbers lowered)', () => {
    fc.assert(
      fc.property(arbRecipe(), fc.nat(), (r, k) => {
        const dropped = { ...r, steps: r.steps.filter((_, i) => i % 3 !== k % 3) };
        const lowered = { ...r, steps: r.steps.map((s) => ({ op: s.op, choices: s.choices.map((c, i) => (i % 2 === k % 2 ? 0 : c >> 1)) })) };
        expect(verify(buildProgram(dropped))).toEqual([]);
        expect(verify(buildProgram(lowered))).toEqual([]);
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it('a failing property shrinks to a small valid program', () => {
    const result = fc.check(
      // Without model blocks: an attention block holds a softmax too, and one of them as the counterexample
      // (whether the seed meets one first depends on the op list) shrinks no further than its dozen nodes.
      fc.property(arbProgram({ blocks: false }), (p) => !p.nodes.some((n) => n.op === 'softmax')),
      { numRuns: 500, seed: 7 },
    );
    expect(result.failed).toBe(true);
    const [p] = result.counterexample!;
    expect(verify(p)).toEqual([]);
    expect(p.nodes.some((n) => n.op === 'softmax')).toBe(true);
    // One step remains: the softmax plus at most the adapters that made its operand.
    expect(p.nodes.length).toBeLessThanOrEqual(3);
    // fast-check's report prints the program as IR text.
    expect(fc.stringify(p)).toContain('program @random');
  });
});

describe('input values', () => {
  const programs = fc.sample(arbProgram(), { numRuns: 50, seed: 3 });

  it('inputsFor is deterministic per seed, typed per dtype, within the documented ranges', () => {
    let zeros = 0;
    for (const p of programs) {
      const a = inputsFor(p, 42);
      expect(inputsFor(p, 42)).toEqual(a);
      for (const inp of p.inputs) {
        const v = a[inp.name]!;
        expect(v.length).toBe(numel(inp.type.shape));
        expect(v.constructor.name).toBe({ f32: 'Float32Array', i32: 'Int32Array', bool: 'Uint8Array' }[inp.type.dtype]);
        for (const x of v) {
          if (inp.type.dtype === 'f32') expect(Math.abs(x)).toBeLessThanOrEqual(3);
          if (inp.type.dtype === 'i32') expect(Math.abs(x)).toBeLessThanOrEqual(4);
          if (inp.type.dtype === 'bool') expect([0, 1]).toContain(x);
          if (x === 0 && inp.type.dtype !== 'bool') zeros++;
        }
      }
    }
    expect(zeros).toBeGreaterThan(0);
    const big = programs.find((p) => p.inputs.some((i) => i.type.dtype === 'f32' && numel(i.type.shape) > 4))!;
    expect(inputsFor(big, 1)).not.toEqual(inputsFor(big, 2));
  });

  it('arbInputs gives values the interpreter accepts, one typed array per input', () => {
    for (const p of programs.slice(0, 20)) {
      for (const inputs of fc.sample(arbInputs(p), { numRuns: 3, seed: 1 })) {
        expect(Object.keys(inputs).sort()).toEqual(p.inputs.map((i) => i.name).sort());
        expect(() => interpret(p, inputs)).not.toThrow();
      }
    }
  });
});

describe('formatCounterexample', () => {
  it('prints the program as IR text and the inputs as comments, so it parses back to the program', () => {
    for (const { program, inputs } of fc.sample(arbProgramWithInputs(), { numRuns: 30, seed: 5 })) {
      const text = formatCounterexample(program, inputs);
      const first = program.inputs[0]!;
      expect(text).toContain(`# %${first.name} : ${formatType(first.type)} = [`);
      const back = parseProgram(text);
      expect(back.nodes.map((n) => n.name)).toEqual(program.nodes.map((n) => n.name));
      expect(back.outputs.map((o) => o.value)).toEqual(program.outputs.map((o) => o.value));
    }
  });

  it('prints f32 values in their shortest exact form and elides long tensors', () => {
    const p = parseProgram('program @t\ninput %x : f32[3]\ninput %m : bool[2]\n%y = neg(%x) : f32[3]\noutput y = %y\n');
    const text = formatCounterexample(p, { x: Float32Array.of(0.1, -0, Infinity), m: Uint8Array.of(1, 0) });
    expect(text).toContain('# %x : f32[3] = [0.1, -0, inf]');
    expect(text).toContain('# %m : bool[2] = [1, 0]');
  });
});
