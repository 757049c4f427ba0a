/**
 * The edge cases every backend is held to, one table for all of them (the
 * CPU targets and WebGPU run the same list): matmuls of awkward extents,
 * broadcasting, IEEE special values and i32 overflow, PyTorch's NaN rows,
 * reductions (bool ones, products, argmax ties and NaNs, logsumexp of
 * infinities), running sums, range errors of gathers, input checks and
 * placed inputs. Each case drives executables that a function of the
 * caller's compiles (one backend configuration) and returns the problems
 * it found. Values are checked against the interpreter under the tolerance
 * policy and, where a case says so, against hand-computed values (which the
 * interpreter must give too).
 */
import { type Program, ProgramBuilder, type TensorType, interpret, tensorType, toHost } from '@tessera/ir';
import { type Executable, outputArrays } from '@tessera/kernel';
import type { CompileFor } from './conformance.ts';
import { longestReduction } from './sum-length.ts';
import {
  type EdgeProgram,
  argExtremes,
  broadcastProgram,
  ieeePow,
  logSumExpRows,
  matmulProgram,
  row,
  runningSums,
  softmaxRows,
  specialValuesCase,
  transposedMatmul,
  truthAndProducts,
} from './edge-programs.ts';
import { inputsFor } from './inputs.ts';
import { EXACT_TOLERANCE, describeMismatch } from './tolerance.ts';

/** One edge case: runs on executables `compile` makes; resolves to what went wrong (empty when the case passes). */
export interface EdgeCase {
  readonly name: string;
  /** Whether it runs reduction, row or scan kernels: a backend with several reduction algorithms runs it under each. */
  readonly reduces?: boolean;
  readonly check: (compile: CompileFor) => Promise<string[]>;
}

const f32 = (...shape: number[]): TensorType => tensorType('f32', shape);
const i32 = (...shape: number[]): TensorType => tensorType('i32', shape);

/** Where the backend's outputs differ from the interpreter's (rounded to each output's dtype), and where either differs from the hand-computed values. */
function valueProblems(c: EdgeProgram, actual: Readonly<Record<string, ArrayLike<number>>>): string[] {
  const reference = interpret(c.program, c.inputs);
  const reductionLength = c.reductionLength ?? longestReduction(c.program);
  const problems: string[] = [];
  for (const o of c.program.outputs) {
    const e = reference[o.name]!;
    const policy = { dtype: e.type.dtype, reductionLength };
    const say = (why: string | undefined) => why && problems.push(why);
    say(describeMismatch(actual[o.name]!, toHost(e), policy, { what: `output '${o.name}'`, shape: e.type.shape }));
    const hand = c.expected?.[o.name];
    if (!hand) continue;
    say(describeMismatch(e.data, hand, { ...policy, atol: 1e-12, rtol: 1e-12 }, { what: `output '${o.name}' of the interpreter, against the hand-computed values`, shape: e.type.shape }));
    const rounded = toHost({ type: e.type, data: Float64Array.from(hand) });
    say(describeMismatch(actual[o.name]!, rounded, c.exact ? { ...policy, ...EXACT_TOLERANCE } : policy, { what: `output '${o.name}' against the hand-computed values`, shape: e.type.shape }));
  }
  return problems;
}

/** Compiles, runs `body` on the executable, and disposes it. */
async function withExecutable<T>(compile: CompileFor, p: Program, body: (exe: Executable) => Promise<T>): Promise<T> {
  const exe = await compile(p);
  try {
    return await body(exe);
  } finally {
    exe.dispose();
  }
}

/** A case that runs a program once and checks its outputs (see valueProblems). */
function valueCase(name: string, make: () => EdgeProgram, reduces = false): EdgeCase {
  return {
    name,
    ...(reduces ? { reduces } : {}),
    check(compile) {
      const c = make();
      return withExecutable(compile, c.program, async (exe) => valueProblems(c, outputArrays(await exe.run(c.inputs))));
    },
  };
}

/** The message a call fails with, or undefined when it succeeds. */
async function failure(call: () => Promise<unknown> | unknown): Promise<string | undefined> {
  try {
    await call();
    return undefined;
  } catch (e) {
    return e instanceof Error ? e.message : String(e);
  }
}

/** A problem unless the call fails with a message matching `want`. */
async function expectFailure(what: string, call: () => Promise<unknown> | unknown, want: RegExp): Promise<string[]> {
  const message = await failure(call);
  if (message === undefined) return [`${what}: succeeded, expected an error matching ${want}`];
  return want.test(message) ? [] : [`${what}: failed with "${message}", expected a message matching ${want}`];
}

