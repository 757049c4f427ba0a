import { describe, expect, it } from 'vitest';
import { ProgramBuilder, interpret, tensorType } from '@tessera/ir';
import { lowerToKernels } from '@tessera/passes';
import { describeMismatch } from '@tessera/harness';
import { compileWasm, emitWasmProgram } from '../src/index.ts';
import { getThreadPool } from '../src/threads/pool.ts';

const f32 = (...shape: number[]) => tensorType('f32', shape);

/** gelu(x * y + x) over [rows, cols], and its row softmax: a map kernel, reductions and row stores, all large enough to split. */
function program(rows: number, cols: number) {
  const b = new ProgramBuilder('big');
  const x = b.input('x', f32(rows, cols));
  const y = b.input('y', f32(cols));
  const h = b.emit('gelu', [b.emit('add', [b.emit('mul', [x, y]), x])]);
  b.output('h', h);
  b.output('s', b.emit('softmax', [h], { axis: -1 }));
  return b.build();
}

const values = (n: number, seed: number) => Float32Array.from({ length: n }, (_, i) => Math.sin(i * 0.37 + seed));

describe('wasm target on worker threads', () => {
  it('splits large kernels across threads with the same results as one thread, bit for bit (default split thresholds)', async () => {
    const p = program(64, 1000);
    const inputs = { x: values(64000, 1), y: values(1000, 2) };
    const kp = lowerToKernels(p);
    const results = [];
    for (const threads of [1, 2, 3]) {
      const exe = await compileWasm(kp, { threads });
      results.push(await exe.run(inputs));
      exe.dispose();
    }
    const expected = interpret(p, inputs);
    for (const name of ['h', 's']) {
      expect(describeMismatch(results[0]![name]!.data, expected[name]!.data, { reductionLength: 1000 })).toBeUndefined();
      // Each element is computed by the same code whichever thread owns it.
      expect(Array.from(results[1]![name]!.data)).toEqual(Array.from(results[0]![name]!.data));
      expect(Array.from(results[2]![name]!.data)).toEqual(Array.from(results[0]![name]!.data));
    }
  });

  it('creates one pool per process and reuses it: more executables add no workers', async () => {
    const kp = lowerToKernels(program(8, 40));
    const first = await compileWasm(kp, { threads: 2 });
    const pool = await getThreadPool(0);
    const size = pool.size;
    expect(size).toBeGreaterThanOrEqual(1);
    const others = await Promise.all([1, 2, 3].map(() => compileWasm(kp, { threads: 2 })));
    expect(await getThreadPool(0)).toBe(pool);
    expect(pool.size).toBe(size);
    // Interleaved runs of different executables on the same pool stay correct.
    const inputs = { x: values(320, 3), y: values(40, 4) };
    const expected = interpret(program(8, 40), inputs).s!.data;
    for (const exe of [first, ...others, first]) expect(describeMismatch((await exe.run(inputs)).s!.data, expected, { reductionLength: 40 })).toBeUndefined();
    for (const exe of [first, ...others]) exe.dispose();
    await expect(first.run(inputs)).rejects.toThrow(/disposed/);
  });

  it("reports an error raised in a worker's share of a kernel, and the next run works", async () => {
    // A gather of 4000 rows split across two threads: a bad index near the end falls in thread 1's share.
    const b = new ProgramBuilder('g');
    b.output('y', b.emit('gather', [b.input('t', f32(10, 8)), b.input('i', tensorType('i32', [4000]))]));
    const p = b.build();
    const kp = lowerToKernels(p);
    const plan = emitWasmProgram(kp, { threads: 2 });
    expect(plan.kernels.every((k) => k.kind === 'wasm')).toBe(true);
    const exe = await compileWasm(kp, { threads: 2 });
    const t = Float32Array.from({ length: 80 }, (_, k) => k);
    const bad = Int32Array.from({ length: 4000 }, (_, k) => (k === 3990 ? 10 : k % 10));
    await expect(exe.run({ t, i: bad })).rejects.toThrow(/index 10 at position 3990 of the indices is out of range \[0, 10\)/);
    const good = Int32Array.from({ length: 4000 }, (_, k) => k % 10);
    const out = (await exe.run({ t, i: good })).y!.data;
    expect(Array.from(out.subarray(3990 * 8, 3991 * 8))).toEqual(Array.from(t.subarray(0, 8)));
    exe.dispose();
  });

  it('runs with more threads than cores (the barrier sleeps on the futex instead of spinning forever)', async () => {
    const p = program(16, 300);
    const inputs = { x: values(4800, 5), y: values(300, 6) };
    const exe = await compileWasm(lowerToKernels(p), { threads: 5, minParallelWork: 0 });
    const got = await exe.run(inputs);
    exe.dispose();
    expect(describeMismatch(got.s!.data, interpret(p, inputs).s!.data, { reductionLength: 300 })).toBeUndefined();
  });
});
