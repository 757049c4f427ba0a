import { type Attrs, ints, num } from '../attrs.ts';
import { TypeRuleError } from '../errors.ts';
import type { Emitter, OpSpec, OpTable } from '../op-def.ts';
import type { Value } from '../program.ts';
import type { RefTensor } from '../ref-tensor.ts';
import { type TensorType, formatShape, numel } from '../tensor-type.ts';

/** The geometry of a 2-D transposed convolution, as its type rule resolves it. */
interface ConvTransposeGeometry {
  readonly batch: number;
  readonly channels: number;
  readonly outChannels: number;
  readonly groups: number;
  readonly kernel: readonly [number, number];
  readonly stride: readonly [number, number];
  readonly dilation: readonly [number, number];
  /** Padding taken off the start and the end of each axis (height, width). */
  readonly begin: readonly [number, number];
  readonly end: readonly [number, number];
  readonly outputPadding: readonly [number, number];
  readonly inSize: readonly [number, number];
  readonly outSize: readonly [number, number];
}

function pairOf(attrs: Attrs, key: string, min: number): [number, number] {
  const v = ints(attrs, key);
  if (v.length !== 2) throw new TypeRuleError(`attribute '${key}' has ${v.length} entries, expected 2 (height, width)`);
  if (v.some((x) => x < min)) throw new TypeRuleError(`attribute '${key}' is [${v.join(',')}], expected entries >= ${min}`);
  return [v[0]!, v[1]!];
}

/** Resolves and checks conv_transpose2d(x, weight, bias?); throws TypeRuleError. */
function geometry(x: TensorType, w: TensorType, bias: TensorType | undefined, attrs: Attrs): ConvTransposeGeometry {
  for (const [t, what] of [[x, 'input'], [w, 'weight'], [bias, 'bias']] as const) {
    if (t && t.dtype !== 'f32') throw new TypeRuleError(`${what} has dtype ${t.dtype}, expected f32`);
  }
  if (x.shape.length !== 4) throw new TypeRuleError(`input has shape ${formatShape(x.shape)}, expected rank 4 [N, C, H, W]`);
  if (w.shape.length !== 4) throw new TypeRuleError(`weight has shape ${formatShape(w.shape)}, expected rank 4 [in_channels, out_channels / groups, kH, kW]`);
  const [batch, channels, h, wd] = x.shape as [number, number, number, number];
  const [wIn, outPerGroup, kh, kw] = w.shape as [number, number, number, number];
  const groups = num(attrs, 'groups');
  if (groups < 1 || channels % groups !== 0) throw new TypeRuleError(`groups ${groups} must be a positive divisor of the ${channels} input channels`);
  if (wIn !== channels) throw new TypeRuleError(`weight has ${wIn} input channels, expected ${channels} (the input's)`);
  const outChannels = outPerGroup * groups;
  if (bias && (bias.shape.length !== 1 || bias.shape[0] !== outChannels)) throw new TypeRuleError(`bias has shape ${formatShape(bias.shape)}, expected [${outChannels}] (the output channels)`);
  const stride = pairOf(attrs, 'stride', 1);
  const dilation = pairOf(attrs, 'dilation', 1);
  const outputPadding = pairOf(attrs, 'output_padding', 0);
  const padding = ints(attrs, 'padding');
  if ((padding.length !== 2 && padding.length !== 4) || padding.some((p) => p < 0)) {
    throw new TypeRuleError(`attribute 'padding' is [${padding.join(',')}], expected 2 entries (both sides) or 4 (top, left, bottom, right), each >= 0`);
  }
  const begin: [number, number] = [padding[0]!, padding[1]!];
  const end: [number, number] = padding.length === 2 ? [padding[0]!, padding[1]!] : [padding[2]!, padding[3]!];
  const inSize: [number, number] = [h, wd];
  const kernel: [number, number] = [kh, kw];
  const outSize = inSize.map((n, a) => (n - 1) * stride[a]! - begin[a]! - end[a]! + dilation[a]! * (kernel[a]! - 1) + outputPadding[a]! + 1) as [number, number];
  if (outSize.some((n) => n < 1)) throw new TypeRuleError(`the output would be ${outSize.join('x')}: the padding takes off more than the transposed convolution makes`);
  return { batch, channels, outChannels, groups, kernel, stride, dilation, begin, end, outputPadding, inSize, outSize };
}

/**
 * By definition, in float64, gathered per output: out[o, oh, ow] sums, over
 * the group's input channels and the taps, x at (h, w) with
 * h * stride = oh + kh * dilation - (dilation * (kH - 1) - pad_top) (and so
 * for the width), times weight[c, o, kH - 1 - kh, kW - 1 - kw]; a position
 * off the stride's lattice or outside the input reads 0 (so an infinite
 * weight gives NaN there, as the convolution over the zero-stuffed input
 * computes it; PyTorch's scatter gives 0), then the bias.
 */
