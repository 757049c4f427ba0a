/**
 * Loading Dawn (the npm package `webgpu`), an optional peer dependency:
 * only a Node process that asks for a WebGPU device loads it, so a user of
 * the CPU backend never downloads its 132 MB, and a browser bundle never
 * sees it.
 */
import { WebgpuUnavailableError } from './errors.ts';

/** The npm package that provides WebGPU to Node (Dawn's node bindings). */
export const DAWN_PACKAGE = 'webgpu';

/** What the `webgpu` package exports. */
export interface DawnModule {
  readonly create: (flags: string[]) => GPU;
  readonly globals: object;
}

/** WebGPU was asked for in Node, and the `webgpu` package is not installed. */
export class DawnMissingError extends WebgpuUnavailableError {
  constructor() {
    super(`WebGPU in Node needs the package '${DAWN_PACKAGE}' (Dawn), an optional peer dependency of @tessera/backend-webgpu that is not installed: run \`npm install ${DAWN_PACKAGE}\` (or pick the cpu backend)`);
    this.name = 'DawnMissingError';
  }
}

let dawn: Promise<DawnModule> | undefined;

/** Imports `webgpu` once per process; rejects with DawnMissingError when it is not installed. */
export function importDawn(): Promise<DawnModule> {
  // A specifier in a variable, so bundlers leave this Node-only import alone (a browser uses navigator.gpu).
  const specifier: string = DAWN_PACKAGE;
  dawn ??= (import(/* @vite-ignore */ /* webpackIgnore: true */ specifier) as Promise<DawnModule>).catch((e: unknown) => {
    dawn = undefined;
    throw isMissingPackage(e, specifier) ? new DawnMissingError() : e;
  });
  return dawn;
}

/** Whether an import failed because the package itself (not one of its own imports) cannot be found. */
function isMissingPackage(e: unknown, name: string): boolean {
  const code = (e as { code?: unknown } | null)?.code;
  return code === 'ERR_MODULE_NOT_FOUND' && e instanceof Error && e.message.includes(`'${name}'`);
}
