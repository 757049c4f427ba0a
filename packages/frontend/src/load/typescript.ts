/**
 * Finding the TypeScript compiler, an optional peer: model files are
 * type-checked (and, where nothing else runs TypeScript, transpiled) with
 * it when it is installed.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type ts from 'typescript';

/** The command that installs TypeScript, as messages give it. */
export const TYPESCRIPT_INSTALL = 'npm install --save-dev typescript';

/** The TypeScript package folder visible from `from` (a file path or URL) in version 5 or later, or undefined. */
function packageFrom(from: string): string | undefined {
  let dir: string;
  try {
    dir = dirname(createRequire(from).resolve('typescript/package.json'));
  } catch {
    return undefined;
  }
  try {
    const { version } = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { version?: unknown };
    return typeof version === 'string' && Number(version.split('.')[0]) >= 5 ? dir : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The entry file of the TypeScript compiler for a model file: the model's
 * project's own (the one its editor uses), else the one installed beside
 * Tessera; undefined when neither has one. Versions before 5.0 (whose API
 * the check does not use) are passed over. Nothing is loaded.
 */
export function locateTypeScript(modelFile: string): string | undefined {
  const dir = packageFrom(modelFile) ?? packageFrom(import.meta.url);
  return dir === undefined ? undefined : createRequire(join(dir, 'package.json')).resolve('typescript');
}

/** Compilers loaded, by entry file. */
const loaded = new Map<string, typeof ts>();

/**
 * The TypeScript compiler for a model file (see locateTypeScript), loaded on
 * first use: it is large, and tracing never needs it. require() rather than
 * import() because Node's ESM wrapper of a CommonJS module first scans all
 * 9 MB of it for exports.
 */
export function loadTypeScript(modelFile: string): typeof ts | undefined {
  const entry = locateTypeScript(modelFile);
  if (entry === undefined) return undefined;
  let mod = loaded.get(entry);
  if (!mod) loaded.set(entry, (mod = createRequire(import.meta.url)(entry) as typeof ts));
  return mod;
}
