import { describe, expect, it } from 'vitest';
import { ProgramBuilder, tensorType } from '@tessera/ir';
import { type Kernel, type ReduceKernel, printKernelProgram } from '@tessera/kernel';
import { lowerToKernels } from '../src/index.ts';

const f32 = (...shape: number[]) => tensorType('f32', shape);

/** The one kernel a single-root program lowers to. */
function onlyKernel(build: (b: ProgramBuilder) => void): ReduceKernel {
  const b = new ProgramBuilder('p');
  build(b);
  const kp = lowerToKernels(b.build());
  expect(kp.kernels.length, printKernelProgram(kp)).toBe(1);
  const k: Kernel = kp.kernels[0]!;
  if (k.kind !== 'reduce') throw new Error(`expected a reduce kernel, got ${k.kind}`);
  return k;
}

describe('lowering of the reduction-like ops: one kernel each, prologues and epilogues fused', () => {
  it('argmax: the maximum, then the least index holding it (NaN test included), an elementwise prologue inline', () => {
    const k = onlyKernel((b) => b.output('y', b.emit('argmax', [b.emit('exp', [b.input('x', f32(3, 7))])], { axis: 0, keepdims: true })));
    expect(k.stages.map((s) => [s.name, s.combiner, s.dtype])).toEqual([
      ['best', 'max', 'f32'],
      ['at', 'min', 'i32'],
    ]);
    expect(k.shape).toEqual([7, 3]);
    expect(k.stores.map((s) => s.value)).toEqual([{ k: 'ref', dtype: 'i32', name: 'at' }]);
  });

  it('argmin of i32: no NaN test; reduce_min, reduce_prod: one stage with their combiner', () => {
    const k = onlyKernel((b) => b.output('y', b.emit('argmin', [b.input('x', tensorType('i32', [3, 7]))], { axis: 1 })));
    expect(k.stages.map((s) => s.combiner)).toEqual(['min', 'min']);
    expect(JSON.stringify(k.stages[1]!.value)).not.toMatch(/"op":"ne"/);
    expect(onlyKernel((b) => b.output('y', b.emit('reduce_prod', [b.input('x', f32(3, 7))], { axes: [1] }))).stages.map((s) => s.combiner)).toEqual(['prod']);
    expect(onlyKernel((b) => b.output('y', b.emit('reduce_min', [b.input('x', f32(3, 7))], { axes: [0, 1] }))).stages.map((s) => s.combiner)).toEqual(['min']);
  });

  it('any/all and max/min of bool fold i32 0/1 (no bool accumulators) and store a bool', () => {
    for (const [op, combiner, dtype] of [['reduce_any', 'max', 'f32'], ['reduce_all', 'min', 'i32'], ['reduce_max', 'max', 'bool'], ['reduce_min', 'min', 'bool']] as const) {
      const k = onlyKernel((b) => b.output('y', b.emit(op, [b.input('x', tensorType(dtype, [3, 7]))], { axes: [1] })));
      expect(k.stages.map((s) => [s.combiner, s.dtype])).toEqual([[combiner, 'i32']]);
      expect(k.stores[0]!.value).toEqual({ k: 'cast', dtype: 'bool', x: { k: 'ref', dtype: 'i32', name: 'r' } });
    }
  });

  it('logsumexp: max and shifted sum in one kernel; log_softmax: a row kernel with its epilogue', () => {
    expect(onlyKernel((b) => b.output('y', b.emit('logsumexp', [b.input('x', f32(3, 7))], { axes: [0, 1] }))).stages.map((s) => s.name)).toEqual(['max', 'sum']);
    const ls = onlyKernel((b) => b.output('y', b.emit('add', [b.emit('log_softmax', [b.input('x', f32(3, 7))], { axis: 0 }), b.input('r', f32(3, 7))])));
    expect(ls.rowStores.length).toBe(1);
    expect(ls.rowStores[0]!.value).toMatchObject({ k: 'binary', op: 'add' });
    expect(ls.scan).toBeUndefined();
  });

  it('cumsum: a scan kernel (row stores see running values) along its axis, prologue and epilogue fused', () => {
    const k = onlyKernel((b) => b.output('y', b.emit('mul', [b.emit('cumsum', [b.emit('neg', [b.input('x', f32(3, 7))])], { axis: 0 }), b.input('s', f32(3, 7))])));
    expect(k.scan).toBe(true);
    expect(k.shape).toEqual([7, 3]);
    expect(k.stages.map((s) => [s.name, s.combiner])).toEqual([['sum', 'sum']]);
    expect(k.stores).toEqual([]);
    expect(k.rowStores[0]!.value).toMatchObject({ k: 'binary', op: 'mul' });
  });
});
