import { afterAll, describe, expect, it } from 'vitest';
import { type Program, ProgramBuilder, type TensorType, tensorType } from '@tessera/ir';
import { lowerToKernels } from '@tessera/passes';
import { EDGE_CASES, EDGE_MATMUL_SHAPES, type EdgeCase, inputsFor, matmulProgram } from '@tessera/harness';
import { type BufferDecl, E, type KernelProgram, type MatmulKernel, type TensorData, assertKernelProgram, evaluateKernelProgram } from '@tessera/kernel';
import { MATMUL_VARIANTS, type VariantOverrides } from '../src/index.ts';
import { checkProgram, releaseBackend, runKernels, testBackend } from './support.ts';

const f32 = (...shape: number[]): TensorType => tensorType('f32', shape);

afterAll(releaseBackend);

async function expectMatchesInterpreter(p: Program, inputs: Record<string, TensorData>, reductionLength = 1, variants = {}): Promise<void> {
  expect(await checkProgram(p, inputs, variants, reductionLength)).toBeUndefined();
}

describe('WebGPU backend edge cases of its own (its variants, dispatch limits, profiles)', () => {
  const shapes = EDGE_MATMUL_SHAPES;
  for (const variant of MATMUL_VARIANTS) {
    it(`matmul (${variant}) on extents that are not multiples of its tile: ${shapes.map(([a, b]) => `${a.join('x')}@${b.join('x')}`).join(', ')}`, async () => {
      for (const [a, b] of shapes) {
        const p = matmulProgram(a, b);
        await expectMatchesInterpreter(p, inputsFor(p, 1), a.at(-1), { matmul: variant });
      }
    });
  }

  it('tiled matmul with other blocks (the tuning knob): 8x8 per invocation in 8x8 and 16x16 workgroups, 4x8 in 16x8, 8x4 in 8x16', async () => {
    const tilings = [
      { tm: 8, tn: 8, wx: 8, wy: 8 },
      { tm: 8, tn: 8, wx: 16, wy: 16 },
      { tm: 4, tn: 8, wx: 16, wy: 8 },
      { tm: 8, tn: 4, wx: 8, wy: 16 },
    ];
    for (const tiledTiling of tilings) {
      for (const [a, b] of [...shapes.slice(-3), [[150, 40], [40, 140]] as [number[], number[]]]) {
        const p = matmulProgram(a, b);
        await expectMatchesInterpreter(p, inputsFor(p, 5), a.at(-1), { matmul: 'tiled', tiledTiling });
      }
    }
  });

  it.each(MATMUL_VARIANTS)('matmul (%s) reading transposed operands (a Linear layer weight [out, in], A^T) through fused views', async (variant) => {
    const pb = new ProgramBuilder('mmT');
    const a = pb.emit('transpose', [pb.input('a', f32(37, 70))], { perm: [1, 0] });
    const w = pb.emit('transpose', [pb.param('w', f32(45, 37))], { perm: [1, 0] });
    pb.output('y', pb.emit('matmul', [a, w]));
    const p = pb.build();
    await expectMatchesInterpreter(p, inputsFor(p, 4), 37, { matmul: variant });
  });

  it('split-K matmul applies the fused epilogue (bias, GELU, residual) once, after adding the partial sums', async () => {
    const pb = new ProgramBuilder('linear');
    const w = pb.emit('transpose', [pb.param('w', f32(70, 300))], { perm: [1, 0] });
    const y = pb.emit('add', [pb.emit('matmul', [pb.input('x', f32(37, 300)), w]), pb.param('b', f32(70))]);
    pb.output('y', pb.emit('add', [pb.emit('gelu', [y]), pb.input('r', f32(37, 70))]));
    const p = pb.build();
    const shaders = (await testBackend()).emit(lowerToKernels(p), { matmul: 'splitk' });
    expect(shaders.map((sh) => sh.variant).join()).toMatch(/matmul:splitk (\d+) splits/);
    await expectMatchesInterpreter(p, inputsFor(p, 6), 300, { matmul: 'splitk' });
  });

  it('a profile run reports a gather index out of range too, and the next run works (the shared gather case covers run)', async () => {
    const b = new ProgramBuilder('g');
    b.output('y', b.emit('gather', [b.input('t', f32(10, 8)), b.input('i', tensorType('i32', [4000]))]));
    const exe = await (await testBackend()).compile(lowerToKernels(b.build()));
    const t = Float32Array.from({ length: 80 }, (_, k) => k);
    const bad = Int32Array.from({ length: 4000 }, (_, k) => (k === 2500 ? -3 : k > 2600 && k % 7 === 0 ? 99 : k % 10));
    await expect(exe.profile({ t, i: bad })).rejects.toThrow('index -3 at position 2500');
    const out = (await exe.run({ t, i: Int32Array.from({ length: 4000 }, (_, k) => k % 10) })).y!;
    expect(Array.from(out.data.subarray(2500 * 8, 2501 * 8))).toEqual(Array.from(t.subarray(0, 8)));
    exe.dispose();
  });

  it.each(MATMUL_VARIANTS)('reports a gather out of range inside a matmul prologue (%s variant, its packing prepass included)', async (variant) => {
    // A hand-built matmul whose A rows are picked by idx: the gather runs in the A hook (the texture variant's pack prepass).
    const [m, n, k] = [6, 8, 12];
    const buffers: BufferDecl[] = [
      { name: 'a', dtype: 'f32', shape: [4, k], size: 4 * k, role: 'input' },
      { name: 'b', dtype: 'f32', shape: [k, n], size: k * n, role: 'input' },
      { name: 'idx', dtype: 'i32', shape: [m], size: m, role: 'input' },
      { name: 'c', dtype: 'f32', shape: [m, n], size: m * n, role: 'output' },
    ];
    const position = { offset: 0, strides: [1, 0, 0] };
    const readA = E.load('f32', 0, { offset: 0, strides: [0, 0, 1] }, { index: E.load('i32', 2, position), stride: k, extent: 4, site: { node: 'rows', operands: ['a', 'idx'], position, positions: m } });
    const kernel: MatmulKernel = { kind: 'matmul', name: 'k0_matmul', batch: [], m, n, k, readA, readB: E.load('f32', 1, { offset: 0, strides: [0, 1, n] }), stores: [{ buffer: 3, map: { offset: 0, strides: [n, 1, 0] }, value: E.ref('f32', 'acc') }] };
    const kp: KernelProgram = { name: 'mm', buffers, kernels: [kernel], inputs: [0, 1, 2].map((buffer) => ({ name: buffers[buffer]!.name, buffer })), outputs: [{ name: 'c', buffer: 3 }] };
    assertKernelProgram(kp);
    const inputs = { a: Float32Array.from({ length: 4 * k }, (_, j) => j % 5), b: Float32Array.from({ length: k * n }, (_, j) => j % 3) };
    await expect(runKernels(kp, { ...inputs, idx: Int32Array.from([0, 3, 4, 1, 7, 2]) }, { matmul: variant })).rejects.toThrow('while evaluating %rows = gather(%a, %idx): index 4 at position 2 of the indices is out of range [0, 4)');
    const good = await runKernels(kp, { ...inputs, idx: Int32Array.from([0, 3, 2, 1, 3, 2]) }, { matmul: variant });
    expect(Array.from(good.c!)).toEqual(Array.from(evaluateKernelProgram(kp, { ...inputs, idx: Int32Array.from([0, 3, 2, 1, 3, 2]) }).c!));
  });

  it('splits dispatches past 65535 workgroups over two dimensions (map of 4.3M elements; 70000 one-workgroup rows)', async () => {
    const b = new ProgramBuilder('big');
    b.output('y', b.emit('add', [b.input('x', f32(2100, 2048)), b.emit('constant', [], { shape: [], value: [1] })]));
    const p = b.build();
    const kp = lowerToKernels(p);
    const be = await testBackend();
    expect(be.emit(kp).some((s) => s.dispatch[1] > 1)).toBe(true);
    const x = Float32Array.from({ length: 2100 * 2048 }, (_, k) => k % 1000);
    const y = (await runKernels(kp, { x })).y!;
    expect(y.length).toBe(x.length);
    let bad = 0;
    for (let k = 0; k < x.length; k++) if (y[k] !== x[k]! + 1) bad++;
    expect(bad).toBe(0);

    const r = new ProgramBuilder('rows');
    r.output('s', r.emit('reduce_sum', [r.input('x', f32(70000, 3))], { axes: [1] }));
    const rp = r.build();
    const rk = lowerToKernels(rp);
    expect(be.emit(rk, { reduce: 'workgroup' })[0]!.dispatch[1]).toBeGreaterThan(1);
    await expectMatchesInterpreter(rp, inputsFor(rp, 3), 3, { reduce: 'workgroup' });
  });
});

/** The shared table with the adapter's default variants, then the reduction cases under each reduction algorithm forced. */
const CONFIGURATIONS: readonly { name: string; variants: VariantOverrides; only?: (c: EdgeCase) => boolean }[] = [
  { name: 'default variants', variants: {} },
  { name: 'one row per invocation (reduce: thread)', variants: { reduce: 'thread' }, only: (c) => c.reduces === true },
  { name: 'one workgroup per row (reduce: workgroup)', variants: { reduce: 'workgroup' }, only: (c) => c.reduces === true },
];

for (const config of CONFIGURATIONS) {
  describe(`WebGPU, ${config.name}: the edge cases every backend shares (@tessera/harness EDGE_CASES)`, () => {
    for (const c of EDGE_CASES.filter(config.only ?? (() => true))) {
      it(c.name, async () => {
        const backend = await testBackend();
        expect(await c.check(async (p) => backend.compile(lowerToKernels(p), config.variants))).toEqual([]);
      });
    }
  });
}