function convTransposeRef(x: RefTensor, w: RefTensor, bias: RefTensor | undefined, g: ConvTransposeGeometry, result: TensorType): RefTensor {
  const [H, W] = g.inSize;
  const [OH, OW] = g.outSize;
  const [KH, KW] = g.kernel;
  const cin = g.channels / g.groups;
  const coutG = g.outChannels / g.groups;
  const before = [0, 1].map((a) => g.dilation[a]! * (g.kernel[a]! - 1) - g.begin[a]!);
  /** The input index along an axis of a stuffed position, or -1 for a zero. */
  const source = (q: number, a: 0 | 1, size: number) => (q % g.stride[a] === 0 && q >= 0 && q / g.stride[a] < size ? q / g.stride[a] : -1);
  const data = new Float64Array(numel(result.shape));
  let at = 0;
  for (let n = 0; n < g.batch; n++) {
    for (let o = 0; o < g.outChannels; o++) {
      const group = Math.floor(o / coutG);
      const ol = o % coutG;
      for (let oh = 0; oh < OH; oh++) {
        for (let ow = 0; ow < OW; ow++) {
          let s = 0;
          for (let cl = 0; cl < cin; cl++) {
            const c = group * cin + cl;
            for (let kh = 0; kh < KH; kh++) {
              const h = source(oh + kh * g.dilation[0] - before[0]!, 0, H);
              for (let kw = 0; kw < KW; kw++) {
                const ww = source(ow + kw * g.dilation[1] - before[1]!, 1, W);
                const v = h < 0 || ww < 0 ? 0 : x.data[((n * g.channels + c) * H + h) * W + ww]!;
                s += v * w.data[((c * coutG + ol) * KH + (KH - 1 - kh)) * KW + (KW - 1 - kw)]!;
              }
            }
          }
          // The bias last, as the convolution's epilogue adds it.
          data[at++] = bias ? s + bias.data[o]! : s;
        }
      }
    }
  }
  return { type: result, data };
}

/**
 * conv_transpose2d as the convolution it is the gradient of: the input
 * with stride - 1 zeros between its elements (a reshape, a pad and a
 * reshape), padded by the kernel's reach less the padding (output_padding
 * more at the end; cropped where negative), convolved at stride 1 with the
 * kernel flipped and its channel axes swapped within each group.
 */
function convTransposeDecompose(e: Emitter, [x, w, bias]: readonly Value[], attrs: Attrs): Value {
  const g = geometry(x!.type, w!.type, bias?.type, attrs);
  const [N, C] = [g.batch, g.channels];
  const [H, W] = g.inSize;
  const [sh, sw] = g.stride;
  let y: Value = x!;
  if (sh > 1 || sw > 1) {
    const split = e.emit('reshape', [y], { shape: [N, C, H, 1, W, 1] });
    const spread = e.emit('pad', [split], { low: [0, 0, 0, 0, 0, 0], high: [0, 0, 0, sh - 1, 0, sw - 1] });
    const merged = e.emit('reshape', [spread], { shape: [N, C, H * sh, W * sw] });
    y = e.emit('slice', [merged], { start: [0, 0, 0, 0], stop: [N, C, (H - 1) * sh + 1, (W - 1) * sw + 1], step: [1, 1, 1, 1] });
  }
  const reach = [0, 1].map((a) => g.dilation[a]! * (g.kernel[a]! - 1));
  const before = [0, 1].map((a) => reach[a]! - g.begin[a]!);
  const after = [0, 1].map((a) => reach[a]! - g.end[a]! + g.outputPadding[a]!);
  if ([...before, ...after].some((p) => p > 0)) {
    y = e.emit('pad', [y], { low: [0, 0, ...before.map((p) => Math.max(p, 0))], high: [0, 0, ...after.map((p) => Math.max(p, 0))] });
  }
  if ([...before, ...after].some((p) => p < 0)) {
    const shape = y.type.shape;
    const start = [0, 0, ...before.map((p) => Math.max(-p, 0))];
    const stop = shape.map((d, a) => (a < 2 ? d : d - Math.max(-after[a - 2]!, 0)));
    y = e.emit('slice', [y], { start, stop, step: [1, 1, 1, 1] });
  }
  const [KH, KW] = g.kernel;
  const coutG = g.outChannels / g.groups;
  const grouped = e.emit('reshape', [w!], { shape: [g.groups, C / g.groups, coutG, KH, KW] });
  const swapped = e.emit('reshape', [e.emit('transpose', [grouped], { perm: [0, 2, 1, 3, 4] })], { shape: [g.outChannels, C / g.groups, KH, KW] });
  const reversed = (k: number) => e.emit('constant', [], { shape: [k], dtype: 'i32', value: Array.from({ length: k }, (_, i) => k - 1 - i) });
  const flipped = e.emit('gather', [e.emit('gather', [swapped, reversed(KH)], { axis: 2 }), reversed(KW)], { axis: 3 });
  const operands = bias ? [y, flipped, bias] : [y, flipped];
  return e.emit('conv2d', operands, { stride: [1, 1], padding: [0, 0], dilation: [...g.dilation], groups: g.groups });
}

const convTranspose2dOp: OpSpec = {
  doc: '2-D transposed convolution of NCHW input with [in, out/groups, kH, kW] weight and optional bias [out] (torch.nn.functional.conv_transpose2d; ONNX ConvTranspose)',
  fusion: 'contraction',
  operands: { names: ['input', 'weight', 'bias?'], min: 2, max: 3 },
  attrs: {
    stride: { kind: 'ints', default: [1, 1], doc: 'step between input positions in the output (height, width)' },
    padding: { kind: 'ints', default: [0, 0], doc: 'taken off both sides of each axis (height, width), or top, left, bottom, right' },
    output_padding: { kind: 'ints', default: [0, 0], doc: 'added at the end of each axis (height, width)' },
    dilation: { kind: 'ints', default: [1, 1], doc: 'spacing of the kernel taps (height, width)' },
    groups: { kind: 'int', default: 1, doc: 'channel groups' },
  },
  inferType([x, w, bias], attrs) {
    const g = geometry(x!, w!, bias, attrs);
    return { dtype: 'f32', shape: [g.batch, g.outChannels, ...g.outSize] };
  },
  evaluate([x, w, bias], attrs, result) {
    return convTransposeRef(x!, w!, bias, geometry(x!.type, w!.type, bias?.type, attrs), result);
  },
  decompose: convTransposeDecompose,
};

/** Transposed convolutions. */
export const CONV_TRANSPOSE_OPS = { conv_transpose2d: convTranspose2dOp } as const satisfies OpTable;
