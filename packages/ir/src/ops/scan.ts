import { num } from '../attrs.ts';
import { type OpSpec, type OpTable, fixedOperands } from '../op-def.ts';
import { lineAxis } from './axes.ts';
import { forEachLine } from './eval-util.ts';
import { COMBINERS, checkReductionDType, combineFn } from './reduction.ts';

/**
 * The inclusive running sum along one axis, as torch.cumsum: element j is
 * the sum of elements 0..j of its line (i32 wraps). A scan, not a
 * reduction: the result has the operand's shape.
 */
const cumsumOp: OpSpec = {
  doc: 'inclusive running sum along `axis` (i32 wraps), as torch.cumsum',
  fusion: 'reduction',
  operands: fixedOperands('x'),
  attrs: { axis: { kind: 'int', doc: 'axis to scan along (negative counts from the end)' } },
  canonicalize: ([x], attrs) => ({ ...attrs, axis: lineAxis(x!.shape, num(attrs, 'axis')) }),
  inferType([x], attrs) {
    checkReductionDType(x!.dtype, 'numeric');
    lineAxis(x!.shape, num(attrs, 'axis'));
    return x!;
  },
  evaluate([x], attrs, result) {
    const axis = num(attrs, 'axis');
    const n = x!.type.shape[axis]!;
    const step = combineFn('sum', result.dtype);
    const data = new Float64Array(x!.data.length);
    forEachLine(x!.type.shape, axis, (base, stride) => {
      let acc: number = COMBINERS.sum.init;
      for (let j = 0; j < n; j++) {
        acc = step(acc, x!.data[base + j * stride]!);
        data[base + j * stride] = acc;
      }
    });
    return { type: result, data };
  },
};

/** Scans along an axis. */
export const SCAN_OPS = { cumsum: cumsumOp } as const satisfies OpTable;
