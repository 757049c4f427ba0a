/**
 * A worker of the pool that dies (terminated from the main thread, an
 * uncaught error outside any kernel, process.exit in the worker), during a
 * run, while idle or while a program loads: nothing hangs, the operation in
 * progress fails within a second with an error naming the worker and how it
 * died, a death while idle fails the next run (it is not lost), and after
 * that runs give the right answer again. Three threads, so a surviving
 * worker must also leave the abandoned run. The deaths come from the pool's
 * test-only injectFault.
 */
import { describe, expect, it } from 'vitest';
import { ProgramBuilder, tensorType } from '@tessera/ir';
import { lowerToKernels } from '@tessera/passes';
import { compileWasm } from '../src/index.ts';
import { getThreadPool } from '../src/threads/pool.ts';

const b = new ProgramBuilder('faults');
const x = b.input('x', tensorType('f32', [64, 200]));
b.output('s', b.emit('softmax', [b.emit('mul', [x, x])], { axis: -1 }));
const kernels = lowerToKernels(b.build());
const inputs = { x: Float32Array.from({ length: 64 * 200 }, (_, i) => Math.sin(i * 0.3)) };
// Every kernel split across the threads: each worker has a share of each.
const compile = (threads: number) => compileWasm(kernels, { threads, minParallelWork: 0 });

/** The right answer: the same program on one thread. */
async function expected(): Promise<number[]> {
  const exe = await compile(1);
  const out = Array.from((await exe.run(inputs)).s!.data);
  exe.dispose();
  return out;
}

/** Milliseconds `p` takes to settle, and its error. */
async function failure(p: Promise<unknown>): Promise<{ ms: number; error: unknown }> {
  const t0 = performance.now();
  try {
    await p;
  } catch (error) {
    return { ms: performance.now() - t0, error };
  }
  throw new Error('expected a failure');
}

const deaths = [
  { kind: 'exit', says: /it called process\.exit\(3\)/ },
  { kind: 'throw', says: /it threw an uncaught Error: injected fault/ },
  { kind: 'terminate', says: /its thread was stopped: terminate\(\)/ },
] as const;

describe('a worker of the thread pool that dies', async () => {
  const right = await expected();
  const exe = await compile(3);
  const pool = await getThreadPool(0);

  it('runs right before any death (the baseline the other cases return to)', async () => {
    expect(exe.threads).toBe(3);
    expect(Array.from((await exe.run(inputs)).s!.data)).toEqual(right);
  });

  for (const { kind, says } of deaths) {
    it(`${kind}, during a run: the run fails within a second naming the worker and why, and the next run is right`, async () => {
      // terminate() is asynchronous: issued just before the run, the worker dies as the run begins (or just before).
      const gone = pool.injectFault(2, kind === 'terminate' ? { kind } : { kind, when: 'run' });
      const { ms, error } = await failure(exe.run(inputs));
      expect(String(error)).toMatch(/^TesseraError: thread pool: worker 2 died/);
      expect(String(error)).toMatch(says);
      expect(ms).toBeLessThan(1000);
      await gone;
      expect(Array.from((await exe.run(inputs)).s!.data)).toEqual(right);
      expect(Array.from((await exe.run(inputs)).s!.data)).toEqual(right);
    });

    it(`${kind}, while idle: the next run reports it (not lost) within a second, and the run after is right`, async () => {
      await pool.injectFault(1, kind === 'terminate' ? { kind } : { kind, when: 'now' });
      const { ms, error } = await failure(exe.run(inputs));
      expect(String(error)).toMatch(/^TesseraError: thread pool: worker 1 died .* while the pool was idle/);
      expect(String(error)).toMatch(says);
      expect(ms).toBeLessThan(1000);
      expect(Array.from((await exe.run(inputs)).s!.data)).toEqual(right);
    });
  }

  it('dies while a program loads: that compile fails within a second, and the next compile runs right', async () => {
    void pool.injectFault(2, { kind: 'exit', when: 'load' });
    const { ms, error } = await failure(compile(3));
    expect(String(error)).toMatch(/^TesseraError: thread pool: worker 2 died while loading program \d+: it called process\.exit\(3\)/);
    expect(ms).toBeLessThan(1000);
    // Reported once: by the failed compile, not again by the next run.
    const again = await compile(3);
    expect(Array.from((await again.run(inputs)).s!.data)).toEqual(right);
    again.dispose();
    expect(Array.from((await exe.run(inputs)).s!.data)).toEqual(right);
  });

  it('a compile after a death while idle does not wait for the dead worker, and the death is still reported once', async () => {
    await pool.injectFault(1, { kind: 'terminate' });
    const other = await compile(2);
    await expect(other.run(inputs)).rejects.toThrow(/worker 1 died .* while the pool was idle/);
    expect(Array.from((await other.run(inputs)).s!.data)).toEqual(right);
    expect(Array.from((await exe.run(inputs)).s!.data)).toEqual(right);
    other.dispose();
  });

  it('two workers dying in one run are both named', async () => {
    void pool.injectFault(1, { kind: 'exit', when: 'run' });
    const gone = pool.injectFault(2, { kind: 'throw', when: 'run' });
    const { error } = await failure(exe.run(inputs));
    await gone;
    // The second may die after the first one's death ended the run: then the next run reports it.
    const both = [String(error)];
    try {
      await exe.run(inputs);
    } catch (e) {
      both.push(String(e));
    }
    expect(both.join('\n')).toMatch(/worker 1 died \(it called process\.exit/);
    expect(both.join('\n')).toMatch(/worker 2 died \(it threw an uncaught Error/);
    expect(Array.from((await exe.run(inputs)).s!.data)).toEqual(right);
  });
});
