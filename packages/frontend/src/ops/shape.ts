/** Movement and indexing ops as functions. */
import { type SliceRange, type Tensor, emitOp } from '../tensor.ts';
import { dslError } from '../tracer.ts';

/** Same elements, new shape (one -1 inferred). */
export const reshape = (x: Tensor, shape: readonly number[]): Tensor => x.reshape(shape);
/** Permutes axes. */
export const transpose = (x: Tensor, perm: readonly number[]): Tensor => x.transpose(perm);
/** Numpy broadcast to `shape`. */
export const broadcastTo = (x: Tensor, shape: readonly number[]): Tensor => x.broadcastTo(shape);
/** Broadcast with -1 keeping an extent, as torch.expand. */
export const expand = (x: Tensor, sizes: readonly number[]): Tensor => x.expand(sizes);
/** The lower triangle of the last two axes, as torch.tril. */
export const tril = (x: Tensor, diagonal = 0): Tensor => x.tril(diagonal);
/** The upper triangle of the last two axes, as torch.triu. */
export const triu = (x: Tensor, diagonal = 0): Tensor => x.triu(diagonal);
/** Strided slice of leading axes (see Tensor.slice). */
export const slice = (x: Tensor, ranges: readonly SliceRange[]): Tensor => x.slice(ranges);

/** Joins tensors along `axis` (other extents equal). */
export function concat(xs: readonly Tensor[], axis = 0): Tensor {
  if (xs.length === 0) return dslError('concat: expected at least one tensor');
  return emitOp('concat', xs, { axis });
}

/** Pads each axis with `low[a]` elements before and `high[a]` after, all equal to `value`. */
export function pad(x: Tensor, low: readonly number[], high: readonly number[], value = 0): Tensor {
  return emitOp('pad', [x], { low: [...low], high: [...high], value });
}

/** Rows of `table` picked by i32 `indices` along `axis` (default 0). */
export function gather(table: Tensor, indices: Tensor, axis = 0): Tensor {
  return emitOp('gather', [table, indices], { axis });
}

/** Embedding lookup, as torch.nn.functional.embedding(indices, weight): rows of `weight` [N, D] for i32 `indices`. */
export function embedding(indices: Tensor, weight: Tensor): Tensor {
  return gather(weight, indices, 0);
}
