import { describe, expect, it } from 'vitest';
import { type OpName, ProgramBuilder, tensorType } from '@tessera/ir';
import { E, type KernelProgram, foldConst } from '@tessera/kernel';
import { lowerToKernels } from '@tessera/passes';
import { DEFAULT_TARGET, MATMUL_TILINGS, WgslLimitError, chooseAttentionVariant, chooseMatmulVariant, splitKFactor, chooseReduceVariant, emitProgramShaders, gridFor, optionsFromEnv, type WgslTarget } from '../src/index.ts';
import { wgslConst } from '../src/wgsl/scalar.ts';

const LLVMPIPE: WgslTarget = { ...DEFAULT_TARGET, cpu: true, maxStorageBuffersPerShaderStage: 16, maxInvocationsPerWorkgroup: 1024 };

function unaryProgram(op: OpName): KernelProgram {
  const b = new ProgramBuilder(op);
  b.output('y', b.emit(op, [b.input('x', tensorType('f32', [5]))]));
  return lowerToKernels(b.build());
}

describe('WGSL code generation (no device)', () => {
  it('emits a helper only when a kernel uses it, dependencies first, once', () => {
    const [exp] = emitProgramShaders(unaryProgram('exp'), LLVMPIPE);
    expect(exp!.wgsl).not.toMatch(/fn tanh_f32|fn is_nan|fn max_nan|zero_u/);
    const [tanh] = emitProgramShaders(unaryProgram('tanh'), LLVMPIPE);
    expect(tanh!.wgsl.match(/fn tanh_f32/g)).toHaveLength(1);
    expect(tanh!.wgsl.match(/fn is_nan/g)).toHaveLength(1);
    const b = new ProgramBuilder('m');
    const x = b.input('x', tensorType('f32', [4]));
    b.output('y', b.emit('max', [b.emit('max', [x, x]), b.emit('pow', [x, x])]));
    const [k] = emitProgramShaders(lowerToKernels(b.build()), LLVMPIPE);
    const src = k!.wgsl;
    expect(src.match(/fn max_nan/g)).toHaveLength(1);
    expect(src.match(/fn is_nan/g)).toHaveLength(1);
    expect(src.indexOf('fn is_nan')).toBeLessThan(src.indexOf('fn max_nan'));
    expect(src.indexOf('var<private> zero_u')).toBeLessThan(src.indexOf('fn nan_f32'));
  });

  it('computes erf by its registry decomposition (the one erf polynomial), not a helper of its own', () => {
    const [erf] = emitProgramShaders(unaryProgram('erf'), LLVMPIPE);
    expect(erf!.wgsl).not.toMatch(/fn erf/);
    // The rational's last coefficient of P, as an f32 literal.
    expect(erf!.wgsl).toContain(`${Math.fround(0.0160960333262415)}f`);
  });

  it('writes non-finite constants through a run-time zero (WGSL rejects non-finite const-expressions) and subnormals by their bits', () => {
    const used = new Set<string>();
    const use = (h: string) => used.add(h);
    expect(wgslConst('f32', Infinity, use)).toBe('inf_f32()');
    expect(wgslConst('f32', -Infinity, use)).toBe('(-inf_f32())');
    expect(wgslConst('f32', NaN, use)).toBe('nan_f32()');
    expect(wgslConst('f32', 1e39, use)).toBe('inf_f32()');
    expect(wgslConst('f32', 0.1, use)).toBe(`${Math.fround(0.1)}f`);
    expect(wgslConst('f32', 1e-45, use)).toBe('bitcast<f32>(0x1u)');
    expect(wgslConst('f32', -0, use)).toBe('(-0.0f)');
    expect(wgslConst('i32', -2147483648, use)).toBe('i32(-2147483648)');
    expect(wgslConst('i32', -5, use)).toBe('-5i');
    expect([...used].sort()).toEqual(['inf_f32', 'nan_f32']);
  });

  it('folds constant sub-expressions with the interpreter semantics (i32 wraps instead of failing const evaluation)', () => {
    const big = E.const('i32', 2147483647);
    expect(foldConst(E.binary('add', big, E.const('i32', 1)))).toBe(-2147483648);
    expect(foldConst(E.binary('mul', E.const('i32', 65536), E.const('i32', 65536)))).toBe(0);
    expect(foldConst(E.unary('exp', E.const('f32', 100)))).toBe(Infinity);
    expect(foldConst(E.cast('i32', E.const('f32', NaN)))).toBe(0);
    expect(foldConst(E.binary('add', E.axis(0), E.const('i32', 1)))).toBeUndefined();
  });

  it('splits workgroup grids over y past the per-dimension limit and refuses grids past both', () => {
    expect(gridFor(10, 65535)).toEqual([10, 1, 1]);
    const [x, y] = gridFor(70000, 65535);
    expect(x * y).toBeGreaterThanOrEqual(70000);
    expect(x).toBeLessThanOrEqual(65535);
    expect(y).toBe(2);
    expect(() => gridFor(65535 * 65535 + 1, 65535)).toThrow(WgslLimitError);
  });

  it('refuses a kernel binding more storage buffers than the device allows, naming it', () => {
    const b = new ProgramBuilder('wide');
    const xs = Array.from({ length: 9 }, (_, i) => b.input(`x${i}`, tensorType('f32', [3])));
    b.output('y', xs.reduce((acc, x) => b.emit('add', [acc, x])));
    const kp = lowerToKernels(b.build());
    // Build one map kernel over all nine inputs by hand: lowering emits one kernel per op.
    const wide: KernelProgram = {
      ...kp,
      kernels: [{ kind: 'map', name: 'k_wide', shape: [3], stores: [{ buffer: kp.outputs[0]!.buffer, map: { offset: 0, strides: [1] }, value: kp.inputs.map(({ buffer }) => E.load('f32', buffer, { offset: 0, strides: [1] })).reduce((a, c) => E.binary('add', a, c)) }] }],
    };
    expect(() => emitProgramShaders(wide, DEFAULT_TARGET)).toThrow(/kernel k_wide binds 10 storage buffers, but the device allows 8/);
    expect(emitProgramShaders(wide, LLVMPIPE)[0]!.bindings).toHaveLength(10);
  });

  it('stores bool as u32 (WGSL has no 8-bit storage) and loads it back as a comparison', () => {
    const b = new ProgramBuilder('cmp');
    const x = b.input('x', tensorType('f32', [4]));
    b.output('y', b.emit('lt', [x, x]));
    const [k] = emitProgramShaders(lowerToKernels(b.build()), LLVMPIPE);
    expect(k!.wgsl).toMatch(/array<u32>; \/\/ %\S+ bool\[4\] output/);
    expect(k!.wgsl).toMatch(/select\(0u, 1u, /);
  });

  it('chooses variants by a table over adapter and shape, with overrides first', () => {
    expect(chooseMatmulVariant(197, 3072, 768, LLVMPIPE)).toBe('texture');
    expect(chooseMatmulVariant(197, 3072, 768, LLVMPIPE, false)).toBe('register');
    expect(chooseMatmulVariant(197, 3072, 768, { ...LLVMPIPE, matmul: 'texture' }, false)).toBe('register');
    expect(chooseMatmulVariant(197, 3072, 768, DEFAULT_TARGET)).toBe('tiled');
    expect(chooseMatmulVariant(3, 5, 7, DEFAULT_TARGET)).toBe('naive');
    expect(chooseMatmulVariant(197, 3072, 768, { ...LLVMPIPE, matmul: 'tiled' })).toBe('tiled');
    // ViT-B's (197,3072,768) and (197,768,768) have 48 tiles of 64x64: K is split; (197,768,3072) has 192, batch 32 far more.
    expect(chooseMatmulVariant(197, 768, 3072, DEFAULT_TARGET)).toBe('splitk');
    expect(chooseMatmulVariant(197, 768, 768, DEFAULT_TARGET)).toBe('splitk');
    expect(chooseMatmulVariant(197, 768, 3072, { ...DEFAULT_TARGET, splitK: false })).toBe('tiled');
    expect(chooseMatmulVariant(197, 768, 3072, DEFAULT_TARGET, true, 32)).toBe('tiled');
    expect(chooseMatmulVariant(197, 768, 3072, DEFAULT_TARGET, true, 1, false)).toBe('tiled');
    expect(chooseMatmulVariant(197, 768, 3072, LLVMPIPE)).toBe('texture');
    expect(chooseMatmulVariant(197, 768, 100, DEFAULT_TARGET)).toBe('tiled');
    expect([splitKFactor(197, 768, 3072, 1, MATMUL_TILINGS.tiled, false), splitKFactor(197, 768, 768, 1, MATMUL_TILINGS.tiled, false)]).toEqual([4, 4]);
    expect([splitKFactor(197, 768, 20, 1, MATMUL_TILINGS.tiled, true), splitKFactor(197, 768, 10, 1, MATMUL_TILINGS.tiled, true)]).toEqual([2, 1]);
    const att = { kind: 'attention', tq: 197, tk: 197, d: 64, dv: 64 } as unknown as Parameters<typeof chooseAttentionVariant>[0];
    expect(chooseAttentionVariant(att, LLVMPIPE)).toBe('row');
    expect(chooseAttentionVariant(att, DEFAULT_TARGET)).toBe('workgroup');
    expect(chooseAttentionVariant(att, { ...LLVMPIPE, attention: 'workgroup' })).toBe('workgroup');
    // Scores of 5000 keys do not fit 16 KiB of workgroup memory.
    expect(chooseAttentionVariant({ ...att, tk: 5000 }, DEFAULT_TARGET)).toBe('row');
    expect(chooseReduceVariant(197, 768, LLVMPIPE)).toBe('thread');
    expect(chooseReduceVariant(4, 768, LLVMPIPE)).toBe('workgroup');
    expect(chooseReduceVariant(197, 768, DEFAULT_TARGET)).toBe('workgroup');
    expect(chooseReduceVariant(197, 8, DEFAULT_TARGET)).toBe('thread');
    expect(chooseReduceVariant(197, 768, { ...DEFAULT_TARGET, reduce: 'thread' })).toBe('thread');
  });

  it('scans a row per invocation on CPU adapters and for short rows, a long row per workgroup in chunks on GPUs; a stage reading another stays sequential', () => {
    const cumsum = (shape: number[]) => {
      const b = new ProgramBuilder('cs');
      b.output('y', b.emit('cumsum', [b.input('x', tensorType('f32', shape))], { axis: -1 }));
      return lowerToKernels(b.build());
    };
    expect(emitProgramShaders(cumsum([197, 768]), LLVMPIPE)[0]!.variant).toBe('scan:thread');
    expect(emitProgramShaders(cumsum([2, 768]), LLVMPIPE)[0]!.variant).toBe('scan:thread');
    expect(emitProgramShaders(cumsum([2, 8]), DEFAULT_TARGET)[0]!.variant).toBe('scan:thread');
    expect(emitProgramShaders(cumsum([2, 768]), { ...LLVMPIPE, reduce: 'workgroup' })[0]!.variant).toBe('scan:workgroup');
    const long = emitProgramShaders(cumsum([2, 768]), DEFAULT_TARGET)[0]!;
    expect(long.variant).toBe('scan:workgroup');
    expect(long.workgroupSize).toBe(256);
    // 768 elements over 256 invocations: chunks of 3; the chunk totals are scanned in workgroup memory.
    expect(long.wgsl).toMatch(/let c0 = i32\(lid\) \* 3i;/);
    expect(long.wgsl).toMatch(/var<workgroup> scan0: array<f32, 256>;/);
    // A hand-built scan whose second stage reads the first's running value.
    const kp = cumsum([2, 768]);
    const k = kp.kernels[0]! as Extract<KernelProgram['kernels'][number], { kind: 'reduce' }>;
    const x = k.stages[0]!.value;
    const chained = { ...k, stages: [k.stages[0]!, { name: 'sq', combiner: 'sum' as const, dtype: 'f32' as const, value: E.binary('mul', x, E.ref('f32', 'sum')) }] };
    expect(emitProgramShaders({ ...kp, kernels: [chained] }, DEFAULT_TARGET)[0]!.variant).toBe('scan:thread');
  });

  it('reads aligned plain matmul operands through vec4 views, and others through the scalar hooks', () => {
    const mm = (a: number[], b: number[]) => {
      const pb = new ProgramBuilder('mm');
      pb.output('y', pb.emit('matmul', [pb.input('a', tensorType('f32', a)), pb.input('b', tensorType('f32', b))]));
      return emitProgramShaders(lowerToKernels(pb.build()), { ...LLVMPIPE, matmul: 'register' })[0]!;
    };
    const aligned = mm([197, 768], [768, 3072]);
    expect(aligned.variant).toBe('matmul:register 16x16/64x1 vec4 loads of b0, b1');
    expect(aligned.bindings.filter((b) => 'vec4' in b && b.vec4)).toEqual([{ buffer: 0, access: 'read', vec4: true }, { buffer: 1, access: 'read', vec4: true }]);
    expect(aligned.wgsl).toMatch(/var<storage, read> b1_v4: array<vec4<f32>>/);
    const odd = mm([33, 38], [38, 18]);
    expect(odd.variant).toBe('matmul:register 4x8/8x1');
    expect(odd.wgsl).toMatch(/fn read_b4\(.*\) -> vec4<f32> \{ return vec4<f32>\(read_b\(/);
  });

  it('packs the texture matmul operands in prepasses (k padded to 4, the weight pack only when parameters change) and falls back past the texture limit', () => {
    const pb = new ProgramBuilder('mm');
    const x = pb.input('x', tensorType('f32', [2, 5, 6]));
    const w = pb.param('w', tensorType('f32', [6, 9]));
    pb.output('y', pb.emit('add', [pb.emit('matmul', [x, w]), pb.input('r', tensorType('f32', [2, 5, 9]))]));
    const kp = lowerToKernels(pb.build());
    const [k] = emitProgramShaders(kp, { ...LLVMPIPE, matmul: 'texture' });
    expect(k!.variant).toMatch(/^matmul:texture /);
    // A: ceil(6/4) = 2 texels per row, 2 batches x 5 rows; B: ceil(9/4) = 3 texels per row, 8 padded rows per batch.
    expect(k!.textures?.map((t) => [t.width, t.height, t.shared])).toEqual([
      [2, 10, true],
      [3, 16, false],
    ]);
    expect(k!.prepasses?.map((p) => p.paramsOnly)).toEqual([false, true]);
    expect(k!.prepasses![0]!.wgsl).toMatch(/var tex0: texture_storage_2d<rgba32float, write>/);
    expect(k!.wgsl).toMatch(/var tex1: texture_2d<f32>/);
    expect(k!.wgsl).toMatch(/textureLoad\(tex0, /);
    // The residual add stays in the epilogue.
    expect(k!.wgsl).toMatch(/fn write_c\(/);
    const [small] = emitProgramShaders(kp, { ...LLVMPIPE, matmul: 'texture', maxTextureDimension2D: 8 });
    expect(small!.variant).toMatch(/^matmul:register /);
  });

  it('reads options from TESSERA_WEBGPU_* variables and rejects unknown values', () => {
    expect(optionsFromEnv({ TESSERA_WEBGPU_ADAPTER: 'opengles', TESSERA_WEBGPU_MATMUL: 'tiled', TESSERA_WEBGPU_TIMEOUT_MS: '500' })).toEqual({ adapter: 'opengles', matmul: 'tiled', timeoutMs: 500 });
    expect(optionsFromEnv({})).toEqual({});
    expect(() => optionsFromEnv({ TESSERA_WEBGPU_ADAPTER: 'metal' })).toThrow(/TESSERA_WEBGPU_ADAPTER=metal is not one of auto, default, opengles, browser/);
    expect(() => optionsFromEnv({ TESSERA_WEBGPU_TIMEOUT_MS: 'soon' })).toThrow(/TESSERA_WEBGPU_TIMEOUT_MS=soon/);
  });
});
