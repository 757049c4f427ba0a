/**
 * No package's sources import each other in a cycle at run time: a module
 * in a cycle can be evaluated before what it imports is initialised (a
 * class used before its definition runs), depending on which module a user
 * imports first. Type-only imports are fine (they are erased). Every entry
 * each package exports is checked, as Node resolves it.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ENTRY, type ModuleGraph, REPO_ROOT, moduleGraph, runtimeCycles } from './support/import-graph.ts';

/** Every `@tessera/*` specifier a package exports: its name, and its name with each subpath (`@tessera/ir/node`). */
function packageEntries(): string[] {
  const root = join(REPO_ROOT, 'packages');
  return readdirSync(root).flatMap((dir) => {
    const meta = JSON.parse(readFileSync(join(root, dir, 'package.json'), 'utf8')) as { name: string; private?: boolean; exports?: string | Record<string, unknown> };
    // The studio is an app, not a package anyone imports.
    if (meta.private) return [];
    const keys = typeof meta.exports === 'object' && Object.keys(meta.exports).every((k) => k.startsWith('.')) ? Object.keys(meta.exports) : ['.'];
    return keys.map((k) => meta.name + k.slice(1));
  });
}

describe('runtime import cycles', () => {
  it.each(packageEntries())('%s imports no module that imports it back', async (entry) => {
    expect(runtimeCycles(await moduleGraph(entry, 'node'))).toEqual([]);
  });

  it('runtimeCycles finds a cycle and a self-import, and ignores dynamic imports and external specifiers', () => {
    const imp = (path: string, kind = 'import-statement', external = false) => ({ path, kind, external });
    const graph: ModuleGraph = new Map([
      [ENTRY, [imp('a.ts')]],
      ['a.ts', [imp('b.ts'), imp('d.ts')]],
      ['b.ts', [imp('c.ts'), imp('node:fs', 'import-statement', true)]],
      ['c.ts', [imp('a.ts')]],
      ['d.ts', [imp('d.ts'), imp('e.ts')]],
      ['e.ts', [imp('a.ts', 'dynamic-import')]],
    ]);
    expect(runtimeCycles(graph)).toEqual(expect.arrayContaining([['a.ts', 'b.ts', 'c.ts'], ['d.ts']]));
    expect(runtimeCycles(graph)).toHaveLength(2);
    expect(runtimeCycles(new Map([[ENTRY, [imp('a.ts')]], ['a.ts', [imp('b.ts', 'dynamic-import')]], ['b.ts', [imp('a.ts', 'dynamic-import')]]]))).toEqual([]);
  });
});
