/**
 * The wasm target's thread pool in headless Chromium: a page served with
 * COOP same-origin + COEP require-corp is cross-origin isolated and runs a
 * program on 2 threads (Web Workers from a Blob URL, the main thread only
 * spinning at barriers); a page without those headers falls back to 1
 * thread. Both must match the same program run single-threaded in Node bit
 * for bit. The page's bundle is built with the WebGPU package's esbuild
 * helper, which stubs no Node built-in. Chromium has relaxed SIMD, so the
 * page's micro-kernel uses fused multiply-adds: Node turns it on too, and
 * both must say so, or equal bits would compare different code.
 */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ProgramBuilder, interpret, tensorType } from '@tessera/ir';
import type { KernelProgram } from '@tessera/kernel';
import { lowerToKernels } from '@tessera/passes';
import { describeMismatch } from '@tessera/harness';
import { bundleForBrowser, nodeImports, type BrowserBundle } from '../../backend-webgpu/test/browser/bundle.ts';
import { type BrowserSession, startBrowser } from '../../backend-webgpu/test/browser/chromium.ts';
import { compileWasm, enableRelaxedSimd } from '../src/index.ts';
import type { PageResult } from './browser/entry.ts';

const here = dirname(fileURLToPath(import.meta.url));

/** softmax(layer_norm(x @ w)) and x @ w: a matmul, row reductions and a map, split across threads with minParallelWork 0. */
function model() {
  const b = new ProgramBuilder('browser_threads');
  const x = b.input('x', tensorType('f32', [37, 48]));
  const y = b.emit('matmul', [x, b.input('w', tensorType('f32', [48, 67]))]);
  const ln = b.emit('layer_norm', [y, b.input('g', tensorType('f32', [67])), b.input('beta', tensorType('f32', [67]))], { eps: 1e-5 });
  b.output('y', y);
  b.output('probs', b.emit('softmax', [ln], { axis: -1 }));
  return b.build();
}

const values = (n: number, seed: number) => Array.from({ length: n }, (_, i) => Math.fround(Math.sin(i * 0.61 + seed) * 0.8));

let session: BrowserSession;
let bundle: BrowserBundle;

beforeAll(async () => {
  bundle = await bundleForBrowser({ file: join(here, 'browser/entry.ts') });
  const html = '<!doctype html><title>tessera cpu threads</title><script type="module" src="bundle.js"></script>';
  session = await startBrowser((url) => {
    // /isolated/ and its bundle carry the headers that make a page cross-origin isolated; /plain/ does not.
    const headers: Record<string, string> = url.startsWith('/isolated/') ? { 'cross-origin-opener-policy': 'same-origin', 'cross-origin-embedder-policy': 'require-corp' } : {};
    return url.endsWith('/bundle.js') ? { body: bundle.text, type: 'text/javascript', headers } : { body: html, type: 'text/html', headers };
  });
});

afterAll(async () => {
  await session?.close();
});

/** Loads `/<path>/` and runs the kernel program there with `threads` requested. */
async function runInPage(path: string, kp: KernelProgram, inputs: Record<string, number[]>, threads: number): Promise<PageResult> {
  const page = await session.context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  try {
    await page.goto(`${session.origin}/${path}/`);
    await page.waitForFunction(() => 'runWasm' in globalThis);
    const result = await page.evaluate(
      ([program, values, n]) => (globalThis as unknown as { runWasm: (a: unknown, b: unknown, c: number) => Promise<PageResult> }).runWasm(program, values, n),
      [kp, inputs, threads] as const,
    );
    expect(errors).toEqual([]);
    return result;
  } finally {
    await page.close();
  }
}

/** The same program on one thread in Node: output name -> f32 bit patterns. */
async function nodeBits(kp: KernelProgram, inputs: Record<string, number[]>): Promise<Record<string, number[]>> {
  expect(enableRelaxedSimd()).toBe(true);
  const exe = await compileWasm(kp, { threads: 1, relaxedSimd: true });
  expect(exe.threads).toBe(1);
  const out = await exe.run(Object.fromEntries(Object.entries(inputs).map(([k, v]) => [k, Float32Array.from(v)])));
  exe.dispose();
  return Object.fromEntries(Object.entries(out).map(([k, v]) => [k, Array.from(new Uint32Array(v.data.buffer, v.data.byteOffset, v.data.length))]));
}

describe('wasm thread pool in headless Chromium', () => {
  const p = model();
  const kp = lowerToKernels(p);
  const inputs = { x: values(37 * 48, 1), w: values(48 * 67, 2), g: values(67, 3), beta: values(67, 4) };

  it('the page bundle (pool, Web Workers and all) imports no node: module', () => {
    expect(bundle.inputs).toEqual(expect.arrayContaining(['packages/backend-cpu/src/threads/pool.ts', 'packages/backend-cpu/src/threads/worker-source.ts']));
    expect(bundle.externalImports).toEqual([]);
    expect(nodeImports(bundle.text)).toEqual([]);
  });

  it('a cross-origin isolated page runs on 2 threads (Web Workers, a spinning main thread) and matches one thread in Node bit for bit', async () => {
    const expected = await nodeBits(kp, inputs);
    // The Node result is itself right, so equal bits are not equal garbage.
    const reference = interpret(p, Object.fromEntries(Object.entries(inputs).map(([k, v]) => [k, Float32Array.from(v)])));
    for (const name of ['y', 'probs']) {
      expect(describeMismatch(new Float32Array(Uint32Array.from(expected[name]!).buffer), reference[name]!.data, { reductionLength: 67 })).toBeUndefined();
    }
    const r = await runInPage('isolated', kp, inputs, 2);
    expect(r.crossOriginIsolated).toBe(true);
    expect(r.host).toBe('browser');
    // The spin-only barrier is the one the main thread took: it may not block.
    expect(r.mainThreadMayBlock).toBe(false);
    // A 2-thread run cannot pass its first barrier without the worker, so finishing means the worker ran its share.
    expect(r.threads).toBe(2);
    expect(r.poolSize).toBeGreaterThanOrEqual(1);
    expect(r.relaxedSimd).toBe(true);
    for (const run of r.runs) expect(run).toEqual(expected);
  });

  it('a page that is not cross-origin isolated falls back to 1 thread, without error, with the same bits', async () => {
    const expected = await nodeBits(kp, inputs);
    const r = await runInPage('plain', kp, inputs, 2);
    expect(r.crossOriginIsolated).toBe(false);
    expect(r.host).toBeNull();
    expect(r.threads).toBe(1);
    expect(r.poolSize).toBe(0);
    expect(r.relaxedSimd).toBe(true);
    for (const run of r.runs) expect(run).toEqual(expected);
  });
});
