import { TypeRuleError } from '../errors.ts';
import { type OpSpec, type OpTable, fixedOperands } from '../op-def.ts';
import type { RefTensor } from '../ref-tensor.ts';
import { type TensorType, broadcastShapes, numel, stridesOf } from '../tensor-type.ts';
import { broadcastOffset, forEachIndex } from './eval-util.ts';

/** Result type of a batched matmul, or a TypeRuleError. */
export function matmulType(a: TensorType, b: TensorType): TensorType {
  if (a.dtype !== 'f32' || b.dtype !== 'f32') throw new TypeRuleError(`operands have dtypes ${a.dtype} and ${b.dtype}, expected f32`);
  if (a.shape.length < 2 || b.shape.length < 2) {
    throw new TypeRuleError(`expected operands of rank >= 2 ([..., M, K] and [..., K, N]), got ranks ${a.shape.length} and ${b.shape.length}`);
  }
  const [m, k1] = a.shape.slice(-2) as [number, number];
  const [k2, n] = b.shape.slice(-2) as [number, number];
  if (k1 !== k2) throw new TypeRuleError(`contraction extents differ: a has K=${k1} (last axis), b has K=${k2} (second-to-last axis)`);
  const batch = broadcastShapes(a.shape.slice(0, -2), b.shape.slice(0, -2));
  return { dtype: 'f32', shape: [...batch, m, n] };
}

/** Naive batched matmul over broadcast batch axes, accumulating in float64. */
export function matmulRef(a: RefTensor, b: RefTensor, result: TensorType): RefTensor {
  const batch = result.shape.slice(0, -2);
  const [m, n] = result.shape.slice(-2) as [number, number];
  const k = a.type.shape[a.type.shape.length - 1]!;
  const aBatch = a.type.shape.slice(0, -2);
  const bBatch = b.type.shape.slice(0, -2);
  const aStrides = stridesOf(aBatch);
  const bStrides = stridesOf(bBatch);
  const data = new Float64Array(numel(result.shape));
  forEachIndex(batch, (idx, flat) => {
    const ao = broadcastOffset(aBatch, aStrides, idx) * m * k;
    const bo = broadcastOffset(bBatch, bStrides, idx) * k * n;
    const oo = flat * m * n;
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        let s = 0;
        for (let p = 0; p < k; p++) s += a.data[ao + i * k + p]! * b.data[bo + p * n + j]!;
        data[oo + i * n + j] = s;
      }
    }
  });
  return { type: result, data };
}

const matmulOp: OpSpec = {
  doc: 'batched matrix product [..., M, K] x [..., K, N] -> [..., M, N]; batch axes broadcast',
  fusion: 'contraction',
  operands: fixedOperands('a', 'b'),
  attrs: {},
  inferType: ([a, b]) => matmulType(a!, b!),
  evaluate: ([a, b], _attrs, result) => matmulRef(a!, b!, result),
};

/** Contractions. */
export const CONTRACTION_OPS = {
  matmul: matmulOp,
} as const satisfies OpTable;
