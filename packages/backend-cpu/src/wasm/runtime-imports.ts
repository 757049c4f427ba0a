/**
 * The functions a Tessera wasm module imports (module "m"), so scalar wasm
 * has the JS backend's numerics: Math's exp/log/sin/cos/tanh and IEEE pow.
 * Workers rebuild the same object from `RUNTIME_IMPORTS_SOURCE`.
 */
import { JS_HELPERS } from '../js/scalar.ts';

/** JavaScript source of a function `makeRuntimeImports()` returning the import object's "m" namespace. */
export const RUNTIME_IMPORTS_SOURCE = `function makeRuntimeImports() {
${JS_HELPERS.pow}
  return {
    exp: Math.exp, log: Math.log, sin: Math.sin, cos: Math.cos, tanh: Math.tanh, pow,
  };
}`;

/** The "m" import namespace, built from the same source the workers use. */
export function runtimeImports(): Record<string, (...args: number[]) => number> {
  return new Function(`${RUNTIME_IMPORTS_SOURCE}\nreturn makeRuntimeImports();`)() as Record<string, (...args: number[]) => number>;
}

/** Names and arities of the imported functions, in import order. */
export const RUNTIME_IMPORT_SIGNATURES: readonly { readonly name: 'exp' | 'log' | 'sin' | 'cos' | 'tanh' | 'pow'; readonly arity: 1 | 2 }[] = [
  { name: 'exp', arity: 1 },
  { name: 'log', arity: 1 },
  { name: 'sin', arity: 1 },
  { name: 'cos', arity: 1 },
  { name: 'tanh', arity: 1 },
  { name: 'pow', arity: 2 },
];
