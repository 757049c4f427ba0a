/**
 * Lowering of the structural ops: conv2d as an implicit GEMM (one matmul
 * kernel with a window, the epilogue folded into its rows), the fallback
 * when the epilogue cannot fold, depthwise convolutions through their fused
 * decomposition; rms_norm as a row kernel. Each is checked against the
 * interpreter with the kernel evaluator.
 */
import { describe, expect, it } from 'vitest';
import { type Program, interpret, parseProgram } from '@tessera/ir';
import { type KernelProgram, type MatmulKernel, evaluateKernelProgram, printKernelProgram } from '@tessera/kernel';
import { compileProgram, flopsOf } from '../src/index.ts';

/** Deterministic inputs for every program input. */
function inputsOf(p: Program): Record<string, number[]> {
  return Object.fromEntries(p.inputs.map((i, k) => [i.name, Array.from({ length: i.type.shape.reduce((a, b) => a * b, 1) }, (_, j) => Math.fround(Math.sin(j * 1.7 + k) * 0.8))]));
}

/** Compiles with fusion, checks the kernel evaluator against the interpreter, returns the kernels. */
function compileChecked(text: string): KernelProgram {
  const p = parseProgram(text);
  const { kernels } = compileProgram(p);
  const inputs = inputsOf(p);
  const want = interpret(p, inputs);
  const got = evaluateKernelProgram(kernels, inputs);
  for (const o of p.outputs) {
    const w = want[o.name]!.data;
    const g = got[o.name]!;
    expect(g.length).toBe(w.length);
    g.forEach((v, i) => expect(Math.abs(v - w[i]!), `${o.name}[${i}]`).toBeLessThan(1e-9));
  }
  return kernels;
}

const kinds = (k: KernelProgram) => k.kernels.map((x) => x.kind);

