import { type Attrs, num } from '../attrs.ts';
import { TypeRuleError } from '../errors.ts';
import { type Emitter, type OpSpec, scalar } from '../op-def.ts';
import type { Value } from '../program.ts';
import type { RefTensor } from '../ref-tensor.ts';
import { type TensorType, broadcastShapes, formatShape, numel, shapesEqual, stridesOf } from '../tensor-type.ts';
import { requireF32, softmaxRow } from './composite.ts';
import { broadcastOffset, forEachIndex } from './eval-util.ts';

/** Shapes of attention: batch axes (broadcast), Tq, Tk, D, Dv (`v` absent: attention_probs, Dv = 0). */
function attentionDims(q: TensorType, k: TensorType, v: TensorType | undefined) {
  for (const [t, what] of [[q, 'q'], [k, 'k'], ...(v ? [[v, 'v'] as const] : [])] as const) {
    requireF32(t, `operand ${what}`);
    if (t.shape.length < 2) throw new TypeRuleError(`operand ${what} has rank ${t.shape.length}, expected [..., T, D]`);
  }
  const [tq, d] = q.shape.slice(-2) as [number, number];
  const [tk, dk] = k.shape.slice(-2) as [number, number];
  if (dk !== d) throw new TypeRuleError(`q has head size ${d} but k has ${dk}, expected equal`);
  const [tv, dv] = v ? (v.shape.slice(-2) as [number, number]) : [tk, 0];
  if (tv !== tk) throw new TypeRuleError(`k has ${tk} keys but v has ${tv} values, expected equal`);
  const batch = broadcastShapes(q.shape.slice(0, -2), k.shape.slice(0, -2), v ? v.shape.slice(0, -2) : []);
  return { batch, tq, tk, d, dv };
}

/** Checks that a mask is bool or f32 and broadcasts to the scores [...batch, tq, tk]. */
function checkMask(mask: TensorType, batch: readonly number[], tq: number, tk: number): void {
  if (mask.dtype === 'i32') throw new TypeRuleError('mask has dtype i32, expected bool (true = attend) or f32 (added to scores)');
  const scores = [...batch, tq, tk];
  let ok = mask.shape.length <= scores.length;
  try {
    ok &&= shapesEqual(broadcastShapes(mask.shape, scores), scores);
  } catch {
    ok = false;
  }
  if (!ok) throw new TypeRuleError(`mask has shape ${formatShape(mask.shape)}, expected one that broadcasts to the scores ${formatShape(scores)}`);
}

/** The default scale 1/sqrt(head size) filled in. */
function canonicalScale([q]: readonly TensorType[], attrs: Attrs): Attrs {
  const scale = num(attrs, 'scale');
  return Number.isNaN(scale) ? { ...attrs, scale: 1 / Math.sqrt(q!.shape[q!.shape.length - 1]!) } : attrs;
}

/**
 * Calls `row(flat, i, p)` with the attention probabilities p [tk] of every
 * query row (batch entry `flat`, query i): softmax(q kT * scale + mask) in
 * float64, a key masked by a bool mask scoring -inf (so exactly 0).
 */
function forEachProbabilityRow(q: RefTensor, k: RefTensor, v: RefTensor | undefined, mask: RefTensor | undefined, scale: number, row: (batchOffsets: readonly number[], flat: number, i: number, p: Float64Array) => void): void {
  const { batch, tq, tk, d } = attentionDims(q.type, k.type, v?.type);
  const parts = [q, k, ...(v ? [v] : [])].map((t) => ({ t, b: t.type.shape.slice(0, -2), s: stridesOf(t.type.shape.slice(0, -2)) }));
  const maskStrides = mask ? stridesOf(mask.type.shape) : [];
  const p = new Float64Array(tk);
  const idx2 = new Array<number>(batch.length + 2);
  forEachIndex(batch, (idx, flat) => {
    const offsets = parts.map((part) => broadcastOffset(part.b, part.s, idx) * numel(part.t.type.shape.slice(-2)));
    const [qo, ko] = offsets as [number, number];
    for (let i = 0; i < tq; i++) {
      for (let j = 0; j < tk; j++) {
        let s = 0;
        for (let c = 0; c < d; c++) s += q.data[qo + i * d + c]! * k.data[ko + j * d + c]!;
        s *= scale;
        if (mask) {
          for (let a = 0; a < batch.length; a++) idx2[a] = idx[a]!;
          idx2[batch.length] = i;
          idx2[batch.length + 1] = j;
          const m = mask.data[broadcastOffset(mask.type.shape, maskStrides, idx2)]!;
          s = mask.type.dtype === 'bool' ? (m ? s : -Infinity) : s + m;
        }
        p[j] = s;
      }
      softmaxRow(p);
      row(offsets, flat, i, p);
    }
  });
}

