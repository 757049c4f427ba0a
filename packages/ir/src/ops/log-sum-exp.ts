import { type Attrs, flag, ints, num } from '../attrs.ts';
import { type Emitter, type OpSpec, type OpTable, fixedOperands } from '../op-def.ts';
import type { Value } from '../program.ts';
import { normalizeAxes } from './axes.ts';
import { ALONG_AXIS_F32, mapRows, requireF32, scalar } from './composite.ts';
import { AXES_ATTRS, COMBINERS, reduceRef, reducedShape, reductionType } from './reduction.ts';

/**
 * The shift logsumexp subtracts before exponentiating: the maximum, or 0
 * where the maximum is infinite (as PyTorch: a line of only -inf gives
 * -inf, a line with +inf gives +inf, instead of inf - inf = NaN).
 */
export const logsumexpShift = (max: number): number => (Math.abs(max) === Infinity ? 0 : max);

/** Emits logsumexpShift of a tensor of maxima. */
function emitShift(e: Emitter, max: Value): Value {
  const infinite = e.emit('eq', [e.emit('abs', [max]), scalar(e, Infinity)]);
  return e.emit('where', [infinite, scalar(e, 0), max]);
}

/** log(sum(exp(x))) over axes, numerically stable, as torch.logsumexp. */
const logsumexpOp: OpSpec = {
  doc: 'log(sum(exp(x))) over axes, shifted by the maximum (0 where it is infinite), as torch.logsumexp',
  fusion: 'reduction',
  operands: fixedOperands('x'),
  attrs: AXES_ATTRS,
  canonicalize: ([x], attrs) => ({ ...attrs, axes: normalizeAxes(ints(attrs, 'axes'), x!.shape.length) }),
  inferType([x], attrs: Attrs) {
    requireF32(x!, 'operand x');
    return reductionType(x!, attrs, 'f32');
  },
  evaluate([x], attrs, result) {
    const axes = ints(attrs, 'axes');
    const shifts = reduceRef(x!, axes, result, COMBINERS.max.init, COMBINERS.max.f64).data.map(logsumexpShift);
    return reduceRef(x!, axes, result, 0, (acc, v, o) => acc + Math.exp(v - shifts[o]!), (acc, _n, o) => Math.log(acc) + shifts[o]!);
  },
  decompose(e, [x], attrs) {
    const axes = ints(attrs, 'axes');
    const shift = emitShift(e, e.emit('reduce_max', [x!], { axes, keepdims: true }));
    const sum = e.emit('reduce_sum', [e.emit('exp', [e.emit('sub', [x!, shift])])], { axes, keepdims: true });
    const r = e.emit('add', [e.emit('log', [sum]), shift]);
    return flag(attrs, 'keepdims') ? r : e.emit('reshape', [r], { shape: reducedShape(x!.type.shape, axes, false) });
  },
};

/** log(softmax(x)) along one axis: (x - max) - log(sum(exp(x - max))), as torch.log_softmax. */
const logSoftmaxOp: OpSpec = {
  doc: '(x - max) - log(sum(exp(x - max))) along `axis` (numerically stable), as torch.log_softmax',
  ...ALONG_AXIS_F32,
  evaluate: ([x], attrs, result) =>
    mapRows(x!, num(attrs, 'axis'), result, (row) => {
      let m = -Infinity;
      for (const v of row) m = Math.max(m, v);
      let s = 0;
      for (const v of row) s += Math.exp(v - m);
      const lse = Math.log(s);
      for (let j = 0; j < row.length; j++) row[j] = row[j]! - m - lse;
    }),
  decompose(e, [x], attrs) {
    const axes = [num(attrs, 'axis')];
    const shifted = e.emit('sub', [x!, e.emit('reduce_max', [x!], { axes, keepdims: true })]);
    const sum = e.emit('reduce_sum', [e.emit('exp', [shifted])], { axes, keepdims: true });
    return e.emit('sub', [shifted, e.emit('log', [sum])]);
  },
};

/** logsumexp and log_softmax: composites with direct semantics and decompositions. */
export const LOG_SUM_EXP_OPS = { logsumexp: logsumexpOp, log_softmax: logSoftmaxOp } as const satisfies OpTable;