/** A problem unless `actual` holds exactly `expected`. */
function expectValues(what: string, actual: ArrayLike<number> | undefined, expected: readonly number[]): string[] {
  const got = actual ? Array.from(actual) : [];
  const same = got.length === expected.length && got.every((v, i) => Object.is(v, expected[i]) || v === expected[i]);
  return same ? [] : [`${what}: got [${got.join(', ')}], expected [${expected.join(', ')}]`];
}

/** Matmul operand shapes whose extents are not multiples of any backend's blocks and tiles: odd, 1-sized, broadcast batches, K past a slice. */
export const EDGE_MATMUL_SHAPES: readonly (readonly [readonly number[], readonly number[]])[] = [
  [[197, 7], [7, 3]],
  [[3, 7], [7, 197]],
  [[1, 1], [1, 1]],
  [[5, 9], [9, 1]],
  [[2, 1, 5, 3], [4, 3, 6]],
  [[1, 3, 2], [7, 2, 5]],
  [[13, 300], [300, 11]],
  [[67, 33], [33, 70]],
  // Aligned for vec4 loads: partial vec4 columns (n = 20), a K remainder (38), batches.
  [[9, 64], [64, 20]],
  [[33, 38], [38, 16]],
  [[2, 12, 8], [2, 8, 12]],
  // Large enough for the big-work matmul paths: rows and columns not multiples of any tile.
  [[70, 256], [256, 300]],
];

const matmulCases = EDGE_MATMUL_SHAPES.map(([a, b]) =>
  valueCase(`matmul ${a.join('x')} @ ${b.join('x')}`, () => {
    const program = matmulProgram(a, b);
    return { program, inputs: inputsFor(program, 1), reductionLength: a.at(-1)! };
  }),
);

/** A gather index out of range rejects the run with the index, its least position and the valid range; the executable stays usable. */
const gatherRange: EdgeCase = {
  name: 'a gather index out of range rejects the run naming the index, its least position (whichever thread or workgroup meets it first) and the range; the next run works',
  async check(compile) {
    const small = new ProgramBuilder('g');
    small.output('y', small.emit('gather', [small.input('t', f32(4, 3)), small.input('i', i32(2))]));
    const problems = await withExecutable(compile, small.build(), async (exe) => [
      ...(await expectFailure('index 4', () => exe.run({ t: new Float32Array(12), i: Int32Array.from([1, 4]) }), /%0 = gather\(%t, %i\): index 4 at position 1 of the indices is out of range \[0, 4\)/)),
      ...(await expectFailure('index -1', () => exe.run({ t: new Float32Array(12), i: Int32Array.from([-1, 0]) }), /index -1 at position 0 of the indices is out of range/)),
      ...expectValues('the run after', (await exe.run({ t: Float32Array.from(row(12, (k) => k)), i: Int32Array.from([3, 0]) })).y?.data, [9, 10, 11, 0, 1, 2]),
    ]);
    const big = new ProgramBuilder('g');
    big.output('y', big.emit('gather', [big.input('t', f32(10, 8)), big.input('i', i32(4000))]));
    const t = Float32Array.from(row(80, (k) => k));
    // Bad indices spread over many workgroups and chunks; the least position is 2500.
    const bad = Int32Array.from(row(4000, (k) => (k === 3990 ? 10 : k === 2500 ? -3 : k > 2600 && k % 7 === 0 ? 99 : k % 10)));
    problems.push(
      ...(await withExecutable(compile, big.build(), async (exe) => [
        ...(await expectFailure('bad indices', () => exe.run({ t, i: bad }), /%0 = gather\(%t, %i\): index -3 at position 2500 of the indices is out of range \[0, 10\)/)),
        ...expectValues('row 2500 of the run after', (await exe.run({ t, i: Int32Array.from(row(4000, (k) => k % 10)) })).y?.data.subarray(2500 * 8, 2501 * 8), row(8, (k) => k)),
      ])),
    );
    return problems;
  },
};

