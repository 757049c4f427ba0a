/**
 * The fp32 micro-kernel study (issue 16): GFLOP/s of the wasm matmul
 * micro-kernel alone, per register block (MR x NR) and k-loop unrolling,
 * over panels that stay in L1/L2, next to this machine's own one-thread
 * ceiling measured in the same run: a loop of independent fused
 * multiply-adds (relaxed SIMD) with no memory traffic. Then the whole
 * (197,768,3072) matmul on one thread (W placed once) as a fraction of the
 * same ceiling. Run: `pnpm bench micro` (or `tsx bench/micro-kernel.ts`).
 */
import { ProgramBuilder, tensorType } from '@tessera/ir';
import { lowerToKernels } from '@tessera/passes';
import { createCpuBackend, enableRelaxedSimd } from '@tessera/backend-cpu';
import { F32, FunctionBuilder, I32, ModuleBuilder, V128 } from '../packages/backend-cpu/src/wasm/binary.ts';
import { SIMD } from '../packages/backend-cpu/src/wasm/opcodes.ts';
import { MATMUL_MR, MR, type MicroShape, NR, addMicroKernelOfShape } from '../packages/backend-cpu/src/wasm/micro-kernel.ts';
import { printTable, seededArray, timeIt } from './timing.ts';

/** Depth of the study's panels: A (MR x KC) and B (KC x NR) floats fit L1/L2 for every shape below. */
const KC = 256;

/** `spin(n)`: n rounds of `chains` independent f32x4 relaxed multiply-adds (8 flops each). */
function ceilingModule(chains: number): (n: number) => number {
  const m = new ModuleBuilder();
  const f = new FunctionBuilder([I32], [F32]);
  const acc = Array.from({ length: chains }, () => f.local(V128));
  const [i, c, d] = [f.local(I32), f.local(V128), f.local(V128)];
  f.f32(0.999).simd(SIMD.f32x4_splat).set(c);
  f.f32(1e-3).simd(SIMD.f32x4_splat).set(d);
  for (const a of acc) f.f32(1).simd(SIMD.f32x4_splat).set(a);
  f.for(i, () => f.i32(0), () => f.get(0), 1, () => {
    for (const a of acc) f.get(a).get(c).get(d).simd(SIMD.f32x4_relaxed_madd).set(a);
  });
  f.get(acc[0]!).get(acc[chains - 1]!).simd(SIMD.f32x4_add).simdLane(SIMD.f32x4_extract_lane, 0);
  m.addFunc(f, 'spin');
  return new WebAssembly.Instance(new WebAssembly.Module(m.encode())).exports.spin as (n: number) => number;
}

/** GFLOP/s of `spin` with `flopsPerRound`, timed over about `ms`. */
async function rate(spin: (n: number) => unknown, flopsPerRound: number, ms = 150): Promise<number> {
  spin(1000);
  const t0 = performance.now();
  spin(20000);
  const rounds = Math.max(1, Math.round((20000 * ms) / Math.max(0.01, performance.now() - t0)));
  const t = await timeIt(() => spin(rounds), { runs: 5, warmup: 1 });
  return (flopsPerRound * rounds) / t.median / 1e6;
}

/** `run(n)`: n calls of the micro-kernel of `shape` on the same packed panels (C accumulated). */
function microModule(shape: MicroShape, fma: boolean): (n: number) => void {
  const m = new ModuleBuilder();
  m.importMemory('env', 'memory', 4, undefined, false);
  const micro = addMicroKernelOfShape(m, fma, shape);
  const f = new FunctionBuilder([I32], []);
  const i = f.local(I32);
  const [pa, pb, c] = [1024, 1024 + 4 * shape.mr * KC, 1024 + 4 * (shape.mr + shape.nr) * KC];
  f.for(i, () => f.i32(0), () => f.get(0), 1, () => {
    f.i32(pa).i32(pb).i32(c).i32(shape.nr * 4).i32(KC).i32(1).call(micro);
  });
  m.addFunc(f, 'run');
  const memory = new WebAssembly.Memory({ initial: 4 });
  new Float32Array(memory.buffer, 1024, (shape.mr + shape.nr) * KC).set(seededArray((shape.mr + shape.nr) * KC, 7).map((x) => x * 1e-3));
  return new WebAssembly.Instance(new WebAssembly.Module(m.encode()), { env: { memory } }).exports.run as (n: number) => void;
}

