/**
 * WebAssembly benchmark: Tessera's wasm target (SIMD128 kernels, 1 and 2
 * threads) next to @tensorflow/tfjs-backend-wasm (XNNPACK, 1 thread) and
 * @jax-js/jax (wasm device, its default threading), all in this process:
 * matmul GFLOP/s at the ViT-B shapes and (1024)^3, with the ratios issue 7
 * sets targets on. Each runtime's time includes getting the result back to
 * a JS array; operands stay resident (Tessera: placed in wasm memory once
 * with setInputs, as tfjs and jax-js tensors live on their backends).
 *
 * Where the engine has relaxed SIMD (Node 20 with the flag bench/run.ts
 * sets, as the CLI does), Tessera's micro-kernel fuses multiply-adds; the
 * same 1-thread matmul without them is timed in the same rounds too.
 *
 * 2 threads over 1 is the median of per-round ratios (both timed in the same
 * round, moments apart): this VM's speed drifts by up to 1.7x over seconds,
 * so a ratio of two medians can pair a fast phase with a slow one. The same
 * rounds time a SIMD loop on 1 and 2 threads (bench/ceiling.ts): what 2
 * threads can give on this machine at all, printed next to the matmul's.
 */
import * as tf from '@tensorflow/tfjs-core';
import { setThreadsCount } from '@tensorflow/tfjs-backend-wasm';
import { defaultDevice, init as initJax, numpy as jnp } from '@jax-js/jax';
import { ProgramBuilder, tensorType } from '@tessera/ir';
import { compileProgram } from '@tessera/passes';
import { compileWasm } from '@tessera/backend-cpu';
import { cpus, loadavg } from 'node:os';
import { simdCeiling } from './ceiling.ts';
import { idleGap, printTable, seededArray, timeIt } from './timing.ts';

const MATMULS: readonly [number, number, number][] = [
  [197, 768, 3072],
  [197, 3072, 768],
  [1024, 1024, 1024],
];

/** A Tessera executable of one [m,k] x [k,n] matmul on the wasm target, as a timed closure (relaxedSimd false: mul + add, not fused). */
async function tesseraMatmul(m: number, k: number, n: number, threads: number, relaxedSimd?: false): Promise<{ run: () => unknown; dispose: () => void; fused: boolean }> {
  const b = new ProgramBuilder('mm');
  b.output('y', b.emit('matmul', [b.input('a', tensorType('f32', [m, k])), b.input('b', tensorType('f32', [k, n]))]));
  const exe = await compileWasm(compileProgram(b.build()).kernels, { threads, ...(relaxedSimd === false ? { relaxedSimd } : {}) });
  // Operands placed in wasm memory once, as the peers' tensors live on their backends.
  exe.setInputs({ a: seededArray(m * k, 1), b: seededArray(k * n, 2) });
  return { run: () => exe.run({}), dispose: () => exe.dispose(), fused: exe.relaxedSimd };
}

function tfjsMatmul(m: number, k: number, n: number): { run: () => unknown; dispose: () => void } {
  const a = tf.tensor2d(seededArray(m * k, 1), [m, k]);
  const b = tf.tensor2d(seededArray(k * n, 2), [k, n]);
  return {
    run: () => {
      const c = tf.matMul(a, b);
      c.dataSync();
      c.dispose();
    },
    dispose: () => {
      a.dispose();
      b.dispose();
    },
  };
}

function jaxMatmul(m: number, k: number, n: number): { run: () => unknown; dispose: () => void } {
  const a = jnp.array(seededArray(m * k, 1), { shape: [m, k] });
  const b = jnp.array(seededArray(k * n, 2), { shape: [k, n] });
  return {
    // jax-js ops consume their operands: .ref keeps a and b alive across runs.
    run: async () => {
      const c = jnp.matmul(a.ref, b.ref);
      await c.blockUntilReady();
      return c.dataSync();
    },
    dispose: () => {
      a.dispose();
      b.dispose();
    },
  };
}

