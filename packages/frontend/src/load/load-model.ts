import { existsSync } from 'node:fs';
import { register } from 'node:module';
import { extname, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { type Program, TesseraError } from '@tessera/ir';
import { displayPath } from '../call-site.ts';
import { Module } from '../module.ts';
import { describe } from '../tracer.ts';
import { type TraceOptions, type TraceableModule, trace } from '../trace.ts';
import { type InputSpecs, parseTypeSpec } from '../type-spec.ts';
import { ModelTypeError, typeCheckFile } from './type-check.ts';
import { TYPESCRIPT_INSTALL, locateTypeScript } from './typescript.ts';
import { userCodeError } from './user-error.ts';

/** A loaded model file: the model, its input specs, and everything it exports. */
export interface LoadedModel {
  /** Absolute path of the file. */
  readonly file: string;
  readonly model: TraceableModule;
  readonly inputs: InputSpecs;
  readonly exports: Readonly<Record<string, unknown>>;
}

/** The phases of loading a model file that LoadModelOptions.onPhase times. */
export type LoadPhase = 'type check' | 'load' | 'trace';

/** Options of loadModelFile(). */
export interface LoadModelOptions {
  /** Passed to a default export that is a factory function (and to an `inputs` function). */
  readonly config?: unknown;
  /** Type-check before importing (default true; skipped with a note when TypeScript is not installed). */
  readonly typeCheck?: boolean;
  /**
   * Files (paths or file: URLs) from which the model's `@tessera/*` imports
   * resolve before its own project's (the CLI passes its own location, so a
   * model anywhere runs with the CLI's packages); this package's location
   * is always the first.
   */
  readonly resolveFrom?: readonly string[];
  /** Told the milliseconds each phase took, as it ends. */
  readonly onPhase?: (phase: LoadPhase, ms: number) => void;
  /** Where notes go (default stderr): a type check skipped for want of TypeScript, said once per process. */
  readonly note?: (message: string) => void;
}

/** How the process runs the model's TypeScript (see resolve-hook.mjs). */
type TsRuntime = { mode: 'host' } | { mode: 'transpile'; typescript: string } | { mode: 'strip' };

/** Hook settings registered so far (one registration per distinct setting). */
const registered = new Set<string>();

/**
 * Registers the module hooks (see resolve-hook.mjs) that let a model file
 * anywhere import '@tessera/*' from the loader's own install (then from
 * `resolveFrom`, then its project) and load as ES modules.
 */
function registerHooks(runtime: TsRuntime, resolveFrom: readonly string[]): void {
  const anchors = [import.meta.url, ...resolveFrom.map((f) => (f.startsWith('file:') ? f : pathToFileURL(resolve(f)).href))];
  const data = { ...runtime, anchors };
  const key = JSON.stringify(data);
  if (registered.has(key)) return;
  registered.add(key);
  // Stack traces of transpiled files then point at the TypeScript lines (call sites, user errors).
  if (runtime.mode === 'transpile') process.setSourceMapsEnabled(true);
  register(new URL('./resolve-hook.mjs', import.meta.url).href, import.meta.url, { data });
}

/**
 * How this process can run TypeScript: as it runs this very module when
 * that is TypeScript (tsx, vitest: the repository's sources); else
 * transpiled with the TypeScript compiler when installed (any syntax); else
 * with Node's own type stripping (Node 22.18 and later); else not at all,
 * an error that says what to install.
 */
function tsRuntime(shown: string, typescript: string | undefined): TsRuntime {
  if (import.meta.url.endsWith('.ts')) return { mode: 'host' };
  if (typescript !== undefined) return { mode: 'transpile', typescript: pathToFileURL(typescript).href };
  if ((process.features as { typescript?: unknown }).typescript) return { mode: 'strip' };
  throw new TesseraError(`${shown}: cannot run a TypeScript model file: Node ${process.version} has no TypeScript support of its own and the typescript package is not installed (${TYPESCRIPT_INSTALL}; or use Node 22.18 or later)`);
}

/** Whether the missing-TypeScript note was given (once per process). */
let notedNoTypeScript = false;

/** Milliseconds since `t0`. */
const since = (t0: number) => performance.now() - t0;

function isInputSpecs(v: unknown): v is InputSpecs {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Loads a model file: type-checks it (throwing ModelTypeError with every
 * diagnostic as file:line:col: message), imports it, and returns its
 * default export (a Module, a Module class, or a function of the config
 * returning a Module)
 * and its `inputs` export ({ x: 'f32[2,16]' }, or a function of the config).
 */
export async function loadModelFile(path: string, opts: LoadModelOptions = {}): Promise<LoadedModel> {
  const file = resolve(path);
  const shown = displayPath(file);
  if (!existsSync(file)) throw new TesseraError(`${shown}: no such file`);
  if (!['.ts', '.mts'].includes(extname(file))) throw new TesseraError(`${shown}: expected a TypeScript model file (.ts or .mts)`);
  const typescript = locateTypeScript(file);
  // A process that cannot run the file at all says so before anything else.
  const runtime = tsRuntime(shown, typescript);
  if (opts.typeCheck !== false && typescript !== undefined) {
    const t0 = performance.now();
    const diagnostics = typeCheckFile(file, opts.resolveFrom ? { resolveFrom: opts.resolveFrom } : {});
    opts.onPhase?.('type check', since(t0));
    if (diagnostics.length > 0) throw new ModelTypeError(file, diagnostics);
  } else if (opts.typeCheck !== false && !notedNoTypeScript) {
    notedNoTypeScript = true;
    const note = opts.note ?? ((m: string) => process.stderr.write(`${m}\n`));
    note(`note: model files are not type-checked: the typescript package is not installed (${TYPESCRIPT_INSTALL})`);
  }
  const t0 = performance.now();
  registerHooks(runtime, opts.resolveFrom ?? []);
  // The module's top level, its factory and its inputs function are the user's code: what they throw is located there.
  const userCode = async <T>(run: () => T | Promise<T>): Promise<T> => {
    try {
      return await run();
    } catch (e) {
      throw userCodeError(e, file, 'loading');
    }
  };
  const exports = await userCode(async () => (await import(pathToFileURL(file).href)) as Record<string, unknown>);

  const def = exports.default;
  let model: unknown = def;
  if (typeof def === 'function') {
    model = await userCode(() => (def.prototype instanceof Module ? new (def as new (config: unknown) => unknown)(opts.config) : (def as (config: unknown) => unknown)(opts.config)));
  }
  if (!(model instanceof Module)) {
    throw new TesseraError(`${shown}: the default export is ${describe(def)}; expected a Module (export default new MyModel()), a Module class, or a function returning a Module`);
  }
  if (typeof (model as { forward?: unknown }).forward !== 'function') {
    throw new TesseraError(`${shown}: the default export ${model.constructor.name} has no forward method`);
  }
  const rawInputs = typeof exports.inputs === 'function' ? await userCode(() => (exports.inputs as (config: unknown) => unknown)(opts.config)) : exports.inputs;
  if (!isInputSpecs(rawInputs)) {
    throw new TesseraError(`${shown}: 'inputs' export is ${describe(rawInputs)}; expected export const inputs = { x: 'f32[2,16]', ... }`);
  }
  opts.onPhase?.('load', since(t0));
  return { file, model: model as TraceableModule, inputs: rawInputs, exports };
}

/** Options of traceModelFile(). */
export interface TraceModelOptions extends LoadModelOptions, TraceOptions {
  /** Input types replacing the file's own, by name (the CLI's `--input x=f32[4,16]`): each names an input of the file and keeps its dtype. */
  readonly inputs?: InputSpecs;
}

/** The model's input specs with `overrides` applied, each checked to name one of them and keep its dtype. */
function overrideInputs(shown: string, declared: InputSpecs, overrides: InputSpecs): InputSpecs {
  const out: Record<string, InputSpecs[string]> = { ...declared };
  for (const [name, spec] of Object.entries(overrides)) {
    if (!Object.hasOwn(declared, name)) {
      const names = Object.keys(declared);
      throw new TesseraError(`${shown}: no input '${name}' to set the type of (the model's inputs: ${names.length ? names.join(', ') : 'none'})`);
    }
    const was = parseTypeSpec(declared[name]!, `${shown}: input '${name}'`);
    const now = parseTypeSpec(spec, `input '${name}'`);
    if (now.dtype !== was.dtype) {
      throw new TesseraError(`${shown}: input '${name}' is ${was.dtype}[${was.shape.join(',')}]; it can be given another shape, not the dtype ${now.dtype}`);
    }
    out[name] = spec;
  }
  return out;
}

/**
 * Loads a model file and traces it (`name`: the program's name; `inputs`:
 * types replacing the file's own). Whatever the model's code throws while
 * loading or tracing, an Error or not, is a TesseraError located at the
 * user's line or named by the file.
 */
export async function traceModelFile(path: string, opts: TraceModelOptions = {}): Promise<Program> {
  const loaded = await loadModelFile(path, opts);
  const inputs = opts.inputs ? overrideInputs(displayPath(loaded.file), loaded.inputs, opts.inputs) : loaded.inputs;
  const t0 = performance.now();
  try {
    return trace(loaded.model, inputs, { ...(opts.name !== undefined ? { name: opts.name } : {}), ...(opts.attentions !== undefined ? { attentions: opts.attentions } : {}) });
  } catch (e) {
    throw userCodeError(e, loaded.file, 'tracing');
  } finally {
    opts.onPhase?.('trace', since(t0));
  }
}
