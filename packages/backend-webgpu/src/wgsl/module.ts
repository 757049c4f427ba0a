import { type BufferDecl, type Kernel, kernelExprs, kernelReads, kernelStores } from '@tessera/kernel';
import { addHelper, helperSource, wgslStorageType } from './scalar.ts';
import type { WgslNames } from './expr.ts';
import { FAULTS_BUFFER, FAULTS_NAME, hasGather } from './faults.ts';

/** What the code generator needs to know about the device. Plain data, so codegen runs (and is tested) without one. */
export interface WgslTarget {
  /** Most invocations per workgroup. */
  readonly maxInvocationsPerWorkgroup: number;
  /** Bytes of workgroup memory. */
  readonly maxWorkgroupStorageSize: number;
  /** Most workgroups per dispatch dimension (65535 in WebGPU). */
  readonly maxWorkgroupsPerDimension: number;
  /** Most storage buffers one shader may bind. */
  readonly maxStorageBuffersPerShaderStage: number;
  /** Largest width and height of a 2-D texture (the texture matmul stages its operands in rgba32float textures). */
  readonly maxTextureDimension2D: number;
  /** A CPU adapter (llvmpipe, SwiftShader): picks the variants that suit SIMD-across-invocations execution. */
  readonly cpu: boolean;
  /** Matmul variant override (otherwise chosen by `chooseMatmulVariant`). */
  readonly matmul?: MatmulVariant;
  /** Reduction variant override (otherwise chosen by `chooseReduceVariant`). */
  readonly reduce?: ReduceVariant;
  /** Attention variant override (otherwise chosen by `chooseAttentionVariant`). */
  readonly attention?: AttentionVariant;
  /** Whether the adapter has WGSL's packed_4x8_integer_dot_product (dot4I8Packed): the int8 matmul's default then. */
  readonly packedDot4?: boolean;
  /** Int8 matmul variant override: packed dot products of four, or i32 products (see matmul-int8.ts). */
  readonly int8?: 'packed' | 'i32';
  /** Block of the tiled matmul (a tuning knob: outputs per invocation tm x tn, multiples of 4, and wx x wy invocations); default MATMUL_TILINGS.tiled. */
  readonly tiledTiling?: { readonly tm: number; readonly tn: number; readonly wx: number; readonly wy: number };
  /** false: `chooseMatmulVariant` never picks the split-K matmul (forcing `matmul: 'splitk'` still does). */
  readonly splitK?: boolean;
  /**
   * Arithmetic of the GPU matmuls (tiled and split-K): `f32` (default);
   * `f16`, operand tiles stored in workgroup memory as f16 and multiplied
   * and summed in f16 over each K slice, the slices' sums added in f32
   * (needs the device's shader-f16); `f16-emulated`, the same kernels in f32
   * with every f16 rounding done by quantizeToF16 (adapters without
   * shader-f16: tests).
   */
  readonly precision?: Precision;
}

/** Arithmetic precision of the GPU matmuls (see WgslTarget.precision). */
export type Precision = 'f32' | 'f16' | 'f16-emulated';

/**
 * Matmul algorithms: operands staged in textures and register-blocked (CPU
 * adapters), register-blocked over storage buffers (CPU adapters, when the
 * operands do not fit a texture), shared-memory tiling (GPUs), shared-memory
 * tiling with the K axis split over workgroups and the partial sums reduced
 * by a second dispatch (GPUs, when the output has too few tiles to occupy
 * them), one output per invocation.
 */
export type MatmulVariant = 'texture' | 'register' | 'tiled' | 'splitk' | 'naive';

/** Every matmul variant, for tests and benchmarks that force each. */
export const MATMUL_VARIANTS: readonly MatmulVariant[] = ['texture', 'register', 'tiled', 'splitk', 'naive'];
/** Reduction algorithms: one invocation per output row, or one workgroup per row with a tree reduction in workgroup memory. */
export type ReduceVariant = 'thread' | 'workgroup';

/** Attention algorithms: one invocation per query row (CPU adapters), or one workgroup per query row with the scores in workgroup memory (GPUs). */
export type AttentionVariant = 'row' | 'workgroup';

/** WebGPU's guaranteed limits (what any adapter supports), with a GPU's variants. */
export const DEFAULT_TARGET: WgslTarget = {
  maxInvocationsPerWorkgroup: 256,
  maxWorkgroupStorageSize: 16384,
  maxWorkgroupsPerDimension: 65535,
  maxStorageBuffersPerShaderStage: 8,
  maxTextureDimension2D: 8192,
  cpu: false,
};

/** How a buffer is bound in one shader. */
export interface BufferBinding {
  /** A program buffer's index, or FAULTS_BUFFER (the program's gather faults). */
  readonly buffer: number;
  readonly access: 'read' | 'read_write';
  /** A second, read-only view of the buffer as array<vec4<f32>> (named `b<N>_v4`), for vectorised loads. */
  readonly vec4?: boolean;
}

/** How one of the kernel's textures (an index into `KernelShader.textures`, named `tex<N>`) is bound: read by textureLoad, or written by textureStore. */
export interface TextureBinding {
  readonly texture: number;
  readonly access: 'sampled' | 'write';
}

/** A binding of a shader: binding i of the module is bindings[i]. */
export type ShaderBinding = BufferBinding | TextureBinding;

/** Whether a binding is a texture rather than a storage buffer. */
export function isTextureBinding(b: ShaderBinding): b is TextureBinding {
  return 'texture' in b;
}

/**
 * An rgba32float texture a kernel stages data in: four consecutive f32 per
 * texel. `shared`: the contents are written by the kernel's own prepass
 * before every read, so kernels may share one texture of the same size;
 * otherwise it holds data the kernel keeps between runs (packed parameters).
 */
