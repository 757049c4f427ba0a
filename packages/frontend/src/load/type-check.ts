import { existsSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { TesseraError } from '@tessera/ir';
import type ts from 'typescript';
import { displayPath } from '../call-site.ts';
import { type FileStamp, checkCacheEnabled, checkCacheFile, fileStamp, readCachedCheck, storeCheck } from './check-cache.ts';
import { isTesseraSource } from './packages.ts';
import { TYPESCRIPT_INSTALL, loadTypeScript, locateTypeScript } from './typescript.ts';

/** One TypeScript diagnostic, positioned 1-based. */
export interface TypeDiagnostic {
  /** Path as the user sees it (relative to the working directory when inside it). */
  readonly file?: string;
  readonly line?: number;
  readonly col?: number;
  readonly message: string;
  /** TypeScript's error code (TS2322 is 2322). */
  readonly code: number;
}

/** Options of typeCheckFile(). */
export interface TypeCheckOptions {
  /**
   * Files (paths or file: URLs) from which `@tessera/*` imports resolve
   * before the model's own project, as the loader runs them (the CLI passes
   * its own location); this package's location is always one.
   */
  readonly resolveFrom?: readonly string[];
}

/** Formats a diagnostic as `file:line:col: message (TScode)`. */
export function formatTypeDiagnostic(d: TypeDiagnostic): string {
  const where = d.file ? `${d.file}${d.line !== undefined ? `:${d.line}:${d.col}` : ''}: ` : '';
  return `${where}${d.message.replace(/\n/g, '\n    ')} (TS${d.code})`;
}

/** A model file that does not type-check; the message lists every diagnostic as file:line:col: message. */
export class ModelTypeError extends TesseraError {
  constructor(
    readonly file: string,
    readonly diagnostics: readonly TypeDiagnostic[],
  ) {
    const n = diagnostics.length;
    super(`${diagnostics.map(formatTypeDiagnostic).join('\n')}\n${displayPath(file)}: ${n} type error${n === 1 ? '' : 's'}`);
    this.name = 'ModelTypeError';
  }
}

/**
 * Parsed source files by path and parse options, with the file's mtime:
 * parsing the standard library, @types/node and the DSL is most of a
 * check's cost, and a process (a test run, the check with and without
 * Node's types) checks several programs. Sharing SourceFiles between
 * programs is what TypeScript's DocumentRegistry does.
 */
const parsed = new Map<string, { stamp: FileStamp; sf: ts.SourceFile }>();

/**
 * The settings model files are checked with, whatever folder or project
 * they are in: strict ES2023 modules as Node runs them (NodeNext, `.ts`
 * imports allowed), declarations of dependencies not checked, and Node's
 * types only from `nodeTypes` (the folder of @types/node) when given.
 * Neither the DOM library nor @types/node is read unless needed: parsing
 * them is most of a check's time.
 */
function checkOptions(t: typeof ts, nodeTypes: string | undefined): ts.CompilerOptions {
  return {
    target: t.ScriptTarget.ES2022,
    module: t.ModuleKind.NodeNext,
    moduleResolution: t.ModuleResolutionKind.NodeNext,
    lib: ['lib.es2023.d.ts'],
    strict: true,
    skipLibCheck: true,
    noEmit: true,
    allowImportingTsExtensions: true,
    esModuleInterop: true,
    resolveJsonModule: true,
    types: nodeTypes ? ['node'] : [],
    typeRoots: nodeTypes ? [dirname(nodeTypes)] : [],
  };
}

/** The folder of @types/node as the model's project (or this package's install) has it, or undefined. */
function nodeTypesFor(file: string): string | undefined {
  for (const from of [file, import.meta.url]) {
    try {
      return dirname(createRequire(from).resolve('@types/node/package.json'));
    } catch {
      // Not installed there.
    }
  }
  return undefined;
}

/** Whether the nearest package.json above `dir` exists (else the file's module format would default to CommonJS). */
function hasPackageScope(dir: string): boolean {
  for (let d = dir; ; d = dirname(d)) {
    if (existsSync(join(d, 'package.json'))) return true;
    if (dirname(d) === d) return false;
  }
}

/**
 * A compiler host that sees model files as ES modules, as the loader runs
 * them (package.json files outside node_modules read as `"type": "module"`,
 * and a folder with no package.json above it gets a virtual one), reuses
 * parsed files, resolves `@tessera/*` from `anchors` first (the packages
 * the model will run with), and records in `read` every file it reads, with
 * its size and mtime from before the read.
 */
function modelHost(t: typeof ts, options: ts.CompilerOptions, modelFile: string, anchors: readonly string[], read: Map<string, FileStamp>): ts.CompilerHost {
  const host = t.createCompilerHost(options);
  const virtualPkg = hasPackageScope(dirname(modelFile)) ? undefined : join(dirname(modelFile), 'package.json');
  const isUserPkg = (f: string) => basename(f) === 'package.json' && !f.split(/[\\/]/).includes('node_modules');
  const { fileExists, readFile, getSourceFile } = host;
  host.getSourceFile = (f, langOrOpts, onError, fresh) => {
    if (f === virtualPkg) return getSourceFile.call(host, f, langOrOpts, onError, fresh);
    const o = typeof langOrOpts === 'object' ? langOrOpts : { languageVersion: langOrOpts };
    const key = `${f}|${o.languageVersion}|${o.impliedNodeFormat ?? ''}`;
    // Missing files are not cached; the default host reports them.
    const stamp = fileStamp(f);
    if (stamp) read.set(f, stamp);
    const hit = parsed.get(key);
    if (hit && stamp && hit.stamp[0] === stamp[0] && hit.stamp[1] === stamp[1] && !fresh) return hit.sf;
    const sf = getSourceFile.call(host, f, langOrOpts, onError, fresh);
    if (sf && stamp) parsed.set(key, { stamp, sf });
    return sf;
  };
  host.fileExists = (f) => (virtualPkg !== undefined && f === virtualPkg) || fileExists.call(host, f);
  host.readFile = (f) => {
    if (virtualPkg !== undefined && f === virtualPkg) return '{"type":"module"}';
    // package.json files decide resolution and module format: the check depends on them too.
    const stamp = fileStamp(f);
    if (stamp) read.set(f, stamp);
    const text = readFile.call(host, f);
    if (text === undefined || !isUserPkg(f)) return text;
    try {
      return JSON.stringify({ ...JSON.parse(text), type: 'module' });
    } catch {
      return text;
    }
  };
  const cache = t.createModuleResolutionCache(host.getCurrentDirectory(), (f) => f, options);
  host.resolveModuleNameLiterals = (literals, containingFile, _redirect, opts, containingSourceFile) =>
    literals.map((literal) => {
      // The loader's own sources import the compiler's types (typescript.d.ts, 0.6 MB): no model uses them, and reading them was half of a check.
      if (literal.text === 'typescript' && isTesseraSource(containingFile)) return { resolvedModule: undefined };
      const mode = t.getModeForUsageLocation(containingSourceFile, literal, opts);
      const from = literal.text.startsWith('@tessera/') ? [...anchors, containingFile] : [containingFile];
      let r: ts.ResolvedModuleWithFailedLookupLocations | undefined;
      for (const f of from) {
        r = t.resolveModuleName(literal.text, f, opts, host, cache, undefined, mode);
        if (r.resolvedModule) break;
      }
      return r!;
    });
  return host;
}

/** TypeScript's codes whose advice is to change the `lib` option, which a model file's check fixes (checkOptions). */
const CHANGE_LIB = new Set([2583, 2584]);

/** A diagnostic with its file as an absolute path. */
function toDiagnostic(t: typeof ts, d: ts.Diagnostic): TypeDiagnostic {
  const text = t.flattenDiagnosticMessageText(d.messageText, '\n');
  const message = CHANGE_LIB.has(d.code) ? `${text} (Model files are checked with the ES2023 library and Node's types, without the DOM's.)` : text;
  if (!d.file || d.start === undefined) return { message, code: d.code, ...(d.file ? { file: d.file.fileName } : {}) };
  const { line, character } = d.file.getLineAndCharacterOfPosition(d.start);
  return { file: d.file.fileName, line: line + 1, col: character + 1, message, code: d.code };
}

/**
 * The diagnostics of the model file and the user files it imports under
 * `options` (Tessera's and dependencies' own files are not re-checked),
 * their files as absolute paths; every file read is recorded in `read`.
 */
function check(t: typeof ts, file: string, options: ts.CompilerOptions, anchors: readonly string[], read: Map<string, FileStamp>): TypeDiagnostic[] {
  const program = t.createProgram({ rootNames: [file], options, host: modelHost(t, options, file, anchors, read) });
  const userFiles = program.getSourceFiles().filter((sf) => {
    if (program.isSourceFileDefaultLibrary(sf) || program.isSourceFileFromExternalLibrary(sf) || sf.fileName.includes('/node_modules/')) return false;
    return sf.fileName === file || !isTesseraSource(sf.fileName);
  });
  const diags = [
    ...program.getOptionsDiagnostics(),
    ...program.getGlobalDiagnostics(),
    ...userFiles.flatMap((sf) => [...program.getSyntacticDiagnostics(sf), ...program.getSemanticDiagnostics(sf)]),
  ];
  return diags.map((d) => toDiagnostic(t, d));
}

/**
 * TypeScript's codes for a name, module, property or type library it cannot
 * find (`console`, `process`, `node:fs`, `Buffer`, `Error.captureStackTrace`):
 * what a check without Node's types reports where Node's types would have it.
 */
const NOT_FOUND = new Set([2304, 2307, 2339, 2503, 2552, 2580, 2581, 2582, 2583, 2584, 2591, 2592, 2593, 2688, 2694, 2724, 2792, 7016]);

/** This module's file: where `@tessera/*` resolves first, and a file every check depends on. */
const SELF = fileURLToPath(import.meta.url);

/** The files of the loader (this folder): how models are checked, so a result depends on them. */
function loaderFiles(): string[] {
  const dir = dirname(SELF);
  return readdirSync(dir).map((f) => join(dir, f));
}

/** A path from a path or a file: URL. */
const asPath = (f: string) => (f.startsWith('file:') ? fileURLToPath(f) : f);

/**
 * Type-checks a model file and the user files it imports (see checkOptions),
 * with the TypeScript of the model's project or Tessera's install (a
 * TesseraError naming the package when there is none). The check runs
 * without Node's types first, and again with them (when installed) only if
 * that finds something it cannot find, such as a `console` or `process`:
 * a file clean without them is clean with them, and other errors are not
 * Node's to explain. The result is kept on disk with the files it read (see
 * check-cache.ts): while none changes, it is not computed again (except a
 * result that names something not found, which an install changes). Returns
 * every diagnostic, empty when the file is clean.
 */
export function typeCheckFile(file: string, opts: TypeCheckOptions = {}): TypeDiagnostic[] {
  const compiler = locateTypeScript(file);
  if (compiler === undefined) throw new TesseraError(`${displayPath(file)}: cannot type-check: the typescript package is not installed (${TYPESCRIPT_INSTALL})`);
  const anchors = [SELF, ...(opts.resolveFrom ?? []).map(asPath)];
  const cacheFile = checkCacheEnabled() ? checkCacheFile({ file, compiler, anchors }) : undefined;
  const kept = cacheFile === undefined ? undefined : readCachedCheck<TypeDiagnostic[]>(cacheFile);
  const shown = (ds: readonly TypeDiagnostic[]) => ds.map((d) => (d.file === undefined ? d : { ...d, file: displayPath(d.file) }));
  if (kept) return shown(kept);
  const t = loadTypeScript(file)!;
  // The result depends on the compiler and on the loader's own code too.
  const read = new Map<string, FileStamp>();
  for (const f of [compiler, ...loaderFiles()]) {
    const stamp = fileStamp(f);
    if (stamp) read.set(f, stamp);
  }
  let result = check(t, file, checkOptions(t, undefined), anchors, read);
  const nodeTypes = result.some((d) => NOT_FOUND.has(d.code)) ? nodeTypesFor(file) : undefined;
  if (nodeTypes) result = check(t, file, checkOptions(t, nodeTypes), anchors, read);
  // Not kept: a result that something cannot be found, which installing a package (@types/node, a dependency) changes.
  if (cacheFile !== undefined && !result.some((d) => NOT_FOUND.has(d.code))) storeCheck(cacheFile, read, result);
  return shown(result);
}
