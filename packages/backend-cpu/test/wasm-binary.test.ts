import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FunctionBuilder, I32, ModuleBuilder, V128, sleb, uleb } from '../src/wasm/binary.ts';
import { OP, SIMD } from '../src/wasm/opcodes.ts';

/** Reads a LEB128 number (signed or not) back from bytes: the decoder the spec defines. */
function readLeb(bytes: readonly number[], signed: boolean): number {
  let result = 0;
  let shift = 0;
  let b = 0;
  let i = 0;
  do {
    b = bytes[i++]!;
    result += (b & 0x7f) * 2 ** shift;
    shift += 7;
  } while (b & 0x80);
  if (i !== bytes.length) throw new Error(`${bytes.length - i} bytes after the number`);
  if (signed && b & 0x40) result -= 2 ** shift;
  return result;
}

describe('wasm binary emitter', () => {
  it('encodes LEB128 as the spec examples', () => {
    expect(uleb(0)).toEqual([0]);
    expect(uleb(127)).toEqual([0x7f]);
    expect(uleb(128)).toEqual([0x80, 0x01]);
    expect(uleb(624485)).toEqual([0xe5, 0x8e, 0x26]);
    expect(sleb(0)).toEqual([0]);
    expect(sleb(-1)).toEqual([0x7f]);
    expect(sleb(63)).toEqual([0x3f]);
    expect(sleb(64)).toEqual([0xc0, 0x00]);
    expect(sleb(-64)).toEqual([0x40]);
    expect(sleb(-128)).toEqual([0x80, 0x7f]);
    expect(sleb(-123456)).toEqual([0xc0, 0xbb, 0x78]);
    expect(() => uleb(-1)).toThrow(/not a non-negative integer/);
  });

  it('LEB128 decodes back to the number (unsigned up to 2^32, signed over i32)', () => {
    fc.assert(fc.property(fc.integer({ min: 0, max: 2 ** 32 - 1 }), (n) => readLeb(uleb(n), false) === n));
    fc.assert(fc.property(fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }), (n) => readLeb(sleb(n), true) === n));
  });

  it('builds a module over an imported shared memory whose SIMD loop runs (sum of n floats)', () => {
    const m = new ModuleBuilder();
    m.importMemory('env', 'memory', 1, 2, true);
    const f = new FunctionBuilder([I32, I32], [I32]);
    const i = f.local(I32);
    const acc = f.local(V128);
    f.i32x4(0).set(acc);
    f.for(i, () => f.i32(0), () => f.get(1), 4, () => {
      f.get(acc).get(0).get(i).i32(2).op(OP.i32_shl, OP.i32_add).simdMem(SIMD.v128_load, 2).simd(SIMD.i32x4_add).set(acc);
    });
    for (let l = 0; l < 4; l++) {
      f.get(acc).simdLane(SIMD.i32x4_extract_lane, l);
      if (l) f.op(OP.i32_add);
    }
    m.addFunc(f, 'sum');
    const bytes = m.encode();
    expect(WebAssembly.validate(bytes)).toBe(true);
    const memory = new WebAssembly.Memory({ initial: 1, maximum: 2, shared: true });
    const { exports } = new WebAssembly.Instance(new WebAssembly.Module(bytes), { env: { memory } });
    new Int32Array(memory.buffer, 64, 12).set(Array.from({ length: 12 }, (_, k) => k * k));
    expect((exports.sum as (p: number, n: number) => number)(64, 12)).toBe(506);
    // An empty range skips the loop entirely.
    expect((exports.sum as (p: number, n: number) => number)(64, 0)).toBe(0);
  });

  it('refuses a branch to a label that is not open and imports after definitions', () => {
    const f = new FunctionBuilder([], []);
    let outer: Parameters<FunctionBuilder['br']>[0] | undefined;
    f.block((l) => (outer = l));
    expect(() => f.br(outer!)).toThrow(/not open/);
    const m = new ModuleBuilder();
    m.addFunc(new FunctionBuilder([], []));
    expect(() => m.importFunc('m', 'f', [], [])).toThrow(/imports come first/);
    expect(() => m.importMemory('env', 'memory', 1, undefined, true)).toThrow(/shared memory needs a maximum/);
  });
});
