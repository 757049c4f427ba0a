import { existsSync, readFileSync, readdirSync, realpathSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The monorepo root: four levels above this file (packages/frontend/src/load). */
export const REPO_ROOT = realpathSync(resolve(fileURLToPath(new URL('.', import.meta.url)), '../../../..'));

/** One workspace package: its name, folder and entry file (its `exports["."]`). */
export interface WorkspacePackage {
  readonly name: string;
  readonly dir: string;
  readonly entry: string;
}

let cached: WorkspacePackage[] | undefined;

/** The workspace's `@tessera/*` packages, read from packages/NAME/package.json. */
export function workspacePackages(): readonly WorkspacePackage[] {
  if (cached) return cached;
  const root = join(REPO_ROOT, 'packages');
  const out: WorkspacePackage[] = [];
  for (const d of readdirSync(root)) {
    const pj = join(root, d, 'package.json');
    if (!existsSync(pj)) continue;
    const meta = JSON.parse(readFileSync(pj, 'utf8')) as { name?: string; exports?: unknown };
    const dot = typeof meta.exports === 'string' ? meta.exports : (meta.exports as Record<string, unknown> | undefined)?.['.'];
    if (typeof meta.name !== 'string' || typeof dot !== 'string') continue;
    out.push({ name: meta.name, dir: join(root, d), entry: join(root, d, dot) });
  }
  return (cached = out);
}
