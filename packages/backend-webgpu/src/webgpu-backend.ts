import type { Backend, BackendLimits, KernelProgram } from '@tessera/kernel';
import { type AdapterReport, type WebgpuOptions, optionsFromEnv } from './device/adapter.ts';
import { type GpuContext, createContext } from './device/context.ts';
import { type VariantOverrides, type WebgpuExecutable, compileOnDevice } from './runtime/executable.ts';
import { emitProgramShaders } from './wgsl/emit.ts';
import { DEFAULT_TARGET, type KernelShader } from './wgsl/module.ts';

/** The WebGPU backend bound to one device. */
export interface WebgpuBackend extends Backend {
  /** The adapter the device was created on. */
  readonly adapter: AdapterReport;
  /** The device and its caches. */
  readonly context: GpuContext;
  compile(program: KernelProgram, variants?: VariantOverrides): Promise<WebgpuExecutable>;
  /** The shaders `compile` would generate, without creating anything on the device. */
  emit(program: KernelProgram, variants?: VariantOverrides): KernelShader[];
  /** Destroys the device (executables compiled on it stop working). */
  destroy(): void;
}

/** Creates a WebGPU backend on a device of its own, found as `options` (and the TESSERA_WEBGPU_* variables under them) say. */
export async function createWebgpuBackend(options: WebgpuOptions = {}): Promise<WebgpuBackend> {
  const ctx = await createContext({ ...optionsFromEnv(), ...options });
  return backendOn(ctx);
}

function backendOn(ctx: GpuContext): WebgpuBackend {
  return {
    name: 'webgpu',
    limits: { maxBuffersPerKernel: ctx.target.maxStorageBuffersPerShaderStage },
    adapter: ctx.report,
    context: ctx,
    compile: (program, variants) => compileOnDevice(ctx, program, variants),
    emit: (program, variants) => emitProgramShaders(program, { ...ctx.target, ...variants }),
    destroy: () => ctx.destroy(),
  };
}

let shared: Promise<GpuContext> | undefined;

/**
 * The process's shared WebGPU context, created on first use from the
 * environment's options; a lost device is replaced on the next call.
 */
export async function sharedContext(): Promise<GpuContext> {
  if (shared) {
    const ctx = await shared.catch(() => undefined);
    if (ctx && ctx.lostReason === undefined) return ctx;
  }
  shared = createContext(optionsFromEnv());
  return shared;
}

let knownLimits: BackendLimits | undefined;

/**
 * The WebGPU backend as registered by name: its device is found on the
 * first compile (so importing it costs nothing). Until then `limits` are
 * WebGPU's guaranteed minimum (8 storage buffers per kernel); afterwards the
 * device's (16 on llvmpipe). Call `await sharedContext()` first to fuse for
 * the real limit.
 */
export const webgpuBackend: Backend = {
  name: 'webgpu',
  get limits(): BackendLimits {
    return knownLimits ?? { maxBuffersPerKernel: DEFAULT_TARGET.maxStorageBuffersPerShaderStage };
  },
  precisions: ['f16'],
  async compile(program, options) {
    const ctx = await sharedContext();
    knownLimits = { maxBuffersPerKernel: ctx.target.maxStorageBuffersPerShaderStage };
    return compileOnDevice(ctx, program, options?.precision ? { precision: options.precision } : {});
  },
};
