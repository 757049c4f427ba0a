/**
 * CPU kernel benchmark: Tessera's generated JavaScript next to
 * @tensorflow/tfjs-backend-cpu, in the same process: matmul GFLOP/s at the
 * ViT-B shapes and (1024)^3, and softmax / layer_norm over [197, 768].
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { ProgramBuilder, tensorType } from '@tessera/ir';
import { lowerToKernels } from '@tessera/passes';
import { compileJs } from '@tessera/backend-cpu';
import { printTable, seededArray, timeIt } from './timing.ts';

const MATMULS: readonly [number, number, number][] = [
  [197, 768, 3072],
  [197, 3072, 768],
  [1024, 1024, 1024],
];

async function tesseraMatmul(m: number, k: number, n: number): Promise<() => Promise<unknown>> {
  const b = new ProgramBuilder('mm');
  b.output('y', b.emit('matmul', [b.input('a', tensorType('f32', [m, k])), b.input('b', tensorType('f32', [k, n]))]));
  const exe = compileJs(lowerToKernels(b.build()));
  const inputs = { a: seededArray(m * k, 1), b: seededArray(k * n, 2) };
  return () => exe.run(inputs);
}

function tfjsMatmul(m: number, k: number, n: number): () => unknown {
  const a = tf.tensor2d(seededArray(m * k, 1), [m, k]);
  const b = tf.tensor2d(seededArray(k * n, 2), [k, n]);
  return () => {
    const c = tf.matMul(a, b);
    c.dataSync();
    c.dispose();
  };
}

async function tesseraRow(op: 'softmax' | 'layer_norm'): Promise<() => Promise<unknown>> {
  const b = new ProgramBuilder(op);
  const x = b.input('x', tensorType('f32', [197, 768]));
  const y = op === 'softmax' ? b.emit('softmax', [x], { axis: -1 }) : b.emit('layer_norm', [x, b.param('w', tensorType('f32', [768])), b.param('bias', tensorType('f32', [768]))], { eps: 1e-6 });
  b.output('y', y);
  const exe = compileJs(lowerToKernels(b.build()));
  const inputs = { x: seededArray(197 * 768, 3), w: seededArray(768, 4), bias: seededArray(768, 5) };
  return () => exe.run(op === 'softmax' ? { x: inputs.x } : inputs);
}

function tfjsRow(op: 'softmax' | 'layer_norm'): () => unknown {
  const x = tf.tensor2d(seededArray(197 * 768, 3), [197, 768]);
  const w = tf.tensor1d(seededArray(768, 4));
  const bias = tf.tensor1d(seededArray(768, 5));
  return () => {
    const y = tf.tidy(() => {
      if (op === 'softmax') return tf.softmax(x, -1);
      const { mean, variance } = tf.moments(x, -1, true);
      return tf.add(tf.mul(tf.mul(tf.sub(x, mean), tf.rsqrt(tf.add(variance, 1e-6))), w), bias);
    });
    y.dataSync();
    y.dispose();
  };
}

/** Runs the CPU kernel benchmark and prints its tables. */
export async function benchCpuKernels(): Promise<void> {
  await tf.setBackend('cpu');
  const rows: string[][] = [];
  for (const [m, k, n] of MATMULS) {
    const flop = 2 * m * k * n;
    const ours = await timeIt(await tesseraMatmul(m, k, n), { runs: 3 });
    const theirs = await timeIt(tfjsMatmul(m, k, n), { runs: 1 });
    const g = (ms: number) => flop / ms / 1e6;
    rows.push([`(${m},${k},${n})`, g(ours.median).toFixed(2), g(theirs.median).toFixed(2), `${(theirs.median / ours.median).toFixed(1)}x`]);
  }
  printTable('matmul, single thread (GFLOP/s, median)', ['M,K,N', 'tessera-js', 'tfjs-cpu', 'ratio'], rows);
  const rowRows: string[][] = [];
  for (const op of ['softmax', 'layer_norm'] as const) {
    const ours = await timeIt(await tesseraRow(op), { runs: 20, warmup: 3 });
    const theirs = await timeIt(tfjsRow(op), { runs: 20, warmup: 3 });
    const rate = (ms: number) => ((197 * 768) / ms / 1e3).toFixed(1);
    rowRows.push([`${op} [197,768]`, ours.median.toFixed(3), rate(ours.median), theirs.median.toFixed(3), rate(theirs.median), `${(theirs.median / ours.median).toFixed(1)}x`]);
  }
  printTable('row kernels (ms per call and Melem/s, median)', ['op', 'tessera ms', 'Melem/s', 'tfjs-cpu ms', 'Melem/s', 'ratio'], rowRows);
}
