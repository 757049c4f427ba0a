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
import { type Program, ProgramBuilder, type TensorType, interpret, tensorType, toHost, wrapI32 } from '@tessera/ir';
import type { Executable } from '@tessera/kernel';
import type { CompileFor } from './conformance.ts';
import { longestReduction } from './differential.ts';
import { broadcastProgram, matmulProgram, specialValuesCase } from './edge-programs.ts';
import { type HostInputs, inputsFor } from './inputs.ts';
import { EXACT_TOLERANCE, describeMismatch } from './tolerance.ts';

/** One edge case: runs on executables `compile` makes; resolves to what went wrong (empty when the case passes). */
export interface EdgeCase {
  readonly name: string;
  /** Whether it runs reduction, row or scan kernels: a backend with several reduction algorithms runs it under each. */
  readonly reduces?: boolean;
  readonly check: (compile: CompileFor) => Promise<string[]>;
}

/** What a value case computes: a program, its inputs, and hand-computed values of some outputs. */
interface ValueCase {
  readonly program: Program;
  readonly inputs: HostInputs;
  /** L of the tolerance policy (default: the program's longest reduction). */
  readonly reductionLength?: number;
  /** Hand-computed values of some outputs: the interpreter must give them (to 1e-12), a backend within the tolerance policy. */
  readonly expected?: Readonly<Record<string, readonly number[]>>;
  /** A backend must give the hand-computed values exactly (they are exact in f32 whatever the order of operations). */
  readonly exact?: boolean;
}

const f32 = (...shape: number[]): TensorType => tensorType('f32', shape);
const i32 = (...shape: number[]): TensorType => tensorType('i32', shape);
const I32_MIN = -2147483648;
const I32_MAX = 2147483647;

