/**
 * Hand-built programs every backend's edge-case tests run against the
 * interpreter (see edge-cases.ts): matmuls of awkward extents,
 * broadcasting, IEEE special values with i32 overflow, PyTorch's NaN rows,
 * IEEE pow, reductions, argmax, logsumexp and running sums, most with
 * hand-computed values.
 */
import { type Program, ProgramBuilder, type TensorType, tensorType, wrapI32 } from '@tessera/ir';
import { type HostInputs, inputsFor } from './inputs.ts';

const f32 = (...shape: number[]): TensorType => tensorType('f32', shape);
const i32 = (...shape: number[]): TensorType => tensorType('i32', shape);
const I32_MIN = -2147483648;
const I32_MAX = 2147483647;

/** What a value case of the edge cases computes: a program, its inputs, and hand-computed values of some outputs. */
export interface EdgeProgram {
  readonly program: Program;
  readonly inputs: HostInputs;
  /** L of the tolerance policy (default: the program's longest reduction). */
  readonly reductionLength?: number;
  /** Hand-computed values of some outputs: the interpreter must give them (to 1e-12), a backend within the tolerance policy. */
  readonly expected?: Readonly<Record<string, readonly number[]>>;
  /** A backend must give the hand-computed values exactly (they are exact in f32 whatever the order of operations). */
  readonly exact?: boolean;
}


/** y = a @ b for two inputs of the given shapes. */
export function matmulProgram(a: readonly number[], b: readonly number[]): Program {
  const pb = new ProgramBuilder('mm');
  pb.output('y', pb.emit('matmul', [pb.input('a', f32(...a)), pb.input('b', f32(...b))]));
  return pb.build();
}

/** Binary ops, where and a compare broadcasting 1-sized and missing dims (a bool input among them). */
export function broadcastProgram(): Program {
  const b = new ProgramBuilder('bc');
  const x = b.input('x', f32(3, 1, 7));
  const y = b.input('y', f32(1, 5, 1));
  const z = b.input('z', f32(7));
  const c = b.input('c', tensorType('bool', [5, 1]));
  const s = b.emit('add', [x, y]);
  b.output('s', s);
  b.output('m', b.emit('max', [s, z]));
  b.output('w', b.emit('where', [c, s, z]));
  b.output('cmp', b.emit('lt', [s, z]));
  return b.build();
}

/**
 * NaN, ±inf, ±0 and 3e38 through max/min, exp, log, sqrt, tanh, reductions,
 * softmax (row 1 has -inf and +inf), casts and compares; i32 values that
 * overflow when added, multiplied, negated and made absolute.
 */
export function specialValuesCase(): { program: Program; inputs: HostInputs } {
  const b = new ProgramBuilder('special');
  const x = b.input('x', f32(2, 4));
  const i = b.input('i', tensorType('i32', [2, 4]));
  b.output('add', b.emit('add', [x, x]));
  b.output('max', b.emit('max', [x, b.emit('neg', [x])]));
  b.output('min', b.emit('min', [x, b.emit('neg', [x])]));
  b.output('exp', b.emit('exp', [x]));
  b.output('log', b.emit('log', [x]));
  b.output('sqrt', b.emit('sqrt', [x]));
  b.output('tanh', b.emit('tanh', [x]));
  b.output('rmax', b.emit('reduce_max', [x], { axes: [1] }));
  b.output('rsum', b.emit('reduce_sum', [x], { axes: [0] }));
  b.output('soft', b.emit('softmax', [x], { axis: -1 }));
  b.output('toint', b.emit('cast', [x], { to: 'i32' }));
  b.output('tobool', b.emit('cast', [x], { to: 'bool' }));
  b.output('lt', b.emit('lt', [x, b.emit('constant', [], { shape: [], value: [0] })]));
  b.output('ne', b.emit('ne', [x, x]));
  b.output('iadd', b.emit('add', [i, i]));
  b.output('imul', b.emit('mul', [i, i]));
  b.output('ineg', b.emit('neg', [i]));
  b.output('iabs', b.emit('abs', [i]));
  return {
    program: b.build(),
    inputs: {
      x: Float32Array.from([NaN, Infinity, -Infinity, 0, -0, 1, -2, 3e38]),
      i: Int32Array.from([2147483647, -2147483648, 65536, -1, 0, 7, 46341, -46341]),
    },
  };
}

/** A Linear layer's shapes: an input read transposed (A^T) and a weight [out, in] read as W^T, both through fused views. */
export function transposedMatmul(): EdgeProgram {
  const pb = new ProgramBuilder('mmT');
  const a = pb.emit('transpose', [pb.input('a', f32(37, 70))], { perm: [1, 0] });
  const w = pb.emit('transpose', [pb.param('w', f32(45, 37))], { perm: [1, 0] });
  pb.output('y', pb.emit('matmul', [a, w]));
  const program = pb.build();
  return { program, inputs: inputsFor(program, 4), reductionLength: 37 };
}

/** softmax of a row of only -inf is NaN, as PyTorch; -inf entries elsewhere get 0. */
export function softmaxRows(): EdgeProgram {
  const b = new ProgramBuilder('rows');
  b.output('y', b.emit('softmax', [b.input('x', f32(2, 3))], { axis: -1 }));
  return { program: b.build(), inputs: { x: Float32Array.from([-Infinity, -Infinity, -Infinity, -Infinity, 0, 0]) }, expected: { y: [NaN, NaN, NaN, 0, 0.5, 0.5] }, exact: true };
}

/** IEEE pow: 1 for 1^NaN, 1^inf and (-1)^inf, NaN for (-2)^0.5, signs for odd exponents, zeros and infinities by the table. */
export function ieeePow(): EdgeProgram {
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
export const row = (n: number, f: (j: number) => number): number[] => Array.from({ length: n }, (_, j) => f(j));

/**
 * argmax/argmin along rows of 37 (4-lane vectors and a tail): ties go to the
 * first index, NaN beats +inf (its first occurrence), a row of only -inf
 * gives 0, 0 and -0 tie; i32 rows with the extremes of the range; along
 * axis 0 with keepdims (checked against the interpreter).
 */
export function argExtremes(): EdgeProgram {
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
export function truthAndProducts(): EdgeProgram {
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
export function logSumExpRows(): EdgeProgram {
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
export function runningSums(): EdgeProgram {
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
