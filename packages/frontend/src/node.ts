/**
 * @tessera/frontend/node: loading a user's TypeScript model file (type-checked
 * with the TypeScript compiler, imported with Node's module hooks), which
 * needs Node. The DSL itself is `@tessera/frontend`, which imports no Node
 * built-in and so traces models in a browser too.
 */
export { loadModelFile, traceModelFile, type LoadedModel, type LoadModelOptions, type LoadPhase, type TraceModelOptions } from './load/load-model.ts';
export { typeCheckFile, formatTypeDiagnostic, ModelTypeError, type TypeDiagnostic, type TypeCheckOptions } from './load/type-check.ts';
