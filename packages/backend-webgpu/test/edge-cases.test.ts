import { afterAll, describe, expect, it } from 'vitest';
import { type Program, ProgramBuilder, type TensorType, interpret, tensorType } from '@tessera/ir';
import { lowerToKernels } from '@tessera/passes';
import { broadcastProgram, inputsFor, matmulProgram, specialValuesCase } from '@tessera/harness';
import { type BufferDecl, E, type KernelProgram, type MatmulKernel, type TensorData, assertKernelProgram, evaluateKernelProgram } from '@tessera/kernel';
import { MATMUL_VARIANTS } from '../src/index.ts';
import { checkProgram, releaseBackend, runKernels, testBackend } from './support.ts';

const f32 = (...shape: number[]): TensorType => tensorType('f32', shape);

afterAll(releaseBackend);

async function expectMatchesInterpreter(p: Program, inputs: Record<string, TensorData>, reductionLength = 1, variants = {}): Promise<void> {
  expect(await checkProgram(p, inputs, variants, reductionLength)).toBeUndefined();
}

describe('WebGPU backend edge cases', () => {
  const shapes: [number[], number[]][] = [
    [[197, 7], [7, 3]],
    [[3, 7], [7, 197]],
    [[1, 1], [1, 1]],
    [[5, 9], [9, 1]],
    [[2, 1, 5, 3], [4, 3, 6]],
    [[1, 3, 2], [7, 2, 5]],
    [[13, 300], [300, 11]],
    [[67, 33], [33, 70]],
    // Aligned for the register variant's vec4 loads: partial vec4 columns (n = 20), a K remainder (38), batches.
    [[9, 64], [64, 20]],
    [[33, 38], [38, 16]],
    [[2, 12, 8], [2, 8, 12]],
    // Past REGISTER_BIG_WORK: the register variant's 16x16 blocks, rows and columns not multiples of the tile.
    [[70, 256], [256, 300]],
  ];
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

  it('broadcasts 1-sized and missing dims in binary ops and where (bool input as Uint8Array)', async () => {
    const p = broadcastProgram();
    await expectMatchesInterpreter(p, inputsFor(p, 2));
  });

  it('propagates NaN and infinities as the interpreter does (max/min, exp, log, sqrt, reductions, softmax, casts, compares)', async () => {
    const { program, inputs } = specialValuesCase();
    await expectMatchesInterpreter(program, inputs);
  });

  it('gives NaN for a softmax row of only -inf, like PyTorch', async () => {
    const b = new ProgramBuilder('rows');
    b.output('y', b.emit('softmax', [b.input('x', f32(2, 3))], { axis: -1 }));
    const out = await runKernels(lowerToKernels(b.build()), { x: Float32Array.from([-Infinity, -Infinity, -Infinity, -Infinity, 0, 0]) });
    expect(Array.from(out.y!)).toEqual([NaN, NaN, NaN, 0, 0.5, 0.5]);
  });

  it('reports the gather index out of range at the least position, whichever workgroup meets it first, and the next run works', async () => {
    const b = new ProgramBuilder('g');
    b.output('y', b.emit('gather', [b.input('t', f32(10, 8)), b.input('i', tensorType('i32', [4000]))]));
    const exe = await (await testBackend()).compile(lowerToKernels(b.build()));
    const t = Float32Array.from({ length: 80 }, (_, k) => k);
    // Bad indices in many workgroups (64 points each); the least position is 2500.
    const bad = Int32Array.from({ length: 4000 }, (_, k) => (k === 3990 ? 10 : k === 2500 ? -3 : k > 2600 && k % 7 === 0 ? 99 : k % 10));
    await expect(exe.run({ t, i: bad })).rejects.toThrow('while evaluating %0 = gather(%t, %i): index -3 at position 2500 of the indices is out of range [0, 10)');
    // A profile sees the fault too; then the words are clear again.
    await expect(exe.profile({ t, i: bad })).rejects.toThrow('index -3 at position 2500');
    const good = Int32Array.from({ length: 4000 }, (_, k) => k % 10);
    const out = (await exe.run({ t, i: good })).y!.data;
    expect(Array.from(out.subarray(2500 * 8, 2501 * 8))).toEqual(Array.from(t.subarray(0, 8)));
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

  it('follows IEEE 754 pow: 1 for 1^NaN, 1^inf and (-1)^inf, NaN for (-2)^0.5, signs for odd exponents', async () => {
    const b = new ProgramBuilder('pow');
    b.output('y', b.emit('pow', [b.input('a', f32(12)), b.input('e', f32(12))]));
    const p = b.build();
    const inputs = {
      a: Float32Array.from([1, 1, -1, -1, -2, 2, -2, -0, -0, 0, -Infinity, -3]),
      e: Float32Array.from([NaN, Infinity, -Infinity, Infinity, 0.5, 3, 3, -1, 2, -2, 3, Infinity]),
    };
    expect(Array.from(interpret(p, inputs).y!.data)).toEqual([1, 1, 1, 1, NaN, 8, -8, -Infinity, 0, Infinity, -Infinity, Infinity]);
    await expectMatchesInterpreter(p, inputs);
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

  it('checks input arrays: missing, wrong type, wrong length', async () => {
    const p = matmulProgram([2, 3], [3, 2]);
    const exe = await (await testBackend()).compile(lowerToKernels(p));
    await expect(exe.run({ a: new Float32Array(6) })).rejects.toThrow(/missing input 'b' \(f32\[3,2\]\)/);
    await expect(exe.run({ a: new Float32Array(6), b: new Int32Array(6) })).rejects.toThrow(/input 'b' must be a Float32Array for dtype f32 \(or a tensor { data, dims } of one\), got Int32Array/);
    await expect(exe.run({ a: new Float32Array(5), b: new Float32Array(6) })).rejects.toThrow(/input 'a' of shape \[2,3\] needs 6 elements, got 5/);
    exe.dispose();
    await expect(exe.run({ a: new Float32Array(6), b: new Float32Array(6) })).rejects.toThrow(/disposed/);
  });
});
