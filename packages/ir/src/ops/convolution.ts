import { type Attrs, ints, num } from '../attrs.ts';
import { TypeRuleError } from '../errors.ts';
import { type Emitter, type OpSpec, type OpTable, scalar } from '../op-def.ts';
import type { Value } from '../program.ts';
import type { RefTensor } from '../ref-tensor.ts';
import { type TensorType, formatShape, numel } from '../tensor-type.ts';
import { CONV_TRANSPOSE_OPS } from './conv-transpose.ts';

/** The geometry of a 2-D convolution, as its type rule resolves it. */
export interface Conv2dGeometry {
  readonly batch: number;
  readonly channels: number;
  readonly height: number;
  readonly width: number;
  readonly outChannels: number;
  /** Input channels per group (the weight's second extent). */
  readonly groupChannels: number;
  readonly groups: number;
  readonly kernel: readonly [number, number];
  readonly stride: readonly [number, number];
  readonly padding: readonly [number, number];
  readonly dilation: readonly [number, number];
  readonly outHeight: number;
  readonly outWidth: number;
}

function pair(attrs: Attrs, key: string, min: number): [number, number] {
  const v = ints(attrs, key);
  if (v.length !== 2) throw new TypeRuleError(`attribute '${key}' has ${v.length} entries, expected 2 (height, width)`);
  if (v.some((x) => x < min)) throw new TypeRuleError(`attribute '${key}' is [${v.join(',')}], expected entries >= ${min}`);
  return [v[0]!, v[1]!];
}

/** Resolves and checks the geometry of conv2d(x, weight, bias?) {stride, padding, dilation, groups}; throws TypeRuleError. */
export function conv2dGeometry(x: TensorType, w: TensorType, bias: TensorType | undefined, attrs: Attrs): Conv2dGeometry {
  for (const [t, what] of [[x, 'input'], [w, 'weight'], [bias, 'bias']] as const) {
    if (t && t.dtype !== 'f32') throw new TypeRuleError(`${what} has dtype ${t.dtype}, expected f32`);
  }
  if (x.shape.length !== 4) throw new TypeRuleError(`input has shape ${formatShape(x.shape)}, expected rank 4 [N, C, H, W]`);
  if (w.shape.length !== 4) throw new TypeRuleError(`weight has shape ${formatShape(w.shape)}, expected rank 4 [out_channels, in_channels / groups, kH, kW]`);
  const [batch, channels, height, width] = x.shape as [number, number, number, number];
  const [outChannels, groupChannels, kh, kw] = w.shape as [number, number, number, number];
  const groups = num(attrs, 'groups');
  if (groups < 1) throw new TypeRuleError(`groups ${groups} must be >= 1`);
  if (channels % groups !== 0 || outChannels % groups !== 0) {
    throw new TypeRuleError(`groups ${groups} must divide the input channels (${channels}) and the output channels (${outChannels})`);
  }
  if (groupChannels * groups !== channels) {
    throw new TypeRuleError(`weight has ${groupChannels} input channels per group, expected ${channels / groups} (input channels ${channels} / groups ${groups})`);
  }
  if (bias && (bias.shape.length !== 1 || bias.shape[0] !== outChannels)) {
    throw new TypeRuleError(`bias has shape ${formatShape(bias.shape)}, expected [${outChannels}] (the output channels)`);
  }
  const stride = pair(attrs, 'stride', 1);
  const padding = pair(attrs, 'padding', 0);
  const dilation = pair(attrs, 'dilation', 1);
  const out = ([size, k]: [number, number], a: 0 | 1): number => {
    const span = dilation[a] * (k - 1) + 1;
    const padded = size + 2 * padding[a];
    if (span > padded) {
      const axis = a === 0 ? 'height' : 'width';
      throw new TypeRuleError(`the kernel spans ${span} along the ${axis} (dilation ${dilation[a]}), more than the padded input's ${padded}`);
    }
    return Math.floor((padded - span) / stride[a]) + 1;
  };
  return {
    batch,
    channels,
    height,
    width,
    outChannels,
    groupChannels,
    groups,
    kernel: [kh, kw],
    stride,
    padding,
    dilation,
    outHeight: out([height, kh], 0),
    outWidth: out([width, kw], 1),
  };
}

/** Whether a convolution is depthwise: one input channel per group. */
export const isDepthwise = (g: Conv2dGeometry): boolean => g.groupChannels === 1 && g.groups > 1;

