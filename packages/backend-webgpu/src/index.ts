/**
 * @tessera/backend-webgpu: WGSL compute shaders generated from the kernel
 * program, run on any WebGPU adapter: navigator.gpu in a browser, Dawn
 * (the `webgpu` package) in Node, down to Mesa llvmpipe on machines
 * without a GPU. Numerics per adapter are documented in README.md.
 */
// The WebGPU types (GPUDevice, navigator.gpu), kept in the published declarations for users of this package.
/// <reference types="@webgpu/types" preserve="true" />

export * from './webgpu-backend.ts';
export { type AdapterChoice, type AdapterReport, type WebgpuOptions, WebgpuUnavailableError, INSTALL_HINT, acquireDevice, createDawnGpu, describeAdapter, optionsFromEnv } from './device/adapter.ts';
export { GpuContext, createContext } from './device/context.ts';
export { DAWN_PACKAGE, DawnMissingError } from './device/dawn-module.ts';
export { ShaderError } from './device/pipelines.ts';
export { type VariantOverrides, type WebgpuExecutable, compileOnDevice, deviceBytes } from './runtime/executable.ts';
export { toStorage, fromStorage } from './runtime/host-data.ts';
export { DISPATCHES_PER_QUERY_SET, timestampPairsToMs } from './runtime/profile.ts';
export { type KernelTiming, type KindTotal, type TimingMethod, slowestFirst, totalsByKind } from '@tessera/kernel';
export { emitKernelShader, emitProgramShaders, printProgramShaders } from './wgsl/emit.ts';
export { DEFAULT_TARGET, MATMUL_VARIANTS, WgslLimitError, gridFor, isTextureBinding, type BufferBinding, type KernelShader, type AttentionVariant, type MatmulVariant, type Precision, type Prepass, type ReduceVariant, type ShaderBinding, type ShaderTexture, type TextureBinding, type WgslTarget } from './wgsl/module.ts';
export { chooseMatmulVariant, MATMUL_TILINGS, splitKFactor } from './wgsl/matmul.ts';
export { chooseReduceVariant } from './wgsl/reduce.ts';
export { chooseAttentionVariant } from './wgsl/attention.ts';
export { WGSL_HELPERS } from './wgsl/scalar.ts';
