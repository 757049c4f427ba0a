/** Convolution, as torch.nn.functional.conv2d. */
import { type Tensor, emitOp } from '../tensor.ts';
import { dslError } from '../tracer.ts';
import { pad } from './shape.ts';

/** A per-axis size: one number for both axes, or (height, width). */
export type Size2 = number | readonly [number, number];

/** Options of conv2d, with torch.nn.functional.conv2d's names and defaults. */
export interface Conv2dOptions {
  /** Step of the window (default 1). */
  readonly stride?: Size2;
  /** Zeros added on both sides of each axis (default 0), or 'valid' (none) or 'same' (output as large as the input; stride 1 only). */
  readonly padding?: Size2 | 'valid' | 'same';
  /** Spacing between kernel taps (default 1). */
  readonly dilation?: Size2;
  /** Channel groups (default 1); groups = input channels is a depthwise convolution. */
  readonly groups?: number;
}

function pairOf(what: string, v: Size2, fn = 'conv2d'): [number, number] {
  const p: readonly number[] = typeof v === 'number' ? [v, v] : v;
  if (p.length !== 2 || !p.every(Number.isInteger)) return dslError(`${fn}: ${what} ${JSON.stringify(v)} must be an integer or a pair of integers`);
  return [p[0]!, p[1]!];
}

/**
 * 2-D convolution (cross-correlation) of input [N, C, H, W] with weight
 * [out, C / groups, kH, kW] and an optional bias [out], as
 * torch.nn.functional.conv2d(input, weight, bias, stride, padding, dilation, groups).
 */
export function conv2d(input: Tensor, weight: Tensor, bias?: Tensor | null, opts: Conv2dOptions = {}): Tensor {
  const stride = pairOf('stride', opts.stride ?? 1);
  const dilation = pairOf('dilation', opts.dilation ?? 1);
  const attrs = { stride, dilation, groups: opts.groups ?? 1 };
  const operands = (x: Tensor) => (bias ? [x, weight, bias] : [x, weight]);
  if (opts.padding !== 'same') {
    const padding = opts.padding === 'valid' ? [0, 0] : pairOf('padding', opts.padding ?? 0);
    return emitOp('conv2d', operands(input), { ...attrs, padding });
  }
  if (stride[0] !== 1 || stride[1] !== 1) return dslError(`conv2d: padding='same' needs stride 1, got stride [${stride.join(', ')}] (as in PyTorch)`);
  if (weight.rank !== 4 || input.rank !== 4) return emitOp('conv2d', operands(input), { ...attrs, padding: [0, 0] });
  // As PyTorch: each axis gets dilation * (k - 1) zeros, half before; an odd one out goes after (bottom, right).
  const total = [0, 1].map((a) => dilation[a]! * (weight.shape[2 + a]! - 1));
  const before = total.map((t) => Math.floor(t / 2));
  const extra = total.map((t, a) => t - 2 * before[a]!);
  const x = extra.some((e) => e > 0) ? pad(input, [0, 0, 0, 0], [0, 0, extra[0]!, extra[1]!]) : input;
  return emitOp('conv2d', operands(x), { ...attrs, padding: before });
}

/** Options of conv_transpose2d, with torch.nn.functional.conv_transpose2d's names and defaults. */
export interface ConvTranspose2dOptions {
  /** Step between input positions in the output (default 1). */
  readonly stride?: Size2;
  /** Taken off both sides of each output axis (default 0). */
  readonly padding?: Size2;
  /** Added at the end of each output axis (default 0), to reach an extent stride leaves ambiguous. */
  readonly outputPadding?: Size2;
  /** Channel groups (default 1). */
  readonly groups?: number;
  /** Spacing between kernel taps (default 1). */
  readonly dilation?: Size2;
}

/**
 * 2-D transposed convolution of input [N, C, H, W] with weight
 * [C, out / groups, kH, kW] and an optional bias [out], as
 * torch.nn.functional.conv_transpose2d(input, weight, bias, stride, padding, output_padding, groups, dilation).
 */
export function convTranspose2d(input: Tensor, weight: Tensor, bias?: Tensor | null, opts: ConvTranspose2dOptions = {}): Tensor {
  const attrs = {
    stride: pairOf('stride', opts.stride ?? 1, 'conv_transpose2d'),
    padding: pairOf('padding', opts.padding ?? 0, 'conv_transpose2d'),
    output_padding: pairOf('output_padding', opts.outputPadding ?? 0, 'conv_transpose2d'),
    dilation: pairOf('dilation', opts.dilation ?? 1, 'conv_transpose2d'),
    groups: opts.groups ?? 1,
  };
  return emitOp('conv_transpose2d', bias ? [input, weight, bias] : [input, weight], attrs);
}
