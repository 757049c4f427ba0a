import { describe, expect, it } from 'vitest';
import { TesseraError } from '@tessera/ir';
import { MAX_THREADS, createCpuBackend } from '../src/index.ts';

describe('createCpuBackend options', () => {
  it('threads: an integer in [1, MAX_THREADS], else a TesseraError saying so', () => {
    expect(MAX_THREADS).toBe(256);
    for (const threads of [1, 2, MAX_THREADS]) expect(createCpuBackend({ threads }).name).toBe('cpu');
    for (const threads of [0, -1, 1.5, NaN, MAX_THREADS + 1, 1000]) {
      expect(() => createCpuBackend({ threads })).toThrow(TesseraError);
      expect(() => createCpuBackend({ threads })).toThrow(`cpu backend: threads must be an integer in [1, 256], got ${threads}`);
    }
  });
});
