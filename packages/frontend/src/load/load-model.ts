import { existsSync } from 'node:fs';
import { register } from 'node:module';
import { extname, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { type Program, TesseraError } from '@tessera/ir';
import { displayPath } from '../call-site.ts';
import { Module } from '../module.ts';
import { describe } from '../tracer.ts';
import { type TraceOptions, type TraceableModule, trace } from '../trace.ts';
import type { InputSpecs } from '../type-spec.ts';
import { ModelTypeError, typeCheckFile } from './type-check.ts';
import { userCodeError } from './user-error.ts';
import { workspacePackages } from './workspace.ts';

/** A loaded model file: the model, its input specs, and everything it exports. */
export interface LoadedModel {
  /** Absolute path of the file. */
  readonly file: string;
  readonly model: TraceableModule;
  readonly inputs: InputSpecs;
  readonly exports: Readonly<Record<string, unknown>>;
}

/** Options of loadModelFile(). */
export interface LoadModelOptions {
  /** Passed to a default export that is a factory function (and to an `inputs` function). */
  readonly config?: unknown;
  /** Type-check before importing (default true). */
  readonly typeCheck?: boolean;
}

let hooksRegistered = false;

/** Registers the resolve hook (once) that lets model files anywhere import '@tessera/*' and load as ES modules. */
function registerHooks(): void {
  if (hooksRegistered) return;
  hooksRegistered = true;
  const packages = Object.fromEntries(workspacePackages().map((p) => [p.name, pathToFileURL(p.entry).href]));
  register(new URL('./resolve-hook.mjs', import.meta.url).href, import.meta.url, { data: { packages } });
}

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
  if (opts.typeCheck !== false) {
    const diagnostics = typeCheckFile(file);
    if (diagnostics.length > 0) throw new ModelTypeError(file, diagnostics);
  }
  registerHooks();
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
  return { file, model: model as TraceableModule, inputs: rawInputs, exports };
}

/**
 * Loads a model file and traces it (`name`: the program's name). Whatever
 * the model's code throws while loading or tracing, an Error or not, is a
 * TesseraError located at the user's line or named by the file.
 */
export async function traceModelFile(path: string, opts: LoadModelOptions & TraceOptions = {}): Promise<Program> {
  const loaded = await loadModelFile(path, opts);
  try {
    return trace(loaded.model, loaded.inputs, opts.name !== undefined ? { name: opts.name } : {});
  } catch (e) {
    throw userCodeError(e, loaded.file, 'tracing');
  }
}
