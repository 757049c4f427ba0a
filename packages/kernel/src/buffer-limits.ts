/**
 * What a backend can hold, checked before it allocates anything, so a
 * program too large for it is a clean error naming the buffer, never a
 * RangeError from deep inside an allocation (or a machine out of memory).
 */
import { MAX_ARRAY_ELEMENTS, TesseraError, formatShape } from '@tessera/ir';
import type { BufferDecl, KernelProgram } from './kernel.ts';

/** How errors name a buffer: `%name (f32[2,3])`. */
export function describeBuffer(b: BufferDecl): string {
  return `%${b.name} (${b.dtype}${formatShape(b.shape)})`;
}

/** A byte count for people: `4.00 GiB (4294967296 bytes)`. */
export function formatBytes(bytes: number): string {
  const units = ['bytes', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB', 'EiB'];
  let v = bytes;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return u === 0 ? `${bytes} bytes` : `${v.toFixed(2)} ${units[u]} (${bytes} bytes)`;
}

/**
 * Throws naming the first buffer of `p` with more than `maxElements`
 * elements (default: what one host array holds, MAX_ARRAY_ELEMENTS);
 * `backend` says who refuses it.
 */
export function assertBufferElements(p: KernelProgram, backend: string, maxElements = MAX_ARRAY_ELEMENTS): void {
  const b = p.buffers.find((d) => d.size > maxElements);
  if (b) throw new TesseraError(`${backend}: buffer ${describeBuffer(b)} has ${b.size} elements, more than one of its arrays holds (${maxElements})`);
}

/**
 * Runs `allocate` and turns the engine's refusal (a RangeError: out of
 * memory, or above its limit) into a clean error saying what needed how
 * many bytes.
 */
export function allocateOrExplain<T>(backend: string, what: string, bytes: number, allocate: () => T): T {
  try {
    return allocate();
  } catch (e) {
    if (!(e instanceof RangeError)) throw e;
    throw new TesseraError(`${backend}: could not allocate ${formatBytes(bytes)} for ${what}: ${e.message}`);
  }
}