describe('conv2d lowers to an implicit GEMM', () => {
  it('bias, relu and a residual add fold into one matmul kernel that reads the image through its window', () => {
    const kp = compileChecked(`program @p
input %x : f32[2,3,7,9]
input %skip : f32[2,4,3,4]
param %w : f32[4,3,3,3]
param %b : f32[4]
%c = conv2d(%x, %w, %b) {stride = [2, 2], padding = [1, 1], dilation = [2, 2]} : f32[2,4,3,4]
%z = constant() {shape = [], value = [0]} : f32[]
%r = max(%c, %z) : f32[2,4,3,4]
%y = add(%r, %skip) : f32[2,4,3,4]
output y = %y
`);
    expect(kinds(kp)).toEqual(['matmul']);
    const k = kp.kernels[0] as MatmulKernel;
    expect(k.window).toEqual({ channels: 3, input: [7, 9], output: [3, 4], kernel: [3, 3], stride: [2, 2], dilation: [2, 2], padding: [1, 1] });
    expect([k.batch, k.m, k.n, k.k]).toEqual([[2], 12, 4, 27]);
    expect(k.nodes).toEqual(['c', 'r', 'y']);
    expect(printKernelProgram(kp)).toMatch(/window input 3x7x9 output 3x4 kernel 3x3 stride 2x2 dilation 2x2 padding 1x1/);
  });

  it('counts 2 flops per window element of each output, and 1 for the bias', () => {
    const p = parseProgram(`program @p
input %x : f32[2,4,7,9]
param %w : f32[6,2,3,3]
param %b : f32[6]
%c = conv2d(%x, %w, %b) {padding = [1, 1], groups = 2} : f32[2,6,7,9]
output c = %c
`);
    const outputs = 2 * 6 * 7 * 9;
    expect(flopsOf(p)).toBe(outputs * (2 * 2 * 9 + 1));
  });

  it('groups become a batch axis of the GEMM; a trailing flatten and transpose (a patch embedding) folds into the store', () => {
    const kp = compileChecked(`program @p
input %x : f32[1,4,8,8]
param %w : f32[6,2,2,2]
%c = conv2d(%x, %w) {stride = [2, 2], groups = 2} : f32[1,6,4,4]
%f = reshape(%c) {shape = [1, 6, 16]} : f32[1,6,16]
%t = transpose(%f) {perm = [0, 2, 1]} : f32[1,16,6]
output t = %t
`);
    expect(kinds(kp)).toEqual(['matmul']);
    const k = kp.kernels[0] as MatmulKernel;
    expect([k.batch, k.m, k.n, k.k]).toEqual([[1, 2], 16, 3, 8]);
  });

  it('an epilogue read that does not walk (oh, ow) as one run (a transposed residual) runs as a kernel of its own', () => {
    const kp = compileChecked(`program @p
input %x : f32[1,2,5,5]
input %s : f32[1,4,3,3]
param %w : f32[4,2,3,3]
%c = conv2d(%x, %w) : f32[1,4,3,3]
%st = transpose(%s) {perm = [0, 1, 3, 2]} : f32[1,4,3,3]
%y = add(%c, %st) : f32[1,4,3,3]
output y = %y
`);
    expect(kinds(kp)).toEqual(['matmul', 'map']);
    expect((kp.kernels[0] as MatmulKernel).window).toBeDefined();
  });

  it('a weight whose taps are not contiguous (kh and kw swapped by a view) is copied once, densely', () => {
    const kp = compileChecked(`program @p
input %x : f32[1,3,6,6]
param %wt : f32[5,3,3,3]
%w = transpose(%wt) {perm = [0, 1, 3, 2]} : f32[5,3,3,3]
%c = conv2d(%x, %w) {padding = [1, 1]} : f32[1,5,6,6]
output c = %c
`);
    expect(kinds(kp)).toEqual(['map', 'matmul']);
  });

  it('depthwise: the decomposition fuses into one elementwise kernel after the padding (no GEMM one column wide)', () => {
    const kp = compileChecked(`program @p
input %x : f32[2,4,7,9]
param %w : f32[8,1,3,3]
param %b : f32[8]
%c = conv2d(%x, %w, %b) {stride = [2, 2], padding = [1, 1], dilation = [2, 2], groups = 4} : f32[2,8,3,4]
output c = %c
`);
    expect(kinds(kp)).not.toContain('matmul');
    // The padding (fill and copy), the taps (one kernel), and with a channel multiplier the bias after the reshape.
    expect(kp.kernels.length).toBeLessThanOrEqual(4);
    const unpadded = compileChecked(`program @p
input %x : f32[1,5,7,9]
param %w : f32[5,1,3,3]
%c = conv2d(%x, %w) {groups = 5} : f32[1,5,5,7]
%z = constant() {shape = [], value = [0]} : f32[]
%y = max(%c, %z) : f32[1,5,5,7]
output y = %y
`);
    expect(kinds(unpadded)).toEqual(['map']);
  });
});

describe('rms_norm lowers to one row kernel', () => {
  it('the mean square is its one stage; the weight and a following activation are its epilogue', () => {
    const kp = compileChecked(`program @p
input %x : f32[3,5]
param %w : f32[5]
%n = rms_norm(%x, %w) : f32[3,5]
%y = tanh(%n) : f32[3,5]
output y = %y
`);
    expect(kinds(kp)).toEqual(['reduce']);
    expect(kp.kernels[0]).toMatchObject({ reduceRank: 1, stages: [{ name: 'sq', combiner: 'sum' }] });
    expect(kp.kernels[0]!.nodes).toEqual(['n', 'y']);
  });
});

describe('tril, triu and where with a scalar fuse into their consumer', () => {
  it('a masked, expanded score row is one map kernel: iotas and comparisons inline, the scalar a literal', () => {
    const kp = compileChecked(`program @p
input %x : f32[3,4]
input %c : bool[3,4]
%t = tril(%x) {diagonal = 1} : f32[3,4]
%u = triu(%t) {diagonal = -1} : f32[3,4]
%z = constant() {shape = [], value = [-2.5]} : f32[]
%w = where(%c, %u, %z) : f32[3,4]
%e = broadcast_to(%w) {shape = [2, -1, -1]} : f32[2,3,4]
%y = exp(%e) : f32[2,3,4]
output y = %y
`);
    expect(kinds(kp)).toEqual(['map']);
    expect(printKernelProgram(kp)).toMatch(/select\(%c\[.*\], select\(ge\(sub\(cast<i32>\(a2\), cast<i32>\(a1\)\), -1:i32\).*, -2\.5\)/);
  });
});

