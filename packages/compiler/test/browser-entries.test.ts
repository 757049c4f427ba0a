/**
 * The packages a browser app imports reach no Node built-in and no
 * TypeScript: each entry is resolved by package name for platform
 * 'browser' (through `exports` and the browser conditions) and every import
 * that leaves the workspace is listed with the chain of modules that
 * reaches it. Node-only code lives behind `/node` subpaths
 * (`@tessera/ir/node`, `@tessera/frontend/node`, `@tessera/models/node`),
 * which the last tests check are seen by the same analysis.
 */
import { describe, expect, it } from 'vitest';
import { type ExternalImport, describeImport, externalImports, isNodeBuiltin, moduleGraph } from './support/import-graph.ts';

/** The packages a browser app may import. */
const BROWSER_ENTRIES = ['@tessera/ir', '@tessera/kernel', '@tessera/passes', '@tessera/backend-cpu', '@tessera/backend-webgpu', '@tessera/frontend', '@tessera/models', '@tessera/compiler'];

/** The one import a browser entry may leave to the runtime: Dawn's `webgpu`, loaded by import() only when a Node process asks for WebGPU. */
const allowed = (e: ExternalImport) => e.specifier === 'webgpu' && e.kind === 'dynamic-import';

describe('browser entry points', () => {
  it.each(BROWSER_ENTRIES)('%s reaches no Node built-in, no TypeScript, nothing outside the workspace but Dawn on demand', async (name) => {
    const imports = externalImports(await moduleGraph(name, 'browser'));
    expect(imports.filter((e) => !allowed(e)).map(describeImport)).toEqual([]);
  });

  it('the DSL and the models are in those bundles, their file loaders are not', async () => {
    const models = await moduleGraph('@tessera/models', 'browser');
    expect([...models.keys()]).toEqual(expect.arrayContaining(['packages/frontend/src/tensor.ts', 'packages/frontend/src/call-site.ts', 'packages/models/src/vit/model.ts', 'packages/models/src/checkpoint.ts']));
    expect([...models.keys()].filter((f) => /\/load\/|-file\.ts$|\/load\.ts$/.test(f))).toEqual([]);
  });

  it('the /node subpaths reach Node built-ins, and the analysis names the chain (so the checks above can fail)', async () => {
    const frontend = externalImports(await moduleGraph('@tessera/frontend/node', 'browser'));
    // The type checker loads TypeScript through node:module's createRequire, only when a model file is checked.
    const loader = frontend.find((e) => e.specifier === 'node:module' && e.chain.at(-1) === 'packages/frontend/src/load/type-check.ts')!;
    expect(describeImport(loader)).toBe('<entry> -> packages/frontend/src/node.ts -> packages/frontend/src/load/type-check.ts imports node:module (import-statement)');
    const models = externalImports(await moduleGraph('@tessera/models/node', 'browser'));
    expect(models.map((e) => e.specifier)).toEqual(expect.arrayContaining(['node:fs', 'node:fs/promises', 'node:zlib']));
  });

  it('isNodeBuiltin knows built-ins with and without the node: prefix', () => {
    expect(['node:fs', 'fs', 'path', 'worker_threads', 'node:test'].map(isNodeBuiltin)).toEqual([true, true, true, true, true]);
    expect(['webgpu', 'typescript', '@tessera/ir', 'fsevents'].map(isNodeBuiltin)).toEqual([false, false, false, false]);
  });
});
