/**
 * A guard for browser use: @tessera/ir (through its package `exports`) and
 * this backend bundle for platform 'browser' with no Node built-in stubbed,
 * and the bundles import no `node:` module. File I/O lives in
 * @tessera/ir/node; a `node:` import reaching either entry fails the build
 * here, naming the file that imports it.
 */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { bundleForBrowser, nodeImports } from './browser/bundle.ts';

const here = dirname(fileURLToPath(import.meta.url));

describe('browser bundles without Node built-ins', () => {
  it('@tessera/ir bundles by package name, keeps its byte-level safetensors I/O and half floats, and imports nothing', async () => {
    const b = await bundleForBrowser({ source: "export * from '@tessera/ir';", resolveDir: here });
    expect(b.externalImports).toEqual([]);
    expect(nodeImports(b.text)).toEqual([]);
    expect(b.inputs).toEqual(expect.arrayContaining(['packages/ir/src/index.ts', 'packages/ir/src/io/safetensors.ts', 'packages/ir/src/io/safetensors-ref.ts', 'packages/ir/src/io/half.ts']));
    expect(b.inputs).not.toContain('packages/ir/src/io/safetensors-file.ts');
  });

  it("the backend's src/index.ts bundles with nothing left external: Dawn's `webgpu` is imported by a computed name that bundlers leave alone", async () => {
    const b = await bundleForBrowser({ file: join(here, '../src/index.ts') });
    expect(b.externalImports).toEqual([]);
    expect(nodeImports(b.text)).toEqual([]);
    expect(b.inputs).toContain('packages/ir/src/index.ts');
  });

  it('nodeImports finds static, dynamic and required node: specifiers (so the checks above can fail)', () => {
    const text = `import { a } from "node:fs";\nimport "node:path";\nconst b = await import('node:os');\nconst c = require("node:url");\nconst s = "node:not-an-import";`;
    expect(nodeImports(text)).toEqual(['node:fs', 'node:path', 'node:os', 'node:url']);
  });
});
