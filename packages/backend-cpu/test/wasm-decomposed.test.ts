import { describe, expect, it } from 'vitest';
import { ProgramBuilder, erf, tensorType } from '@tessera/ir';
import { lowerToKernels } from '@tessera/passes';
import { effectiveTolerance, elementClose } from '@tessera/harness';
import { compileWasm, emitWasmProgram } from '../src/index.ts';

/** A program of `n` independent kernels, each `op` of its own [257] input (odd: vector loop and scalar tail). */
function manyOf(op: 'erf' | 'tanh' | 'gelu', n: number) {
  const b = new ProgramBuilder(`${op}x${n}`);
  for (let i = 0; i < n; i++) b.output(`y${i}`, b.emit(op, [b.input(`x${i}`, tensorType('f32', [257]))]));
  return lowerToKernels(b.build(), { fusion: false });
}

const moduleBytes = (op: 'erf' | 'tanh' | 'gelu', n: number) => emitWasmProgram(manyOf(op, n), { threads: 1 }).bytes.length;

describe('wasm: erf is one module function, not a polynomial inlined per kernel', () => {
  it('each further erf kernel costs about what a tanh kernel (a call) costs', () => {
    const perErf = (moduleBytes('erf', 6) - moduleBytes('erf', 1)) / 5;
    const perTanh = (moduleBytes('tanh', 6) - moduleBytes('tanh', 1)) / 5;
    // Inlined, each erf kernel carried the polynomial twice (scalar and f32x4 paths): several times a tanh kernel.
    expect(perErf).toBeLessThan(1.25 * perTanh);
  });

  it('erf and gelu match the float64 reference over a dense grid and the specials, scalar tail included', async () => {
    const grid = Float32Array.from({ length: 257 }, (_, i) => (i - 128) / 24);
    grid.set([NaN, Infinity, -Infinity, -0, 0, 1e-30, 9.5, -9.5], 0);
    const tol = effectiveTolerance();
    for (const op of ['erf', 'gelu'] as const) {
      const exe = await compileWasm(manyOf(op, 2), { threads: 1 });
      try {
        const out = await exe.run({ x0: grid, x1: grid.map((v) => -v) });
        for (const [name, sign] of [['y0', 1], ['y1', -1]] as const) {
          const got = out[name]!.data as Float32Array;
          grid.forEach((v, i) => {
            const x = sign * v;
            const want = op === 'erf' ? erf(x) : 0.5 * x * (1 + erf(x / Math.SQRT2));
            if (!elementClose(got[i]!, want, tol)) throw new Error(`${op}(${x}) = ${got[i]}, want ${want}`);
          });
        }
      } finally {
        exe.dispose();
      }
    }
  });
});
