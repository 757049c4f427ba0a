import { describe, expect, it } from 'vitest';
import { type Program, ProgramBuilder, type TensorType, interpret, tensorType, toHost } from '@tessera/ir';
import { lowerToKernels } from '@tessera/passes';
import { broadcastProgram, describeMismatch, inputsFor, matmulProgram, specialValuesCase } from '@tessera/harness';
import type { Executable } from '@tessera/kernel';
import { compileJs, compileWasm } from '../src/index.ts';

const f32 = (...shape: number[]): TensorType => tensorType('f32', shape);

/** Every CPU target each case runs on; the wasm kernels are split across the threads even when small. */
const TARGETS: readonly { name: string; compile(p: Program): Promise<Executable> }[] = [
  { name: 'js', compile: async (p) => compileJs(lowerToKernels(p)) },
  { name: 'wasm, 1 thread', compile: (p) => compileWasm(lowerToKernels(p), { threads: 1, minParallelWork: 0 }) },
  { name: 'wasm, 2 threads', compile: (p) => compileWasm(lowerToKernels(p), { threads: 2, minParallelWork: 0 }) },
];

/** Runs a program on every CPU target and checks every output against the interpreter. */
async function expectMatchesInterpreter(p: Program, inputs: Record<string, Float32Array | Int32Array | Uint8Array>, reductionLength = 1): Promise<void> {
  const expected = interpret(p, inputs);
  for (const target of TARGETS) {
    const exe = await target.compile(p);
    const actual = await exe.run(inputs);
    exe.dispose();
    for (const o of p.outputs) {
      const e = expected[o.name]!;
      // Expected values rounded to the output dtype: a float64 6e38 is +inf in f32.
      const why = describeMismatch(actual[o.name]!.data, toHost(e), { dtype: e.type.dtype, reductionLength }, { what: `${o.name} (${target.name})`, shape: e.type.shape });
      expect(why).toBeUndefined();
    }
  }
}

describe('CPU targets (js; wasm on 1 and 2 threads): edge cases', () => {
  it.each([
    [[197, 7], [7, 3]],
    [[3, 7], [7, 197]],
    [[1, 1], [1, 1]],
    [[5, 9], [9, 1]],
    [[2, 1, 5, 3], [4, 3, 6]],
    [[1, 3, 2], [7, 2, 5]],
    [[13, 300], [300, 11]],
  ])('matmul %j x %j (extents not multiples of the 4x4 block or the K slice)', async (a, b) => {
    const p = matmulProgram(a, b);
    await expectMatchesInterpreter(p, inputsFor(p, 1), a.at(-1));
  });

  it('broadcasts 1-sized and missing dims in binary ops and where', async () => {
    const p = broadcastProgram();
    await expectMatchesInterpreter(p, inputsFor(p, 2));
  });

  it('propagates NaN and infinities as the interpreter does', async () => {
    const { program, inputs } = specialValuesCase();
    await expectMatchesInterpreter(program, inputs);
  });

  it('gives NaN for a softmax row of only -inf, like PyTorch', async () => {
    const b = new ProgramBuilder('rows');
    b.output('y', b.emit('softmax', [b.input('x', f32(2, 3))], { axis: -1 }));
    const p = b.build();
    for (const target of TARGETS) {
      const exe = await target.compile(p);
      const out = await exe.run({ x: Float32Array.from([-Infinity, -Infinity, -Infinity, -Infinity, 0, 0]) });
      exe.dispose();
      expect(Array.from(out.y!.data)).toEqual([NaN, NaN, NaN, 0, 0.5, 0.5]);
    }
  });

  it('rejects an empty slice while building, naming the axis', () => {
    const b = new ProgramBuilder();
    const x = b.input('x', f32(4, 5));
    expect(() => b.emit('slice', [x], { start: [0, 3], stop: [4, 3], step: [1, 1] })).toThrow(/slice\(f32\[4,5\]\): slice 3:3:1 on axis 1 \(extent 5\) is empty/);
  });

  it('reports a gather index out of range instead of reading past the table', async () => {
    const b = new ProgramBuilder('g');
    b.output('y', b.emit('gather', [b.input('t', f32(4, 3)), b.input('i', tensorType('i32', [2]))]));
    const p = b.build();
    for (const target of TARGETS) {
      const exe = await target.compile(p);
      await expect(exe.run({ t: new Float32Array(12), i: Int32Array.from([1, 4]) })).rejects.toThrow(/%0 = gather\(%t, %i\): index 4 at position 1 of the indices is out of range \[0, 4\)/);
      await expect(exe.run({ t: new Float32Array(12), i: Int32Array.from([-1, 0]) })).rejects.toThrow(/index -1 at position 0 of the indices is out of range/);
      // The executable stays usable after a failed run.
      const ok = await exe.run({ t: Float32Array.from({ length: 12 }, (_, i) => i), i: Int32Array.from([3, 0]) });
      expect(Array.from(ok.y!.data)).toEqual([9, 10, 11, 0, 1, 2]);
      exe.dispose();
    }
  });

  it.each(TARGETS)('checks input arrays: missing, wrong type, wrong length ($name)', async (target) => {
    const p = matmulProgram([2, 3], [3, 2]);
    const exe = await target.compile(p);
    await expect(exe.run({ a: new Float32Array(6) })).rejects.toThrow(/missing input 'b' \(f32\[3,2\]\)/);
    await expect(exe.run({ a: new Float32Array(6), b: new Int32Array(6) })).rejects.toThrow(/input 'b' must be a Float32Array for dtype f32 \(or a tensor { data, dims } of one\), got Int32Array/);
    await expect(exe.run({ a: new Float32Array(5), b: new Float32Array(6) })).rejects.toThrow(/input 'a' of shape \[2,3\] needs 6 elements, got 5/);
  });
});

