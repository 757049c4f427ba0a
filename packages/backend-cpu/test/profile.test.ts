/**
 * `profile(inputs)` on the CPU targets: one timing per kernel of the
 * program, in launch order, each timed on the host up to the barrier after
 * it; inputs are checked as run checks them; the outputs of runs after a
 * profile are unchanged.
 */
import { describe, expect, it } from 'vitest';
import { ProgramBuilder, tensorType } from '@tessera/ir';
import { compileProgram } from '@tessera/passes';
import { type HostExecutable, compileJs, compileWasm } from '../src/index.ts';

function program() {
  const b = new ProgramBuilder('profiled');
  const x = b.input('x', tensorType('f32', [20, 48]));
  const y = b.emit('matmul', [x, b.param('w', tensorType('f32', [48, 64]))]);
  b.output('y', b.emit('softmax', [b.emit('tanh', [y])], { axis: -1 }));
  return compileProgram(b.build()).kernels;
}

const values = (n: number, seed: number) => Float32Array.from({ length: n }, (_, i) => Math.sin(i * 0.37 + seed));

describe('CPU profile', () => {
  const kp = program();
  const inputs = { x: values(20 * 48, 1), w: values(48 * 64, 2) };
  const targets: [string, () => Promise<HostExecutable>, string][] = [
    ['js', async () => compileJs(kp), 'js'],
    ['wasm, 1 thread', () => compileWasm(kp, { threads: 1, minParallelWork: 0 }), 'wasm'],
    ['wasm, 2 threads', () => compileWasm(kp, { threads: 2, minParallelWork: 0 }), 'wasm, 2 threads'],
  ];
  for (const [label, make, variant] of targets) {
    it(`${label}: every kernel in launch order, timed on the host; runs after it give the same outputs`, async () => {
      const exe = await make();
      try {
        const before = (await exe.run(inputs)).y!.data;
        const timings = await exe.profile(inputs);
        expect(timings.map(({ name, kind }) => ({ name, kind }))).toEqual(kp.kernels.map(({ name, kind }) => ({ name, kind })));
        for (const t of timings) {
          expect(t).toMatchObject({ variant, method: 'host' });
          expect(t.ms).toBeGreaterThanOrEqual(0);
        }
        expect(Array.from((await exe.run(inputs)).y!.data)).toEqual(Array.from(before));
        await expect(exe.profile({ ...inputs, x: new Int32Array(20 * 48) as unknown as Float32Array })).rejects.toThrow("input 'x' must be a Float32Array for dtype f32 (or a tensor { data, dims } of one), got Int32Array");
      } finally {
        exe.dispose();
      }
      await expect(exe.profile(inputs)).rejects.toThrow('this executable has been disposed');
    });
  }
});