export interface ShaderTexture {
  readonly label: string;
  readonly width: number;
  readonly height: number;
  readonly shared: boolean;
}

/** One kernel as a compute shader: its WGSL, bindings (binding i = bindings[i]) and dispatch size. */
export interface KernelShader {
  readonly name: string;
  readonly kind: Kernel['kind'];
  /** Which algorithm was generated (e.g. `matmul:register 4x4`), for printing and benchmarks. */
  readonly variant: string;
  readonly wgsl: string;
  readonly bindings: readonly ShaderBinding[];
  readonly dispatch: readonly [number, number, number];
  readonly workgroupSize: number;
  /** Textures the shader and its prepasses bind. */
  readonly textures?: readonly ShaderTexture[];
  /** Shaders dispatched before this one (packing operands into `textures`). */
  readonly prepasses?: readonly Prepass[];
}

/** A shader dispatched before its kernel's shader. `paramsOnly`: it reads only parameters and constants, so it runs when they change, not every run. */
export interface Prepass extends KernelShader {
  readonly paramsOnly: boolean;
}

/** A kernel that cannot be generated within the device's limits. */
export class WgslLimitError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WgslLimitError';
  }
}

/** The buffers a kernel touches, read-only unless it stores to them, in buffer order; then the faults buffer if it gathers. */
export function kernelBindings(k: Kernel): BufferBinding[] {
  const read = kernelReads(k);
  const written = new Set(kernelStores(k).map((s) => s.buffer));
  const all = [...new Set([...read, ...written])].sort((a, b) => a - b);
  const faults: BufferBinding[] = kernelExprs(k).some(hasGather) ? [{ buffer: FAULTS_BUFFER, access: 'read_write' }] : [];
  return [...all.map((buffer): BufferBinding => ({ buffer, access: written.has(buffer) ? 'read_write' : 'read' })), ...faults];
}

/** Splits `groups` workgroups over x and y when x alone would pass the per-dimension limit. */
export function gridFor(groups: number, maxPerDim: number): [number, number, number] {
  if (groups <= maxPerDim) return [Math.max(1, groups), 1, 1];
  const y = Math.ceil(groups / maxPerDim);
  if (y > maxPerDim) throw new WgslLimitError(`${groups} workgroups exceed ${maxPerDim} x ${maxPerDim}`);
  return [Math.ceil(groups / y), y, 1];
}

/**
 * Collects what a shader needs besides its entry point (helpers, bindings,
 * workgroup variables) and assembles the module source.
 */
export class ShaderModuleBuilder {
  readonly helpers = new Set<string>();
  readonly use = (h: string): void => addHelper(h, this.helpers);
  private readonly decls: string[] = [];
  private readonly enables = new Set<string>();

  constructor(
    readonly kernel: Kernel,
    readonly buffers: readonly BufferDecl[],
    readonly target: WgslTarget,
    readonly names: WgslNames,
  ) {}

  /** Adds an `enable` directive (a WGSL extension such as f16) to the module. */
  enable(extension: string): void {
    this.enables.add(extension);
  }

  /** Adds a module-scope declaration (workgroup arrays, hook functions). */
  declare(...lines: string[]): void {
    this.decls.push(...lines);
  }

  /** The whole module: a header comment, bindings, helpers, declarations and the entry point. */
  assemble(variant: string, bindings: readonly ShaderBinding[], entry: string): string {
    const storage = bindings.filter((b) => !isTextureBinding(b)).length;
    if (storage > this.target.maxStorageBuffersPerShaderStage) {
      throw new WgslLimitError(
        `kernel ${this.kernel.name} binds ${storage} storage buffers, but the device allows ${this.target.maxStorageBuffersPerShaderStage} per shader stage (split the kernel: fusion must respect limits.maxBuffersPerKernel)`,
      );
    }
    const binds = bindings.map((b, i) => {
      if (isTextureBinding(b)) {
        const type = b.access === 'sampled' ? 'texture_2d<f32>' : 'texture_storage_2d<rgba32float, write>';
        return `@group(0) @binding(${i}) var tex${b.texture}: ${type};`;
      }
      if (b.buffer === FAULTS_BUFFER) return `@group(0) @binding(${i}) var<storage, read_write> ${FAULTS_NAME}: array<atomic<u32>>; // gather faults (see faults.ts)`;
      const d = this.buffers[b.buffer]!;
      const name = `${this.names.buffer(b.buffer)}${b.vec4 ? '_v4' : ''}`;
      const type = b.vec4 ? 'vec4<f32>' : wgslStorageType(d.dtype);
      return `@group(0) @binding(${i}) var<storage, ${b.access}> ${name}: array<${type}>; // %${d.name} ${d.dtype}[${d.shape.join(',')}] ${d.role}`;
    });
    const helpers = helperSource(this.helpers);
    return [`// kernel ${this.kernel.name} (${variant})`, ...[...this.enables].map((e) => `enable ${e};`), ...binds, ...(helpers ? [helpers] : []), ...this.decls, entry, ''].join('\n');
  }
}

/** The entry point's signature: builtins every kernel uses, with `wg` the workgroup's linear index over the 2-D grid. */
export function entryHead(workgroupSize: number | readonly [number, number], grid: readonly [number, number, number]): string {
  const size = typeof workgroupSize === 'number' ? String(workgroupSize) : workgroupSize.join(', ');
  return `@compute @workgroup_size(${size})\nfn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {\n  let wg = i32(wid.x + wid.y * ${grid[0]}u);`;
}