describe('CPU executables: inputs placed once with setInputs', () => {
  it.each(TARGETS)('keeps placed inputs across runs, lets a run override them, and still reports inputs never given ($name)', async (target) => {
    const p = matmulProgram([2, 3], [3, 2]);
    const exe = await target.compile(p);
    const a = Float32Array.from([1, 2, 3, 4, 5, 6]);
    const b1 = Float32Array.from([1, 0, 0, 1, 1, 1]);
    const b2 = Float32Array.from([2, 0, 0, 2, 0, 0]);
    await expect(exe.run({ a })).rejects.toThrow(/missing input 'b' \(f32\[3,2\]\)/);
    exe.setInputs!({ b: b1 });
    // [[1,2,3],[4,5,6]] x [[1,0],[0,1],[1,1]] = [[4,5],[10,11]]
    expect(Array.from((await exe.run({ a })).y!.data)).toEqual([4, 5, 10, 11]);
    expect(Array.from((await exe.run({ a, b: b2 })).y!.data)).toEqual([2, 4, 8, 10]);
    // The last value given stays placed.
    expect(Array.from((await exe.run({ a })).y!.data)).toEqual([2, 4, 8, 10]);
    expect(() => exe.setInputs!({ w: b1 })).toThrow("unknown input 'w' for program @mm (its inputs: 'a' (f32[2,3]), 'b' (f32[3,2]))");
    expect(() => exe.setInputs!({ b: new Float32Array(5) })).toThrow(/input 'b' of shape \[3,2\] needs 6 elements, got 5/);
    exe.dispose();
    expect(() => exe.setInputs!({ b: b1 })).toThrow(/disposed/);
  });
});

describe('pow follows IEEE 754 on every path', () => {
  it('gives 1 for 1^NaN, 1^inf and (-1)^inf, NaN for (-2)^0.5', async () => {
    const b = new ProgramBuilder('pow');
    b.output('y', b.emit('pow', [b.input('a', f32(6)), b.input('e', f32(6))]));
    const p = b.build();
    const inputs = { a: Float32Array.from([1, 1, -1, -1, -2, 2]), e: Float32Array.from([NaN, Infinity, -Infinity, Infinity, 0.5, 3]) };
    expect(Array.from(interpret(p, inputs).y!.data)).toEqual([1, 1, 1, 1, NaN, 8]);
    await expectMatchesInterpreter(p, inputs);
  });
});
