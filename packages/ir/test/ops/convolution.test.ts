import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { OpTypeError, decomposeProgram, verify } from '../../src/index.ts';
import { type Arg, RUNS, arg, argArb, expectClose, expectExact, inputsOf, magnitude, runOp, runProgram, singleOpProgram } from './harness.ts';
import { naiveConv2d } from './naive.ts';

type Pair = [number, number];

/** A random convolution: batch, channels, groups (1, some, or depthwise), kernel, stride, padding, dilation, an image the kernel fits. */
const convCase = fc
  .record({
    n: fc.integer({ min: 1, max: 2 }),
    groupKind: fc.constantFrom('one', 'some', 'depthwise'),
    cg: fc.integer({ min: 1, max: 3 }),
    og: fc.integer({ min: 1, max: 3 }),
    k: fc.tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 })),
    stride: fc.tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 })),
    padding: fc.tuple(fc.integer({ min: 0, max: 2 }), fc.integer({ min: 0, max: 2 })),
    dilation: fc.tuple(fc.integer({ min: 1, max: 2 }), fc.integer({ min: 1, max: 2 })),
    hw: fc.tuple(fc.integer({ min: 1, max: 7 }), fc.integer({ min: 1, max: 7 })),
    bias: fc.boolean(),
  })
  .filter(({ k, padding, dilation, hw }) => [0, 1].every((a) => dilation[a]! * (k[a]! - 1) + 1 <= hw[a]! + 2 * padding[a]!))
  .chain((c) => {
    const groups = c.groupKind === 'one' ? 1 : c.groupKind === 'some' ? 2 : 3;
    const cg = c.groupKind === 'depthwise' ? 1 : c.cg;
    const [channels, out] = [cg * groups, c.og * groups];
    const attrs = { stride: c.stride as Pair, padding: c.padding as Pair, dilation: c.dilation as Pair, groups };
    return fc.tuple(
      argArb('f32', [c.n, channels, ...c.hw]),
      argArb('f32', [out, cg, ...c.k]),
      c.bias ? argArb('f32', [out]).map((b): Arg | undefined => b) : fc.constant(undefined),
      fc.constant(attrs),
    );
  });

