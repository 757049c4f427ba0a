/**
 * @tessera/frontend: the model DSL. Tensors that trace into graph programs,
 * PyTorch-style modules with state_dict parameter names, trace(), and
 * loading of a user's TypeScript model file.
 */
export { Tensor, type SliceRange, type Axes } from './tensor.ts';
export { Parameter, type ParameterOptions } from './parameter.ts';
export { Module } from './module.ts';
export { trace, type TraceResult, type Traceable, type TraceableModule, type TraceOptions } from './trace.ts';
export { type Operand } from './tracer.ts';
export { parseTypeSpec, type TypeSpec, type InputSpecs } from './type-spec.ts';
export { userCallSite } from './call-site.ts';
export * as ops from './ops/index.ts';
export * as nn from './nn/index.ts';
export type { DType } from '@tessera/ir';
export { loadModelFile, traceModelFile, type LoadedModel, type LoadModelOptions, type LoadPhase, type TraceModelOptions } from './load/load-model.ts';
export { typeCheckFile, formatTypeDiagnostic, ModelTypeError, type TypeDiagnostic, type TypeCheckOptions } from './load/type-check.ts';
