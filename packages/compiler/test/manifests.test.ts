/**
 * The packages' manifests, checked against the sources they describe (no
 * build needed): every package is publishable (version, license, engines,
 * files, README), its published `exports` are its in-repo `exports` with
 * src/*.ts replaced by the built dist/*.js and dist/*.d.ts, its
 * dependencies are exactly what its sources import, its build references
 * are its workspace dependencies, and what a user does not need at run
 * time (Dawn, TypeScript, fast-check) is an optional peer or stays out.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const DIRS = readdirSync(join(ROOT, 'packages')).filter((d) => existsSync(join(ROOT, 'packages', d, 'package.json')));
/** The published packages; a private one (the studio app) is never packed. */
const PACKAGES = DIRS.filter((d) => JSON.parse(readFileSync(join(ROOT, 'packages', d, 'package.json'), 'utf8')).private !== true);

type Exports = string | { readonly [key: string]: Exports };
interface Manifest {
  name: string;
  version?: string;
  private?: boolean;
  license?: string;
  type?: string;
  engines?: Record<string, string>;
  files?: string[];
  exports?: Record<string, Exports>;
  bin?: unknown;
  dependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  peerDependenciesMeta?: Record<string, { optional?: boolean }>;
  devDependencies?: Record<string, string>;
  publishConfig?: { exports?: Record<string, Exports>; main?: string; types?: string; bin?: Record<string, string> };
}

const manifest = (dir: string): Manifest => JSON.parse(readFileSync(join(ROOT, 'packages', dir, 'package.json'), 'utf8')) as Manifest;

/** What a published package exports in place of an in-repo export: a source file becomes its built JavaScript and declarations. */
function publishedExports(e: Exports): Exports {
  if (typeof e !== 'string') return Object.fromEntries(Object.entries(e).map(([k, v]) => [k, publishedExports(v)]));
  const m = /^\.\/src\/(.+)\.ts$/.exec(e);
  if (!m) return e;
  return { types: `./dist/${m[1]}.d.ts`, import: `./dist/${m[1]}.js`, default: `./dist/${m[1]}.js` };
}

/** Every string leaf of an exports map. */
const leaves = (e: Exports): string[] => (typeof e === 'string' ? [e] : Object.values(e).flatMap(leaves));

/** The TypeScript files under a folder. */
function sourceFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((f) => /\.m?ts$/.test(f) && !f.endsWith('.d.ts'))
    .map((f) => join(dir, f));
}

/** The package a bare specifier names (`@scope/name/sub` -> `@scope/name`), or undefined for a relative path or a Node built-in. */
function packageOf(specifier: string): string | undefined {
  if (specifier.startsWith('.') || specifier.startsWith('node:')) return undefined;
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
}

/** The packages a file imports or references, type-only imports and `/// <reference types>` included (declarations need them too). */
function importedPackages(file: string): string[] {
  const info = ts.preProcessFile(readFileSync(file, 'utf8'), true, true);
  return [...info.importedFiles, ...info.typeReferenceDirectives].map((r) => packageOf(r.fileName)).filter((p): p is string => p !== undefined);
}

/**
 * The files and bare specifiers a module loads at run time, following its
 * relative imports: type-only imports and exports are left out (erased);
 * an import with only inline `type` names is kept (verbatimModuleSyntax
 * keeps it as `import {} from`), as is a dynamic import().
 */
function runtimeImports(entry: string): { files: string[]; specifiers: Set<string> } {
  const seen = new Set<string>();
  const specifiers = new Set<string>();
  const visit = (file: string): void => {
    if (seen.has(file)) return;
    seen.add(file);
    const sf = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.ES2022, true);
    const found: string[] = [];
    const walk = (n: ts.Node): void => {
      if (ts.isImportDeclaration(n) && !n.importClause?.isTypeOnly && ts.isStringLiteral(n.moduleSpecifier)) found.push(n.moduleSpecifier.text);
      else if (ts.isExportDeclaration(n) && !n.isTypeOnly && n.moduleSpecifier && ts.isStringLiteral(n.moduleSpecifier)) found.push(n.moduleSpecifier.text);
      else if (ts.isCallExpression(n) && n.expression.kind === ts.SyntaxKind.ImportKeyword && n.arguments[0] && ts.isStringLiteral(n.arguments[0])) found.push(n.arguments[0].text);
      ts.forEachChild(n, walk);
    };
    walk(sf);
    for (const s of found) {
      if (s.startsWith('.')) visit(resolve(dirname(file), s));
      else specifiers.add(s);
    }
  };
  visit(entry);
  return { files: [...seen].map((f) => relative(ROOT, f)), specifiers };
}

