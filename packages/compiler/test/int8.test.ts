/**
 * compile(program, { quantize: 'int8' }) (issue 16): the quantize pass
 * rewrites the weight matmuls only; the quantized program prints and parses
 * back; every CPU configuration (the kernel evaluator, the JS target, wasm
 * with relaxed SIMD or without, on 1 and 2 threads, with tiny blocks)
 * computes what the interpreter computes for it, epilogue fused, for each
 * choice of bounds (which operand is the 7-bit one), and so does WebGPU
 * with packed dot products (dot4I8Packed) and with plain i32 products;
 * weights are prepared again when bound again.
 */
import { compileWasm, createCpuBackend, enableRelaxedSimd } from '@tessera/backend-cpu';
import { type WebgpuBackend, createWebgpuBackend } from '@tessera/backend-webgpu';
import { describeMismatch } from '@tessera/harness';
import { type Program, ProgramBuilder, TesseraError, parseProgram, printProgram } from '@tessera/ir';
import type { Backend } from '@tessera/kernel';
import { compileProgram, quantizeInt8 } from '@tessera/passes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compile } from '../src/index.ts';

enableRelaxedSimd();
const f32 = (...shape: number[]) => ({ dtype: 'f32' as const, shape });

/** y = gelu(x @ W^T + bias) + x @ V (a residual through a second weight), and an attention-like x @ x^T that stays f32. */
function block(b: number, m: number, k: number, n: number): Program {
  const pb = new ProgramBuilder('block');
  const x = pb.input('x', f32(b, m, k));
  const w = pb.param('fc.weight', f32(n, k));
  const bias = pb.param('fc.bias', f32(n));
  const v = pb.param('v', f32(k, n));
  const h = pb.emit('gelu', [pb.emit('add', [pb.emit('matmul', [x, pb.emit('transpose', [w], { perm: [1, 0] })]), bias])]);
  pb.output('y', pb.emit('add', [h, pb.emit('matmul', [x, v])]));
  pb.output('scores', pb.emit('matmul', [x, pb.emit('transpose', [x], { perm: [0, 2, 1] })]));
  return pb.build();
}

function seeded(n: number, seed: number): Float32Array {
  let s = seed;
  return Float32Array.from({ length: n }, () => {
    s = (s * 1103515245 + 12345) % 2147483648;
    return (s / 2147483648) * 2 - 1;
  });
}

let gpu: WebgpuBackend | undefined;
beforeAll(async () => {
  gpu = await createWebgpuBackend();
});
afterAll(() => gpu?.destroy());

const wasm = (name: string, options: Parameters<typeof compileWasm>[1]): Backend => ({ name, limits: { maxBuffersPerKernel: Infinity }, compile: (p) => compileWasm(p, options) });
const webgpu = (int8: 'packed' | 'i32'): Backend => ({ name: `webgpu ${int8}`, limits: gpu!.limits, compile: (p) => gpu!.compile(p, { int8 }) });
const CONFIGS: readonly { name: string; backend: () => 'eval' | Backend }[] = [
  { name: 'eval', backend: () => 'eval' },
  { name: 'cpu js', backend: () => createCpuBackend({ target: 'js' }) },
  { name: 'wasm, 1 thread', backend: () => wasm('wasm', { threads: 1 }) },
  { name: 'wasm, 2 threads, every kernel split', backend: () => wasm('wasm', { threads: 2, minParallelWork: 0 }) },
  { name: 'wasm, 2 threads, small blocks', backend: () => wasm('wasm', { threads: 2, minParallelWork: 0, blocking: { mc: 8, kc: 20, nc: 16, packedA: 0 } }) },
  { name: 'wasm without relaxed SIMD (i16 dot products)', backend: () => wasm('wasm', { threads: 1, relaxedSimd: false }) },
  { name: 'webgpu, dot4I8Packed', backend: () => webgpu('packed') },
  { name: 'webgpu, i32 products', backend: () => webgpu('i32') },
];

describe('the quantize pass', () => {
  it('rewrites the matmuls whose right operand is a weight, nothing else; the result prints and parses back', () => {
    const q = quantizeInt8(block(2, 5, 37, 11));
    const ops = q.nodes.filter((n) => n.op === 'matmul' || n.op === 'matmul_int8').map((n) => `${n.op} ${n.attrs.activation_max ?? ''}/${n.attrs.weight_max ?? ''}`);
    expect(ops).toEqual(['matmul_int8 127/63', 'matmul_int8 127/63', 'matmul /']);
    const text = printProgram(q);
    expect(printProgram(parseProgram(text))).toBe(text);
  });

  it('refuses bounds outside 1..127, and compile refuses an unknown mode', async () => {
    expect(() => quantizeInt8(block(1, 2, 3, 4), { weightMax: 128 })).toThrow(TesseraError);
    await expect(compile(block(1, 2, 3, 4), { backend: 'interp', quantize: 'int4' as never })).rejects.toThrow(/unknown quantization 'int4'/);
  });
});