/** Direct convolution by definition, in float64: each output sums its window (positions in the padding read 0), then adds its bias. */
function conv2dRef(x: RefTensor, w: RefTensor, bias: RefTensor | undefined, g: Conv2dGeometry, result: TensorType): RefTensor {
  const { channels: C, height: H, width: W, outChannels: O, groupChannels: Cg, outHeight: OH, outWidth: OW } = g;
  const [KH, KW] = g.kernel;
  const perGroup = O / g.groups;
  const data = new Float64Array(numel(result.shape));
  let at = 0;
  for (let n = 0; n < g.batch; n++) {
    for (let o = 0; o < O; o++) {
      const c0 = Math.floor(o / perGroup) * Cg;
      for (let oh = 0; oh < OH; oh++) {
        for (let ow = 0; ow < OW; ow++) {
          let s = 0;
          for (let c = 0; c < Cg; c++) {
            for (let kh = 0; kh < KH; kh++) {
              const y = oh * g.stride[0] + kh * g.dilation[0] - g.padding[0];
              for (let kw = 0; kw < KW; kw++) {
                const xx = ow * g.stride[1] + kw * g.dilation[1] - g.padding[1];
                // A padding tap is a 0 times its weight, as in PyTorch (an infinite weight gives NaN there).
                const v = y < 0 || y >= H || xx < 0 || xx >= W ? 0 : x.data[((n * C + c0 + c) * H + y) * W + xx]!;
                s += v * w.data[((o * Cg + c) * KH + kh) * KW + kw]!;
              }
            }
          }
          // The bias last, as the decomposition and every kernel's epilogue add it: summed first, a
          // bias below the sum's ulp vanishes, and its sign can decide log's -inf or NaN.
          data[at++] = bias ? s + bias.data[o]! : s;
        }
      }
    }
  }
  return { type: result, data };
}

/**
 * conv2d with core ops: the input padded once, then for every kernel tap
 * (kh, kw) the strided slice of the input that tap sees, weighted by the
 * tap's weights and summed. Depthwise: a per-channel product (an
 * elementwise tree that fuses into one kernel); otherwise a grouped matmul
 * [G, O/G, C/G] x [N, G, C/G, OH*OW] per tap.
 */
function conv2dDecompose(e: Emitter, [x, w, bias]: readonly Value[], attrs: Attrs): Value {
  const g = conv2dGeometry(x!.type, w!.type, bias?.type, attrs);
  const { batch: N, channels: C, outChannels: O, groups: G, groupChannels: Cg, outHeight: OH, outWidth: OW } = g;
  const [KH, KW] = g.kernel;
  const [ph, pw] = g.padding;
  const padded = ph || pw ? e.emit('pad', [x!], { low: [0, 0, ph, pw], high: [0, 0, ph, pw] }) : x!;
  const depthwise = isDepthwise(g);
  const mult = O / C;
  let sum: Value | undefined;
  for (let kh = 0; kh < KH; kh++) {
    for (let kw = 0; kw < KW; kw++) {
      const y0 = kh * g.dilation[0];
      const x0 = kw * g.dilation[1];
      const seen = e.emit('slice', [padded], {
        start: [0, 0, y0, x0],
        stop: [N, C, y0 + (OH - 1) * g.stride[0] + 1, x0 + (OW - 1) * g.stride[1] + 1],
        step: [1, 1, g.stride[0], g.stride[1]],
      });
      const tap = e.emit('slice', [w!], { start: [0, 0, kh, kw], stop: [O, Cg, kh + 1, kw + 1], step: [1, 1, 1, 1] });
      let term: Value;
      if (depthwise) {
        // Output channel c * mult + m reads input channel c.
        const wt = e.emit('reshape', [tap], { shape: [C, mult, 1, 1] });
        term = e.emit('mul', [e.emit('reshape', [seen], { shape: [N, C, 1, OH, OW] }), wt]);
      } else {
        const wt = e.emit('reshape', [tap], { shape: [G, O / G, Cg] });
        term = e.emit('matmul', [wt, e.emit('reshape', [seen], { shape: [N, G, Cg, OH * OW] })]);
      }
      sum = sum ? e.emit('add', [sum, term]) : term;
    }
  }
  // The reference sums from +0, as PyTorch does: a sum of -0 products is +0 there, -0 without this.
  const out = e.emit('reshape', [e.emit('add', [sum!, scalar(e, 0)])], { shape: [N, O, OH, OW] });
  return bias ? e.emit('add', [out, e.emit('reshape', [bias], { shape: [O, 1, 1] })]) : out;
}

const conv2dOp: OpSpec = {
  doc: '2-D convolution (cross-correlation, as torch.nn.functional.conv2d) of NCHW input with [out, in/groups, kH, kW] weight, optional bias [out]',
  fusion: 'contraction',
  operands: { names: ['input', 'weight', 'bias?'], min: 2, max: 3 },
  attrs: {
    stride: { kind: 'ints', default: [1, 1], doc: 'step of the window (height, width)' },
    padding: { kind: 'ints', default: [0, 0], doc: 'zeros added on both sides (height, width)' },
    dilation: { kind: 'ints', default: [1, 1], doc: 'spacing of the kernel taps (height, width)' },
    groups: { kind: 'int', default: 1, doc: 'channel groups: groups = channels is a depthwise convolution' },
  },
  inferType([x, w, bias], attrs) {
    const g = conv2dGeometry(x!, w!, bias, attrs);
    return { dtype: 'f32', shape: [g.batch, g.outChannels, g.outHeight, g.outWidth] };
  },
  evaluate([x, w, bias], attrs, result) {
    return conv2dRef(x!, w!, bias, conv2dGeometry(x!.type, w!.type, bias?.type, attrs), result);
  },
  decompose: conv2dDecompose,
};

/** Convolutions. */
export const CONVOLUTION_OPS = { conv2d: conv2dOp, ...CONV_TRANSPOSE_OPS } as const satisfies OpTable;