/** Where the backend's outputs differ from the interpreter's (rounded to each output's dtype), and where either differs from the hand-computed values. */
function valueProblems(c: ValueCase, actual: Readonly<Record<string, ArrayLike<number>>>): string[] {
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
function valueCase(name: string, make: () => ValueCase, reduces = false): EdgeCase {
  return {
    name,
    ...(reduces ? { reduces } : {}),
    check(compile) {
      const c = make();
      return withExecutable(compile, c.program, async (exe) => valueProblems(c, await exe.run(c.inputs)));
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

/** A Linear layer's shapes: an input read transposed (A^T) and a weight [out, in] read as W^T, both through fused views. */
function transposedMatmul(): ValueCase {
  const pb = new ProgramBuilder('mmT');
  const a = pb.emit('transpose', [pb.input('a', f32(37, 70))], { perm: [1, 0] });
  const w = pb.emit('transpose', [pb.param('w', f32(45, 37))], { perm: [1, 0] });
  pb.output('y', pb.emit('matmul', [a, w]));
  const program = pb.build();
  return { program, inputs: inputsFor(program, 4), reductionLength: 37 };
}

/** softmax of a row of only -inf is NaN, as PyTorch; -inf entries elsewhere get 0. */
function softmaxRows(): ValueCase {
  const b = new ProgramBuilder('rows');
  b.output('y', b.emit('softmax', [b.input('x', f32(2, 3))], { axis: -1 }));
  return { program: b.build(), inputs: { x: Float32Array.from([-Infinity, -Infinity, -Infinity, -Infinity, 0, 0]) }, expected: { y: [NaN, NaN, NaN, 0, 0.5, 0.5] }, exact: true };
}

/** IEEE pow: 1 for 1^NaN, 1^inf and (-1)^inf, NaN for (-2)^0.5, signs for odd exponents, zeros and infinities by the table. */
function ieeePow(): ValueCase {
  const b = new ProgramBuilder('pow');
  b.output('y', b.emit('pow', [b.input('a', f32(12)), b.input('e', f32(12))]));
  return {
    program: b.build(),
    inputs: {
      a: Float32Array.from([1, 1, -1, -1, -2, 2, -2, -0, -0, 0, -Infinity, -3]),
      e: Float32Array.from([NaN, Infinity, -Infinity, Infinity, 0.5, 3, 3, -1, 2, -2, 3, Infinity]),
    },
    expected: { y: [1, 1, 1, 1, NaN, 8, -8, -Infinity, 0, Infinity, -Infinity, Infinity] },
  };
}

/** A row of `n` values from `f(j)`. */
const row = (n: number, f: (j: number) => number): number[] => Array.from({ length: n }, (_, j) => f(j));

/**
 * argmax/argmin along rows of 37 (4-lane vectors and a tail): ties go to the
 * first index, NaN beats +inf (its first occurrence), a row of only -inf
 * gives 0, 0 and -0 tie; i32 rows with the extremes of the range; along
 * axis 0 with keepdims (checked against the interpreter).
 */
function argExtremes(): ValueCase {
  const b = new ProgramBuilder('arg');
  const x = b.input('x', f32(4, 37));
  const i = b.input('i', i32(3, 9));
  b.output('xmax', b.emit('argmax', [x], { axis: 1 }));
  b.output('xmin', b.emit('argmin', [x], { axis: -1 }));
  b.output('cmax', b.emit('argmax', [x], { axis: 0, keepdims: true }));
  b.output('imax', b.emit('argmax', [i], { axis: 1 }));
  b.output('imin', b.emit('argmin', [i], { axis: 1 }));
  const r0 = row(37, (j) => (j % 7) - 3); // max 3 first at 6; min -3 first at 0 ...
  r0[36] = -5; // ... until the tail's -5
  const r1 = row(37, (j) => (j * 5) % 11);
  [r1[3], r1[4], r1[30], r1[33]] = [Infinity, -Infinity, NaN, NaN];
  const r2 = row(37, () => -Infinity);
  const r3 = row(37, (j) => (j % 2 ? -0 : 0));
  r3[17] = 1e-30;
  const ints = [I32_MIN, 5, I32_MAX, I32_MAX, 0, I32_MIN, 1, 2, 3, ...row(9, () => 7), 3, -4, 9, -4, 9, 0, 0, 1, -2];
  return {
    program: b.build(),
    inputs: { x: Float32Array.from([...r0, ...r1, ...r2, ...r3]), i: Int32Array.from(ints) },
    expected: { xmax: [6, 30, 0, 17], xmin: [36, 30, 0, 0], imax: [2, 0, 2], imin: [0, 0, 1] },
  };
}

/**
 * any/all of f32 (NaN is true, -0 false), i32 and bool rows; max/min of
 * bool; min with NaN and -0; products of i32 that wrap (-3 * 2^32 is 0) and
 * of 37-long f32 rows (4 lanes and a tail) with a NaN and an infinity.
 */
function truthAndProducts(): ValueCase {
  const b = new ProgramBuilder('folds');
  const x = b.input('x', f32(3, 6));
  const i = b.input('i', i32(2, 5));
  const c = b.input('c', tensorType('bool', [2, 7]));
  const p = b.input('p', f32(3, 37));
  b.output('xany', b.emit('reduce_any', [x], { axes: [1] }));
  b.output('xall', b.emit('reduce_all', [x], { axes: [1] }));
  b.output('xmin', b.emit('reduce_min', [x], { axes: [1] }));
  b.output('iany', b.emit('reduce_any', [i], { axes: [1] }));
  b.output('iall', b.emit('reduce_all', [i], { axes: [1] }));
  b.output('iprod', b.emit('reduce_prod', [i], { axes: [1] }));
  b.output('imin', b.emit('reduce_min', [i], { axes: [0] }));
  b.output('call', b.emit('reduce_all', [c], { axes: [1] }));
  b.output('cany', b.emit('reduce_any', [c], { axes: [0] }));
  b.output('cmax', b.emit('reduce_max', [c], { axes: [1] }));
  b.output('cmin', b.emit('reduce_min', [c], { axes: [1] }));
  b.output('pprod', b.emit('reduce_prod', [p], { axes: [1] }));
  const pv = [...row(37, (j) => 1 + (j % 5) / 64), ...row(37, (j) => (j === 20 ? NaN : 1)), ...row(37, (j) => (j === 36 ? Infinity : -1))];
  return {
    program: b.build(),
    inputs: {
      x: Float32Array.from([0, -0, 0, 0, 0, 0, NaN, 1, -2, 3, 1e-30, -1, 0, 0, 0, 0, 0, 5]),
      i: Int32Array.from([0, 0, 0, 0, 0, 1, -1, 65536, 65536, 3]),
      c: Uint8Array.from([1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1]),
      p: Float32Array.from(pv),
    },
    expected: {
      xany: [0, 1, 1],
      xall: [0, 1, 0],
      xmin: [-0, NaN, 0],
      iany: [0, 1],
      iall: [0, 1],
      iprod: [0, 0],
      imin: [0, -1, 0, 0, 0],
      call: [1, 0],
      cany: [1, 1, 1, 1, 1, 1, 1],
      cmax: [1, 1],
      cmin: [1, 0],
      // Row 0 cycles 1, 65/64, ..., 68/64 seven times, then 1 and 65/64; row 2 is 36 times -1, then +inf.
      pprod: [((65 / 64) * (66 / 64) * (67 / 64) * (68 / 64)) ** 7 * (65 / 64), NaN, Infinity],
    },
  };
}

/**
 * logsumexp and log_softmax of rows PyTorch treats specially: only -inf
 * (logsumexp -inf, log_softmax NaN), +inf (inf, NaN), huge logits
 * (1000 + ln 2 without overflow), NaN (NaN).
 */
function logSumExpRows(): ValueCase {
  const b = new ProgramBuilder('lse');
  const x = b.input('x', f32(4, 5));
  b.output('lse', b.emit('logsumexp', [x], { axes: [1] }));
  b.output('ls', b.emit('log_softmax', [x], { axis: 1 }));
  b.output('lse0', b.emit('logsumexp', [x], { axes: [0], keepdims: true }));
  const ninf = -Infinity;
  return {
    program: b.build(),
    inputs: { x: Float32Array.from([ninf, ninf, ninf, ninf, ninf, Infinity, 1, 2, 3, 4, 1000, 1000, ninf, ninf, ninf, NaN, 0, 0, 0, 0]) },
    expected: {
      lse: [ninf, Infinity, 1000 + Math.LN2, NaN],
      ls: [...row(5, () => NaN), ...row(5, () => NaN), -Math.LN2, -Math.LN2, ninf, ninf, ninf, ...row(5, () => NaN)],
    },
  };
}

/**
 * cumsum along rows of 700 (long enough for chunks of several elements in a
 * workgroup's scan, and three tiles of 256):
 * a running sum that stays small, +inf then -inf (NaN from there on), i32
 * sums that wrap past 2^31; along the first axis of a [300, 2] tensor
 * (many short scans) and along an axis of extent 1.
 */
function runningSums(): ValueCase {
  const b = new ProgramBuilder('cumsum');
  const n = 700;
  const x = b.input('x', f32(2, n));
  const i = b.input('i', i32(2, n));
  const t = b.input('t', f32(300, 2));
  b.output('x', b.emit('cumsum', [x], { axis: 1 }));
  b.output('i', b.emit('cumsum', [i], { axis: -1 }));
  b.output('t', b.emit('cumsum', [t], { axis: 0 }));
  b.output('one', b.emit('cumsum', [x], { axis: 0 }));
  const one = b.emit('reshape', [x], { shape: [2, n, 1] });
  b.output('unit', b.emit('cumsum', [one], { axis: 2 }));
  // Row 0 is j % 3 - 1, so its running sum is -1, -1, 0, -1, -1, 0, ...; row 1 is 1 but +inf at 100 and -inf at 200.
  const r0 = row(n, (j) => (j % 3) - 1);
  const r1 = row(n, (j) => (j === 100 ? Infinity : j === 200 ? -Infinity : 1));
  const twoTo24 = 2 ** 24;
  return {
    program: b.build(),
    inputs: {
      x: Float32Array.from([...r0, ...r1]),
      i: Int32Array.from([...row(n, () => twoTo24), ...row(n, (j) => (j % 2 ? I32_MAX : 1))]),
      t: Float32Array.from(row(600, (k) => (k % 2 ? 0.5 : -0.25))),
    },
    expected: {
      x: [...row(n, (j) => (j % 3 === 2 ? 0 : -1)), ...row(n, (j) => (j < 100 ? j + 1 : j < 200 ? Infinity : NaN))],
      // Row 0: 2^24 (j + 1) wrapped to i32. Row 1 adds 1, I32_MAX, 1, I32_MAX, ...: 1 + I32_MAX wraps to I32_MIN, so the sums cycle 1, I32_MIN, I32_MIN + 1, 0.
      i: [...row(n, (j) => wrapI32((j + 1) * twoTo24)), ...row(n, (j) => [1, I32_MIN, I32_MIN + 1, 0][j % 4]!)],
      t: row(600, (k) => (k % 2 ? 0.5 : -0.25) * (Math.floor(k / 2) + 1)),
    },
    // Sums of small integers and quarters: exact in f32 in any order.
    exact: true,
  };
}

/** A gather index out of range rejects the run with the index, its least position and the valid range; the executable stays usable. */
const gatherRange: EdgeCase = {
  name: 'a gather index out of range rejects the run naming the index, its least position (whichever thread or workgroup meets it first) and the range; the next run works',
  async check(compile) {
    const small = new ProgramBuilder('g');
    small.output('y', small.emit('gather', [small.input('t', f32(4, 3)), small.input('i', i32(2))]));
    const problems = await withExecutable(compile, small.build(), async (exe) => [
      ...(await expectFailure('index 4', () => exe.run({ t: new Float32Array(12), i: Int32Array.from([1, 4]) }), /%0 = gather\(%t, %i\): index 4 at position 1 of the indices is out of range \[0, 4\)/)),
      ...(await expectFailure('index -1', () => exe.run({ t: new Float32Array(12), i: Int32Array.from([-1, 0]) }), /index -1 at position 0 of the indices is out of range/)),
      ...expectValues('the run after', (await exe.run({ t: Float32Array.from(row(12, (k) => k)), i: Int32Array.from([3, 0]) })).y, [9, 10, 11, 0, 1, 2]),
    ]);
    const big = new ProgramBuilder('g');
    big.output('y', big.emit('gather', [big.input('t', f32(10, 8)), big.input('i', i32(4000))]));
    const t = Float32Array.from(row(80, (k) => k));
    // Bad indices spread over many workgroups and chunks; the least position is 2500.
    const bad = Int32Array.from(row(4000, (k) => (k === 3990 ? 10 : k === 2500 ? -3 : k > 2600 && k % 7 === 0 ? 99 : k % 10)));
    problems.push(
      ...(await withExecutable(compile, big.build(), async (exe) => [
        ...(await expectFailure('bad indices', () => exe.run({ t, i: bad }), /%0 = gather\(%t, %i\): index -3 at position 2500 of the indices is out of range \[0, 10\)/)),
        ...expectValues('row 2500 of the run after', (await exe.run({ t, i: Int32Array.from(row(4000, (k) => k % 10)) })).y?.subarray(2500 * 8, 2501 * 8), row(8, (k) => k)),
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
      ...(await expectFailure('b as Int32Array', () => exe.run({ a: new Float32Array(6), b: new Int32Array(6) }), /input 'b' must be a Float32Array for dtype f32, got Int32Array/)),
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
    problems.push(...expectValues('with b placed', (await exe.run({ a })).y, [4, 5, 10, 11]));
    problems.push(...expectValues('b given to the run', (await exe.run({ a, b: b2 })).y, [2, 4, 8, 10]));
    problems.push(...expectValues('the last b given stays placed', (await exe.run({ a })).y, [2, 4, 8, 10]));
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