describe('every CPU configuration computes the int8 program as the interpreter does', () => {
  const shapes: readonly [number, number, number, number][] = [
    [2, 5, 37, 11],
    [1, 13, 300, 77],
    [3, 4, 16, 8],
  ];
  const bounds: readonly [number, number][] = [
    [127, 63],
    [63, 127],
    [127, 127],
  ];
  for (const [b, m, k, n] of shapes) {
    for (const [activationMax, weightMax] of bounds) {
      it(`[${b},${m},${k}] x [${k},${n}], activations to ${activationMax}, weights to ${weightMax}`, async () => {
        const program = quantizeInt8(block(b, m, k, n), { activationMax, weightMax });
        // The matmul, its bias, GELU and the residual's matmul: two int8 kernels, the epilogue fused into the second.
        const kernels = compileProgram(program).kernels.kernels.filter((kk) => kk.kind === 'matmul' && kk.quant);
        expect(kernels.length).toBe(2);
        const inputs = { x: seeded(b * m * k, 1), 'fc.weight': seeded(n * k, 2), 'fc.bias': seeded(n, 3), v: seeded(k * n, 4) };
        const want = await (await compile(program, { backend: 'interp' })).run(inputs);
        for (const c of CONFIGS) {
          using exe = await compile(program, { backend: c.backend() });
          const got = await exe.run(inputs);
          for (const out of ['y', 'scores']) {
            expect(describeMismatch(got[out]!.data, want[out]!.data, { reductionLength: k }, { what: `${c.name}: ${out}` })).toBeUndefined();
          }
        }
      });
    }
  }

  it('two int8 matmuls of one program with different 7-bit operands (activations in one, weights in the other) each get their own micro-kernel', async () => {
    // Found by the random programs: kernels with the same row length shared one micro-kernel, whose operand order is the layout's.
    const program = parseProgram(`program @mixed
input %x : f32[3,16]
param %w1 : f32[16,8]
param %w2 : f32[16,8]
%0 = matmul_int8(%x, %w1) {activation_max = 63, weight_max = 127} : f32[3,8]
%1 = matmul_int8(%x, %w2) {activation_max = 63, weight_max = 63} : f32[3,8]
%2 = matmul_int8(%x, %w1) {activation_max = 127, weight_max = 63} : f32[3,8]
output a = %0
output b = %1
output c = %2
`);
    const inputs = { x: seeded(48, 8), w1: seeded(128, 9), w2: seeded(128, 10) };
    const want = await (await compile(program, { backend: 'interp' })).run(inputs);
    for (const c of CONFIGS) {
      using exe = await compile(program, { backend: c.backend() });
      const got = await exe.run(inputs);
      for (const out of ['a', 'b', 'c']) expect(describeMismatch(got[out]!.data, want[out]!.data, { reductionLength: 16 }, { what: `${c.name}: ${out}` })).toBeUndefined();
    }
  });

  it('zero rows give 0 and rows with NaN give NaN on every configuration', async () => {
    const program = quantizeInt8(block(1, 3, 20, 9));
    const x = seeded(60, 5);
    x.fill(0, 0, 20);
    x[25] = NaN;
    const inputs = { x, 'fc.weight': seeded(180, 6), 'fc.bias': new Float32Array(9), v: seeded(180, 7) };
    const want = (await (await compile(program, { backend: 'interp' })).run(inputs)).y.data;
    expect(want.slice(9, 18).every(Number.isNaN)).toBe(true);
    for (const c of CONFIGS) {
      using exe = await compile(program, { backend: c.backend() });
      const got = (await exe.run(inputs)).y.data;
      expect(describeMismatch(got, want, { reductionLength: 20 }, { what: c.name })).toBeUndefined();
    }
  });
});

describe('int8 weights are prepared when bound', () => {
  it('binding other weights (setInputs, or with a run) gives their results; runs without rebinding keep them', async () => {
    const program = block(1, 6, 40, 12);
    const x = seeded(240, 1);
    const w1 = { 'fc.weight': seeded(480, 2), 'fc.bias': seeded(12, 3), v: seeded(480, 4) };
    const w2 = { 'fc.weight': seeded(480, 5), 'fc.bias': seeded(12, 6), v: seeded(480, 7) };
    const ref = async (w: typeof w1) => (await (await compile(program, { backend: 'interp', quantize: 'int8' })).run({ x, ...w })).y.data;
    const [want1, want2] = [await ref(w1), await ref(w2)];
    for (const threads of [1, 2]) {
      using exe = await compile(program, { backend: createCpuBackend({ target: 'wasm', threads }), quantize: 'int8', weights: w1 });
      const check = async (want: ArrayLike<number>, what: string, extra = {}) => expect(describeMismatch((await exe.run({ x, ...extra })).y.data, want, { reductionLength: 40 }, { what })).toBeUndefined();
      await check(want1, 'first weights');
      await check(want1, 'first weights, again');
      exe.setInputs!(w2);
      await check(want2, 'after setInputs');
      await check(want1, 'first weights passed with a run', w1);
    }
  });
});

describe('WebGPU', () => {
  it("sums with dot4I8Packed where WGSL has packed_4x8_integer_dot_product (Dawn here), i32 products when forced", () => {
    const kernels = compileProgram(quantizeInt8(block(1, 4, 8, 4))).kernels;
    const variants = (int8?: 'i32') => gpu!.emit(kernels, int8 ? { int8 } : {}).filter((s) => s.variant.startsWith('matmul_int8')).map((s) => s.variant);
    expect(gpu!.adapter.packedDot4).toBe(true);
    expect(variants()).toEqual(['matmul_int8:packed', 'matmul_int8:packed']);
    expect(gpu!.emit(kernels).some((s) => s.wgsl.includes('dot4I8Packed('))).toBe(true);
    expect(variants('i32')).toEqual(['matmul_int8:i32', 'matmul_int8:i32']);
  });
});
