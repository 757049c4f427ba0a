/**
 * A convolution's matmul kernel in WGSL: every variant reads A through the
 * window (read_a / read_window, zero in the padding), never an im2col copy:
 * the texture variant stages only B, the register variant reads A with
 * scalar window reads rather than vec4 loads along p.
 */
import { describe, expect, it } from 'vitest';
import { parseProgram } from '@tessera/ir';
import { lowerToKernels } from '@tessera/passes';
import { DEFAULT_TARGET, type WgslTarget, emitProgramShaders } from '../src/index.ts';

const LLVMPIPE: WgslTarget = { ...DEFAULT_TARGET, cpu: true, maxStorageBuffersPerShaderStage: 16 };

const conv = lowerToKernels(
  parseProgram(`program @p
input %x : f32[2,8,9,7]
param %w : f32[16,8,3,3]
%c = conv2d(%x, %w) {stride = [2, 1], padding = [1, 1], dilation = [1, 2]} : f32[2,16,5,5]
output c = %c
`),
);

describe('convolutions in WGSL', () => {
  it('the texture variant stages the weight (B) only and reads the image through the window, tap offsets once per depth step', () => {
    const [k] = emitProgramShaders(conv, { ...LLVMPIPE, matmul: 'texture' });
    expect(k!.variant).toMatch(/^matmul:texture /);
    expect(k!.prepasses?.map((p) => [p.name, p.paramsOnly])).toEqual([['k0_conv2d.pack_b', true]]);
    expect(k!.bindings.filter((b) => 'texture' in b)).toEqual([{ texture: 1, access: 'sampled' }]);
    expect(k!.wgsl).not.toMatch(/tex0/);
    expect(k!.wgsl).toMatch(/if \(!ok \|\| u32\(y\) >= 9u \|\| u32\(x\) >= 7u\) \{ return 0\.0f; \}/);
    expect(k!.wgsl).toMatch(/let t3_p = p4 \* 4i \+ 3i;/);
  });

  it('the register variant reads A as four window reads, not as a vec4 view along p', () => {
    const [k] = emitProgramShaders(conv, { ...LLVMPIPE, matmul: 'register' });
    expect(k!.variant).not.toMatch(/vec4 loads of b0/);
    expect(k!.wgsl).toMatch(/fn read_a4\(.*\) -> vec4<f32> \{ return vec4<f32>\(read_a\(/);
    expect(k!.wgsl).toMatch(/fn read_a\(a0: i32, a1: i32, a2: i32, a3: i32\) -> f32 \{\n {2}let oh = a1 \/ 5i;/);
  });
});
