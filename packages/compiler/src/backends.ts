import { TesseraError } from '@tessera/ir';
import { cpuBackend } from '@tessera/backend-cpu';
import { webgpuBackend } from '@tessera/backend-webgpu';
import { type Backend, evaluatorBackend } from '@tessera/kernel';

/** Names accepted by `compile({ backend })`. `interp` runs the graph interpreter and needs no Backend. */
export type BackendName = 'interp' | 'eval' | 'cpu' | 'webgpu';

/** Backends over the kernel program, by name (a Map: a name such as `constructor` is not found on a prototype). */
const BACKENDS = new Map<string, Backend>([
  ['eval', evaluatorBackend],
  ['cpu', cpuBackend],
  ['webgpu', webgpuBackend],
]);

/** Adds (or replaces) a backend; the WebGPU package registers itself this way. */
export function registerBackend(b: Backend): void {
  BACKENDS.set(b.name, b);
}

/** Looks up a kernel-program backend by name with a clear error listing the available ones. */
export function getBackend(name: string): Backend {
  const b = BACKENDS.get(name);
  if (!b) throw new TesseraError(`unknown or unavailable backend '${String(name)}' (available: interp, ${[...BACKENDS.keys()].join(', ')})`);
  return b;
}

/** Names of every backend available in this process. */
export function availableBackends(): string[] {
  return ['interp', ...BACKENDS.keys()];
}