/** softmax(q kT * scale + mask) as core ops: the scores, masked, then softmax over the keys. */
function decomposeProbabilities(e: Emitter, q: Value, k: Value, mask: Value | undefined, attrs: Attrs): Value {
  const rank = k.type.shape.length;
  const perm = [...Array(rank - 2).keys(), rank - 1, rank - 2];
  const kt = e.emit('transpose', [k], { perm });
  let s = e.emit('mul', [e.emit('matmul', [q, kt]), scalar(e, num(attrs, 'scale'))]);
  if (mask) s = mask.type.dtype === 'bool' ? e.emit('where', [mask, s, scalar(e, -Infinity)]) : e.emit('add', [s, mask]);
  return e.emit('softmax', [s], { axis: -1 });
}

const SCALE_ATTR = { scale: { kind: 'float', default: NaN, doc: 'score scale (default 1/sqrt(head size))' } } as const;

const attentionOp: OpSpec = {
  doc: 'softmax(q kT * scale + mask) v; a bool mask is true where attending is allowed, an f32 mask is added',
  fusion: 'opaque',
  operands: { names: ['q', 'k', 'v', 'mask?'], min: 3, max: 4 },
  attrs: SCALE_ATTR,
  canonicalize: canonicalScale,
  inferType([q, k, v, mask]) {
    const { batch, tq, tk, dv } = attentionDims(q!, k!, v!);
    if (mask) checkMask(mask, batch, tq, tk);
    return { dtype: 'f32', shape: [...batch, tq, dv] };
  },
  evaluate([q, k, v, mask], attrs, result) {
    const { tq, tk, dv } = attentionDims(q!.type, k!.type, v!.type);
    const data = new Float64Array(numel(result.shape));
    forEachProbabilityRow(q!, k!, v!, mask, Math.fround(num(attrs, 'scale')), (offsets, flat, i, p) => {
      const vo = offsets[2]!;
      for (let c = 0; c < dv; c++) {
        let acc = 0;
        for (let j = 0; j < tk; j++) acc += p[j]! * v!.data[vo + j * dv + c]!;
        data[(flat * tq + i) * dv + c] = acc;
      }
    });
    return { type: result, data };
  },
  decompose: (e, [q, k, v, mask], attrs) => e.emit('matmul', [decomposeProbabilities(e, q!, k!, mask, attrs), v!]),
};

/**
 * The probabilities of an attention (an attention probe): what `attention`
 * with the same q, k, mask and scale weights the values by. A key masked by
 * a bool mask (or scoring -inf) gets exactly 0; a row with no key left is
 * NaN, as the graph's softmax and PyTorch.
 */
const attentionProbsOp: OpSpec = {
  doc: 'softmax(q kT * scale + mask) over the keys, [..., Tq, Tk]: the probabilities attention(q, k, v, mask) weights v by',
  fusion: 'opaque',
  operands: { names: ['q', 'k', 'mask?'], min: 2, max: 3 },
  attrs: SCALE_ATTR,
  canonicalize: canonicalScale,
  inferType([q, k, mask]) {
    const { batch, tq, tk } = attentionDims(q!, k!, undefined);
    if (mask) checkMask(mask, batch, tq, tk);
    return { dtype: 'f32', shape: [...batch, tq, tk] };
  },
  evaluate([q, k, mask], attrs, result) {
    const { tq, tk } = attentionDims(q!.type, k!.type, undefined);
    const data = new Float64Array(numel(result.shape));
    forEachProbabilityRow(q!, k!, undefined, mask, Math.fround(num(attrs, 'scale')), (_offsets, flat, i, p) => data.set(p, (flat * tq + i) * tk));
    return { type: result, data };
  },
  decompose: (e, [q, k, mask], attrs) => decomposeProbabilities(e, q!, k!, mask, attrs),
};

/** Attention and its probe. */
export const ATTENTION_OPS = {
  attention: attentionOp,
  attention_probs: attentionProbsOp,
} as const;