describe('conv2d', () => {
  it('against im2col + matmul: random geometry, groups 1, 2 and depthwise, with and without bias', () => {
    fc.assert(
      fc.property(convCase, ([x, w, b, attrs]) => {
        const y = runOp('conv2d', b ? [x, w, b] : [x, w], attrs);
        const want = naiveConv2d(x, w, b, attrs);
        expect(y.shape).toEqual(want.shape);
        expectClose(y.data, want.data, 'conv2d', 1e-12, magnitude(x.data) * magnitude(w.data) * w.data.length + magnitude(b?.data ?? []));
      }),
      { numRuns: RUNS.medium },
    );
  });

  it('composite == decomposition (padding, strided slices, grouped matmuls or depthwise products)', () => {
    fc.assert(
      fc.property(convCase, ([x, w, b, attrs]) => {
        const args = b ? [x, w, b] : [x, w];
        const p = singleOpProgram('conv2d', args, attrs);
        const d = decomposeProgram(p);
        expect(verify(d)).toEqual([]);
        expect(d.nodes.map((n) => n.op)).not.toContain('conv2d');
        const inputs = inputsOf(args);
        expectClose(runProgram(d, inputs).data, runProgram(p, inputs).data, 'decomposition', 1e-12, magnitude(x.data) * magnitude(w.data) * w.data.length + 8);
      }),
      { numRuns: RUNS.medium },
    );
  });

  it("adds the bias after the window's sum, as the decomposition and every kernel's epilogue do", () => {
    // Windows of products +-2^60 cancel exactly; a bias of -1 or 1 is far below their ulp even in float64,
    // so added first it vanishes (0) and added last it stays: log then gives NaN or 0, not -inf (found by
    // the random programs: the kernel evaluator's NaN against the interpreter's -inf).
    const big = 2 ** 30;
    const x = arg('f32', [1, 1, 1, 3], [big, -big, big]);
    const w = arg('f32', [2, 1, 1, 2], [big, big, big, big]);
    const b = arg('f32', [2], [-1, 1]);
    expectExact(runOp('conv2d', [x, w, b]).data, [-1, -1, 1, 1]);
    const p = singleOpProgram('conv2d', [x, w, b], {});
    expectExact(runProgram(decomposeProgram(p), inputsOf([x, w, b])).data, [-1, -1, 1, 1]);
  });

  it('hand-computed: a 3x3 image, 2x2 kernel; stride 2 with padding 1; dilation 2', () => {
    const x = arg('f32', [1, 1, 3, 3], [1, 2, 3, 4, 5, 6, 7, 8, 9]);
    const w = arg('f32', [1, 1, 2, 2], [1, 10, 100, 1000]);
    // Each output: x[y][x]*1 + x[y][x+1]*10 + x[y+1][x]*100 + x[y+1][x+1]*1000.
    expectExact(runOp('conv2d', [x, w]).data, [5421, 6532, 8754, 9865]);
    // Padded to 5x5, windows start at image rows and columns -1 and 1: only the in-image taps count
    // (the window at row 1, column -1 sees 4 * 10 + 7 * 1000).
    expectExact(runOp('conv2d', [x, w], { stride: [2, 2], padding: [1, 1] }).data, [1000, 3200, 7040, 9865]);
    // Dilation 2: the taps are the four corners.
    expectExact(runOp('conv2d', [x, w], { dilation: [2, 2] }).data, [1 + 30 + 700 + 9000]);
  });

  it('hand-computed: bias, two groups, and a depthwise multiplier', () => {
    const x = arg('f32', [1, 2, 1, 2], [1, 2, 3, 4]);
    // 1x1 kernels; groups 2: output 0 sees channel 0 only, output 1 channel 1 only.
    const w = arg('f32', [2, 1, 1, 1], [10, 100]);
    expectExact(runOp('conv2d', [x, w, arg('f32', [2], [0.5, -1])], { groups: 2 }).data, [10.5, 20.5, 299, 399]);
    // Depthwise with multiplier 2: outputs 0, 1 read channel 0; outputs 2, 3 read channel 1.
    const w2 = arg('f32', [4, 1, 1, 1], [1, -1, 2, -2]);
    expectExact(runOp('conv2d', [x, w2], { groups: 2 }).data, [1, 2, -1, -2, 6, 8, -6, -8]);
    // groups 1: both outputs sum both channels.
    const w1 = arg('f32', [1, 2, 1, 1], [1, 1]);
    expectExact(runOp('conv2d', [x, w1]).data, [4, 6]);
  });

  // PyTorch pads with zeros and multiplies them too: an infinite weight on a padding tap gives NaN there.
  it('a padding tap is 0 times its weight: NaN with an infinite weight, as in PyTorch', () => {
    const y = runOp('conv2d', [arg('f32', [1, 1, 1, 3], [1, 1, 1]), arg('f32', [1, 1, 1, 2], [-Infinity, -Infinity])], { padding: [1, 0] });
    expectExact(y.data, [NaN, NaN, -Infinity, -Infinity, NaN, NaN]);
  });

  it('errors name what does not fit', () => {
    const x = arg('f32', [1, 4, 3, 3], new Array(36).fill(1));
    const w = (shape: number[]) => arg('f32', shape, new Array(shape.reduce((a, b) => a * b, 1)).fill(1));
    expect(() => runOp('conv2d', [x, w([2, 3, 1, 1])])).toThrow(OpTypeError);
    expect(() => runOp('conv2d', [x, w([2, 3, 1, 1])])).toThrow(/3 input channels per group, expected 4/);
    expect(() => runOp('conv2d', [x, w([3, 2, 1, 1])], { groups: 2 })).toThrow(/groups 2 must divide .* output channels \(3\)/);
    expect(() => runOp('conv2d', [x, w([2, 4, 5, 1])])).toThrow(/kernel spans 5 along the height .* padded input's 3/);
    expect(() => runOp('conv2d', [x, w([2, 4, 3, 3])], { dilation: [2, 1] })).toThrow(/spans 5 along the height \(dilation 2\)/);
    expect(() => runOp('conv2d', [x, w([2, 4, 1, 1])], { stride: [0, 1] })).toThrow(/'stride' is \[0,1\], expected entries >= 1/);
    expect(() => runOp('conv2d', [x, w([2, 4, 1, 1])], { padding: [1] })).toThrow(/'padding' has 1 entries, expected 2/);
    expect(() => runOp('conv2d', [x, w([2, 4, 1, 1]), arg('f32', [3], [0, 0, 0])])).toThrow(/bias has shape \[3\], expected \[2\]/);
    expect(() => runOp('conv2d', [arg('f32', [4, 3, 3], new Array(36).fill(1)), w([2, 4, 1, 1])])).toThrow(/rank 4 \[N, C, H, W\]/);
    expect(() => runOp('conv2d', [arg('i32', [1, 4, 3, 3], new Array(36).fill(1)), w([2, 4, 1, 1])])).toThrow(/input has dtype i32, expected f32/);
  });
});