/** Missing inputs, arrays of the wrong type or length, and runs after dispose() are errors that say what was expected. */
const inputChecks: EdgeCase = {
  name: 'input arrays are checked (missing, wrong type, wrong length), and a disposed executable refuses to run',
  async check(compile) {
    const exe = await compile(matmulProgram([2, 3], [3, 2]));
    const problems = [
      ...(await expectFailure('missing b', () => exe.run({ a: new Float32Array(6) }), /missing input 'b' \(f32\[3,2\]\)/)),
      ...(await expectFailure('b as Int32Array', () => exe.run({ a: new Float32Array(6), b: new Int32Array(6) }), /input 'b' must be a Float32Array for dtype f32 \(or a tensor \{ data, dims \} of one\), got Int32Array/)),
      ...(await expectFailure('a too short', () => exe.run({ a: new Float32Array(5), b: new Float32Array(6) }), /input 'a' of shape \[2,3\] needs 6 elements, got 5/)),
    ];
    exe.dispose();
    problems.push(...(await expectFailure('run after dispose', () => exe.run({ a: new Float32Array(6), b: new Float32Array(6) }), /disposed/)));
    return problems;
  },
};

/** setInputs places inputs for later runs; a run may override them; the last given stays placed; bad names and lengths are errors. */
const placedInputs: EdgeCase = {
  name: 'inputs placed once with setInputs stay across runs, a run may override them, inputs never given are still reported',
  async check(compile) {
    const exe = await compile(matmulProgram([2, 3], [3, 2]));
    const a = Float32Array.from([1, 2, 3, 4, 5, 6]);
    const b1 = Float32Array.from([1, 0, 0, 1, 1, 1]);
    const b2 = Float32Array.from([2, 0, 0, 2, 0, 0]);
    const problems = await expectFailure('run before b is placed', () => exe.run({ a }), /missing input 'b' \(f32\[3,2\]\)/);
    exe.setInputs!({ b: b1 });
    // [[1,2,3],[4,5,6]] x [[1,0],[0,1],[1,1]] = [[4,5],[10,11]]
    problems.push(...expectValues('with b placed', (await exe.run({ a })).y?.data, [4, 5, 10, 11]));
    problems.push(...expectValues('b given to the run', (await exe.run({ a, b: b2 })).y?.data, [2, 4, 8, 10]));
    problems.push(...expectValues('the last b given stays placed', (await exe.run({ a })).y?.data, [2, 4, 8, 10]));
    problems.push(...(await expectFailure('unknown name', () => exe.setInputs!({ w: b1 }), /^unknown input 'w' for program @mm \(its inputs: 'a' \(f32\[2,3\]\), 'b' \(f32\[3,2\]\)\)$/)));
    problems.push(...(await expectFailure('wrong length', () => exe.setInputs!({ b: new Float32Array(5) }), /input 'b' of shape \[3,2\] needs 6 elements, got 5/)));
    exe.dispose();
    problems.push(...(await expectFailure('setInputs after dispose', () => exe.setInputs!({ b: b1 }), /disposed/)));
    return problems;
  },
};

/** Every edge case, in a stable order. */
export const EDGE_CASES: readonly EdgeCase[] = [
  ...matmulCases,
  valueCase('matmul reading transposed operands (a Linear layer weight [out, in], A^T) through fused views', transposedMatmul),
  valueCase('broadcasts 1-sized and missing dims in binary ops, where and a compare (a bool input as Uint8Array)', () => {
    const program = broadcastProgram();
    return { program, inputs: inputsFor(program, 2) };
  }),
  valueCase('propagates NaN and infinities as the interpreter does (max/min, exp, log, sqrt, tanh, reductions, softmax, casts, compares; i32 overflow)', () => specialValuesCase(), true),
  valueCase('gives NaN for a softmax row of only -inf, like PyTorch', softmaxRows, true),
  valueCase('follows IEEE 754 pow: 1 for 1^NaN, 1^inf and (-1)^inf, NaN for (-2)^0.5, signs for odd exponents', ieeePow),
  valueCase('argmax/argmin: first index on ties, NaN wins, rows of -inf, 0 and -0, i32 extremes, along rows of 37 and along axis 0', argExtremes, true),
  valueCase('any/all of f32 (NaN true, -0 false), i32 and bool; max/min of bool; min with NaN; products wrapping in i32 and of long f32 rows', truthAndProducts, true),
  valueCase('logsumexp and log_softmax of rows of -inf, +inf, huge logits and NaN, as PyTorch', logSumExpRows, true),
  valueCase('cumsum: rows of 700, infinities turning to NaN, i32 wrapping, many short scans, an axis of extent 1', runningSums, true),
  gatherRange,
  inputChecks,
  placedInputs,
];