describe('package manifests', () => {
  it('finds the twelve packages, and the studio app apart from them', () => {
    expect(PACKAGES.sort()).toEqual(['backend-cpu', 'backend-webgpu', 'cli', 'compiler', 'frontend', 'harness', 'ir', 'kernel', 'models', 'onnx', 'passes', 'viz']);
    expect(DIRS.filter((d) => !PACKAGES.includes(d))).toEqual(['studio']);
  });

  it.each(PACKAGES)('%s: publishable (name, version, license, engines, files, README; not private)', (dir) => {
    const m = manifest(dir);
    expect(m.name).toBe(`@tessera/${dir}`);
    expect(m.private).toBeUndefined();
    expect(m.version).toMatch(/^\d+\.\d+\.\d+$/);
    expect(m.license).toBe('MIT');
    expect(m.type).toBe('module');
    // require() of an ES module works from Node 20.19 on.
    expect(m.engines).toEqual({ node: '>=20.19' });
    expect(m.files).toEqual(['dist', 'src']);
    expect(readFileSync(join(ROOT, 'packages', dir, 'README.md'), 'utf8')).toMatch(new RegExp(`^# ${m.name.replace('/', '\\/')}\\n`));
    // Versions move together: a package depends on exactly the version of its workspace siblings that pnpm pack writes.
    for (const [name, range] of Object.entries(m.dependencies ?? {})) if (name.startsWith('@tessera/')) expect(range, name).toBe('workspace:*');
  });

  it.each(PACKAGES)('%s: exports name sources that exist in the repo, and the published exports are their built files', (dir) => {
    const m = manifest(dir);
    expect(m.exports?.['.']).toBeDefined();
    for (const leaf of Object.values(m.exports!).flatMap(leaves)) expect(existsSync(join(ROOT, 'packages', dir, leaf)), leaf).toBe(true);
    expect(m.publishConfig?.exports).toEqual(Object.fromEntries(Object.entries(m.exports!).map(([k, v]) => [k, publishedExports(v)])));
    expect(m.publishConfig).toMatchObject({ main: './dist/index.js', types: './dist/index.d.ts' });
  });

  it.each(PACKAGES)("%s: dependencies are exactly the packages its sources import; optional peers may be loaded by a computed name", (dir) => {
    const m = manifest(dir);
    const imported = new Set(sourceFiles(join(ROOT, 'packages', dir, 'src')).flatMap(importedPackages));
    imported.delete(m.name);
    const declared = new Set([...Object.keys(m.dependencies ?? {}), ...Object.keys(m.peerDependencies ?? {})]);
    expect([...imported].filter((p) => !declared.has(p)), 'imported but not declared').toEqual([]);
    const optionalPeers = new Set(Object.entries(m.peerDependenciesMeta ?? {}).filter(([, v]) => v.optional).map(([k]) => k));
    expect([...declared].filter((p) => !imported.has(p) && !optionalPeers.has(p)), 'declared but not imported').toEqual([]);
  });

  it.each(PACKAGES)('%s: the build (tsconfig.build.json) references exactly its workspace dependencies', (dir) => {
    const config = JSON.parse(readFileSync(join(ROOT, 'packages', dir, 'tsconfig.build.json'), 'utf8')) as { references?: { path: string }[] };
    const refs = (config.references ?? []).map((r) => `@tessera/${r.path.replace(/^\.\.\/([^/]+)\/tsconfig\.build\.json$/, '$1')}`);
    const deps = Object.keys(manifest(dir).dependencies ?? {}).filter((d) => d.startsWith('@tessera/'));
    expect(refs.sort()).toEqual(deps.sort());
    const all = JSON.parse(readFileSync(join(ROOT, 'tsconfig.build.json'), 'utf8')) as { references: { path: string }[] };
    expect(all.references.map((r) => r.path)).toContain(`packages/${dir}/tsconfig.build.json`);
  });

  it('Dawn (webgpu) and TypeScript are optional peers, never installed dependencies', () => {
    for (const dir of PACKAGES) {
      const m = manifest(dir);
      for (const heavy of ['webgpu', 'typescript']) expect(m.dependencies?.[heavy], `${dir} depends on ${heavy}`).toBeUndefined();
    }
    const optionalPeer = (dir: string, name: string) => {
      const m = manifest(dir);
      expect(m.peerDependencies?.[name], `${dir} peer ${name}`).toBeDefined();
      expect(m.peerDependenciesMeta?.[name]?.optional, `${dir} peer ${name} optional`).toBe(true);
    };
    optionalPeer('backend-webgpu', 'webgpu');
    optionalPeer('frontend', 'typescript');
    optionalPeer('cli', 'typescript');
  });

  it('fast-check and the harness are not runtime dependencies of models or cli: cli reaches the harness only through @tessera/harness/compare, which loads no fast-check', () => {
    const models = manifest('models');
    expect(Object.keys(models.dependencies ?? {})).not.toContain('@tessera/harness');
    for (const dir of ['models', 'cli']) expect(Object.keys(manifest(dir).dependencies ?? {})).not.toContain('fast-check');
    const cliHarness = sourceFiles(join(ROOT, 'packages/cli/src')).flatMap((f) => {
      const info = ts.preProcessFile(readFileSync(f, 'utf8'), true, true);
      return info.importedFiles.map((r) => r.fileName).filter((s) => s.startsWith('@tessera/harness'));
    });
    expect(new Set(cliHarness)).toEqual(new Set(['@tessera/harness/compare']));
    const compare = runtimeImports(join(ROOT, 'packages/harness/src/compare/index.ts'));
    expect(compare.files).toContain('packages/harness/src/compare/compare-backends.ts');
    expect([...compare.specifiers]).not.toContain('fast-check');
    // The walk sees fast-check where it is loaded (so the check above can fail).
    expect([...runtimeImports(join(ROOT, 'packages/harness/src/index.ts')).specifiers]).toContain('fast-check');
  });

  it('@tessera/cli ships the `tessera` bin: built JavaScript with a shebang', () => {
    const m = manifest('cli');
    expect(m.bin).toBeUndefined();
    expect(m.publishConfig?.bin).toEqual({ tessera: './dist/main.js' });
    expect(readFileSync(join(ROOT, 'packages/cli/src/main.ts'), 'utf8')).toMatch(/^#!\/usr\/bin\/env node\n/);
  });
});
