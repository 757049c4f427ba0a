/**
 * @tessera/frontend: the model DSL. Tensors that trace into graph programs,
 * PyTorch-style modules with state_dict parameter names, and trace(). It
 * imports no Node built-in, so it bundles for a browser; loading a model file
 * from disk is `@tessera/frontend/node`.
 */
export { Tensor, type SliceRange, type Axes, type Operand } from './tensor.ts';
export { Parameter, type ParameterOptions } from './parameter.ts';
export { Module } from './module.ts';
export { trace, type TraceResult, type Traceable, type TraceableModule, type TraceOptions } from './trace.ts';
export { type AttentionSelection, ATTENTION_OUTPUT_PREFIX, attentionOutputName } from './probes.ts';
export { parseTypeSpec, type TypeSpec, type InputSpecs } from './type-spec.ts';
export { userCallSite } from './call-site.ts';
export * as ops from './ops/index.ts';
export * as nn from './nn/index.ts';
export type { DType } from '@tessera/ir';
