import { flag, num } from '../attrs.ts';
import type { DType } from '../dtype.ts';
import { type Emitter, type OpSpec, type OpTable, fixedOperands } from '../op-def.ts';
import type { Value } from '../program.ts';
import { numel } from '../tensor-type.ts';
import { lineAxis } from './axes.ts';
import { forEachLine } from './eval-util.ts';
import { checkReductionDType, reducedShape } from './reduction.ts';

/** Emits a scalar constant of any dtype. */
export function scalarOf(e: Emitter, dtype: DType, v: number): Value {
  return e.emit('constant', [], { shape: [], dtype, value: [v] });
}

/**
 * argmax / argmin along one axis, as PyTorch: the index of the first
 * extreme element (ties go to the lowest index); NaN counts as the extreme,
 * so a line with NaN gives the index of its first NaN. The result is i32
 * (PyTorch's int64). The DSL flattens for PyTorch's dim=None.
 */
function argReductionOp(name: 'argmax' | 'argmin'): OpSpec {
  const max = name === 'argmax';
  const better = max ? (v: number, best: number) => v > best : (v: number, best: number) => v < best;
  return {
    doc: `index (i32) of the first ${max ? 'largest' : 'smallest'} element along \`axis\`; NaN counts as the ${max ? 'largest' : 'smallest'} (torch.${name})`,
    fusion: 'reduction',
    operands: fixedOperands('x'),
    attrs: {
      axis: { kind: 'int', doc: 'axis to search along (negative counts from the end)' },
      keepdims: { kind: 'bool', default: false, doc: 'keep the searched axis as extent 1' },
    },
    canonicalize: ([x], attrs) => ({ ...attrs, axis: lineAxis(x!.shape, num(attrs, 'axis')) }),
    inferType([x], attrs) {
      checkReductionDType(x!.dtype, 'numeric');
      const axis = lineAxis(x!.shape, num(attrs, 'axis'));
      return { dtype: 'i32', shape: reducedShape(x!.shape, [axis], flag(attrs, 'keepdims')) };
    },
    evaluate([x], attrs, result) {
      const axis = num(attrs, 'axis');
      const n = x!.type.shape[axis]!;
      const data = new Float64Array(numel(result.shape));
      forEachLine(x!.type.shape, axis, (base, stride, line) => {
        let best = 0;
        for (let j = 1; j < n; j++) {
          const b = x!.data[base + best * stride]!;
          if (Number.isNaN(b)) break;
          const v = x!.data[base + j * stride]!;
          if (Number.isNaN(v) || better(v, b)) best = j;
        }
        data[line] = best;
      });
      return { type: result, data };
    },
    decompose(e, [x], attrs) {
      const axis = num(attrs, 'axis');
      const shape = x!.type.shape;
      const extreme = e.emit(max ? 'reduce_max' : 'reduce_min', [x!], { axes: [axis], keepdims: true });
      let hit = e.emit('eq', [x!, extreme]);
      // NaN is the extreme: where the line has one, the extreme is NaN and only NaNs hit.
      if (x!.type.dtype === 'f32') hit = e.emit('where', [e.emit('ne', [x!, x!]), scalarOf(e, 'bool', 1), hit]);
      const index = e.emit('iota', [], { shape: [...shape], axis, dtype: 'i32' });
      const candidates = e.emit('where', [hit, index, scalarOf(e, 'i32', shape[axis]!)]);
      return e.emit('reduce_min', [candidates], { axes: [axis], keepdims: flag(attrs, 'keepdims') });
    },
  };
}

/** argmax and argmin. */
export const ARG_REDUCTION_OPS = { argmax: argReductionOp('argmax'), argmin: argReductionOp('argmin') } as const satisfies OpTable;
