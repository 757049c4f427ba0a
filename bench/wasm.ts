/**
 * WebAssembly benchmark: Tessera's wasm target (SIMD128 kernels, 1 and 2
 * threads) next to @tensorflow/tfjs-backend-wasm (XNNPACK, 1 thread) and
 * @jax-js/jax (wasm device, its default threading), all in this process:
 * matmul GFLOP/s at the ViT-B shapes and (1024)^3, with the ratios issue 7
 * sets targets on. Each runtime's time includes getting the result back to
 * a JS array (Tessera: copying inputs into wasm memory and the output out).
 */
import * as tf from '@tensorflow/tfjs-core';
import { setThreadsCount } from '@tensorflow/tfjs-backend-wasm';
import { defaultDevice, init as initJax, numpy as jnp } from '@jax-js/jax';
import { ProgramBuilder, tensorType } from '@tessera/ir';
import { compileProgram } from '@tessera/passes';
import { createCpuBackend } from '@tessera/backend-cpu';
import { printTable, seededArray, timeIt } from './timing.ts';

const MATMULS: readonly [number, number, number][] = [
  [197, 768, 3072],
  [197, 3072, 768],
  [1024, 1024, 1024],
];

/** A Tessera executable of one [m,k] x [k,n] matmul on the wasm target, as a timed closure. */
async function tesseraMatmul(m: number, k: number, n: number, threads: number): Promise<{ run: () => Promise<unknown>; dispose: () => void }> {
  const b = new ProgramBuilder('mm');
  b.output('y', b.emit('matmul', [b.input('a', tensorType('f32', [m, k])), b.input('b', tensorType('f32', [k, n]))]));
  const exe = await createCpuBackend({ target: 'wasm', threads }).compile(compileProgram(b.build()).kernels);
  const inputs = { a: seededArray(m * k, 1), b: seededArray(k * n, 2) };
  return { run: () => exe.run(inputs), dispose: () => exe.dispose() };
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

function jaxMatmul(m: number, k: number, n: number): { run: () => Promise<unknown>; dispose: () => void } {
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
  for (const [m, k, n] of MATMULS) {
    const flop = 2 * m * k * n;
    const g = (ms: number) => flop / ms / 1e6;
    const runs = m * k * n > 5e8 ? 5 : 9;
    const times: Record<string, number> = {};
    for (const threads of [1, 2]) {
      const t = await tesseraMatmul(m, k, n, threads);
      times[`t${threads}`] = (await timeIt(t.run, { runs, warmup: 2 })).median;
      t.dispose();
    }
    const tfjs = tfjsMatmul(m, k, n);
    times.tfjs = (await timeIt(tfjs.run, { runs, warmup: 2 })).median;
    tfjs.dispose();
    const jax = jaxMatmul(m, k, n);
    times.jax = (await timeIt(jax.run, { runs, warmup: 2 })).median;
    jax.dispose();
    const [t1, t2, tw, tj] = [g(times.t1!), g(times.t2!), g(times.tfjs!), g(times.jax!)];
    rows.push([`(${m},${k},${n})`, t1.toFixed(1), t2.toFixed(1), `${(t2 / t1).toFixed(2)}x`, tw.toFixed(1), `${(t1 / tw).toFixed(2)}x`, tj.toFixed(1), `${(t1 / tj).toFixed(2)}x`]);
    if (m === 197 && k === 768) targets.push(`(197,768,3072): 1 thread ${(t1 / tw).toFixed(2)}x tfjs-wasm (target >= 1.2x), 2 threads ${(t2 / t1).toFixed(2)}x 1 thread (target >= 1.8x)`);
  }
  printTable(
    'matmul on WebAssembly (GFLOP/s, median; ratios are tessera 1 thread over the peer, and 2 threads over 1)',
    ['M,K,N', 'tessera-wasm 1t', 'tessera-wasm 2t', '2t/1t', 'tfjs-wasm 1t', 'vs tfjs', 'jax-js wasm', 'vs jax'],
    rows,
  );
  console.log(`issue 7 targets: ${targets.join('; ')}`);
  console.log('ViT-Ti/S/B rows next to onnxruntime-web and onnxruntime-node are not measured here yet (they need the ONNX exports).');
}
