import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import {
  SafetensorsError,
  type SafetensorsTensor,
  readSafetensors,
  refTensor,
  refToSafetensor,
  safetensorToRef,
  tensorType,
  writeSafetensors,
} from '../../src/index.ts';
import { readSafetensorsFile, writeSafetensorsFile } from '../../src/node.ts';

describe('safetensors <-> RefTensor', () => {
  const t = (dtype: SafetensorsTensor['dtype'], shape: number[], data: SafetensorsTensor['data']): SafetensorsTensor => ({ dtype, shape, data });

  it('loads F32, F16 and BF16 as f32', () => {
    for (const dtype of ['F32', 'F16', 'BF16'] as const) {
      const r = safetensorToRef('w', t(dtype, [2, 2], new Float32Array([1, -2, 0.5, Infinity])), tensorType('f32', [2, 2]));
      expect(r.type).toEqual(tensorType('f32', [2, 2]));
      expect([...r.data]).toEqual([1, -2, 0.5, Infinity]);
    }
  });

  it('loads I32 and in-range I64 as i32, and names the tensor and element for an out-of-range I64', () => {
    expect([...safetensorToRef('ids', t('I32', [3], new Int32Array([5, -1, 2147483647])), tensorType('i32', [3])).data]).toEqual([5, -1, 2147483647]);
    const ok = safetensorToRef('ids', t('I64', [3], new BigInt64Array([-2147483648n, 0n, 2147483647n])), tensorType('i32', [3]));
    expect([...ok.data]).toEqual([-2147483648, 0, 2147483647]);
    expect(() => safetensorToRef('ids', t('I64', [2], new BigInt64Array([1n, 2147483648n])), tensorType('i32', [2]), 'in.safetensors')).toThrow(
      /^in\.safetensors: tensor 'ids': I64 element 1 is 2147483648, outside the i32 range \[-2147483648, 2147483647\]$/,
    );
    expect(() => safetensorToRef('ids', t('I64', [1], new BigInt64Array([-(2n ** 40n)])), tensorType('i32', [1]))).toThrow(SafetensorsError);
  });

  it('loads BOOL and U8 as bool (nonzero is true)', () => {
    expect([...safetensorToRef('m', t('BOOL', [3], new Uint8Array([1, 0, 1])), tensorType('bool', [3])).data]).toEqual([1, 0, 1]);
    expect([...safetensorToRef('m', t('U8', [3], new Uint8Array([0, 255, 3])), tensorType('bool', [3])).data]).toEqual([0, 1, 1]);
  });

  it('rejects a shape or dtype that does not fit the declared type, naming tensor, expected and found', () => {
    expect(() => safetensorToRef('x', t('F32', [3, 2], new Float32Array(6)), tensorType('f32', [2, 3]), 'in.safetensors')).toThrow(
      "in.safetensors: tensor 'x': shape [3,2] differs from the expected [2,3] (f32[2,3])",
    );
    expect(() => safetensorToRef('x', t('I32', [2], new Int32Array(2)), tensorType('f32', [2]))).toThrow(/tensor 'x': dtype I32 cannot be loaded as f32\[2\] \(expected F32 or F16 or BF16\)/);
    expect(() => safetensorToRef('m', t('F32', [2], new Float32Array(2)), tensorType('bool', [2]))).toThrow(/dtype F32 cannot be loaded as bool\[2\] \(expected BOOL or U8\)/);
    expect(() => safetensorToRef('s', t('F32', [1], new Float32Array(1)), tensorType('f32', []))).toThrow(/shape \[1\] differs from the expected \[\]/);
  });

  it('writes f32 as F32, i32 as I32, bool as BOOL, and reads them back to equal RefTensors (scalars too)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 1, max: 3 }), { maxLength: 3 }),
        fc.constantFrom('f32' as const, 'i32' as const, 'bool' as const),
        fc.integer(),
        (shape, dtype, seed) => {
          const type = tensorType(dtype, shape);
          const n = shape.reduce((a, b) => a * b, 1);
          const vals = Array.from({ length: n }, (_, i) => {
            const x = Math.sin(seed + i * 12.9898) * 43758.5453;
            return dtype === 'f32' ? Math.fround(x) : dtype === 'i32' ? Math.trunc(x) : x > 0 ? 1 : 0;
          });
          const ref = refTensor(type, vals);
          const st = refToSafetensor(ref);
          expect(st.dtype).toBe({ f32: 'F32', i32: 'I32', bool: 'BOOL' }[dtype]);
          expect(st.shape).toEqual(shape);
          const back = safetensorToRef('v', readSafetensors(writeSafetensors({ v: st })).tensors.get('v')!, type);
          expect(back).toEqual(ref);
        },
      ),
      { numRuns: 100 },
    );
  });

  it('rounds float64 interpreter values to f32 when writing', () => {
    const st = refToSafetensor(refTensor(tensorType('f32', [1]), [0.1]));
    expect(st.data[0]).toBe(Math.fround(0.1));
  });
});

describe('safetensors files', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-st-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('writes and reads a file on disk', async () => {
    const path = join(dir, 'w.safetensors');
    await writeSafetensorsFile(path, { w: { dtype: 'F32', shape: [2], data: new Float32Array([1, 2]) } }, { note: 'x' });
    const f = await readSafetensorsFile(path);
    expect([...f.tensors.get('w')!.data]).toEqual([1, 2]);
    expect(f.metadata).toEqual({ note: 'x' });
  });

  it('names the path when the file is missing or malformed', async () => {
    const missing = join(dir, 'nope.safetensors');
    await expect(readSafetensorsFile(missing)).rejects.toThrow(new RegExp(`^${missing.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: cannot read file`));
    const bad = join(dir, 'bad.safetensors');
    const { writeFileSync } = await import('node:fs');
    writeFileSync(bad, new Uint8Array([1, 2, 3]));
    await expect(readSafetensorsFile(bad)).rejects.toThrow(/bad\.safetensors: file is 3 bytes/);
    // A missing directory is created; a path through a file is a clean error naming it.
    await writeSafetensorsFile(join(dir, 'new-dir', 'x.safetensors'), {});
    expect((await readSafetensorsFile(join(dir, 'new-dir', 'x.safetensors'))).tensors.size).toBe(0);
    await expect(writeSafetensorsFile(join(bad, 'x.safetensors'), {})).rejects.toThrow(/bad\.safetensors\/x\.safetensors: cannot write: cannot create its directory .*bad\.safetensors: a file of that name exists where a directory is needed/);
  });
});
