import { describe, expect, it } from 'vitest';
import { ProgramBuilder, parseProgram, tensorType } from '@tessera/ir';
import { lowerToKernels } from '@tessera/passes';
import { type BufferDecl, E, type Kernel, type KernelProgram, printKernelProgram, verifyKernelProgram } from '../src/index.ts';

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

  it('holds a scan to reduceRank 1 and row stores only, and prints it as a scan', () => {
    const b = new ProgramBuilder();
    b.output('y', b.emit('cumsum', [b.input('x', tensorType('f32', [3, 5]))], { axis: 0 }));
    const kp = lowerToKernels(b.build());
    expect(verifyKernelProgram(kp)).toEqual([]);
    expect(printKernelProgram(kp)).toMatch(/kernel k0_cumsum scan \[5\] over \[3\]\n {2}nodes %0\n {2}\$sum = sum<f32>\(%x\[a0 \+ 5\*a1\]\)\n {2}row store %0\[a0 \+ 5\*a1\] = \$sum/);
    const k = kp.kernels[0]! as Extract<Kernel, { kind: 'reduce' }>;
    const wide = { ...kp, buffers: [buf('x', 'input', [15]), buf('y', 'output', [15])], kernels: [{ ...k, shape: [1, 5, 3], reduceRank: 2, rowStores: [], stores: [] }] };
    expect(verifyKernelProgram(wide).join('\n')).toMatch(/a scan has reduceRank 1 and row stores only, got reduceRank 2 and 0 store\(s\)/);
    const stored = { ...kp, kernels: [{ ...k, stores: [{ buffer: 1, map: { offset: 0, strides: [1, 0] }, value: E.ref('f32', 'sum') }] }] };
    expect(verifyKernelProgram(stored).join('\n')).toMatch(/got reduceRank 1 and 1 store\(s\)/);
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

  it('checks what a gather error names: its position map within the indices, and one extent per gather node', () => {
    // y[i] = table[ids[i]] with table f32[3] and ids i32[4].
    const buffers = [buf('table', 'input', [3]), buf('ids', 'input', [4], 'i32'), buf('y', 'output', [4])];
    const position = { offset: 0, strides: [1] };
    const gather = (pos = position, positions = 4, node = 'g', extent = 3) =>
      E.load('f32', 0, { offset: 0, strides: [0] }, { index: E.load('i32', 1, { offset: 0, strides: [1] }), stride: 1, extent, site: { node, operands: ['table', 'ids'], position: pos, positions } });
    const program = (...values: ReturnType<typeof gather>[]) =>
      ({ ...base([{ kind: 'map', name: 'k0', shape: [4], stores: values.map((value) => ({ buffer: 2, map: { offset: 0, strides: [1] }, value })) }], buffers), inputs: [{ name: 'table', buffer: 0 }, { name: 'ids', buffer: 1 }], outputs: [{ name: 'y', buffer: 2 }] });
    expect(verifyKernelProgram(program(gather()))).toEqual([]);
    expect(verifyKernelProgram(program(gather({ offset: 1, strides: [1] })))).toEqual(['kernel k0: gather from %table: position map reaches offsets 1..4 outside [0, 4)']);
    expect(verifyKernelProgram(program(gather(position, 0)))).toEqual(['kernel k0: gather from %table: 0 index positions, expected an integer >= 1']);
    expect(verifyKernelProgram(program(gather(position, 4, 'g', 0)))).toContain('kernel k0: gather from %table: extent 0 is not an integer >= 1');
    expect(verifyKernelProgram(program(gather(), gather(position, 4, 'g', 2)))).toEqual(['kernel k0: gather from %table: gather %g has extent 2 and 4 positions here, 3 and 4 elsewhere']);
    expect(verifyKernelProgram(program(gather(), gather(position, 4, 'h', 2)))).toEqual([]);
  });
});

describe('kernel printer', () => {
  it('prints a gather with the node, location and index position its range error names', () => {
    const p = parseProgram('program @e\ninput %ids : i32[2,3]\ninput %t : f32[5,4]\n%e = gather(%t, %ids) {axis = 0} : f32[2,3,4]\noutput e = %e\n', 'e.tir');
    const text = printKernelProgram(lowerToKernels(p));
    expect(text).toContain('store %e[12*a0 + 4*a1 + a2] = %t[a2 + 4*gather<%e @ e.tir:4:1, position 3*a0 + a1 of 6>(%ids[3*a0 + a1]) in [0, 5)]');
  });
});
