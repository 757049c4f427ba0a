import { TesseraError } from '@tessera/ir';
import { MATMUL_VARIANTS, type MatmulVariant, type ReduceVariant } from '../wgsl/module.ts';
import { DawnMissingError, importDawn } from './dawn-module.ts';
import { WebgpuUnavailableError } from './errors.ts';

export { WebgpuUnavailableError };

/**
 * Which adapter to use. `auto`: in a browser navigator.gpu; in Node the
 * default Dawn backend at core feature level (a real GPU: Vulkan on Linux),
 * then Dawn's OpenGL ES backend at the compatibility feature level (Mesa
 * llvmpipe on machines without a GPU). `default` and `opengles` try only
 * that one; `browser` only navigator.gpu.
 */
export type AdapterChoice = 'auto' | 'default' | 'opengles' | 'browser';

/** Options of the WebGPU backend; each has an environment variable for when it is created by name (`compile({ backend: 'webgpu' })`). */
export interface WebgpuOptions {
  /** Adapter choice (env TESSERA_WEBGPU_ADAPTER; default auto). */
  readonly adapter?: AdapterChoice;
  /** Milliseconds to wait for requestAdapter and requestDevice each before giving up (env TESSERA_WEBGPU_TIMEOUT_MS; default 20000). */
  readonly timeoutMs?: number;
  /** Matmul algorithm override (env TESSERA_WEBGPU_MATMUL: texture, register, tiled or naive). */
  readonly matmul?: MatmulVariant;
  /** Reduction algorithm override (env TESSERA_WEBGPU_REDUCE: thread or workgroup). */
  readonly reduce?: ReduceVariant;
  /** A navigator.gpu-like object to use instead of discovering one. */
  readonly gpu?: GPU;
  /**
   * Try every adapter source even where it can only fail noisily (env
   * TESSERA_DEBUG set and not 0): Dawn's default backend on Linux without a
   * Vulkan loader, which prints Dawn's warnings to stderr. Default false.
   */
  readonly verbose?: boolean;
}

/** The adapter a device was created on, as `tessera info` reports it. */
export interface AdapterReport {
  /** How it was found: Dawn's default backend, Dawn's OpenGL ES backend, navigator.gpu, or a GPU object passed in. */
  readonly source: 'default' | 'opengles' | 'browser' | 'given';
  readonly featureLevel: 'core' | 'compatibility';
  readonly vendor: string;
  readonly architecture: string;
  readonly device: string;
  readonly description: string;
  /** A software adapter (llvmpipe, SwiftShader, WARP): variants are chosen for CPUs. */
  readonly cpu: boolean;
  /** Whether the device has `timestamp-query` (requested whenever the adapter offers it): `profile` then times kernels on the GPU's clock. */
  readonly timestamps: boolean;
  /** Whether WGSL has the packed_4x8_integer_dot_product language feature here (dot4I8Packed, pack4xI8). */
  readonly packedDot4: boolean;
  /** Whether the device has `shader-f16` (requested whenever the adapter offers it): precision 'f16' needs it. */
  readonly f16?: boolean;
  /** The limits the device was created with (raised to the adapter's maxima). */
  readonly limits: Readonly<Record<string, number>>;
  /** What was tried before it, and why each failed. */
  readonly tried: readonly string[];
}


const ADAPTER_CHOICES: readonly AdapterChoice[] = ['auto', 'default', 'opengles', 'browser'];
const VARIANTS = { matmul: MATMUL_VARIANTS, reduce: ['thread', 'workgroup'] } as const;

/** Reads the TESSERA_WEBGPU_* environment variables into options, checking their values. */
export function optionsFromEnv(env: Readonly<Record<string, string | undefined>> = typeof process === 'undefined' ? {} : process.env): WebgpuOptions {
  const pick = <T extends string>(name: string, allowed: readonly T[]): T | undefined => {
    const v = env[name];
    if (v === undefined || v === '') return undefined;
    if (!(allowed as readonly string[]).includes(v)) throw new TesseraError(`${name}=${v} is not one of ${allowed.join(', ')}`);
    return v as T;
  };
  const timeout = env.TESSERA_WEBGPU_TIMEOUT_MS;
  if (timeout !== undefined && timeout !== '' && !(Number(timeout) > 0)) throw new TesseraError(`TESSERA_WEBGPU_TIMEOUT_MS=${timeout} is not a positive number of milliseconds`);
  const adapter = pick('TESSERA_WEBGPU_ADAPTER', ADAPTER_CHOICES);
  const matmul = pick('TESSERA_WEBGPU_MATMUL', VARIANTS.matmul);
  const reduce = pick('TESSERA_WEBGPU_REDUCE', VARIANTS.reduce);
  const debug = env.TESSERA_DEBUG;
  return {
    ...(debug !== undefined && debug !== '' && debug !== '0' ? { verbose: true } : {}),
    ...(adapter ? { adapter } : {}),
    ...(matmul ? { matmul } : {}),
    ...(reduce ? { reduce } : {}),
    ...(timeout ? { timeoutMs: Number(timeout) } : {}),
  };
}

