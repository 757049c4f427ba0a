import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type Program, ProgramBuilder, decomposeProgram, interpret, tensorType, verify } from '@tessera/ir';
import { evaluateKernelProgram, kernelExprs, kernelStores, loadedBuffers } from '@tessera/kernel';
import { type ProgramCase, arbProgramWithInputs, describeMismatch, formatCounterexample } from '@tessera/harness';
import { canonicalize, compileProgram, lowerToKernels, planMemory } from '../src/index.ts';

/** Random programs per property. */
const RUNS = Number(process.env.TESSERA_PASS_RUNS ?? 300);

/**
 * Float64 results of two programs on the same inputs agree (NaN with NaN), or
 * the failure names the program. Constant folding stores its results as f32
 * constants, so folded values may differ by one f32 rounding (1e-7 relative).
 */
function expectSame(c: ProgramCase, after: Program | Record<string, ArrayLike<number>>, what: string): void {
  const expected = interpret(c.program, c.inputs);
  const actual = 'nodes' in after ? Object.fromEntries(Object.entries(interpret(after as Program, c.inputs)).map(([k, v]) => [k, v.data])) : after;
  for (const o of c.program.outputs) {
    const why = describeMismatch(actual[o.name]!, expected[o.name]!.data, { atol: 1e-6, rtol: 1e-6 }, { what: o.name });
    if (why) throw new Error(`${what} changed the program's meaning: ${why}\n${formatCounterexample(c.program, c.inputs)}`);
  }
}

describe('each pass preserves semantics (interpreter before = interpreter after = kernel evaluator)', () => {
  const cases = arbProgramWithInputs({ maxNodes: 10 });

  it(`canonicalize (folding, identities, CSE, DCE), ${RUNS} programs`, () => {
    // Tame values: folding stores f32 constants, and an f32 overflow to inf is not a change of meaning to test for.
    fc.assert(
      fc.property(arbProgramWithInputs({ maxNodes: 10, tame: true }), (c) => {
        const after = canonicalize(c.program);
        expect(verify(after)).toEqual([]);
        expectSame(c, after, 'canonicalize');
      }),
      { numRuns: RUNS },
    );
  });

  it(`decompose-composites, ${RUNS} programs`, () => {
    fc.assert(
      fc.property(arbProgramWithInputs({ maxNodes: 10, tame: true }), (c) => {
        const after = decomposeProgram(c.program);
        expect(verify(after)).toEqual([]);
        // Composites use the decomposition's f32 constants, so only rounding separates them.
        const expected = interpret(c.program, c.inputs);
        const actual = interpret(after, c.inputs);
        for (const o of c.program.outputs) expect(describeMismatch(actual[o.name]!.data, expected[o.name]!.data, { atol: 1e-7, rtol: 1e-7 })).toBeUndefined();
      }),
      { numRuns: RUNS },
    );
  });

  it(`fuse and plan-memory (kernel evaluator), with and without a limit of 6 buffers per kernel, ${RUNS} programs`, () => {
    fc.assert(
      fc.property(cases, fc.boolean(), (c, limited) => {
        const { kernels } = compileProgram(c.program, limited ? { maxBuffersPerKernel: 6 } : {});
        if (limited) {
          for (const k of kernels.kernels) {
            const bound = new Set<number>();
            for (const e of kernelExprs(k)) loadedBuffers(e, bound);
            for (const s of kernelStores(k)) bound.add(s.buffer);
            expect(bound.size, `kernel ${k.name}`).toBeLessThanOrEqual(6);
          }
        }
        expectSame(c, evaluateKernelProgram(kernels, c.inputs), 'the pipeline');
      }),
      { numRuns: RUNS },
    );
  });
});

describe('buffer limit', () => {
  it('splits a wide fused expression so no kernel binds more than the limit', () => {
    const b = new ProgramBuilder('wide');
    const xs = Array.from({ length: 8 }, (_, i) => b.input(`x${i}`, tensorType('f32', [5])));
    b.output('y', xs.slice(1).reduce((acc, x) => b.emit('add', [acc, x]), xs[0]!));
    const p = b.build();
    const fused = lowerToKernels(p);
    expect(fused.kernels).toHaveLength(1);
    const limited = lowerToKernels(p, { maxBuffersPerKernel: 4 });
    expect(limited.kernels.length).toBeGreaterThan(1);
    for (const k of limited.kernels) {
      const bound = new Set<number>();
      for (const e of kernelExprs(k)) loadedBuffers(e, bound);
      for (const s of kernelStores(k)) bound.add(s.buffer);
      expect(bound.size).toBeLessThanOrEqual(4);
    }
    const inputs = Object.fromEntries(xs.map((x, i) => [x.name, Float32Array.from({ length: 5 }, (_, j) => i + j / 10)]));
    expect(Array.from(evaluateKernelProgram(planMemory(limited), inputs).y!)).toEqual(Array.from(interpret(p, inputs).y!.data));
  });
});
