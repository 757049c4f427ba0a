import { TesseraError } from '@tessera/ir';
import type { WgslTarget } from '../wgsl/module.ts';
import { type AdapterReport, type WebgpuOptions, acquireDevice } from './adapter.ts';
import { BufferPool } from './buffer-pool.ts';
import { PipelineCache } from './pipelines.ts';

/**
 * One device and what lives as long as it: the pipeline cache, the buffer
 * pool, and the watch for device loss. Executables compiled on it fail
 * clearly once it is lost; compiling again gets a new context.
 */
export class GpuContext {
  readonly pipelines: PipelineCache;
  readonly pool: BufferPool;
  readonly target: WgslTarget;
  /** Set when the device is lost or destroyed: why. */
  lostReason: string | undefined;

  constructor(
    readonly device: GPUDevice,
    readonly report: AdapterReport,
    options: WebgpuOptions = {},
  ) {
    this.pipelines = new PipelineCache(device);
    this.pool = new BufferPool(device);
    const lim = report.limits;
    this.target = {
      maxInvocationsPerWorkgroup: lim.maxComputeInvocationsPerWorkgroup ?? 256,
      maxWorkgroupStorageSize: lim.maxComputeWorkgroupStorageSize ?? 16384,
      maxWorkgroupsPerDimension: lim.maxComputeWorkgroupsPerDimension ?? 65535,
      maxStorageBuffersPerShaderStage: lim.maxStorageBuffersPerShaderStage ?? 8,
      maxTextureDimension2D: lim.maxTextureDimension2D ?? 4096,
      cpu: report.cpu,
      packedDot4: report.packedDot4,
      ...(options.matmul ? { matmul: options.matmul } : {}),
      ...(options.reduce ? { reduce: options.reduce } : {}),
    };
    device.lost.then((info) => {
      this.lostReason = `${info.reason}${info.message ? `: ${info.message}` : ''}`;
    });
  }

  /** Throws when the device can no longer run anything. */
  assertAlive(): void {
    if (this.lostReason !== undefined) {
      throw new TesseraError(`the WebGPU device was lost (${this.lostReason}); compile the program again to get a new device`);
    }
  }

  /** Largest storage binding in bytes. */
  get maxBindingBytes(): number {
    return this.report.limits.maxStorageBufferBindingSize ?? 134217728;
  }

  /** Releases pooled buffers and the device. */
  destroy(): void {
    this.pool.clear();
    this.device.destroy();
  }
}

/** Creates a context: a device found by `acquireDevice`, with its caches. */
export async function createContext(options: WebgpuOptions = {}): Promise<GpuContext> {
  const { device, report } = await acquireDevice(options);
  return new GpuContext(device, report, options);
}
