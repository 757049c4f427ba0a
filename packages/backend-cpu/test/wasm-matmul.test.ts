import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { numel, stridesOf } from '@tessera/ir';
import { type BufferDecl, E, type Expr, type KernelProgram, type MatmulKernel, type Store, assertKernelProgram, evaluateKernelProgram } from '@tessera/kernel';
import { describeMismatch, makeRng } from '@tessera/harness';
import { compileWasm, enableRelaxedSimd } from '../src/index.ts';

// Both micro-kernels are tested: fused multiply-adds (relaxed SIMD, turned on here for Node 20) and mul + add.
const relaxedSimd = enableRelaxedSimd();

interface Case {
  batch: number[];
  m: number;
  n: number;
  k: number;
  /** A stored as [..., k, m] and read transposed. */
  aT: boolean;
  /** B stored as [..., n, k] and read transposed (a Linear weight). */
  bT: boolean;
  /** A has no batch axes (broadcast over the batch). */
  aBroadcast: boolean;
  /** Prologue on A: a plain load, tanh of it, or rows picked by a gather. */
  prologue: 'load' | 'tanh' | 'gather';
  /** Epilogue: acc, or 0.5 * acc + bias[j], plus a second store relu(acc) / erf(acc). */
  epilogue: 'acc' | 'bias' | 'bias+relu' | 'erf';
  blocking?: { mc: number; kc: number; nc: number; packedA: number };
  /** The micro-kernel with fused multiply-adds. */
  fma?: boolean;
  seed: number;
}

/** A hand-built matmul kernel program for a case (axes [...batch, i, j, p]). */
function build(c: Case): KernelProgram {
  const nb = c.batch.length;
  const { m, n, k } = c;
  const buffers: BufferDecl[] = [];
  const add = (name: string, dtype: 'f32' | 'i32', shape: number[], role: BufferDecl['role']) => {
    buffers.push({ name, dtype, shape, size: numel(shape), role });
    return buffers.length - 1;
  };
  const aBatch = c.aBroadcast ? [] : c.batch;
  const aShape = [...aBatch, ...(c.aT ? [k, m] : [m, k])];
  const a = add('a', 'f32', aShape, 'input');
  const b = add('b', 'f32', [...c.batch, ...(c.bT ? [n, k] : [k, n])], 'input');
  const bias = add('bias', 'f32', [n], 'input');
  const idx = add('idx', 'i32', [m], 'input');
  const out = add('out', 'f32', [...c.batch, m, n], 'output');
  const out2 = add('out2', 'f32', [...c.batch, m, n], 'output');
  const aS = stridesOf(aShape);
  const aBatchStrides = c.aBroadcast ? c.batch.map(() => 0) : aS.slice(0, nb);
  const [aI, aP] = c.aT ? [1, m] : [k, 1];
  const bS = stridesOf([...c.batch, ...(c.bT ? [n, k] : [k, n])]);
  const [bP, bJ] = c.bT ? [1, k] : [n, 1];
  let readA: Expr;
  if (c.prologue === 'gather') {
    // Row i of A is row idx[i]: the i stride moves into the gather.
    const position = { offset: 0, strides: [...c.batch.map(() => 0), 1, 0, 0] };
    const index = E.load('i32', idx, position);
    readA = E.load('f32', a, { offset: 0, strides: [...aBatchStrides, 0, 0, aP] }, { index, stride: aI, extent: m, site: { node: 'rows', operands: ['a', 'idx'], position, positions: m } });
  } else {
    readA = E.load('f32', a, { offset: 0, strides: [...aBatchStrides, aI, 0, aP] });
    if (c.prologue === 'tanh') readA = E.unary('tanh', readA);
  }
  const readB = E.load('f32', b, { offset: 0, strides: [...bS.slice(0, nb), 0, bJ, bP] });
  const outMap = { offset: 0, strides: [...stridesOf([...c.batch, m, n]), 0] };
  const acc = E.ref('f32', 'acc');
  const biased = E.binary('add', E.binary('mul', acc, E.const('f32', 0.5)), E.load('f32', bias, { offset: 0, strides: [...c.batch.map(() => 0), 0, 1, 0] }));
  const stores: Store[] = [{ buffer: out, map: outMap, value: c.epilogue === 'acc' || c.epilogue === 'erf' ? acc : biased }];
  if (c.epilogue === 'bias+relu') stores.push({ buffer: out2, map: outMap, value: E.binary('max', acc, E.const('f32', 0)) });
  else stores.push({ buffer: out2, map: outMap, value: c.epilogue === 'erf' ? E.unary('erf', acc) : E.unary('neg', acc) });
  const kernel: MatmulKernel = { kind: 'matmul', name: 'k0_matmul', batch: c.batch, m, n, k, readA, readB, stores };
  const kp: KernelProgram = {
    name: 'mm',
    buffers,
    kernels: [kernel],
    inputs: [a, b, bias, idx].map((buffer) => ({ name: buffers[buffer]!.name, buffer })),
    outputs: [out, out2].map((buffer) => ({ name: buffers[buffer]!.name, buffer })),
  };
  assertKernelProgram(kp);
  return kp;
}

