import { describe, expect, it } from 'vitest';
import { type BufferDecl, E, type Expr, type Kernel, type KernelProgram, assertKernelProgram, inPlacePair, lifetimes, mapIsInjective, verifyMemoryPlan } from '../src/index.ts';

const N = 96; // f32 elements: 384 bytes, more than one 256-byte arena step, so partial overlaps exist

const buf = (name: string, role: BufferDecl['role'], arenaOffset?: number, dtype: BufferDecl['dtype'] = 'f32'): BufferDecl => ({
  name,
  dtype,
  shape: [N],
  size: N,
  role,
  ...(arenaOffset !== undefined ? { arenaOffset } : {}),
});
const at = (buffer: number, strides = [1], offset = 0): Expr => E.load('f32', buffer, { offset, strides });
const map = (name: string, buffer: number, value: Expr, strides = [1]): Kernel => ({ kind: 'map', name, shape: [N], stores: [{ buffer, map: { offset: 0, strides }, value }] });

/**
 * The Mixer's shape in miniature: a = x * 2 and b = x + 1 (both temps),
 * c = a + b (both die here: c may go in place over either), y = c * 3.
 * Offsets of a, b, c in bytes (undefined: not in the arena).
 */
function program(a?: number, b?: number, c?: number, cValue: Expr = E.binary('add', at(1), at(2))): KernelProgram {
  return {
    name: 'mini',
    buffers: [buf('x', 'input'), buf('a', 'temp', a), buf('b', 'temp', b), buf('c', 'temp', c), buf('y', 'output')],
    kernels: [
      map('k0_mul', 1, E.binary('mul', at(0), E.const('f32', 2))),
      map('k1_add', 2, E.binary('add', at(0), E.const('f32', 1))),
      map('k2_add', 3, cValue),
      map('k3_mul', 4, E.binary('mul', at(3), E.const('f32', 3))),
    ],
    inputs: [{ name: 'x', buffer: 0 }],
    outputs: [{ name: 'y', buffer: 4 }],
    arenaBytes: 2048,
  };
}

describe('memory plan verifier', () => {
  it('accepts disjoint placements and an in-place result exactly over a dying operand', () => {
    expect(verifyMemoryPlan(program(0, 512, 1024))).toEqual([]);
    expect(verifyMemoryPlan(program(0, 512, 0))).toEqual([]);
    expect(verifyMemoryPlan(program(0, 512, 512))).toEqual([]);
    expect(verifyMemoryPlan(program())).toEqual([]);
  });

  it('rejects a result placed partly over its operands (the Mixer bug), naming both buffers of each pair', () => {
    const problems = verifyMemoryPlan(program(0, 512, 256));
    expect(problems).toEqual([
      'memory plan: %a (bytes 0..384, live in kernels k0_mul..k2_add) and %c (bytes 256..640, live in kernels k2_add..k3_mul) share bytes while both are live',
      'memory plan: %b (bytes 512..896, live in kernels k1_add..k2_add) and %c (bytes 256..640, live in kernels k2_add..k3_mul) share bytes while both are live',
    ]);
    expect(() => assertKernelProgram(program(0, 512, 256))).toThrow(/%a .* and %c .* share bytes while both are live/);
  });

  it('rejects two values live together at one offset unless the kernel is elementwise in place', () => {
    expect(verifyMemoryPlan(program(0, 0, 1024))).toHaveLength(1);
    // c reads a reversed: element i of a is read after c[N-1-i] overwrote it.
    const reversed = E.binary('add', at(1, [-1], N - 1), at(2));
    expect(verifyMemoryPlan(program(0, 512, 0, reversed))).toHaveLength(1);
    expect(verifyMemoryPlan(program(0, 512, 512, reversed))).toEqual([]);
  });

  it('rejects misaligned offsets, offsets past the arena, and non-temporaries in the arena', () => {
    expect(verifyMemoryPlan(program(0, 512, 1040))).toEqual(['memory plan: %c has arena offset 1040, not a multiple of 256']);
    expect(verifyMemoryPlan(program(0, 512, 1792))).toEqual(["memory plan: %c ends at byte 2176, beyond the arena's 2048 bytes"]);
    const p = program(0, 512, 1024);
    expect(verifyMemoryPlan({ ...p, buffers: p.buffers.map((b) => (b.name === 'x' ? { ...b, arenaOffset: 1536 } : b)) })).toEqual(['memory plan: %x is input, but only temporaries live in the arena']);
  });

  it('knows which pairs are in place and what each lifetime is', () => {
    const p = program(0, 512, 0);
    const lives = lifetimes(p);
    expect(lives.map((l) => [p.buffers[l.buffer]!.name, l.first, l.last])).toEqual([
      ['a', 0, 2],
      ['b', 1, 2],
      ['c', 2, 3],
    ]);
    const [a, b, c] = lives as [(typeof lives)[0], (typeof lives)[0], (typeof lives)[0]];
    expect(inPlacePair(p, a, c)).toBe(true);
    expect(inPlacePair(p, c, b)).toBe(true);
    expect(inPlacePair(p, a, b)).toBe(false);
  });

  it('decides injectivity of affine maps over a box', () => {
    expect(mapIsInjective({ offset: 0, strides: [8, 1] }, [4, 8])).toBe(true);
    expect(mapIsInjective({ offset: 0, strides: [1, 4] }, [4, 8])).toBe(true);
    expect(mapIsInjective({ offset: 0, strides: [4, 1] }, [4, 8])).toBe(false);
    expect(mapIsInjective({ offset: 0, strides: [0, 1] }, [2, 8])).toBe(false);
    expect(mapIsInjective({ offset: 0, strides: [0, 1] }, [1, 8])).toBe(true);
    expect(mapIsInjective({ offset: 7, strides: [-1] }, [8])).toBe(true);
  });
});
