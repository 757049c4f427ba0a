import { existsSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, dirname, join, sep } from 'node:path';
import { TesseraError } from '@tessera/ir';
import type ts from 'typescript';
import { displayPath } from '../call-site.ts';
import { REPO_ROOT, workspacePackages } from './workspace.ts';

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

let tsModule: typeof ts | undefined;

/**
 * The TypeScript compiler, loaded on first use: it is large, and tracing
 * alone never needs it. require() rather than import() because Node's ESM
 * wrapper of a CommonJS module first scans all 9 MB of it for exports.
 */
function typescript(): typeof ts {
  return (tsModule ??= createRequire(import.meta.url)('typescript') as typeof ts);
}

/**
 * Parsed source files by path and parse options, with the file's mtime:
 * parsing lib.dom.d.ts, @types/node and the workspace sources is most of a
 * check's cost, and a process (a test run) checks several models. Sharing
 * SourceFiles between programs is what TypeScript's DocumentRegistry does.
 */
const parsed = new Map<string, { mtime: number; sf: ts.SourceFile }>();

/**
 * The repository's compiler options (tsconfig.json: strict, NodeNext,
 * allowImportingTsExtensions, noEmit, skipLibCheck, ...) plus `paths` so
 * `@tessera/*` resolves to the workspace sources from any folder, and the
 * repository's @types for files outside it.
 */
function compilerOptions(): ts.CompilerOptions {
  const ts = typescript();
  const configPath = join(REPO_ROOT, 'tsconfig.json');
  const read = ts.readConfigFile(configPath, ts.sys.readFile);
  if (read.error) throw new TesseraError(`cannot read ${configPath}: ${ts.flattenDiagnosticMessageText(read.error.messageText, '\n')}`);
  const parsed = ts.parseJsonConfigFileContent(read.config, ts.sys, REPO_ROOT, undefined, configPath);
  const paths: Record<string, string[]> = {};
  for (const p of workspacePackages()) paths[p.name] = [p.entry];
  return { ...parsed.options, noEmit: true, paths, typeRoots: [join(REPO_ROOT, 'node_modules', '@types')] };
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
 * them: package.json files outside node_modules read as `"type": "module"`,
 * and a folder with no package.json above it gets a virtual one.
 */
function esmHost(options: ts.CompilerOptions, modelFile: string): ts.CompilerHost {
  const host = typescript().createCompilerHost(options, true);
  const virtualPkg = hasPackageScope(dirname(modelFile)) ? undefined : join(dirname(modelFile), 'package.json');
  const isUserPkg = (f: string) => basename(f) === 'package.json' && !f.split(/[\\/]/).includes('node_modules');
  const { fileExists, readFile, getSourceFile } = host;
  host.getSourceFile = (f, langOrOpts, onError, fresh) => {
    if (f === virtualPkg) return getSourceFile.call(host, f, langOrOpts, onError, fresh);
    const o = typeof langOrOpts === 'object' ? langOrOpts : { languageVersion: langOrOpts };
    const key = `${f}|${o.languageVersion}|${o.impliedNodeFormat ?? ''}`;
    let mtime = -1;
    try {
      mtime = statSync(f).mtimeMs;
    } catch {
      // Missing files are not cached; the default host reports them.
    }
    const hit = parsed.get(key);
    if (hit && hit.mtime === mtime && mtime >= 0 && !fresh) return hit.sf;
    const sf = getSourceFile.call(host, f, langOrOpts, onError, fresh);
    if (sf && mtime >= 0) parsed.set(key, { mtime, sf });
    return sf;
  };
  host.fileExists = (f) => (virtualPkg !== undefined && f === virtualPkg) || fileExists.call(host, f);
  host.readFile = (f) => {
    if (virtualPkg !== undefined && f === virtualPkg) return '{"type":"module"}';
    const text = readFile.call(host, f);
    if (text === undefined || !isUserPkg(f)) return text;
    try {
      return JSON.stringify({ ...JSON.parse(text), type: 'module' });
    } catch {
      return text;
    }
  };
  return host;
}

function toDiagnostic(d: ts.Diagnostic): TypeDiagnostic {
  const message = typescript().flattenDiagnosticMessageText(d.messageText, '\n');
  if (!d.file || d.start === undefined) return { message, code: d.code, ...(d.file ? { file: displayPath(d.file.fileName) } : {}) };
  const { line, character } = d.file.getLineAndCharacterOfPosition(d.start);
  return { file: displayPath(d.file.fileName), line: line + 1, col: character + 1, message, code: d.code };
}

/**
 * Type-checks a model file and the user files it imports with the
 * repository's compiler settings. The workspace packages it uses are not
 * re-checked (the repository's own tsc covers them), except the one the
 * model lives in. Returns every diagnostic, empty when the file is clean.
 */
export function typeCheckFile(file: string): TypeDiagnostic[] {
  const options = compilerOptions();
  const program = typescript().createProgram({ rootNames: [file], options, host: esmHost(options, file) });
  const inDir = (f: string, dir: string) => f === dir || f.startsWith(dir + sep) || f.startsWith(`${dir}/`);
  const own = workspacePackages().find((p) => inDir(file, p.dir));
  const skipDirs = workspacePackages()
    .filter((p) => p !== own)
    .map((p) => p.dir);
  const userFiles = program.getSourceFiles().filter((sf) => {
    const f = sf.fileName;
    if (program.isSourceFileDefaultLibrary(sf) || program.isSourceFileFromExternalLibrary(sf) || f.includes('/node_modules/')) return false;
    return !skipDirs.some((d) => inDir(f, d));
  });
  const diags = [
    ...program.getOptionsDiagnostics(),
    ...program.getGlobalDiagnostics(),
    ...userFiles.flatMap((sf) => [...program.getSyntacticDiagnostics(sf), ...program.getSemanticDiagnostics(sf)]),
  ];
  return diags.map(toDiagnostic);
}
