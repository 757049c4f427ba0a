import { type Attrs, flag, ints } from '../attrs.ts';
import { TypeRuleError } from '../errors.ts';
import { type Emitter, type OpSpec, type OpTable, fixedOperands } from '../op-def.ts';
import type { Value } from '../program.ts';
import type { RefTensor } from '../ref-tensor.ts';
import { type TensorType, formatShape, numel } from '../tensor-type.ts';
import { forEachIndex } from './eval-util.ts';

/** The most positions a pooling window may have: its decomposition takes a slice per position. */
export const MAX_WINDOW = 65536;

/** One spatial axis of a pooling window, as the type rule resolves it. */
interface PoolAxis {
  readonly size: number;
  readonly kernel: number;
  readonly stride: number;
  readonly dilation: number;
  /** Padding before and after the input. */
  readonly begin: number;
  readonly end: number;
  readonly out: number;
}

/** The window of max_pool or avg_pool over x [N, C, spatial...]: one PoolAxis per spatial axis (ceil mode dropping a last window that starts in the end padding, as PyTorch and ONNX do). */
export function poolAxes(x: TensorType, attrs: Attrs): PoolAxis[] {
  const kernel = ints(attrs, 'kernel');
  const n = kernel.length;
  if (n < 1) throw new TypeRuleError('attribute kernel is empty, expected one extent per spatial axis');
  if (x.shape.length !== n + 2) throw new TypeRuleError(`input has shape ${formatShape(x.shape)}, expected rank ${n + 2} [N, C, ${n} spatial] for a kernel of ${n} axes`);
  const per = (key: string, fallback: readonly number[], min: number): number[] => {
    const v = ints(attrs, key);
    const list = v.length === 0 ? [...fallback] : [...v];
    if (list.length !== n) throw new TypeRuleError(`attribute ${key} has ${list.length} entries, expected ${n} (one per spatial axis)`);
    if (list.some((e) => e < min)) throw new TypeRuleError(`attribute ${key} is [${list.join(',')}], expected entries >= ${min}`);
    return list;
  };
  if (kernel.some((k) => k < 1)) throw new TypeRuleError(`attribute kernel is [${kernel.join(',')}], expected entries >= 1`);
  const stride = per('stride', kernel, 1);
  const dilation = per('dilation', Array(n).fill(1), 1);
  const padding = ints(attrs, 'padding');
  if (padding.length !== 0 && padding.length !== n && padding.length !== 2 * n) {
    throw new TypeRuleError(`attribute padding has ${padding.length} entries, expected ${n} (both sides) or ${2 * n} (the begins, then the ends)`);
  }
  if (padding.some((p) => p < 0)) throw new TypeRuleError(`attribute padding is [${padding.join(',')}], expected entries >= 0`);
  const ceil = flag(attrs, 'ceil_mode');
  // The decomposition takes one slice per window position.
  if (kernel.reduce((a, b) => a * b, 1) > MAX_WINDOW) throw new TypeRuleError(`the window has ${kernel.reduce((a, b) => a * b, 1)} positions, more than ${MAX_WINDOW} (a global pool is a reduce_mean or reduce_max over the axes)`);
  return kernel.map((k, i) => {
    const begin = padding.length === 0 ? 0 : padding[i]!;
    const end = padding.length === 0 ? 0 : padding.length === n ? padding[i]! : padding[n + i]!;
    const size = x.shape[i + 2]!;
    const span = (k - 1) * dilation[i]! + 1;
    if (span > size + begin + end) throw new TypeRuleError(`the window spans ${span} along spatial axis ${i}, more than the padded input's ${size + begin + end}`);
    const steps = (size + begin + end - span) / stride[i]!;
    let out = (ceil ? Math.ceil(steps) : Math.floor(steps)) + 1;
    if (ceil && (out - 1) * stride[i]! >= size + begin) out--;
    return { size, kernel: k, stride: stride[i]!, dilation: dilation[i]!, begin, end, out };
  });
}

/** The window positions of output index `o` along one axis that lie in [low, high), in input coordinates: computed, not enumerated (a kernel may be far longer than the input). */
function positionsIn(a: PoolAxis, o: number, low: number, high: number): number[] {
  const first = o * a.stride - a.begin;
  const kLow = Math.max(0, Math.ceil((low - first) / a.dilation));
  const kHigh = Math.min(a.kernel - 1, Math.floor((high - 1 - first) / a.dilation));
  return kHigh < kLow ? [] : Array.from({ length: kHigh - kLow + 1 }, (_, i) => first + (kLow + i) * a.dilation);
}

/** For each window along one axis: how many positions it averages (inside the input, or with count_include_pad inside the input and its padding). */
function windowCounts(a: PoolAxis, includePad: boolean): number[] {
  const [low, high] = includePad ? [-a.begin, a.size + a.end] : [0, a.size];
  return Array.from({ length: a.out }, (_, o) => positionsIn(a, o, low, high).length);
}

type PoolKind = 'max' | 'avg';

