/**
 * Dawn prints "Couldn't load Vulkan" warnings from native code when its
 * default backend is tried on Linux without a Vulkan loader: the adapter
 * search skips that backend there unless TESSERA_DEBUG asks for it. Native
 * stderr is only visible from outside, so the processes are spawned.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { defaultBackendUnusable, optionsFromEnv } from '../src/device/adapter.ts';

const INDEX = join(import.meta.dirname, '..', 'src', 'index.ts');
const SCRIPT = `const m = await import(${JSON.stringify(INDEX)});
const be = await m.createWebgpuBackend();
process.stdout.write(JSON.stringify(be.adapter.tried));
be.destroy();
process.exit(0);`;

/** Creates a WebGPU backend in a fresh process; its stderr and the adapters it tried first. */
function createInChild(env: Record<string, string>): { stderr: string; tried: string[] } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', SCRIPT], { encoding: 'utf8', env: { ...process.env, ...env }, timeout: 100_000 });
  expect(r.status, r.stderr).toBe(0);
  return { stderr: r.stderr, tried: JSON.parse(r.stdout) as string[] };
}

describe('Dawn warnings on machines without Vulkan', () => {
  it('TESSERA_DEBUG (not 0) sets verbose', () => {
    expect(optionsFromEnv({ TESSERA_DEBUG: '1' }).verbose).toBe(true);
    expect(optionsFromEnv({ TESSERA_DEBUG: '0' }).verbose).toBeUndefined();
    expect(optionsFromEnv({}).verbose).toBeUndefined();
  });

  it('without a Vulkan loader the default backend is skipped, silently, with the reason in the report; TESSERA_DEBUG tries it (and Dawn warns)', () => {
    const why = defaultBackendUnusable();
    const quiet = createInChild({ TESSERA_DEBUG: '' });
    expect(quiet.stderr).not.toMatch(/Vulkan/);
    if (why === undefined) return; // A machine with Vulkan: Dawn's default backend is tried as before.
    expect(why).toBe('no Vulkan loader (libvulkan.so.1) on this machine');
    expect(quiet.tried[0]).toBe(`default backend at core feature level: skipped: ${why} (TESSERA_DEBUG=1 tries it anyway)`);
    const debug = createInChild({ TESSERA_DEBUG: '1' });
    expect(debug.stderr).toMatch(/Couldn't load Vulkan/);
    expect(debug.tried[0]).toBe('default backend at core feature level: no adapter');
  });
});
