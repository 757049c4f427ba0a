/**
 * Weights packed once when bound (packed-weights.ts): f32 matmuls whose B is
 * a parameter read it from panels packed at setInputs; a parameter read only
 * that way has no buffer of its own (its f32 values are not kept). Checked against the
 * interpreter after binding, binding again, binding in a run, and on 1 and 2
 * threads with tiny blocks; a parameter also read elsewhere keeps its buffer.
 */
import { describe, expect, it } from 'vitest';
import { type Program, ProgramBuilder, interpret, tensorType } from '@tessera/ir';
import { lowerToKernels } from '@tessera/passes';
import { describeMismatch } from '@tessera/harness';
import { compileWasm, emitWasmProgram } from '../src/index.ts';

const f32 = (...shape: number[]) => tensorType('f32', shape);
const values = (n: number, seed: number) => Float32Array.from({ length: n }, (_, i) => Math.sin(i * 0.37 + seed));

/**
 * y = x @ W^T + b, z = x @ W^T again through its own transpose (a tied
 * weight: one pack), u = x @ V (V row-major [k, n]); with `alsoAdded`, V is
 * also read by an elementwise kernel.
 */
function program(m: number, k: number, n: number, alsoAdded: boolean): Program {
  const b = new ProgramBuilder('packed');
  const x = b.input('x', f32(m, k));
  const w = b.param('w', f32(n, k));
  const bias = b.param('b', f32(n));
  const v = b.param('v', f32(k, n));
  b.output('y', b.emit('add', [b.emit('matmul', [x, b.emit('transpose', [w], { perm: [1, 0] })]), bias]));
  b.output('z', b.emit('matmul', [b.emit('neg', [x]), b.emit('transpose', [w], { perm: [1, 0] })]));
  b.output('u', b.emit('matmul', [x, v]));
  if (alsoAdded) b.output('v1', b.emit('add', [v, v]));
  return b.build();
}

const [M, K, N] = [13, 37, 21];

function expectMatches(p: Program, got: Record<string, { data: ArrayLike<number> }>, inputs: Record<string, Float32Array>): void {
  const expected = interpret(p, inputs);
  for (const o of p.outputs) expect(describeMismatch(got[o.name]!.data, expected[o.name]!.data, { reductionLength: K }), o.name).toBeUndefined();
}

describe('weights packed when bound', () => {
  it('packs each parameter B once (a tied weight shares its panels); the parameters nothing else reads get no buffer', () => {
    const kp = lowerToKernels(program(M, K, N, false));
    const plain = emitWasmProgram(kp, { threads: 1 });
    const names = (buffers: readonly number[], p: ReturnType<typeof lowerToKernels>) => buffers.map((i) => p.buffers[i]!.name).sort();
    expect(names(plain.packs.map((pb) => pb.buffer), kp)).toEqual(['v', 'w']);
    expect(names(plain.unstored, kp)).toEqual(['v', 'w']);
    expect(plain.staged).toEqual([]);
    const kpAdded = lowerToKernels(program(M, K, N, true));
    const added = emitWasmProgram(kpAdded, { threads: 1 });
    expect(names(added.packs.map((pb) => pb.buffer), kpAdded)).toEqual(['v', 'w']);
    expect(names(added.unstored, kpAdded)).toEqual(['w']);
  });

  for (const [label, options] of [
    ['1 thread', { threads: 1 }],
    ['2 threads, every kernel split, tiny blocks', { threads: 2, minParallelWork: 0, blocking: { mc: 8, kc: 5, nc: 16, packedA: 0 } }],
  ] as const) {
    for (const alsoAdded of [false, true]) {
      it(`matches the interpreter after setInputs, after binding again and when a run binds them (${label}${alsoAdded ? ', V also read elsewhere' : ''})`, async () => {
        const p = program(M, K, N, alsoAdded);
        const exe = await compileWasm(lowerToKernels(p), options);
        try {
          const x = values(M * K, 1);
          const first = { w: values(N * K, 2), b: values(N, 3), v: values(K * N, 4) };
          exe.setInputs(first);
          expectMatches(p, await exe.run({ x }), { x, ...first });
          // Both weights bound in one call.
          const second = { w: values(N * K, 5), b: first.b, v: values(K * N, 6) };
          exe.setInputs({ w: second.w, v: second.v });
          expectMatches(p, await exe.run({ x }), { x, ...second });
          const third = { ...second, w: values(N * K, 7) };
          expectMatches(p, await exe.run({ x, w: third.w }), { x, ...third });
          // The weights bound by that run stay bound.
          expectMatches(p, await exe.run({ x }), { x, ...third });
        } finally {
          exe.dispose();
        }
      });
    }
  }
});
