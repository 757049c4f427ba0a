/**
 * Reuses GPU buffers of the same size and usage across executables: a
 * disposed executable's buffers go back here, and what the pool holds past
 * `maxPooledBytes` is destroyed at once (buffers hold native memory the
 * garbage collector does not see, so nothing is left to it).
 */
export class BufferPool {
  private readonly free = new Map<string, GPUBuffer[]>();
  private pooledBytes = 0;

  constructor(
    private readonly device: GPUDevice,
    private readonly maxPooledBytes = 256 * 1024 * 1024,
  ) {}

  /** A buffer of exactly `size` bytes and `usage`, reused when one is free. */
  acquire(size: number, usage: number, label: string): GPUBuffer {
    const list = this.free.get(`${usage}:${size}`);
    const reused = list?.pop();
    if (reused) {
      this.pooledBytes -= size;
      return reused;
    }
    return this.device.createBuffer({ size, usage, label });
  }

  /** Returns a buffer for reuse (or destroys it when the pool is full). */
  release(buffer: GPUBuffer): void {
    if (buffer.mapState !== 'unmapped' || this.pooledBytes + buffer.size > this.maxPooledBytes) {
      buffer.destroy();
      return;
    }
    const key = `${buffer.usage}:${buffer.size}`;
    let list = this.free.get(key);
    if (!list) this.free.set(key, (list = []));
    list.push(buffer);
    this.pooledBytes += buffer.size;
  }

  /** Destroys every pooled buffer. */
  clear(): void {
    for (const list of this.free.values()) for (const b of list) b.destroy();
    this.free.clear();
    this.pooledBytes = 0;
  }

  /** Bytes held for reuse. */
  get bytes(): number {
    return this.pooledBytes;
  }
}
