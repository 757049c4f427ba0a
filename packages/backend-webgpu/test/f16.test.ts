import { afterAll, describe, expect, it } from 'vitest';
import { type Program, ProgramBuilder, interpret, tensorType, toHost } from '@tessera/ir';
import { lowerToKernels } from '@tessera/passes';
import { EDGE_MATMUL_SHAPES, compareClose, inputsFor, matmulProgram } from '@tessera/harness';
import { DEFAULT_TARGET, emitProgramShaders, webgpuBackend } from '../src/index.ts';
import { releaseBackend, runKernels, testBackend } from './support.ts';

afterAll(releaseBackend);

const f32 = (...shape: number[]) => tensorType('f32', shape);

/** y = gelu(x @ w^T + b) + r: a Linear layer with its epilogue fused (K = 300, so split-K splits it). */
function linearProgram(): Program {
  const pb = new ProgramBuilder('linear');
  const w = pb.emit('transpose', [pb.param('w', f32(70, 300))], { perm: [1, 0] });
  const y = pb.emit('add', [pb.emit('matmul', [pb.input('x', f32(37, 300)), w]), pb.param('b', f32(70))]);
  pb.output('y', pb.emit('add', [pb.emit('gelu', [y]), pb.input('r', f32(37, 70))]));
  return pb.build();
}

const programs: [string, Program, number][] = [
  ...EDGE_MATMUL_SHAPES.slice(-5).map(([a, b]): [string, Program, number] => [`${a.join('x')}@${b.join('x')}`, matmulProgram(a, b), a.at(-1)!]),
  ['linear + bias + gelu + residual', linearProgram(), 300],
];

/** The worst error of the GPU matmuls at `precision` against the interpreter, as a fraction of the f16 and f32 tolerances. */
async function worst(p: Program, k: number, matmul: 'tiled' | 'splitk', precision: 'f16' | 'f16-emulated'): Promise<{ f16: number; f32: number }> {
  const inputs = inputsFor(p, 3);
  const actual = (await runKernels(lowerToKernels(p), inputs, { matmul, precision })).y!;
  const expected = toHost(interpret(p, inputs).y!);
  const fraction = (compute: 'f32' | 'f16') => {
    const tol = compareClose(actual, expected, { reductionLength: k, compute }).tolerance;
    let w = 0;
    for (let i = 0; i < expected.length; i++) w = Math.max(w, Math.abs(actual[i]! - expected[i]!) / (tol.atol + tol.rtol * Math.abs(expected[i]!)));
    return w;
  };
  return { f16: fraction('f16'), f32: fraction('f32') };
}

describe("WebGPU precision 'f16' (tiled and split-K matmuls)", () => {
  it('writes f16 tiles and arithmetic behind `enable f16;`, and their f32 emulation with quantizeToF16 rounding', () => {
    const kp = lowerToKernels(linearProgram());
    for (const matmul of ['tiled', 'splitk'] as const) {
      const half = emitProgramShaders(kp, { ...DEFAULT_TARGET, matmul, precision: 'f16' }).flatMap((s) => [s, ...(s.prepasses ?? [])]);
      const product = half.find((s) => s.wgsl.includes('tile_a'))!;
      expect(product.wgsl).toMatch(/^\/\/ kernel .*\nenable f16;\n/);
      expect(product.wgsl).toContain('alias h = f16;');
      expect(product.wgsl).toContain('var<workgroup> tile_a: array<vec4<h>,');
      expect(product.wgsl).toMatch(/s0_0 \+= x0\[0\] \* y0;/);
      const emulated = emitProgramShaders(kp, { ...DEFAULT_TARGET, matmul, precision: 'f16-emulated' }).map((s) => s.wgsl + (s.prepasses ?? []).map((q) => q.wgsl).join('')).join('\n');
      expect(emulated).not.toContain('enable f16;');
      expect(emulated).toContain('quantizeToF16');
      expect(emitProgramShaders(kp, { ...DEFAULT_TARGET, matmul }).map((s) => s.wgsl).join('\n')).not.toMatch(/f16|quantizeToF16/);
    }
  });

  it('f16-emulated tiled and split-K matmuls match the interpreter under the f16 tolerance, and round like f16 (outside the f32 tolerance)', async () => {
    for (const matmul of ['tiled', 'splitk'] as const) {
      let beyondF32 = 0;
      for (const [name, p, k] of programs) {
        const w = await worst(p, k, matmul, 'f16-emulated');
        expect(w.f16, `${matmul} ${name}: worst error ${w.f16.toFixed(2)} of the f16 tolerance`).toBeLessThanOrEqual(1);
        beyondF32 = Math.max(beyondF32, w.f32);
      }
      // f16 has 11 bits of mantissa: some result must be further off than f32's tolerance allows, or nothing was rounded.
      expect(beyondF32).toBeGreaterThan(1);
    }
  });

  it("precision 'f16' runs where the adapter has shader-f16, and is refused with a clear error where it has not", async () => {
    const be = await testBackend();
    const p = linearProgram();
    if (be.adapter.f16) {
      for (const matmul of ['tiled', 'splitk'] as const) expect((await worst(p, 300, matmul, 'f16')).f16).toBeLessThanOrEqual(1);
    } else {
      await expect(be.compile(lowerToKernels(p), { matmul: 'tiled', precision: 'f16' })).rejects.toThrow(/precision 'f16' needs the adapter's shader-f16 feature, which .* does not have/);
      // compile(p, { backend: 'webgpu', precision: 'f16' }) reaches the same check through the registered backend.
      await expect(webgpuBackend.compile(lowerToKernels(p), { precision: 'f16' })).rejects.toThrow(/needs the adapter's shader-f16 feature/);
    }
  });
});
