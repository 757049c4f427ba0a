/**
 * Hand-built programs every backend's edge-case tests run against the
 * interpreter: matmuls of awkward extents, broadcasting, and IEEE special
 * values with i32 overflow. Defined once here so the CPU and WebGPU tests
 * hold their backends to the same cases.
 */
import { type Program, ProgramBuilder, type TensorType, tensorType } from '@tessera/ir';
import type { HostInputs } from './inputs.ts';

const f32 = (...shape: number[]): TensorType => tensorType('f32', shape);

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
