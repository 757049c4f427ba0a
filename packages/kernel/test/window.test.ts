import { describe, expect, it } from 'vitest';
import { parseProgram } from '@tessera/ir';
import { lowerToKernels } from '@tessera/passes';
import { type ConvWindow, type KernelProgram, type MatmulKernel, verifyKernelProgram, windowPoint } from '../src/index.ts';

const WINDOW: ConvWindow = { channels: 2, input: [5, 6], output: [3, 2], kernel: [3, 2], stride: [2, 3], dilation: [1, 2], padding: [1, 0] };

describe('convolution windows', () => {
  it('windowPoint: the input point of row i, depth p by the definition, and whether it is inside the image', () => {
    const into = [9, 0, 0, 0];
    for (let i = 0; i < 6; i++) {
      for (let p = 0; p < 12; p++) {
        const [oh, ow, c, kh, kw] = [Math.floor(i / 2), i % 2, Math.floor(p / 6), Math.floor(p / 2) % 3, p % 2];
        const [y, x] = [oh * 2 + kh - 1, ow * 3 + kw * 2];
        expect(windowPoint(WINDOW, i, p, into, 1)).toBe(y >= 0 && y < 5 && x >= 0 && x < 6);
        expect(into).toEqual([9, c, y, x]);
      }
    }
  });

  /** A lowered convolution's kernel program, for corrupting. */
  function lowered(): KernelProgram {
    return lowerToKernels(
      parseProgram(`program @p
input %x : f32[1,2,5,6]
param %w : f32[4,2,3,2]
%c = conv2d(%x, %w) {stride = [2, 3], padding = [1, 0], dilation = [1, 2]} : f32[1,4,3,2]
output c = %c
`),
    );
  }
  const withKernel = (p: KernelProgram, change: (k: MatmulKernel) => MatmulKernel): KernelProgram => ({ ...p, kernels: p.kernels.map((k) => change(k as MatmulKernel)) });

  it('the verifier accepts a lowered convolution and rejects a window that does not fit the kernel or its image', () => {
    const p = lowered();
    expect((p.kernels[0] as MatmulKernel).window).toEqual(WINDOW);
    expect(verifyKernelProgram(p)).toEqual([]);
    expect(verifyKernelProgram(withKernel(p, (k) => ({ ...k, m: 7 })))).toContainEqual(expect.stringMatching(/m = 7 but the window's output is 3x2/));
    expect(verifyKernelProgram(withKernel(p, (k) => ({ ...k, window: { ...k.window!, kernel: [2, 2] } })))).toContainEqual(expect.stringMatching(/k = 12 but the window has 2 channels of 2x2 taps/));
    expect(verifyKernelProgram(withKernel(p, (k) => ({ ...k, window: { ...k.window!, stride: [0, 3] } })))).toContainEqual(expect.stringMatching(/window stride \[0,3\] is not two integers >= 1/));
    // readA is checked over the image [c, y, x]: a window claiming a taller image reads past the buffer.
    expect(verifyKernelProgram(withKernel(p, (k) => ({ ...k, window: { ...k.window!, input: [9, 6] } })))).toContainEqual(expect.stringMatching(/load of %x reaches offsets 0\.\.\d+ outside \[0, 60\)/));
  });
});
