/**
 * The device side of gather faults (layout in ../wgsl/faults.ts): the
 * faults buffer kernels bind, and its read back. A run copies the sites'
 * words (4 bytes per gather) to a mappable buffer with its outputs; only
 * when one holds a fault does the runtime fetch the index at that position
 * (one more 4-byte copy), clear the words for the next run, and throw.
 */
import { gatherFaultError } from '@tessera/kernel';
import type { GpuContext } from '../device/context.ts';
import { type FaultLayout, NO_FAULT } from '../wgsl/faults.ts';

/** The faults buffer of one executable; nothing is allocated for a program without gathers. */
export class FaultBuffer {
  /** Bound where a shader's binding names FAULTS_BUFFER. */
  readonly buffer: GPUBuffer | undefined;
  /** The mappable copy of the sites' words, mapped with the outputs. */
  readonly read: GPUBuffer | undefined;
  private readonly siteBytes: number;

  constructor(
    private readonly ctx: GpuContext,
    private readonly layout: FaultLayout,
    label: string,
  ) {
    this.siteBytes = 4 * layout.sites.length;
    if (!layout.sites.length) return;
    const bytes = (n: number) => Math.max(16, Math.ceil(n / 16) * 16);
    this.buffer = ctx.pool.acquire(bytes(4 * layout.words), GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST, `${label}:faults`);
    this.read = ctx.pool.acquire(bytes(this.siteBytes), GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST, `${label}:faults read`);
    this.clear();
  }

  /** Marks every site fault-free (queued: runs submitted after it see it). */
  private clear(): void {
    if (this.buffer) this.ctx.device.queue.writeBuffer(this.buffer, 0, new Uint32Array(this.layout.sites.length).fill(NO_FAULT));
  }

  /** Records the copy of the sites' words into `read`, after the run's dispatches. */
  copyOut(enc: GPUCommandEncoder): void {
    if (this.buffer && this.read) enc.copyBufferToBuffer(this.buffer, 0, this.read, 0, this.siteBytes);
  }

  /**
   * After `read` was mapped (with the outputs): unmaps it and, if a kernel
   * recorded a fault, fetches its index, clears the words and throws the
   * GatherIndexError. `map` maps buffers for reading, with the runtime's errors.
   */
  async check(map: (bufs: readonly GPUBuffer[], what: string) => Promise<void>): Promise<void> {
    if (!this.buffer || !this.read) return;
    const words = new Uint32Array(this.read.getMappedRange(0, this.siteBytes)).slice();
    this.read.unmap();
    // The first site in launch order with a fault, at its least position: what every backend reports (firstFault).
    const site = words.findIndex((w) => w !== NO_FAULT);
    if (site < 0) return;
    const position = words[site]!;
    const enc = this.ctx.device.createCommandEncoder({ label: 'gather fault' });
    enc.copyBufferToBuffer(this.buffer, 4 * (this.layout.slots.get(this.layout.sites[site]!.site.node)!.values + position), this.read, 0, 4);
    this.ctx.device.queue.submit([enc.finish()]);
    this.clear();
    await map([this.read], 'the gather fault');
    const index = new Int32Array(this.read.getMappedRange(0, 4))[0]!;
    this.read.unmap();
    throw gatherFaultError(this.layout.sites, { site, position, index });
  }

  /** Gives the buffers back (to the pool, or destroyed when the device is lost). */
  release(): void {
    for (const b of [this.buffer, this.read]) {
      if (!b) continue;
      if (this.ctx.lostReason === undefined) this.ctx.pool.release(b);
      else b.destroy();
    }
  }
}
