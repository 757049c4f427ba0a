import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type Program, ProgramBuilder, decomposeProgram, interpret, parseProgram, tensorType, verify } from '@tessera/ir';
import { evaluateKernelProgram, type Kernel, kernelBuffers, kernelExprs, verifyMemoryPlan, walkExpr } from '@tessera/kernel';
import { type ProgramCase, arbModelWithInputs, arbProgramWithInputs, describeMismatch, formatCounterexample } from '@tessera/harness';
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
            const bound = kernelBuffers(k);
            expect(bound.size, `kernel ${k.name}`).toBeLessThanOrEqual(6);
          }
        }
        expectSame(c, evaluateKernelProgram(kernels, c.inputs), 'the pipeline');
      }),
      { numRuns: RUNS },
    );
  });
});

describe('model-shaped programs (stacked blocks, batch > 1, arena reuse)', () => {
  it(`fuse and plan-memory preserve semantics (kernel evaluator), with and without a limit of 6 buffers per kernel, ${RUNS} programs`, () => {
    fc.assert(
      fc.property(arbModelWithInputs({ tame: false }), fc.boolean(), (c, limited) => {
        const { kernels } = compileProgram(c.program, limited ? { maxBuffersPerKernel: 6 } : {});
        expect(verifyMemoryPlan(kernels)).toEqual([]);
        expectSame(c, evaluateKernelProgram(kernels, c.inputs), 'the pipeline');
      }),
      { numRuns: RUNS },
    );
  });
});

describe('signed zeros', () => {
  it('canonicalize folds only the identities that keep -0: x + (-0) and x - (+0), not x + (+0) or x - (-0)', () => {
    const p = parseProgram(`program @zeros
input %x : f32[2]
%p = constant() {shape = [], dtype = f32, value = [0]} : f32[]
%n = constant() {shape = [], dtype = f32, value = [-0]} : f32[]
%a = add(%x, %p) : f32[2]
%b = add(%x, %n) : f32[2]
%c = sub(%x, %p) : f32[2]
%d = sub(%x, %n) : f32[2]
output a = %a
output b = %b
output c = %c
output d = %d
`);
    const after = canonicalize(p);
    const producer = (out: string) => after.nodes.find((n) => n.name === after.outputs.find((o) => o.name === out)!.value)?.op ?? 'input';
    expect(['a', 'b', 'c', 'd'].map(producer)).toEqual(['add', 'input', 'input', 'sub']);
    const x = Float32Array.of(-0, 1.5);
    const r = interpret(after, { x });
    expect(Object.is(r.a!.data[0], 0)).toBe(true);
    expect(Object.is(r.b!.data[0], -0)).toBe(true);
    expect(Object.is(r.c!.data[0], -0)).toBe(true);
    expect(Object.is(r.d!.data[0], 0)).toBe(true);
  });

  it("a grouped conv2d's decomposition sums from +0, as its reference does (all -0 products give +0)", () => {
    // Found by the generator: rsqrt of a depthwise conv of zeros and -0 gave -inf after the pipeline, +inf in the interpreter.
    const p = parseProgram(`program @depthwise
input %x0 : f32[1,1,3]
%0 = reshape(%x0) {shape = [1, 3, 1, 1]} : f32[1,3,1,1]
%1 = reshape(%x0) {shape = [3, 1, 1, 1]} : f32[3,1,1,1]
%2 = conv2d(%0, %1) {stride = [1, 1], padding = [0, 1], dilation = [1, 1], groups = 3} : f32[1,3,1,3]
%3 = rsqrt(%2) : f32[1,3,1,3]
output out0 = %3
`);
    const inputs = { x0: Float32Array.of(0, 0, -0) };
    expectSame({ program: p, inputs }, decomposeProgram(p), 'the decomposition');
    expectSame({ program: p, inputs }, evaluateKernelProgram(compileProgram(p).kernels, inputs), 'the pipeline');
  });
});

