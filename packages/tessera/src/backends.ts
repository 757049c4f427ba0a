import { TesseraError } from '@tessera/ir';
import { cpuBackend } from '@tessera/backend-cpu';
import { webgpuBackend } from '@tessera/backend-webgpu';
import { type Backend, evaluatorBackend } from '@tessera/kernel';

/** Names accepted by `compile({ backend })`. `interp` runs the graph interpreter and needs no Backend. */
export type BackendName = 'interp' | 'eval' | 'cpu' | 'webgpu';

/** Backends over the kernel program, by name. */
const BACKENDS: Record<string, Backend> = { eval: evaluatorBackend, cpu: cpuBackend, webgpu: webgpuBackend };

/** Adds (or replaces) a backend; the WebGPU package registers itself this way. */
export function registerBackend(b: Backend): void {
  BACKENDS[b.name] = b;
}

/** Looks up a kernel-program backend by name with a clear error listing the available ones. */
export function getBackend(name: string): Backend {
  const b = BACKENDS[name];
  if (!b) throw new TesseraError(`unknown or unavailable backend '${name}' (available: interp, ${Object.keys(BACKENDS).join(', ')})`);
  return b;
}

/** Names of every backend available in this process. */
export function availableBackends(): string[] {
  return ['interp', ...Object.keys(BACKENDS)];
}