/** Rejects with a clear error when `p` has not settled after `ms` (a driver that hangs must not hang us). */
export function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new WebgpuUnavailableError(`${what} did not answer within ${ms} ms`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

/** The limits that matter to compute, requested at the adapter's maxima (compat-mode defaults are far lower: 8 storage buffers, 128 invocations). */
const RAISED_LIMITS = [
  'maxStorageBuffersPerShaderStage',
  'maxComputeInvocationsPerWorkgroup',
  'maxComputeWorkgroupSizeX',
  'maxComputeWorkgroupSizeY',
  'maxComputeWorkgroupSizeZ',
  'maxComputeWorkgroupStorageSize',
  'maxComputeWorkgroupsPerDimension',
  'maxStorageBufferBindingSize',
  'maxBufferSize',
  'maxBindingsPerBindGroup',
  'maxTextureDimension2D',
] as const;

const SOFTWARE_ADAPTER = /llvmpipe|lavapipe|softpipe|swiftshader|warp|software/i;

/** What install makes an adapter available, for the error when none is. */
export const INSTALL_HINT =
  'On Debian/Ubuntu without a GPU install Mesa llvmpipe for Dawn\'s OpenGL ES backend: ' +
  '`apt-get install -y --no-install-recommends libegl1 libgl1-mesa-dri` and link libEGL.so -> libEGL.so.1 ' +
  '(or install libegl-dev); scripts/setup.sh does this. With a GPU, install its Vulkan driver. ' +
  'TESSERA_WEBGPU_ADAPTER=default|opengles picks one backend.';

interface Candidate {
  readonly source: AdapterReport['source'];
  readonly featureLevel: 'core' | 'compatibility';
  readonly gpu: () => Promise<GPU>;
}

/**
 * Dawn instances created in this process, held for its lifetime: dawn.node
 * keeps processing events on an instance for its devices, and when the GPU
 * object was garbage-collected under a live device the process crashed in
 * CallbackTaskManager::Flush (measured: most runs of a few hundred shader
 * compiles). There are only a few per process.
 */
const dawnInstances: GPU[] = [];

/**
 * Dawn quantizes timestamp queries by default (a browser's defence against
 * timing attacks), which would round short kernels to 0: in Node, where the
 * profile is the only reader, the GPU's full resolution is kept.
 */
const DAWN_FLAGS = ['disable-dawn-features=timestamp_quantization'];

async function dawnGpu(flags: string[]): Promise<GPU> {
  // Imported only in Node, when a device is asked for: a browser never reaches this.
  const mod = await importDawn();
  // The GPUBufferUsage etc. constants live on globalThis in a browser; dawn.node provides them here.
  for (const [k, v] of Object.entries(mod.globals)) if (!(k in globalThis)) (globalThis as Record<string, unknown>)[k] = v;
  const gpu = mod.create([...flags, ...DAWN_FLAGS]);
  dawnInstances.push(gpu);
  return gpu;
}

/**
 * A Dawn GPU object in Node, on Dawn's default backend or its OpenGL ES
 * backend (EGL_PLATFORM set for llvmpipe), held for the process; with the
 * GPUBufferUsage etc. constants installed on globalThis. For running other
 * WebGPU libraries on the same adapter as the backend (the benchmark).
 */
export function createDawnGpu(source: 'default' | 'opengles'): Promise<GPU> {
  if (source === 'opengles' && typeof process !== 'undefined' && !process.env.EGL_PLATFORM) process.env.EGL_PLATFORM = 'surfaceless';
  return dawnGpu(source === 'opengles' ? ['backend=opengles'] : []);
}

/**
 * Why Dawn's default backend cannot work here, when that is known without
 * trying it: on Linux it is Vulkan, and without the Vulkan loader Dawn only
 * prints "Couldn't load Vulkan" warnings to stderr (from native code, which
 * no JavaScript can silence) before finding no adapter. The loader is
 * looked for as Dawn looks for it, by dlopen of libvulkan.so.1.
 */
export function defaultBackendUnusable(): string | undefined {
  const proc = (globalThis as { process?: NodeJS.Process }).process;
  if (proc?.platform !== 'linux' || typeof proc.dlopen !== 'function') return undefined;
  try {
    proc.dlopen({ exports: {} } as NodeJS.Module, 'libvulkan.so.1');
  } catch (e) {
    // A library that loads but is no Node addon fails later, with "did not self-register": the loader is there.
    const message = e instanceof Error ? e.message : String(e);
    if (/cannot open shared object file|No such file/i.test(message)) return 'no Vulkan loader (libvulkan.so.1) on this machine';
  }
  return undefined;
}

function candidates(choice: AdapterChoice, given: GPU | undefined, verbose: boolean): Candidate[] {
  if (given) return [{ source: 'given', featureLevel: 'core', gpu: async () => given }];
  const nav = (globalThis as { navigator?: { gpu?: GPU } }).navigator;
  const browser: Candidate = {
    source: 'browser',
    featureLevel: 'core',
    gpu: async () => {
      if (!nav?.gpu) throw new Error('navigator.gpu is not available here');
      return nav.gpu;
    },
  };
  const dawnDefault: Candidate = {
    source: 'default',
    featureLevel: 'core',
    gpu: () => {
      // Unless asked (TESSERA_DEBUG), skip what would only print Dawn's Vulkan warnings and fail.
      const why = verbose || choice === 'default' ? undefined : defaultBackendUnusable();
      if (why) throw new Error(`skipped: ${why} (TESSERA_DEBUG=1 tries it anyway)`);
      return dawnGpu([]);
    },
  };
  // Mesa's EGL needs no display for compute (EGL_PLATFORM=surfaceless, set before Dawn loads EGL).
  const dawnGles: Candidate = { source: 'opengles', featureLevel: 'compatibility', gpu: () => createDawnGpu('opengles') };
  if (choice === 'browser') return [browser];
  if (choice === 'default') return [dawnDefault];
  if (choice === 'opengles') return [dawnGles];
  return nav?.gpu ? [browser] : [dawnDefault, dawnGles];
}

/** A GPU device with the report of its adapter. */
export interface AcquiredDevice {
  readonly device: GPUDevice;
  readonly report: AdapterReport;
}

/**
 * Finds an adapter by the documented order and creates a device on it with
 * the compute limits raised to the adapter's maxima. Every wait is bounded;
 * when nothing works the error lists what was tried and what to install.
 */
export async function acquireDevice(options: WebgpuOptions = {}): Promise<AcquiredDevice> {
  const ms = options.timeoutMs ?? 20000;
  const tried: string[] = [];
  for (const c of candidates(options.adapter ?? 'auto', options.gpu, options.verbose ?? false)) {
    const label = `${c.source} backend at ${c.featureLevel} feature level`;
    try {
      const gpu = await c.gpu();
      const adapter = await withTimeout(gpu.requestAdapter({ featureLevel: c.featureLevel, powerPreference: 'high-performance' } as GPURequestAdapterOptions), ms, `requestAdapter (${label})`);
      if (!adapter) {
        tried.push(`${label}: no adapter`);
        continue;
      }
      const requiredLimits: Record<string, number> = {};
      for (const name of RAISED_LIMITS) {
        const v = (adapter.limits as unknown as Record<string, number | undefined>)[name];
        if (typeof v === 'number') requiredLimits[name] = v;
      }
      // Timestamps cost nothing until a profile writes them; without them profile falls back to host timing.
      // shader-f16 likewise costs nothing until a kernel enables it (precision 'f16').
      const requiredFeatures = (['timestamp-query', 'shader-f16'] as GPUFeatureName[]).filter((f) => adapter.features.has(f));
      const device = await withTimeout(adapter.requestDevice({ requiredLimits, requiredFeatures, label: 'tessera' }), ms, `requestDevice (${label})`);
      const info = adapter.info ?? ({} as GPUAdapterInfo);
      const text = (s: string | undefined) => s ?? '';
      const limits: Record<string, number> = {};
      for (const name of RAISED_LIMITS) {
        const v = (device.limits as unknown as Record<string, number | undefined>)[name];
        if (typeof v === 'number') limits[name] = v;
      }
      const ident = [info.vendor, info.architecture, info.device, info.description].map(text).join(' ');
      const fallback = (adapter as { isFallbackAdapter?: boolean }).isFallbackAdapter === true || (info as { isFallbackAdapter?: boolean }).isFallbackAdapter === true;
      const report: AdapterReport = {
        source: c.source,
        featureLevel: c.featureLevel,
        vendor: text(info.vendor),
        architecture: text(info.architecture),
        device: text(info.device),
        description: text(info.description),
        cpu: fallback || SOFTWARE_ADAPTER.test(ident),
        timestamps: device.features.has('timestamp-query'),
        packedDot4: (gpu as { wgslLanguageFeatures?: ReadonlySet<string> }).wgslLanguageFeatures?.has('packed_4x8_integer_dot_product') ?? false,
        f16: device.features.has('shader-f16'),
        limits,
        tried,
      };
      return { device, report };
    } catch (e) {
      // Without the package no other Dawn backend can work either: say what to install, not what was tried.
      if (e instanceof DawnMissingError) throw e;
      tried.push(`${label}: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
  throw new WebgpuUnavailableError(`no WebGPU adapter available (tried: ${tried.join('; ')}). ${INSTALL_HINT}`);
}

/** One line naming an adapter, e.g. `llvmpipe (OpenGL ES 3.2 Mesa 22.3.6) via Dawn opengles backend, compatibility feature level, software (CPU) adapter`. */
export function describeAdapter(r: AdapterReport): string {
  const name = [r.device || r.architecture || r.vendor || 'unnamed adapter', r.description ? `(${r.description})` : ''].filter(Boolean).join(' ');
  const via = r.source === 'browser' ? 'navigator.gpu' : r.source === 'given' ? 'a given GPU object' : `Dawn ${r.source} backend`;
  return `${name} via ${via}, ${r.featureLevel} feature level${r.cpu ? ', software (CPU) adapter' : ''}${r.timestamps ? ', GPU timestamps' : ''}${r.f16 ? ', shader-f16' : ''}`;
}
