/**
 * scripts/setup.sh installs system packages with apt_get
 * (scripts/apt-get-waiting.sh), which waits, bounded, while another apt-get
 * or dpkg holds apt's lock instead of failing. Tested with a fake apt-get
 * on PATH that reports the lock held for its first calls.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../../..');
const dir = mkdtempSync(join(tmpdir(), 'tessera-apt-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Runs `apt_get ARGS` with a fake apt-get that fails with `failure` for its first `failing` calls; its exit code, stderr and the calls made. */
function aptGet(failing: number, failure: string, env: Record<string, string>): { status: number | null; stderr: string; calls: string[] } {
  const calls = join(dir, `calls-${Math.random()}`);
  const fake = join(dir, 'apt-get');
  writeFileSync(
    fake,
    `#!/bin/bash\necho "$*" >> ${JSON.stringify(calls)}\nn=$(wc -l < ${JSON.stringify(calls)})\nif [ "$n" -le ${failing} ]; then echo ${JSON.stringify(failure)} >&2; exit 100; fi\necho installed\n`,
  );
  chmodSync(fake, 0o755);
  const r = spawnSync('bash', ['-c', `. scripts/apt-get-waiting.sh && apt_get install -y libegl1`], {
    cwd: ROOT,
    encoding: 'utf8',
    env: { ...process.env, PATH: `${dir}:${process.env.PATH}`, TESSERA_APT_LOCK_POLL: '0.1', ...env },
  });
  let made: string[] = [];
  try {
    made = readFileSync(calls, 'utf8').trim().split('\n');
  } catch {
    // Never called.
  }
  return { status: r.status, stderr: r.stderr, calls: made };
}

const LOCKED = 'E: Could not get lock /var/lib/dpkg/lock-frontend. It is held by process 4242 (apt-get)';

describe('apt_get (scripts/setup.sh)', () => {
  it('waits while another process holds the lock, then installs; dpkg locks through apt\'s own bounded timeout', () => {
    const r = aptGet(3, LOCKED, { TESSERA_APT_LOCK_WAIT: '60' });
    expect(r.status).toBe(0);
    expect(r.calls).toEqual(Array(4).fill('-o DPkg::Lock::Timeout=60 install -y libegl1'));
    expect(r.stderr).toContain("another apt-get or dpkg holds apt's lock; waiting (at most 60s in all)");
  });

  it('gives up after TESSERA_APT_LOCK_WAIT seconds with a message', () => {
    const r = aptGet(1_000_000, LOCKED, { TESSERA_APT_LOCK_WAIT: '1' });
    expect(r.status).toBe(100);
    expect(r.calls.length).toBeGreaterThan(1);
    expect(r.stderr).toContain('apt is still locked by another process after 1s (TESSERA_APT_LOCK_WAIT)');
  });

  it('returns any other failure at once', () => {
    const r = aptGet(1, 'E: Unable to locate package libegl1', { TESSERA_APT_LOCK_WAIT: '60' });
    expect(r.status).toBe(100);
    expect(r.calls).toHaveLength(1);
    expect(r.stderr).toContain('Unable to locate package');
  });

  it('setup.sh installs through it', () => {
    const setup = readFileSync(join(ROOT, 'scripts', 'setup.sh'), 'utf8');
    expect(setup).toContain('. scripts/apt-get-waiting.sh');
    expect(setup).not.toMatch(/^\s*(DEBIAN_FRONTEND=\S+ )?apt-get /m);
  });
});