describe('buffer limit', () => {
  it("stores a matmul's result and runs its epilogue after it when the fused epilogue would bind more than the limit", () => {
    // Found by the model-shaped generator: a residual add and a select on parameters after a Linear need 7 buffers with the matmul's.
    const p = parseProgram(`program @epilogue
input %x : f32[2,2,2]
param %w : f32[2,2]
param %bias : f32[2]
param %mask : f32[2,2]
param %fill : f32[2]
param %r : f32[]
%0 = transpose(%w) {perm = [1, 0]} : f32[2,2]
%1 = matmul(%x, %0) : f32[2,2,2]
%2 = add(%1, %bias) : f32[2,2,2]
%3 = add(%2, %r) : f32[2,2,2]
%4 = cast(%mask) {to = bool} : bool[2,2]
%5 = where(%4, %fill, %3) : f32[2,2,2]
output y = %5
`);
    const fused = compileProgram(p).kernels;
    expect(fused.kernels.map((k) => k.kind)).toEqual(['matmul']);
    const limited = compileProgram(p, { maxBuffersPerKernel: 6 }).kernels;
    expect(limited.kernels.map((k) => k.kind)).toEqual(['matmul', 'map']);
    for (const k of limited.kernels) {
      const bound = kernelBuffers(k);
      expect(bound.size, k.name).toBeLessThanOrEqual(6);
    }
    const inputs = { x: Float32Array.of(1, -2, 3, 0.5, 2, 1, -1, 4), w: Float32Array.of(0.5, -1, 2, 0.25), bias: Float32Array.of(1, -1), mask: Float32Array.of(1, 0, 0, 2), fill: Float32Array.of(7, 8), r: Float32Array.of(0.5) };
    expectSame({ program: p, inputs }, evaluateKernelProgram(limited, inputs), 'the split epilogue');
  });


  it("stores a row kernel's prologue when inlining it leaves no room for the buffers the epilogue and the weights read later", () => {
    // Found by the generator: layer_norm(a + bias + r) + s inlined a + bias + r (3 buffers) first, then read weight, bias and s: 7 with the store.
    const p = parseProgram(`program @prologue
input %a : f32[2,2]
input %r : f32[2,2]
input %s : f32[]
param %b : f32[2]
param %w : f32[2]
param %nb : f32[2]
%0 = add(%a, %b) : f32[2,2]
%1 = add(%0, %r) : f32[2,2]
%2 = layer_norm(%1, %w, %nb) {eps = 0.00001} : f32[2,2]
%3 = add(%2, %s) : f32[2,2]
output y = %3
`);
    expect(compileProgram(p).kernels.kernels.map((k) => k.kind)).toEqual(['reduce']);
    const limited = compileProgram(p, { maxBuffersPerKernel: 6 }).kernels;
    expect(limited.kernels.map((k) => k.kind)).toEqual(['map', 'reduce']);
    for (const k of limited.kernels) {
      const bound = kernelBuffers(k);
      expect(bound.size, k.name).toBeLessThanOrEqual(6);
    }
    const inputs = { a: Float32Array.of(1, -2, 3, 0.5), r: Float32Array.of(0.25, 1, -1, 2), s: Float32Array.of(0.5), b: Float32Array.of(1, -1), w: Float32Array.of(2, 0.5), nb: Float32Array.of(-1, 1) };
    expectSame({ program: p, inputs }, evaluateKernelProgram(limited, inputs), 'the stored prologue');
  });

  it("leaves room for an elementwise node's later operands when it inlines an earlier one (a split epilogue's select)", () => {
    // Found by the generator: where(cast(x), h + b + res - w, fill) after a Linear over the limit inlined cast(x) and
    // h + b + res - w (5 buffers with the store), then read fill: 7. Each later operand now holds a slot.
    const p = parseProgram(`program @select
input %x : f32[]
input %a : f32[2,2,2]
param %w : f32[2,2]
param %b : f32[2]
param %res : f32[2,2,2]
param %nw : f32[2]
param %fill : f32[2]
%0 = transpose(%w) {perm = [1, 0]} : f32[2,2]
%1 = matmul(%a, %0) : f32[2,2,2]
%2 = add(%1, %b) : f32[2,2,2]
%3 = add(%2, %res) : f32[2,2,2]
%4 = neg(%nw) : f32[2]
%5 = add(%3, %4) : f32[2,2,2]
%6 = cast(%x) {to = bool} : bool[]
%7 = where(%6, %5, %fill) : f32[2,2,2]
output y = %7
`);
    const limited = compileProgram(p, { maxBuffersPerKernel: 6 }).kernels;
    expect(limited.kernels.length).toBeGreaterThan(1);
    for (const k of limited.kernels) {
      const bound = kernelBuffers(k);
      expect(bound.size, k.name).toBeLessThanOrEqual(6);
    }
    for (const x of [0, 1]) {
      const inputs = { x: Float32Array.of(x), a: Float32Array.of(1, -2, 3, 0.5, 2, 1, -1, 4), w: Float32Array.of(0.5, -1, 2, 0.25), b: Float32Array.of(1, -1), res: Float32Array.of(1, 2, 3, 4, 5, 6, 7, 8), nw: Float32Array.of(0.5, 2), fill: Float32Array.of(7, 8) };
      expectSame({ program: p, inputs }, evaluateKernelProgram(limited, inputs), 'the split epilogue');
    }
  });

  it('inlines operands whose buffers the kernel binds already rather than storing them (a grouped conv2d decomposed into taps)', () => {
    // Found by the generator: the six taps' products read only %x0, already bound; holding a slot for each stored
    // them all, and the sum then bound 8 buffers against a limit of 6. They cost nothing inlined: one kernel.
    const p = parseProgram(`program @taps
input %x0 : f32[]
%0 = broadcast_to(%x0) {shape = [1, 2, 3, 3]} : f32[1,2,3,3]
%1 = broadcast_to(%x0) {shape = [2, 1, 3, 2]} : f32[2,1,3,2]
%2 = conv2d(%0, %1) {stride = [1, 1], padding = [0, 0], dilation = [1, 1], groups = 2} : f32[1,2,1,2]
%3 = add(%x0, %2) : f32[1,2,1,2]
output out0 = %3
`);
    const limited = compileProgram(p, { maxBuffersPerKernel: 6 }).kernels;
    for (const k of limited.kernels) expect(kernelBuffers(k).size, k.name).toBeLessThanOrEqual(6);
    expect(limited.kernels).toHaveLength(1);
    const inputs = { x0: Float32Array.of(1.5) };
    expectSame({ program: p, inputs }, evaluateKernelProgram(limited, inputs), 'the limited pipeline');
  });

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
      const bound = kernelBuffers(k);
      expect(bound.size).toBeLessThanOrEqual(4);
    }
    const inputs = Object.fromEntries(xs.map((x, i) => [x.name, Float32Array.from({ length: 5 }, (_, j) => i + j / 10)]));
    expect(Array.from(evaluateKernelProgram(planMemory(limited), inputs).y!)).toEqual(Array.from(interpret(p, inputs).y!.data));
  });

  it('counts a gather kernel\'s table and its fault slot (a WebGPU binding) against the limit', () => {
    // y = gather(t, i1 + i2 + i3): the index sum is cheap (inlined) unless the kernel would bind too many buffers.
    const b = new ProgramBuilder('wide_gather');
    const ids = [1, 2, 3].map((k) => b.input(`i${k}`, tensorType('i32', [4])));
    const sum = b.emit('add', [b.emit('add', [ids[0]!, ids[1]!]), ids[2]!]);
    b.output('y', b.emit('gather', [b.input('t', tensorType('f32', [5, 2])), sum]));
    const p = b.build();
    const bound = (k: Kernel) => {
      const used = kernelBuffers(k);
      let gathers = false;
      for (const e of kernelExprs(k)) walkExpr(e, (x) => (gathers ||= x.k === 'load' && x.indirect !== undefined));
      return used.size + (gathers ? 1 : 0);
    };
    expect(lowerToKernels(p).kernels.map(bound)).toEqual([6]);
    const limited = lowerToKernels(p, { maxBuffersPerKernel: 5 });
    expect(limited.kernels.map(bound).every((n) => n <= 5)).toBe(true);
    const inputs = { i1: Int32Array.from([0, 1, 2, 0]), i2: Int32Array.from([1, 1, 0, 0]), i3: Int32Array.from([3, 0, 1, 4]), t: Float32Array.from({ length: 10 }, (_, j) => j) };
    expect(Array.from(evaluateKernelProgram(planMemory(limited), inputs).y!)).toEqual(Array.from(interpret(p, inputs).y!.data));
  });
});