/** Pooling by definition: each output over the window positions inside the input (max: NaN if one is NaN, -inf or the i32 minimum if none is inside; avg: their sum over the window's count). */
function poolRef(kind: PoolKind, x: RefTensor, attrs: Attrs, result: TensorType): RefTensor {
  const axes = poolAxes(x.type, attrs);
  const counts = kind === 'avg' ? axes.map((a) => windowCounts(a, flag(attrs, 'count_include_pad'))) : [];
  const spatial = x.type.shape.slice(2);
  const data = new Float64Array(numel(result.shape));
  forEachIndex(result.shape, (idx, flat) => {
    const base = (idx[0]! * x.type.shape[1]! + idx[1]!) * numel(spatial);
    // A window with no input position: -inf (the i32 minimum) for max, as the decomposition's padding gives.
    let acc = kind === 'avg' ? 0 : x.type.dtype === 'i32' ? -(2 ** 31) : -Infinity;
    const visit = (axis: number, offset: number): void => {
      if (axis === axes.length) {
        const v = x.data[base + offset]!;
        acc = kind === 'avg' ? acc + v : Number.isNaN(v) || Number.isNaN(acc) ? NaN : Math.max(acc, v);
        return;
      }
      for (const p of positionsIn(axes[axis]!, idx[axis + 2]!, 0, spatial[axis]!)) visit(axis + 1, offset * spatial[axis]! + p);
    };
    visit(0, 0);
    data[flat] = kind === 'avg' ? acc / counts.reduce((c, per, a) => c * per[idx[a + 2]!]!, 1) : acc;
  });
  return { type: result, data };
}

/**
 * Pooling with core ops: the input padded once (-inf, or the i32 minimum,
 * for max; 0 for avg), then for each kernel tap the strided slice of the
 * padded input that tap sees; the taps' max, or their sum divided by each
 * window's count (a constant), fuse into one elementwise kernel.
 */
function poolDecompose(kind: PoolKind, e: Emitter, x: Value, attrs: Attrs): Value {
  const axes = poolAxes(x.type, attrs);
  const [n, c] = x.type.shape as [number, number];
  const low = [0, 0, ...axes.map((a) => a.begin)];
  // Past the end padding, ceil mode's last window may reach further: padding that no window position reads as input.
  const high = [0, 0, ...axes.map((a) => Math.max(a.end, (a.out - 1) * a.stride + (a.kernel - 1) * a.dilation + 1 - a.size - a.begin))];
  const fill = kind === 'avg' ? 0 : x.type.dtype === 'i32' ? -(2 ** 31) : -Infinity;
  const padded = low.some(Boolean) || high.some(Boolean) ? e.emit('pad', [x], { low, high, value: fill }) : x;
  const taps = axes.reduce<number[][]>((all, a) => all.flatMap((t) => Array.from({ length: a.kernel }, (_, k) => [...t, k])), [[]]);
  const slices = taps.map((t) =>
    e.emit('slice', [padded], {
      start: [0, 0, ...t.map((k, i) => k * axes[i]!.dilation)],
      stop: [n, c, ...t.map((k, i) => k * axes[i]!.dilation + (axes[i]!.out - 1) * axes[i]!.stride + 1)],
      step: [1, 1, ...axes.map((a) => a.stride)],
    }),
  );
  const combined = slices.reduce((acc, s) => e.emit(kind === 'max' ? 'max' : 'add', [acc, s]));
  if (kind === 'max') return combined;
  const perAxis = axes.map((a) => windowCounts(a, flag(attrs, 'count_include_pad')));
  const count = perAxis.reduce<number[]>((all, per) => all.flatMap((v) => per.map((k) => v * k)), [1]);
  return e.emit('div', [combined, e.emit('constant', [], { shape: [1, 1, ...axes.map((a) => a.out)], dtype: 'f32', value: count })]);
}

const WINDOW_ATTRS = {
  kernel: { kind: 'ints', doc: 'window extent per spatial axis' },
  stride: { kind: 'ints', default: [], doc: 'step of the window per spatial axis (default: the kernel)' },
  padding: { kind: 'ints', default: [], doc: 'padding per spatial axis on both sides, or the begins then the ends (default: none)' },
  dilation: { kind: 'ints', default: [], doc: 'spacing of the window positions per spatial axis (default: 1)' },
  ceil_mode: { kind: 'bool', default: false, doc: 'round the output extent up (a last window starting in the end padding is dropped)' },
} as const;

const maxPoolOp: OpSpec = {
  doc: 'maximum over each window of the spatial axes of [N, C, spatial...] (torch max_pool1d/2d/3d, ONNX MaxPool; padding never wins, NaN propagates)',
  fusion: 'elementwise',
  operands: fixedOperands('input'),
  attrs: WINDOW_ATTRS,
  inferType([x], attrs) {
    if (x!.dtype !== 'f32' && x!.dtype !== 'i32') throw new TypeRuleError(`input has dtype ${x!.dtype}, expected f32 or i32`);
    return { dtype: x!.dtype, shape: [x!.shape[0]!, x!.shape[1]!, ...poolAxes(x!, attrs).map((a) => a.out)] };
  },
  evaluate: ([x], attrs, result) => poolRef('max', x!, attrs, result),
  decompose: (e, [x], attrs) => poolDecompose('max', e, x!, attrs),
};

const avgPoolOp: OpSpec = {
  doc: 'mean over each window of the spatial axes of [N, C, spatial...] (torch avg_pool1d/2d/3d, ONNX AveragePool)',
  fusion: 'elementwise',
  operands: fixedOperands('input'),
  attrs: { ...WINDOW_ATTRS, count_include_pad: { kind: 'bool', default: true, doc: 'average over the padding too (as torch; ONNX defaults to false)' } },
  inferType([x], attrs) {
    if (x!.dtype !== 'f32') throw new TypeRuleError(`input has dtype ${x!.dtype}, expected f32`);
    return { dtype: 'f32', shape: [x!.shape[0]!, x!.shape[1]!, ...poolAxes(x!, attrs).map((a) => a.out)] };
  },
  evaluate: ([x], attrs, result) => poolRef('avg', x!, attrs, result),
  decompose: (e, [x], attrs) => poolDecompose('avg', e, x!, attrs),
};

/** Pooling windows: max_pool and avg_pool. */
export const POOLING_OPS = { max_pool: maxPoolOp, avg_pool: avgPoolOp } as const satisfies OpTable;
