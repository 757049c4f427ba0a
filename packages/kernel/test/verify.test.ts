import { describe, expect, it } from 'vitest';
import { ProgramBuilder, tensorType } from '@tessera/ir';
import { lowerToKernels } from '@tessera/passes';
import { type BufferDecl, E, type Kernel, type KernelProgram, verifyKernelProgram } from '../src/index.ts';

const buf = (name: string, role: BufferDecl['role'], shape: number[], dtype: BufferDecl['dtype'] = 'f32'): BufferDecl => ({
  name,
  dtype,
  shape,
  size: shape.reduce((a, b) => a * b, 1),
  role,
});

/** y[i] = x[i] + 1 over [4]: a valid program to corrupt. */
function base(kernels?: Kernel[], buffers?: BufferDecl[]): KernelProgram {
  return {
    name: 'p',
    buffers: buffers ?? [buf('x', 'input', [4]), buf('y', 'output', [4])],
    kernels: kernels ?? [
      {
        kind: 'map',
        name: 'k0',
        shape: [4],
        stores: [{ buffer: 1, map: { offset: 0, strides: [1] }, value: E.binary('add', E.load('f32', 0, { offset: 0, strides: [1] }), E.const('f32', 1)) }],
      },
    ],
    inputs: [{ name: 'x', buffer: 0 }],
    outputs: [{ name: 'y', buffer: 1 }],
  };
}

const mapStore = (buffer: number, value: ReturnType<typeof E.load>, strides = [1], offset = 0): Kernel => ({ kind: 'map', name: 'k0', shape: [4], stores: [{ buffer, map: { offset, strides }, value }] });

describe('kernel program verifier', () => {
  it('accepts a valid program and every lowered program', () => {
    expect(verifyKernelProgram(base())).toEqual([]);
    const b = new ProgramBuilder();
    const x = b.input('x', tensorType('f32', [3, 5]));
    b.output('y', b.emit('softmax', [b.emit('transpose', [x], { perm: [1, 0] })], { axis: 0 }));
    expect(verifyKernelProgram(lowerToKernels(b.build()))).toEqual([]);
  });

  it('rejects accesses outside a buffer over the iteration space', () => {
    expect(verifyKernelProgram(base([mapStore(1, E.load('f32', 0, { offset: 1, strides: [1] }))]))).toEqual(['kernel k0: load of %x reaches offsets 1..4 outside [0, 4)']);
    expect(verifyKernelProgram(base([mapStore(1, E.load('f32', 0, { offset: 0, strides: [1] }), [2])]))).toEqual(['kernel k0: store to %y reaches offsets 0..6 outside [0, 4)']);
  });

  it('rejects dtype mismatches, stores to inputs, unwritten outputs and reads before writes', () => {
    expect(verifyKernelProgram(base([mapStore(1, E.load('i32', 0, { offset: 0, strides: [1] }))]))).toEqual([
      'kernel k0: stores i32 into %y of f32',
      'kernel k0: load of %x as i32, but the buffer holds f32',
    ]);
    expect(verifyKernelProgram(base([mapStore(0, E.load('f32', 0, { offset: 0, strides: [1] }))]))).toEqual([
      'kernel k0: stores to read-only buffer %x (input)',
      "output 'y' (%y) is never written",
    ]);
    const withTemp = [buf('x', 'input', [4]), buf('y', 'output', [4]), buf('t', 'temp', [4])];
    expect(verifyKernelProgram(base([mapStore(1, E.load('f32', 2, { offset: 0, strides: [1] }))], withTemp))).toEqual(['kernel k0: reads %t before any kernel writes it']);
  });

  it('rejects axes a kernel site may not depend on, and undefined scalar refs', () => {
    const bad: Kernel = {
      kind: 'reduce',
      name: 'k0',
      shape: [4],
      reduceRank: 1,
      stages: [{ name: 'r', combiner: 'sum', dtype: 'f32', value: E.load('f32', 0, { offset: 0, strides: [1] }) }],
      // The per-row store may not move along the reduced axis, nor read a scalar never computed.
      stores: [{ buffer: 1, map: { offset: 0, strides: [1] }, value: E.ref('f32', 'nope') }],
      rowStores: [],
    };
    expect(verifyKernelProgram(base([bad]))).toEqual(["kernel k0: store to %y has stride 1 on axis 0, expected 0", "kernel k0: reference to 'nope' which is not defined here"]);
  });
});