/** Runs the wasm benchmark and prints its table. */
export async function benchWasm(): Promise<void> {
  // tfjs-backend-wasm reads the thread count when its backend starts.
  setThreadsCount(1);
  await tf.setBackend('wasm');
  await tf.ready();
  await initJax('wasm');
  defaultDevice('wasm');
  const rows: string[][] = [];
  const targets: string[] = [];
  let fused = false;
  for (const [m, k, n] of MATMULS) {
    const flop = 2 * m * k * n;
    const g = (ms: number) => flop / ms / 1e6;
    const one = await tesseraMatmul(m, k, n, 1);
    fused = one.fused;
    const peers: Record<string, { run: () => unknown; dispose: () => unknown }> = {
      t1: one,
      t2: await tesseraMatmul(m, k, n, 2),
      // Without fused multiply-adds: what an engine without relaxed SIMD gets.
      ...(fused ? { t1plain: await tesseraMatmul(m, k, n, 1, false) } : {}),
      tfjs: tfjsMatmul(m, k, n),
      jax: jaxMatmul(m, k, n),
    };
    const ceiling = m === 197 && k === 768 ? await simdCeiling(30) : undefined;
    if (ceiling) Object.assign(peers, { c1: { run: ceiling.one, dispose: () => {} }, c2: { run: ceiling.two, dispose: ceiling.dispose } });
    // Round robin, one call of each runtime per round: a change of machine load hits all of them alike.
    const rounds = m * k * n > 5e8 ? 7 : 11;
    const times: Record<string, number[]> = Object.fromEntries(Object.keys(peers).map((key) => [key, []]));
    for (const p of Object.values(peers)) for (let w = 0; w < 2; w++) await p.run();
    for (let r = 0; r < rounds; r++) {
      for (const [key, p] of Object.entries(peers)) {
        await idleGap();
        times[key]!.push((await timeIt(p.run, { runs: 1, warmup: 0 })).median);
      }
    }
    for (const p of Object.values(peers)) await p.dispose();
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
    // Per round: 1-thread time over 2-thread time, both taken moments apart.
    const paired = (one: string, two: string) => median(times[one]!.map((t, r) => t / times[two]![r]!));
    const [t1, t2, tw, tj] = ['t1', 't2', 'tfjs', 'jax'].map((key) => g(median(times[key]!))) as [number, number, number, number];
    const scaling = paired('t1', 't2');
    const plain = times.t1plain ? g(median(times.t1plain)) : undefined;
    rows.push([
      `(${m},${k},${n})`,
      t1.toFixed(1),
      t2.toFixed(1),
      `${scaling.toFixed(2)}x`,
      plain === undefined ? 'n/a' : plain.toFixed(1),
      tw.toFixed(1),
      `${(t1 / tw).toFixed(2)}x`,
      plain === undefined ? 'n/a' : `${(plain / tw).toFixed(2)}x`,
      tj.toFixed(1),
      `${(t1 / tj).toFixed(2)}x`,
    ]);
    if (ceiling) {
      const machine = paired('c1', 'c2') * 2;
      targets.push(
        `(197,768,3072): 1 thread ${(t1 / tw).toFixed(2)}x tfjs-wasm (target >= 1.2x), 2 threads ${scaling.toFixed(2)}x 1 thread (target >= 1.8x); ` +
          `this machine's SIMD-loop ceiling in the same rounds: 2 threads ${machine.toFixed(2)}x 1 thread, so the matmul reached ${((scaling / machine) * 100).toFixed(0)} % of it`,
      );
    }
  }
  printTable(
    `matmul on WebAssembly (GFLOP/s, median of round-robin runs; ratios: tessera 1 thread over the peer, 2 threads over 1 as the median of per-round ratios; ` +
      `tessera ${fused ? 'fuses multiply-adds (relaxed SIMD); 1t mul+add: the same without' : 'without relaxed SIMD: mul + add'})`,
    ['M,K,N', 'tessera-wasm 1t', 'tessera-wasm 2t', '2t/1t', '1t mul+add', 'tfjs-wasm 1t', 'vs tfjs', 'mul+add vs tfjs', 'jax-js wasm', 'vs jax'],
    rows,
  );
  console.log(`issue 7 targets: ${targets.join('; ')}`);
  const load = loadavg()[0]!;
  const cores = cpus().length;
  if (load > cores / 2) console.log(`note: load average ${load.toFixed(1)} on ${cores} cores while measuring: other processes share the cores, so the 2-thread figure in particular is unreliable`);
}
