/** Section a: what machine, runtime and WebGPU adapter the figures come from, and which kernel variants exist. */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { availableParallelism, cpus, totalmem } from 'node:os';
import { MATMUL_VARIANTS, type WebgpuBackend, describeAdapter } from '@tessera/backend-webgpu';
import { type Report, log } from './report.ts';

/** The matmul and reduce variants the backend has (see variantLists). */
export interface Variants {
  readonly matmul: readonly string[];
  readonly reduce: readonly string[];
  /** Where the lists were read: the bundle (read from module.ts when packed) or module.ts now. */
  readonly from: string;
}

/** Filled in by pack.sh (esbuild --define) from packages/backend-webgpu/src/wgsl/module.ts at bundling time. */
declare const DEVICE_CHECK_VARIANTS: { reduce: string[] } | undefined;

const MODULE_TS = 'packages/backend-webgpu/src/wgsl/module.ts';

/** The string literals of `export type NAME = 'a' | 'b';` in TypeScript source. */
export function unionMembers(source: string, name: string): string[] {
  const m = new RegExp(`export type ${name}\\s*=([^;]+);`).exec(source);
  if (!m) throw new Error(`${MODULE_TS}: no 'export type ${name} = ...;' (the device check reads the variant names from it)`);
  return [...m[1]!.matchAll(/'([^']+)'/g)].map((x) => x[1]!);
}

/**
 * The variant names: matmul from the backend's MATMUL_VARIANTS; reduce from
 * the ReduceVariant type in its source (a type only, no runtime list), read
 * at bundling time, or from the repo when run from source.
 */
export function variantLists(): Variants {
  const matmul = [...MATMUL_VARIANTS];
  if (typeof DEVICE_CHECK_VARIANTS !== 'undefined' && DEVICE_CHECK_VARIANTS) return { matmul, reduce: DEVICE_CHECK_VARIANTS.reduce, from: `MATMUL_VARIANTS; ReduceVariant in ${MODULE_TS} at pack time` };
  return { matmul, reduce: unionMembers(readFileSync(MODULE_TS, 'utf8'), 'ReduceVariant'), from: `MATMUL_VARIANTS; ReduceVariant in ${MODULE_TS}` };
}

function command(file: string, args: string[]): string | undefined {
  try {
    return execFileSync(file, args, { encoding: 'utf8', timeout: 20000, stdio: ['ignore', 'pipe', 'pipe'] }).trim();
  } catch (e) {
    return undefined;
  }
}

/** Records and prints the machine, node, CPUs, GPU (nvidia-smi) and the adapter the backend found. */
export function describeEnvironment(report: Report, rec: Record<string, unknown>, backend: WebgpuBackend | undefined, backendError: string | undefined, variants: Variants): void {
  const smi = command('nvidia-smi', ['-L']);
  rec.nvidia_smi = smi ?? 'nvidia-smi not found or failed';
  log(report, `nvidia-smi -L: ${String(rec.nvidia_smi)}`);
  const smiQuery = command('nvidia-smi', ['--query-gpu=name,driver_version,memory.total,clocks.max.sm', '--format=csv,noheader']);
  if (smiQuery) {
    rec.nvidia_smi_query = smiQuery;
    log(report, `nvidia-smi: ${smiQuery}`);
  }
  const cpuModel = cpus()[0]?.model ?? 'unknown';
  rec.node = process.version;
  rec.cpu_count = availableParallelism();
  rec.cpu_model = cpuModel;
  rec.memory_gib = Number((totalmem() / 2 ** 30).toFixed(1));
  rec.platform = `${process.platform}-${process.arch}`;
  log(report, `node ${process.version}, ${rec.platform}, ${availableParallelism()} CPUs (${cpuModel}), ${rec.memory_gib} GiB`);
  const os = existsSync('/etc/os-release') ? /PRETTY_NAME="([^"]*)"/.exec(readFileSync('/etc/os-release', 'utf8'))?.[1] : undefined;
  if (os) rec.os = os;
  rec.variants = variants;
  log(report, `variants (${variants.from}): matmul ${variants.matmul.join(', ')}; reduce ${variants.reduce.join(', ')}`);
  for (const k of ['TESSERA_WEBGPU_ADAPTER', 'TESSERA_WEBGPU_MATMUL', 'TESSERA_WEBGPU_REDUCE', 'VK_DRIVER_FILES', 'VK_ICD_FILENAMES', '__EGL_VENDOR_LIBRARY_FILENAMES', 'EGL_PLATFORM']) {
    if (process.env[k]) log(report, `env ${k}=${process.env[k]}`);
  }
  if (!backend) {
    rec.adapter_error = backendError;
    log(report, `no WebGPU adapter: ${backendError}`);
    return;
  }
  const a = backend.adapter;
  rec.adapter = a;
  rec.adapter_line = describeAdapter(a);
  log(report, `WebGPU adapter: ${describeAdapter(a)}`);
  log(report, `  vendor '${a.vendor}', architecture '${a.architecture}', device '${a.device}', description '${a.description}'`);
  if (a.tried.length) log(report, `  tried before it: ${a.tried.join('; ')}`);
  log(report, `  limits: ${Object.entries(a.limits).map(([k, v]) => `${k}=${v}`).join(', ')}`);
  if (a.source !== 'default' || a.featureLevel !== 'core') log(report, '  NOTE: not Dawn\'s default backend at core feature level (on a GPU machine that means Vulkan was not found)');
}
