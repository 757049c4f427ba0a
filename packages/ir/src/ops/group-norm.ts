import { num } from '../attrs.ts';
import { TypeRuleError } from '../errors.ts';
import { type OpSpec, type OpTable, scalar } from '../op-def.ts';
import { formatShape, numel, shapesEqual } from '../tensor-type.ts';

/**
 * group_norm: each group of channels, with all its positions, normalised
 * (x - mean) / sqrt(var + eps) (biased variance), then each channel's weight
 * and bias, as torch.nn.functional.group_norm. Instance norm is groups = C.
 */
const groupNormOp: OpSpec = {
  doc: 'normalisation over each group of channels and their positions of [N, C, ...], then per-channel weight and bias (torch.nn.functional.group_norm; instance norm is groups = C)',
  fusion: 'reduction',
  operands: { names: ['x', 'weight?', 'bias?'], min: 1, max: 3 },
  attrs: {
    groups: { kind: 'int', doc: 'channel groups (dividing C)' },
    eps: { kind: 'float', default: 1e-5, doc: 'added to the variance' },
  },
  inferType([x, w, b], attrs) {
    for (const [t, what] of [[x, 'x'], [w, 'weight'], [b, 'bias']] as const) {
      if (t && t.dtype !== 'f32') throw new TypeRuleError(`operand ${what} has dtype ${t.dtype}, expected f32`);
    }
    if (x!.shape.length < 2) throw new TypeRuleError(`operand x has shape ${formatShape(x!.shape)}, expected [N, C, ...]`);
    const c = x!.shape[1]!;
    const groups = num(attrs, 'groups');
    if (!(groups >= 1) || c % groups !== 0) throw new TypeRuleError(`groups ${groups} must be a positive divisor of the ${c} channels`);
    for (const [t, what] of [[w, 'weight'], [b, 'bias']] as const) {
      if (t && !shapesEqual(t.shape, [c])) throw new TypeRuleError(`${what} has shape ${formatShape(t.shape)}, expected [${c}] (one per channel)`);
    }
    if (!(num(attrs, 'eps') >= 0)) throw new TypeRuleError(`eps ${num(attrs, 'eps')} must be >= 0`);
    return x!;
  },
  evaluate([x, w, b], attrs, result) {
    const groups = num(attrs, 'groups');
    // eps as the f32 the decomposition's constant holds.
    const eps = Math.fround(num(attrs, 'eps'));
    const [n, c] = x!.type.shape as [number, number];
    const positions = numel(x!.type.shape.slice(2));
    const size = (c / groups) * positions;
    const data = new Float64Array(x!.data.length);
    for (let start = 0; start < n * c * positions; start += size) {
      let mean = 0;
      for (let i = start; i < start + size; i++) mean += x!.data[i]!;
      mean /= size;
      let variance = 0;
      for (let i = start; i < start + size; i++) variance += (x!.data[i]! - mean) ** 2;
      variance /= size;
      const r = 1 / Math.sqrt(variance + eps);
      for (let i = start; i < start + size; i++) {
        const channel = Math.floor(i / positions) % c;
        data[i] = (x!.data[i]! - mean) * r * (w ? w.data[channel]! : 1) + (b ? b.data[channel]! : 0);
      }
    }
    return { type: result, data };
  },
  decompose(e, [x, w, b], attrs) {
    // A layer norm over each group's [C/G * positions] row (its weight and bias ones and zeros), then the per-channel affine.
    const shape = x!.type.shape;
    const [n, c] = shape as [number, number];
    const groups = num(attrs, 'groups');
    const d = numel(shape) / (n * groups);
    const row = (v: number) => e.emit('broadcast_to', [scalar(e, v)], { shape: [d] });
    const rows = e.emit('reshape', [x!], { shape: [n, groups, d] });
    let y = e.emit('reshape', [e.emit('layer_norm', [rows, row(1), row(0)], { eps: num(attrs, 'eps') })], { shape });
    const perChannel = (v: typeof x) => e.emit('reshape', [v!], { shape: [c, ...shape.slice(2).map(() => 1)] });
    if (w) y = e.emit('mul', [y, perChannel(w)]);
    if (b) y = e.emit('add', [y, perChannel(b)]);
    return y;
  },
};

/** Group normalisation. */
export const GROUP_NORM_OPS = { group_norm: groupNormOp } as const satisfies OpTable;
