/** Running a fixed-batch executable over any number of rows: chunks, with the last one padded. */
import type { Program } from '@tessera/ir';
import type { TensorData } from '@tessera/compiler';

/** A row-major typed array (rows of `rowSize` elements). */
export type Rows = Float32Array | Int32Array | Uint8Array;

/**
 * Rows [start, start + count) of `data`, as exactly `batch` rows: when
 * count < batch the remaining rows repeat the first one (a real row, so
 * padding never produces NaNs); their results are dropped.
 */
export function batchRows<T extends Rows>(data: T, rowSize: number, start: number, count: number, batch: number): T {
  const part = data.subarray(start * rowSize, (start + count) * rowSize) as T;
  if (count === batch) return part;
  const out = new (data.constructor as new (n: number) => T)(batch * rowSize);
  out.set(part);
  for (let r = count; r < batch; r++) out.copyWithin(r * rowSize, 0, rowSize);
  return out;
}

/** Called after each batch with the rows done so far and the total. */
export type Progress = (done: number, total: number) => void;

/** Calls `fn(start, count)` for consecutive chunks of at most `batch` of `n` rows, reporting progress. */
export async function forEachBatch(n: number, batch: number, fn: (start: number, count: number) => Promise<void>, progress?: Progress): Promise<void> {
  for (let start = 0; start < n; start += batch) {
    const count = Math.min(batch, n - start);
    await fn(start, count);
    progress?.(start + count, n);
  }
}

/** The entries of `weights` that are parameters of `program` (executables reject inputs they do not declare). */
export function weightsFor(program: Program, weights: Readonly<Record<string, TensorData>>): Record<string, TensorData> {
  return Object.fromEntries(program.inputs.filter((i) => i.kind === 'parameter').map((i) => [i.name, weights[i.name]!]));
}

/** Index of the largest of `n` values starting at `offset` (the first on ties, as torch.argmax). */
export function argmax(values: ArrayLike<number>, offset: number, n: number): number {
  let best = 0;
  for (let j = 1; j < n; j++) if (values[offset + j]! > values[offset + best]!) best = j;
  return best;
}
