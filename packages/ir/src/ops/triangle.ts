import { num } from '../attrs.ts';
import { TypeRuleError } from '../errors.ts';
import { type Emitter, type OpSpec, type OpTable, fixedOperands } from '../op-def.ts';
import type { Value } from '../program.ts';
import { numel } from '../tensor-type.ts';
import { forEachIndex } from './eval-util.ts';

/** Which triangle a op keeps: tril keeps column - row <= diagonal, triu column - row >= diagonal. */
type Side = 'lower' | 'upper';

const keeps = (side: Side, row: number, col: number, diagonal: number): boolean => (side === 'lower' ? col - row <= diagonal : col - row >= diagonal);

/** where(col - row <= diagonal (or >=), x, 0) over the last two axes: iotas and a comparison that fuse into the consumer. */
function decomposeTriangle(side: Side, e: Emitter, x: Value, diagonal: number): Value {
  const shape = x.type.shape.slice(-2);
  const rows = e.emit('iota', [], { shape, axis: 0, dtype: 'i32' });
  const cols = e.emit('iota', [], { shape, axis: 1, dtype: 'i32' });
  const offset = e.emit('sub', [cols, rows]);
  const bound = e.emit('constant', [], { shape: [], dtype: 'i32', value: [diagonal] });
  const keep = e.emit(side === 'lower' ? 'le' : 'ge', [offset, bound]);
  const zero = e.emit('constant', [], { shape: [], dtype: x.type.dtype, value: [0] });
  return e.emit('where', [keep, x, zero]);
}

function triangleOp(name: 'tril' | 'triu', side: Side): OpSpec {
  const relation = side === 'lower' ? 'on or below' : 'on or above';
  return {
    doc: `the elements ${relation} the \`diagonal\`-th diagonal of the last two axes, the rest 0 (torch.${name})`,
    fusion: 'elementwise',
    operands: fixedOperands('x'),
    attrs: { diagonal: { kind: 'int', default: 0, doc: 'which diagonal: 0 the main one, > 0 above it, < 0 below it' } },
    inferType([x]) {
      if (x!.shape.length < 2) throw new TypeRuleError(`operand x has rank ${x!.shape.length}, expected rank >= 2 (a matrix or a batch of them)`);
      return x!;
    },
    evaluate([x], attrs, result) {
      const d = num(attrs, 'diagonal');
      const data = new Float64Array(numel(result.shape));
      forEachIndex(result.shape, (idx, flat) => {
        data[flat] = keeps(side, idx[idx.length - 2]!, idx[idx.length - 1]!, d) ? x!.data[flat]! : 0;
      });
      return { type: result, data };
    },
    decompose: (e, [x], attrs) => decomposeTriangle(side, e, x!, num(attrs, 'diagonal')),
  };
}

/** Triangular masks: tril and triu. */
export const TRIANGLE_OPS = { tril: triangleOp('tril', 'lower'), triu: triangleOp('triu', 'upper') } as const satisfies OpTable;
