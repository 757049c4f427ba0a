/**
 * Bundling for a browser page with esbuild (a dependency of tsx, not ours,
 * so its types are not in reach: the part of its API used here is declared
 * below). Only Dawn's `webgpu` package stays out (only Node imports it); no
 * Node built-in is stubbed, so a `node:` import anywhere in the import graph
 * fails the build with esbuild's message naming the importing file.
 */
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

/** The repository root (four levels above this file), which bundle input paths are relative to. */
const REPO_ROOT = fileURLToPath(new URL('../../../../', import.meta.url));

/** One import in esbuild's metafile: a resolved file, or an external specifier. */
export interface EsbuildImport {
  readonly path: string;
  readonly kind: string;
  readonly external?: boolean;
}
/** esbuild's metafile: the source files read (with their imports) and the files written. */
export interface EsbuildMetafile {
  inputs: Record<string, { bytes: number; imports: EsbuildImport[] }>;
  outputs: Record<string, { bytes: number; imports: EsbuildImport[] }>;
}
/** The part of esbuild's API the tests use. */
export interface Esbuild {
  build(o: Record<string, unknown>): Promise<{ outputFiles: { path: string; text: string; contents: Uint8Array }[]; metafile: EsbuildMetafile }>;
}

/** esbuild, reached through tsx, which depends on it. */
export function loadEsbuild(): Esbuild {
  return createRequire(createRequire(import.meta.url).resolve('tsx/package.json'))('esbuild') as Esbuild;
}

/** One bundle: its text, the source files in it (relative to the repository root) and the imports left external. */
export interface BrowserBundle {
  readonly text: string;
  readonly inputs: readonly string[];
  readonly externalImports: readonly string[];
}

/** What to bundle: a file, or module source resolved from `resolveDir` (to bundle a package by its name, through its `exports`). */
export type BundleEntry = { readonly file: string } | { readonly source: string; readonly resolveDir: string };

/** Options of a bundle. */
export interface BundleOptions {
  /** Minify (whitespace, identifiers, syntax), as an app ships (default false). */
  readonly minify?: boolean;
}

/** Bundles `entry` as an ES module for platform 'browser', leaving nothing external (Dawn is loaded by a computed name a bundler does not follow). */
export async function bundleForBrowser(entry: BundleEntry, options: BundleOptions = {}): Promise<BrowserBundle> {
  const esbuild = loadEsbuild();
  const input = 'file' in entry ? { entryPoints: [entry.file] } : { stdin: { contents: entry.source, resolveDir: entry.resolveDir, loader: 'ts', sourcefile: '<entry>' } };
  const out = await esbuild.build({ ...input, bundle: true, format: 'esm', platform: 'browser', target: 'es2022', absWorkingDir: REPO_ROOT, write: false, metafile: true, logLevel: 'silent', minify: options.minify ?? false });
  const outputs = Object.values(out.metafile.outputs);
  return {
    text: out.outputFiles[0]!.text,
    inputs: Object.keys(out.metafile.inputs),
    externalImports: [...new Set(outputs.flatMap((o) => o.imports.filter((i) => i.external).map((i) => i.path)))].sort(),
  };
}

/** The `node:` module specifiers a bundle's text still imports (static, dynamic or required). */
export function nodeImports(text: string): string[] {
  return [...text.matchAll(/(?:\bfrom\s*|\bimport\s*\(\s*|\brequire\s*\(\s*|\bimport\s+)["'](node:[^"']+)["']/g)].map((m) => m[1]!);
}