const arbCase: fc.Arbitrary<Case> = fc.record(
  {
    batch: fc.array(fc.integer({ min: 1, max: 3 }), { maxLength: 2 }),
    m: fc.integer({ min: 1, max: 13 }),
    // From 57 columns on, 2 threads split by column panels (at least 8 of them), and kept A carries over between chunks.
    n: fc.oneof(fc.integer({ min: 1, max: 19 }), fc.integer({ min: 57, max: 80 })),
    k: fc.integer({ min: 1, max: 17 }),
    aT: fc.boolean(),
    bT: fc.boolean(),
    aBroadcast: fc.boolean(),
    prologue: fc.constantFrom('load', 'tanh', 'gather'),
    epilogue: fc.constantFrom('acc', 'bias', 'bias+relu', 'erf'),
    // Tiny blocks reach every block edge (partial MC, KC and NC blocks) at these sizes.
    // packedA 0 packs A for every block; 1 MiB keeps it for reuse.
    blocking: fc.option(fc.record({ mc: fc.constantFrom(4, 8, 12), kc: fc.integer({ min: 1, max: 6 }), nc: fc.constantFrom(8, 16), packedA: fc.constantFrom(0, 1 << 20) }), { nil: undefined }),
    fma: fc.boolean(),
    seed: fc.integer({ min: 1, max: 1e6 }),
  },
  { requiredKeys: ['batch', 'm', 'n', 'k', 'aT', 'bT', 'aBroadcast', 'prologue', 'epilogue', 'fma', 'seed'] },
);

function inputsFor(kp: KernelProgram, seed: number): Record<string, Float32Array | Int32Array> {
  const rng = makeRng(seed);
  return Object.fromEntries(
    kp.inputs.map(({ name, buffer }) => {
      const d = kp.buffers[buffer]!;
      // Gather indices pick rows of A: values in [0, m).
      return [name, d.dtype === 'i32' ? Int32Array.from({ length: d.size }, () => Math.floor(rng() * d.size)) : Float32Array.from({ length: d.size }, () => rng() * 2 - 1)];
    }),
  );
}

describe('wasm matmul kernel = kernel evaluator', () => {
  it('has relaxed SIMD to test (Node >= 20.16, turned on by enableRelaxedSimd)', () => {
    expect(relaxedSimd).toBe(true);
  });

  it('agrees on random shapes, layouts, batch broadcast, prologues, epilogues and blockings, 1 and 2 threads (150 cases)', async () => {
    await fc.assert(
      fc.asyncProperty(arbCase, async (c) => {
        const kp = build(c);
        const inputs = inputsFor(kp, c.seed);
        const expected = evaluateKernelProgram(kp, inputs);
        for (const threads of [1, 2]) {
          const exe = await compileWasm(kp, { threads, minParallelWork: 0, relaxedSimd: c.fma ?? false, ...(c.blocking ? { blocking: c.blocking } : {}) });
          const got = await exe.run(inputs);
          exe.dispose();
          for (const o of ['out', 'out2']) {
            expect(describeMismatch(got[o]!.data, expected[o]!, { reductionLength: c.k }, { what: `${o} (${threads} threads)` })).toBeUndefined();
          }
        }
      }),
      { numRuns: 150 },
    );
  });

  it.each([
    [197, 300, 37, 1],
    [197, 300, 37, 2],
    [300, 5, 270, 2],
    [7, 2100, 9, 2],
  ])('plain [m,k] x [k,n] across the default blocks (m %i, k %i, n %i, %i threads) matches a float64 reference', async (m, k, n, threads) => {
    const c: Case = { batch: [], m, n, k, aT: false, bT: false, aBroadcast: false, prologue: 'load', epilogue: 'acc', seed: m + k + n };
    const kp = build(c);
    const inputs = inputsFor(kp, c.seed);
    const A = inputs.a as Float32Array;
    const B = inputs.b as Float32Array;
    const expected = new Float64Array(m * n);
    for (let i = 0; i < m; i++) for (let p = 0; p < k; p++) for (let j = 0; j < n; j++) expected[i * n + j]! += A[i * k + p]! * B[p * n + j]!;
    const exe = await compileWasm(kp, { threads });
    const got = (await exe.run(inputs)).out!.data;
    exe.dispose();
    expect(describeMismatch(got, expected, { reductionLength: k })).toBeUndefined();
  });
});
