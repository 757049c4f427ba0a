/**
 * The window of an implicit-GEMM convolution: how a matmul kernel reads its
 * A operand straight from the image, with no im2col buffer. Row i of A is
 * the output position (oh, ow) = (i / outWidth, i % outWidth); depth p is
 * the kernel tap (c, kh, kw), row-major over [channels, kernel]; and A(i, p)
 * is `readA` at the point [...batch, c, y, x] of the input space
 * [...batch, channels, height, width], where
 *
 *   y = oh * stride[0] + kh * dilation[0] - padding[0]
 *   x = ow * stride[1] + kw * dilation[1] - padding[1]
 *
 * (an affine map of oh, ow, kh, kw). A point outside the input reads 0 (the
 * padding) and readA is not evaluated there.
 */
export interface ConvWindow {
  readonly channels: number;
  /** The input's (height, width). */
  readonly input: readonly [number, number];
  /** The output's (height, width): m = output[0] * output[1]. */
  readonly output: readonly [number, number];
  /** The kernel's (height, width): k = channels * kernel[0] * kernel[1]. */
  readonly kernel: readonly [number, number];
  readonly stride: readonly [number, number];
  readonly dilation: readonly [number, number];
  readonly padding: readonly [number, number];
}

/** The extents readA is evaluated over under a window: [...batch, channels, height, width]. */
export function windowSpace(batch: readonly number[], w: ConvWindow): number[] {
  return [...batch, w.channels, w.input[0], w.input[1]];
}

/** The input point (c, y, x) that A(i, p) reads, written into `into`; false when it lies in the padding. */
export function windowPoint(w: ConvWindow, i: number, p: number, into: number[], at: number): boolean {
  const [kh, kw] = w.kernel;
  const oh = Math.floor(i / w.output[1]);
  const ow = i - oh * w.output[1];
  const c = Math.floor(p / (kh * kw));
  const tap = p - c * kh * kw;
  const th = Math.floor(tap / kw);
  const y = oh * w.stride[0] + th * w.dilation[0] - w.padding[0];
  const x = ow * w.stride[1] + (tap - th * kw) * w.dilation[1] - w.padding[1];
  into[at] = c;
  into[at + 1] = y;
  into[at + 2] = x;
  return y >= 0 && y < w.input[0] && x >= 0 && x < w.input[1];
}

/** What is wrong with a window for a kernel of the given m and k (empty when consistent). */
export function windowProblems(w: ConvWindow, m: number, k: number): string[] {
  const problems: string[] = [];
  const pairs = { input: w.input, output: w.output, kernel: w.kernel, stride: w.stride, dilation: w.dilation } as const;
  for (const [name, v] of Object.entries(pairs)) {
    if (v.length !== 2 || !v.every((x) => Number.isInteger(x) && x >= 1)) problems.push(`window ${name} [${v.join(',')}] is not two integers >= 1`);
  }
  if (w.padding.length !== 2 || !w.padding.every((x) => Number.isInteger(x) && x >= 0)) problems.push(`window padding [${w.padding.join(',')}] is not two integers >= 0`);
  if (!Number.isInteger(w.channels) || w.channels < 1) problems.push(`window channels ${w.channels} is not an integer >= 1`);
  if (m !== w.output[0] * w.output[1]) problems.push(`m = ${m} but the window's output is ${w.output[0]}x${w.output[1]}`);
  if (k !== w.channels * w.kernel[0] * w.kernel[1]) problems.push(`k = ${k} but the window has ${w.channels} channels of ${w.kernel[0]}x${w.kernel[1]} taps`);
  return problems;
}
