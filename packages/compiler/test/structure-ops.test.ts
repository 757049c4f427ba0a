/**
 * tril, triu, where with scalar branches, expand with -1 and rms_norm in one
 * traced program, on every backend configuration against the interpreter.
 */
import { describe, expect, it } from 'vitest';
import { type Tensor, ops, trace } from '@tessera/frontend';
import { compareClose, inputsFor } from '@tessera/harness';
import { compile } from '../src/index.ts';
import { useBackendConfigs } from './backend-configs.ts';

const CONFIGS = useBackendConfigs();

const program = trace(
  (x: Tensor, mask: Tensor, w: Tensor) => {
    const scores = x.matmul(x.mT).tril(1).triu(-2);
    const masked = ops.where(mask, scores, -1.5);
    const normed = ops.rmsNorm(masked.expand(2, -1, -1), 5, w, 1e-3);
    return { normed, ints: ops.where(mask, 1, 0).tril() };
  },
  { x: 'f32[5,3]', mask: 'bool[5,5]', w: 'f32[5]' },
);

describe('tril, triu, where with numbers, expand and rms_norm on every backend', () => {
  it.each(CONFIGS.map((c) => [c.name, c] as const))('%s', async (_, { backend }) => {
    const inputs = inputsFor(program, 3);
    const reference = await compile(program, { backend: 'interp' });
    const want = await reference.run(inputs);
    const exe = await compile(program, { backend: backend(), verify: true });
    try {
      const got = await exe.run(inputs);
      expect(Array.from(got.ints!.data as Int32Array)).toEqual(Array.from(want.ints!.data as Int32Array));
      const cmp = compareClose(got.normed!.data as Float32Array, want.normed!.data as Float32Array, { reductionLength: 5 });
      expect(cmp.ok, JSON.stringify(cmp.worst)).toBe(true);
    } finally {
      exe.dispose();
      reference.dispose();
    }
  });
});
