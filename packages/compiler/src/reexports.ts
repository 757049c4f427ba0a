/**
 * What @tessera/compiler passes on from the layers below, so that one
 * installed package defines, traces, compiles and runs a model: the model
 * DSL of @tessera/frontend (without its Node-only model-file loader), the
 * program type and errors of @tessera/ir, and the backend factories.
 */
export {
  Module,
  Parameter,
  Tensor,
  nn,
  ops,
  parseTypeSpec,
  trace,
  type Axes,
  type InputSpecs,
  type Operand,
  type ParameterOptions,
  type SliceRange,
  type TraceOptions,
  type TraceResult,
  type Traceable,
  type TraceableModule,
  type TypeSpec,
} from '@tessera/frontend';
export { GatherIndexError, TesseraError, printProgram, type DType, type Program, type SourceLoc } from '@tessera/ir';
export { createCpuBackend, type CpuBackendOptions } from '@tessera/backend-cpu';
export { createWebgpuBackend, WebgpuUnavailableError, type WebgpuBackend, type WebgpuOptions } from '@tessera/backend-webgpu';