const SHAPES: readonly MicroShape[] = [
  { mr: MR, nr: NR, unroll: 1 },
  { mr: MR, nr: NR, unroll: 2 },
  { mr: 4, nr: 12, unroll: 1 },
  { mr: 4, nr: 16, unroll: 1 },
  { mr: 6, nr: 8, unroll: 1 },
  { mr: 5, nr: 8, unroll: 1 },
  { mr: 6, nr: 8, unroll: 2 },
  { mr: 7, nr: 8, unroll: 1 },
  { mr: 4, nr: 8, unroll: 1, shuffleA: true },
  { mr: 8, nr: 4, unroll: 1, shuffleA: true },
  { mr: 6, nr: 8, unroll: 1, shuffleA: true },
  { mr: 8, nr: 8, unroll: 1, shuffleA: true },
  { mr: 3, nr: 16, unroll: 1 },
  { mr: 2, nr: 16, unroll: 1 },
  { mr: 8, nr: 8, unroll: 1 },
];

/** Runs the study and prints its table; returns the figures. */
export async function benchMicroKernel(): Promise<Record<string, number>> {
  enableRelaxedSimd();
  const out: Record<string, number> = {};
  const ceiling = Math.max(await rate(ceilingModule(8), 8 * 8), await rate(ceilingModule(12), 12 * 8));
  out.ceiling_gflops = ceiling;
  const rows: string[][] = [['ceiling (relaxed madd, no memory)', ceiling.toFixed(1), '100%']];
  for (const shape of SHAPES) {
    const gf = await rate(microModule(shape, true), 2 * shape.mr * shape.nr * KC, 100);
    const name = `${shape.mr}x${shape.nr}${shape.unroll > 1 ? ` unroll ${shape.unroll}` : ''}${shape.shuffleA ? ' A shuffled' : ''}${shape.nr === NR && shape.unroll === 1 && !shape.shuffleA ? (shape.mr === MATMUL_MR ? ' (used)' : '') : ''}`;
    out[`micro_${shape.mr}x${shape.nr}_u${shape.unroll}${shape.shuffleA ? '_shuffle' : ''}`] = gf;
    rows.push([`micro ${name}`, gf.toFixed(1), `${((100 * gf) / ceiling).toFixed(0)}%`]);
  }
  const [m, k, n] = [197, 768, 3072];
  const b = new ProgramBuilder('mm');
  b.output('y', b.emit('matmul', [b.input('a', tensorType('f32', [m, k])), b.param('w', tensorType('f32', [k, n]))]));
  const exe = await createCpuBackend({ target: 'wasm', threads: 1 }).compile(lowerToKernels(b.build()));
  try {
    exe.setInputs!({ w: seededArray(k * n, 2) });
    const a = seededArray(m * k, 1);
    const t = await timeIt(() => exe.run({ a }), { runs: 7, warmup: 2 });
    const gf = (2 * m * k * n) / t.median / 1e6;
    out.matmul_197_768_3072_gflops = gf;
    rows.push([`matmul (${m},${k},${n}), 1 thread, W placed once`, gf.toFixed(1), `${((100 * gf) / ceiling).toFixed(0)}%`]);
  } finally {
    exe.dispose();
  }
  printTable(`wasm micro-kernel study, one thread, KC ${KC} (GFLOP/s, median)`, ['kernel', 'GFLOP/s', 'of ceiling'], rows);
  return out;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  await benchMicroKernel();
  process.exit(0);
}
