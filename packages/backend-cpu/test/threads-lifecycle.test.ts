/**
 * The pool's workers hold the process only while a compile awaits their
 * acknowledgement: a script that compiles, runs and returns exits by itself
 * (Node's `message` listener refs a worker, so the pool unrefs it after).
 * A worker dying during a run never hangs the process: in a child process,
 * so a hang fails the test instead of the test runner.
 */
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const here = dirname(fileURLToPath(import.meta.url));

describe('thread pool lifecycle in Node', () => {
  it('a script that compiles and runs on 2 threads exits by itself once done', () => {
    const r = spawnSync(process.execPath, ['--import', 'tsx', join(here, 'fixtures/exit-after-run.ts')], { encoding: 'utf8', timeout: 15_000 });
    // A timeout (a worker keeping the process alive) leaves status null.
    expect(r.status, r.stderr).toBe(0);
    // Each row of a softmax sums to 1.
    expect(r.stdout.trim()).toBe('threads=2 sum=1.000');
  });

  it('a worker killed during a run (exit, uncaught error, terminate) fails that run only; the script then exits by itself', () => {
    const r = spawnSync(process.execPath, ['--import', 'tsx', join(here, 'fixtures/worker-death.ts')], { encoding: 'utf8', timeout: 30_000 });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout.trim().split('\n')).toEqual(['exit', 'throw', 'terminate'].map((kind) => `${kind}: worker 1 died, then sum=1.000`));
  });
});
