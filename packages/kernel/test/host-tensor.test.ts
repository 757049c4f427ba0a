import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { TesseraError } from '@tessera/ir';
import { HostTensor, type InputInfo, ensureSymbolDispose, hostTensor, inputArray } from '../src/index.ts';

describe('HostTensor', () => {
  it('takes its dtype from the typed array, dims default to one axis, and dims are a frozen copy', () => {
    const dims = [2, 3];
    const t = hostTensor(new Float32Array(6), dims);
    dims[0] = 7;
    expect([t.dtype, t.dims, t.size, String(t)]).toEqual(['f32', [2, 3], 6, 'HostTensor f32[2,3]']);
    expect(Object.isFrozen(t.dims)).toBe(true);
    expect([new HostTensor(new Int32Array(4)).dtype, hostTensor(new Uint8Array(1)).dtype, hostTensor(new BigInt64Array(2)).dtype]).toEqual(['i32', 'bool', 'i64']);
    expect(hostTensor(new Int32Array(5)).dims).toEqual([5]);
    expect(hostTensor(new Float32Array(0), [0, 3]).dims).toEqual([0, 3]);
    // Typed: a Float32Array's tensor holds a Float32Array.
    const f: Float32Array = hostTensor(Float32Array.of(1, 2)).data;
    expect(f[1]).toBe(2);
  });

  it('keeps the caller\'s array (no copy), as onnxruntime-web\'s Tensor does', () => {
    const data = new Float32Array(4);
    expect(hostTensor(data, [2, 2]).data).toBe(data);
  });

  it('takes typed arrays from another realm (a vm context, a worker)', () => {
    const foreign = runInNewContext('new Float32Array([1, 2, 3, 4])') as Float32Array;
    expect(foreign instanceof Float32Array).toBe(false);
    expect(hostTensor(foreign, [4]).dtype).toBe('f32');
  });

  it('refuses data that is no tensor array, and dims that do not fit it, with a TesseraError saying what', () => {
    const cases: [() => unknown, string][] = [
      [() => new HostTensor(new Float64Array(2) as never), 'HostTensor: data must be a typed array (Float32Array, Int32Array, Uint8Array or BigInt64Array), got Float64Array'],
      [() => new HostTensor([1, 2] as never, [2]), 'HostTensor: data must be a typed array (Float32Array, Int32Array, Uint8Array or BigInt64Array), got object'],
      [() => hostTensor(new Float32Array(6), [4, 4]), 'HostTensor: dims [4,4] need 16 elements, the data has 6'],
      [() => hostTensor(new Float32Array(6), [-2, -3]), 'HostTensor: dims must be an array of non-negative integers, got -2 at axis 0'],
      [() => hostTensor(new Float32Array(6), [6.5]), 'HostTensor: dims must be an array of non-negative integers, got 6.5 at axis 0'],
      [() => hostTensor(new Float32Array(6), '6' as never), 'HostTensor: dims must be an array of non-negative integers, got string'],
    ];
    for (const [make, message] of cases) expect(make).toThrow(new TesseraError(message));
  });
});

describe('inputArray', () => {
  const ids: InputInfo = { name: 'ids', dtype: 'i32', dims: [2, 2], kind: 'activation' };
  const x: InputInfo = { name: 'x', dtype: 'f32', dims: [4], kind: 'activation' };

  it('hands a backend the caller\'s own array when no narrowing is needed (the backend copies it)', () => {
    const data = new Float32Array(4);
    expect(inputArray(x, data)).toBe(data);
    expect(inputArray(x, { data, dims: [4] })).toBe(data);
  });

  it('narrows int64 to a new Int32Array, exactly, at both ends of the i32 range', () => {
    const got = inputArray(ids, BigInt64Array.of(-(2n ** 31n), 0n, 7n, 2n ** 31n - 1n));
    expect(got).toBeInstanceOf(Int32Array);
    expect(Array.from(got)).toEqual([-(2 ** 31), 0, 7, 2 ** 31 - 1]);
    const foreign = runInNewContext('BigInt64Array.of(1n, 2n, 3n, 4n)') as BigInt64Array;
    expect(Array.from(inputArray(ids, foreign))).toEqual([1, 2, 3, 4]);
  });
});

describe('Symbol.dispose', () => {
  it('is defined where the engine lacks it, as the symbol down-levelled `using` falls back to', () => {
    const bare: { dispose?: symbol } = {};
    expect(ensureSymbolDispose(bare)).toBe(Symbol.for('Symbol.dispose'));
    expect(bare.dispose).toBe(Symbol.for('Symbol.dispose'));
    const own = Symbol('own');
    const engine = { dispose: own };
    expect(ensureSymbolDispose(engine)).toBe(own);
    // Node 20.20 has it: it is left as it is.
    expect(ensureSymbolDispose()).toBe(Symbol.dispose);
    expect(Symbol.dispose).not.toBe(Symbol.for('Symbol.dispose'));
  });
});
