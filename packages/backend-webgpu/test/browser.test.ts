import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ProgramBuilder, interpret, tensorType, toHost } from '@tessera/ir';
import { lowerToKernels } from '@tessera/passes';
import { describeMismatch, inputsFor } from '@tessera/harness';
import { bundleForBrowser } from './browser/bundle.ts';
import { type BrowserSession, startBrowser } from './browser/chromium.ts';

const here = dirname(fileURLToPath(import.meta.url));

/** A small model: layer_norm, a linear layer with bias and GELU, single-head self-attention, a linear layer, softmax. */
function model() {
  const b = new ProgramBuilder('browser_mlp');
  const x = b.input('x', tensorType('f32', [5, 16]));
  const ln = b.emit('layer_norm', [x, b.param('ln.weight', tensorType('f32', [16])), b.param('ln.bias', tensorType('f32', [16]))], { eps: 1e-5 });
  const h = b.emit('gelu', [b.emit('add', [b.emit('matmul', [ln, b.param('fc1.weight', tensorType('f32', [16, 32]))]), b.param('fc1.bias', tensorType('f32', [32]))])]);
  const t = b.emit('reshape', [h], { shape: [1, 5, 32] });
  const a = b.emit('reshape', [b.emit('attention', [t, t, t])], { shape: [5, 32] });
  const y = b.emit('matmul', [a, b.param('fc2.weight', tensorType('f32', [32, 8]))]);
  b.output('probs', b.emit('softmax', [y], { axis: -1 }));
  b.output('argmax_is_first', b.emit('ge', [b.emit('slice', [y], { start: [0, 0], stop: [5, 1], step: [1, 1] }), b.emit('reduce_max', [y], { axes: [1], keepdims: true })]));
  return b.build();
}

let session: BrowserSession;

beforeAll(async () => {
  const js = (await bundleForBrowser({ file: join(here, 'browser/entry.ts') })).text;
  const html = '<!doctype html><title>tessera webgpu</title><script type="module" src="/bundle.js"></script>';
  // --enable-unsafe-webgpu gives headless Chromium a SwiftShader adapter.
  session = await startBrowser((url) => (url === '/bundle.js' ? { body: js, type: 'text/javascript' } : { body: html, type: 'text/html' }), ['--enable-unsafe-webgpu']);
});

afterAll(async () => {
  await session?.close();
});

describe('WebGPU backend in headless Chromium', () => {
  it('runs a small model kernel program in a page (SwiftShader) and matches the interpreter computed in Node', async () => {
    const p = model();
    const kp = lowerToKernels(p);
    const inputs = inputsFor(p, 7);
    const page = await session.context.newPage();
    await page.goto(`${session.origin}/`);
    await page.waitForFunction(() => 'runKernelProgram' in globalThis);
    const plain = Object.fromEntries(Object.entries(inputs).map(([k, v]) => [k, { dtype: v instanceof Float32Array ? 'f32' : v instanceof Int32Array ? 'i32' : 'bool', values: Array.from(v) }]));
    const result = await page.evaluate(
      ([program, values]) => (globalThis as unknown as { runKernelProgram: (a: unknown, b: unknown) => Promise<{ adapter: string; outputs: Record<string, number[]> }> }).runKernelProgram(program, values),
      [kp, plain] as const,
    );
    expect(result.adapter).toMatch(/via navigator\.gpu/);
    const expected = interpret(p, inputs);
    for (const o of p.outputs) {
      const e = expected[o.name]!;
      expect(describeMismatch(result.outputs[o.name]!, toHost(e), { dtype: e.type.dtype, reductionLength: 32 * 5 }, { what: o.name, shape: e.type.shape })).toBeUndefined();
    }
    await page.close();
  });
});
