import { describe, expect, it } from 'vitest';
import { ProgramBuilder, interpret, tensorType } from '@tessera/ir';
import { lowerToKernels } from '@tessera/passes';
import { compileJs, emitJsProgram, printJsProgram } from '../src/index.ts';

describe('cpu smoke', () => {
  it('matches the interpreter on attention + layer norm + gather + batched matmul', async () => {
    const b = new ProgramBuilder('att');
    const q = b.input('q', tensorType('f32', [2, 3, 4]));
    const k = b.input('k', tensorType('f32', [2, 5, 4]));
    const v = b.input('v', tensorType('f32', [2, 5, 2]));
    const m = b.input('m', tensorType('bool', [3, 5]));
    const o = b.emit('attention', [q, k, v, m]);
    const t = b.emit('transpose', [o], { perm: [2, 0, 1] });
    const r = b.emit('reshape', [t], { shape: [4, 3] });
    const w = b.param('w', tensorType('f32', [3]));
    const ln = b.emit('layer_norm', [r, w, w]);
    const idx = b.emit('constant', [], { shape: [2], dtype: 'i32', value: [3, 1] });
    const g = b.emit('gather', [ln, idx], { axis: 0 });
    const c = b.emit('concat', [g, ln], { axis: 0 });
    const pd = b.emit('pad', [c], { low: [1, 0], high: [0, 2], value: 7 });
    const gl = b.emit('gelu', [pd]);
    b.output('o', gl);
    b.output('t', t);
    const p = b.build();
    const rnd = (n: number) => Float32Array.from({ length: n }, (_, i) => Math.sin(i * 1.7));
    const inputs = { q: rnd(24), k: rnd(40), v: rnd(20), m: Uint8Array.from({ length: 15 }, (_, i) => (i % 3 ? 1 : 0)), w: Float32Array.from([1, 2, 3]) };
    const ref = interpret(p, inputs);
    const kp = lowerToKernels(p);
    expect(printJsProgram(emitJsProgram(kp))).toContain('function k');
    const exe = compileJs(kp);
    const got = await exe.run(inputs);
    for (const name of ['o', 't']) {
      const e = ref[name]!.data;
      const a = got[name]!.data;
      expect(a.length).toBe(e.length);
      for (let i = 0; i < e.length; i++) expect(Math.abs(a[i]! - e[i]!)).toBeLessThan(1e-5 * (1 + Math.abs(e[i]!)));
    }
  });
});
