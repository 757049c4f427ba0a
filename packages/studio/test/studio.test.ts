/**
 * Tessera Studio in headless Chromium (Debian's, through playwright-core),
 * as `pnpm studio` serves it: built with Vite, served by Vite's preview
 * server (cross-origin isolated: worker threads for cpu; WebGPU is
 * SwiftShader with --enable-unsafe-webgpu). The page classifies test
 * images on wasm and on WebGPU with the top class Node's cpu backend
 * gives, draws every layer's and head's attention and the rollout (the
 * rollout's top patch as Node computes it from the cpu backend's attention
 * probes), reverses a digit string as Node's generator does with the
 * decoder's attention as Node's, shows the RNN encoder-decoder's output
 * and alignment (an anti-diagonal) beside it as Node's, and its compare
 * panel has every backend agreeing with the interpreter.
 * Screenshots of each view go to out/studio/ (git-ignored), and the first
 * classification's time on each backend is logged.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Browser, type Page, chromium } from 'playwright-core';
import { type PreviewServer, build, preview } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compile } from '@tessera/compiler';
import { ALIGNMENT, argmax, compileGenerator, pixelValues, traceSeq2Seq, traceVit, weightsFor } from '@tessera/models';
import { type LoadedModel, loadModel, readSample } from '@tessera/models/node';
import { attentionOutputs } from '../src/probes.ts';
import { attentionRollout, rowWithout } from '../src/rollout.ts';

const STUDIO = join(import.meta.dirname, '..');
const ROOT = join(STUDIO, '..', '..');
const TRAINED = join(ROOT, 'packages/models/trained');
/** Where the screenshots go (out/ is git-ignored). */
const SHOTS = join(ROOT, 'out/studio');
/** The test images the page classifies. */
const IMAGES = [0, 1, 2, 3];
const DIGITS = '3141592';

let outDir: string;
let server: PreviewServer;
let browser: Browser;
let page: Page;
const pageErrors: string[] = [];

beforeAll(async () => {
  outDir = mkdtempSync(join(tmpdir(), 'tessera-studio-'));
  const configFile = join(STUDIO, 'vite.config.ts');
  await build({ configFile, logLevel: 'warn', build: { outDir, emptyOutDir: true } });
  server = await preview({ configFile, logLevel: 'warn', build: { outDir }, preview: { port: 0, host: '127.0.0.1', strictPort: false } });
  browser = await chromium.launch({ executablePath: '/usr/bin/chromium', headless: true, args: ['--no-sandbox', '--enable-unsafe-webgpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'] });
  page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  page.on('pageerror', (e) => pageErrors.push(e.message));
  await page.goto(server.resolvedUrls!.local[0]!);
  await page.waitForSelector('body[data-ready]');
  mkdirSync(SHOTS, { recursive: true });
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
  if (outDir) rmSync(outDir, { recursive: true, force: true });
});

/** Waits until an action's target is done (or failed), and returns its data attributes. */
async function settled(selector: string): Promise<Record<string, string>> {
  await page.waitForSelector(`${selector}[data-state="done"], ${selector}[data-state="error"]`, { timeout: 100_000 });
  const { dataset, text } = await page.$eval(selector, (e) => ({ dataset: { ...(e as HTMLElement).dataset } as Record<string, string>, text: e.textContent ?? '' }));
  expect(dataset.state, text).toBe('done');
  return dataset;
}

/** The attention canvases under `selector` whose pixels are all one colour (none, when every map is drawn). */
async function blankCanvases(selector: string): Promise<number> {
  return page.$$eval(selector, (canvases) =>
    canvases.filter((c) => {
      const { width, height } = c as HTMLCanvasElement;
      const d = (c as HTMLCanvasElement).getContext('2d')!.getImageData(0, 0, width, height).data;
      return width === 0 || d.every((v, i) => v === d[i % 4]);
    }).length,
  );
}

/** Pearson's correlation of two equally long lists. */
function correlation(x: readonly number[], y: readonly number[]): number {
  const mean = (v: readonly number[]) => v.reduce((a, b) => a + b, 0) / v.length;
  const [mx, my] = [mean(x), mean(y)];
  let [sxy, sxx, syy] = [0, 0, 0];
  x.forEach((xi, i) => {
    sxy += (xi - mx) * (y[i]! - my);
    sxx += (xi - mx) ** 2;
    syy += (y[i]! - my) ** 2;
  });
  return sxy / Math.sqrt(sxx * syy);
}

/** Shows a view and writes its screenshot. */
async function screenshot(view: string): Promise<void> {
  await page.evaluate((v) => (location.hash = v), view);
  await page.screenshot({ path: join(SHOTS, `${view}.png`), fullPage: true });
}

describe('Tessera Studio in headless Chromium', () => {
  it('loads the bundled models cross-origin isolated, with WebGPU', async () => {
    expect(await page.$eval('body', (b) => b.dataset.ready)).toBe('true');
    expect(await page.evaluate(() => globalThis.crossOriginIsolated)).toBe(true);
    expect(await page.evaluate(() => 'gpu' in navigator)).toBe(true);
    expect(await page.$$('.thumb')).toHaveLength(30);
  });

  it('classifies test images on wasm and on WebGPU with the top class Node gives, and draws every layer’s and head’s attention and the rollout', async () => {
    const m = (await loadModel(join(TRAINED, 'vit-fashion-mnist.json'), join(TRAINED, 'vit-fashion-mnist.safetensors'))) as Extract<LoadedModel, { kind: 'vit' }>;
    const { num_heads: heads, num_layers: layers } = m.model.config;
    const sample = await readSample(join(TRAINED, 'fashion-mnist-sample.safetensors'));
    const program = traceVit(m.model, 1, true);
    const exe = await compile(program, { backend: 'cpu', weights: weightsFor(program, m.weights) });
    const node: { top: number; rolloutTop: number }[] = [];
    for (const i of IMAGES) {
      const out = await exe.run({ pixel_values: pixelValues(sample, i, 1) });
      const probs = [...attentionOutputs(out).values()];
      expect(probs).toHaveLength(layers);
      const tokens = Math.sqrt(probs[0]!.length / heads);
      const toPatches = rowWithout(attentionRollout(probs.map((p) => ({ heads, tokens, probs: p }))), tokens, 0, 1);
      node.push({ top: argmax(out.logits!.data, 0, 10), rolloutTop: argmax(toPatches, 0, toPatches.length) });
    }
    exe.dispose();
    const times: string[] = [];
    for (const backend of ['cpu', 'webgpu']) {
      await page.selectOption('#backend', backend);
      for (const i of IMAGES) {
        await page.click(`.thumb[data-index="${i}"]`);
        const r = await settled('#vit-result');
        const rolloutTop = Number(await page.$eval('#vit-rollout', (c) => (c as HTMLElement).dataset.top));
        expect({ backend: r.backend, image: i, top: Number(r.top), rolloutTop }).toEqual({ backend, image: i, ...node[i] });
        expect(await page.$$('#vit-attention canvas.attn')).toHaveLength(layers * heads + 1);
        expect(await blankCanvases('#vit-attention canvas.attn')).toBe(0);
        if (i === IMAGES[0]) {
          expect(r.compiled).toBe('true');
          times.push(`${backend} first ${r.ms} ms (compile included)`);
        } else if (i === IMAGES[1]) times.push(`${backend} next ${r.ms} ms`);
      }
    }
    console.log(`studio: classification in the page: ${times.join('; ')}`);
    await screenshot('vit');
    expect(pageErrors).toEqual([]);
  });

  it('classifies a drawing made with the mouse on the pad', async () => {
    await page.click('#vit-clear');
    const pad = (await page.$('canvas.pad'))!;
    const box = (await pad.boundingBox())!;
    await page.mouse.move(box.x + box.width * 0.3, box.y + box.height * 0.2);
    await page.mouse.down();
    for (const [x, y] of [[0.7, 0.2], [0.7, 0.8], [0.3, 0.8], [0.3, 0.2]]) await page.mouse.move(box.x + box.width * x!, box.y + box.height * y!, { steps: 12 });
    await page.mouse.up();
    await page.click('#vit-classify-drawing');
    const r = await settled('#vit-result');
    expect(Number(r.top)).toBeGreaterThanOrEqual(0);
    expect(await page.textContent('#vit-result')).toContain('your drawing');
  });

  it('reverses a digit string as Node’s generator does, token by token, with the decoder’s attention as Node’s (an anti-diagonal across)', async () => {
    const m = (await loadModel(join(TRAINED, 'transformer-reverse.json'), join(TRAINED, 'transformer-reverse.safetensors'))) as Extract<LoadedModel, { kind: 'transformer' }>;
    const g = await compileGenerator(m.model, m.weights, { backend: 'cpu', batch: 1, srcLen: DIGITS.length, maxNewTokens: DIGITS.length + 1 });
    const out = await g.generate(Int32Array.from(DIGITS, (d) => 3 + Number(d)));
    g.dispose();
    const node = [...out.slice(1)].filter((t) => t >= 3).map((t) => t - 3).join('');
    expect(node).toBe([...DIGITS].reverse().join(''));
    // The full model on the generated tokens, with every attention probed: each map's most attended key per row.
    const n = DIGITS.length;
    const program = traceSeq2Seq(m.model, { batch: 1, srcLen: n }, n + 1, true);
    const exe = await compile(program, { backend: 'cpu', weights: weightsFor(program, m.weights) });
    const probes = attentionOutputs(await exe.run({ src: Int32Array.from(DIGITS, (d) => 3 + Number(d)), tgt: out.subarray(0, n + 1) }));
    exe.dispose();
    await page.evaluate(() => (location.hash = 'reverse'));
    // cpu only: WebGPU's first compile of three programs takes SwiftShader about 13 s, and the classification covers WebGPU.
    await page.selectOption('#backend', 'cpu');
    await page.fill('#reverse-input', DIGITS);
    await page.click('#reverse-run');
    const r = await settled('#reverse-result');
    expect(r.output).toBe(node);
    // One item per generated token, eos included.
    expect(await page.$$('#reverse-result .tokens li')).toHaveLength(DIGITS.length + 1);
    // A map per decoder attention module and head, and their mean: drawn, each row's top key as in Node.
    const maps = await page.$$eval('#reverse-attention canvas.attn', (cs) => cs.map((c) => ({ ...(c as HTMLElement).dataset })));
    const decoder = [...probes].filter(([path]) => path.includes('decoder'));
    expect(maps).toHaveLength(decoder.length * (m.model.config.nhead + 1));
    expect(await blankCanvases('#reverse-attention canvas.attn')).toBe(0);
    for (const map of maps.filter((c) => c.head !== 'mean')) {
      const p = probes.get(map.module!)!;
      const keys = p.length / (m.model.config.nhead * (n + 1));
      const head = p.subarray(Number(map.head) * (n + 1) * keys, (Number(map.head) + 1) * (n + 1) * keys);
      expect(map.argmax, `${map.module} head ${map.head}`).toBe(Array.from({ length: n + 1 }, (_, q) => argmax(head, q * keys, keys)).join(','));
    }
    // Reversal: in the last decoder layer's cross-attention (mean of the heads) the later the output digit, the earlier the
    // source digit it looks at most: an anti-diagonal (correlation of output and source position near -1).
    const last = maps.find((c) => c.module === `transformer.decoder.layers.${m.model.config.num_decoder_layers - 1}.multihead_attn` && c.head === 'mean')!;
    const looked = last.argmax!.split(',').slice(0, n).map(Number);
    console.log(`studio: reversal cross-attention (last decoder layer, head mean), top source position per output digit: ${looked.join(',')}`);
    expect(correlation(looked.map((_, q) => q), looked)).toBeLessThan(-0.8);
  });

  it('shows the RNN encoder-decoder’s output for the same digits as Node’s generator gives, and its alignment map, an anti-diagonal', async () => {
    const m = (await loadModel(join(TRAINED, 'rnn-reverse.json'), join(TRAINED, 'rnn-reverse.safetensors'))) as Extract<LoadedModel, { kind: 'seq2seq_rnn' }>;
    const n = DIGITS.length;
    // As trained (and as the page runs it): the source padded to 10 digits, up to 11 new tokens.
    const [srcLen, maxNewTokens] = [10, 11];
    const g = await compileGenerator(m.model, m.weights, { backend: 'cpu', batch: 1, srcLen, maxNewTokens, attentions: true });
    const src = new Int32Array(srcLen).fill(m.model.config.pad_id);
    src.set(Array.from(DIGITS, (d) => 3 + Number(d)));
    const node = await g.generateWithAttention(src);
    g.dispose();
    const alignment = node.attentions[ALIGNMENT.output]!.data;
    // The reversal above ran the RNN after the Transformer, on cpu.
    const r = await settled('#reverse-rnn');
    expect(r.tokens).toBe([...node.tokens].join(','));
    expect(r.output).toBe([...DIGITS].reverse().join(''));
    const maps = await page.$$eval('#reverse-rnn canvas.attn', (cs) => cs.map((c) => ({ ...(c as HTMLElement).dataset })));
    expect(maps).toHaveLength(1);
    expect(await blankCanvases('#reverse-rnn canvas.attn')).toBe(0);
    // One row per generated token (eos included), each row's most attended source digit as in Node's alignment.
    expect(maps[0]!.argmax).toBe(Array.from({ length: n + 1 }, (_, q) => argmax(alignment, q * srcLen, n)).join(','));
    // Reversal: the later the output digit, the earlier the source digit it looks at most (an anti-diagonal).
    const looked = maps[0]!.argmax!.split(',').slice(0, n).map(Number);
    console.log(`studio: RNN alignment, top source position per output digit: ${looked.join(',')}`);
    expect(correlation(looked.map((_, q) => q), looked)).toBeLessThan(-0.8);
    await screenshot('reverse');
    expect(pageErrors).toEqual([]);
  });

  it('compiles the ViT pass by pass, and the compare panel shows interp, cpu and webgpu agreeing', async () => {
    await page.evaluate(() => (location.hash = 'compiler'));
    await page.selectOption('#compiler-source', 'vit');
    await page.click('#compiler-compile');
    const compiled = await settled('#compiler-result');
    expect(Number(compiled.kernels)).toBeGreaterThan(0);
    expect(await page.$$eval('.passes button', (b) => b.map((e) => e.textContent!.replace(/ \(.*/, '')))).toEqual(['1. canonicalize', '2. decompose-composites', '3. fuse', '4. plan-memory']);
    // The fusion pass is shown first: the graph before it, and after it with its kernels drawn as clusters (Graphviz).
    await settled('#pass-after');
    expect(await page.$$('#pass-before svg g.node')).not.toHaveLength(0);
    const clusters = await page.$$eval('#pass-after svg g.cluster title', (t) => t.map((e) => e.textContent));
    expect(clusters.length).toBeGreaterThanOrEqual(Number(compiled.kernels));
    // The cpu backend's WebAssembly as text, disassembled on opening.
    await page.click('text=WebAssembly text (cpu)');
    await settled('#compiler-wat');
    expect(await page.textContent('#compiler-wat')).toMatch(/^\(module[\s\S]*\(func \$k0_copy/);
    await page.click('#compiler-compare');
    const compared = await settled('#compare-result');
    expect(compared).toMatchObject({ agree: 'true', backends: 'cpu,webgpu' });
    await page.selectOption('#backend', 'cpu');
    await page.click('#compiler-profile');
    await settled('#profile-result');
    expect(await page.$$('#profile-result table.timings tr')).toHaveLength(Number(compiled.kernels) + 1);
    await screenshot('compiler');
    // With attention probes: the same kernels and one more per attention layer (the probe's own kernel).
    await page.check('#compiler-probes');
    await page.click('#compiler-compile');
    const probed = await settled('#compiler-result');
    expect(Number(probed.kernels)).toBeGreaterThan(Number(compiled.kernels));
    console.log(`studio: ViT kernels ${compiled.kernels}, with attention probes ${probed.kernels}`);
    await page.uncheck('#compiler-probes');
    expect(pageErrors).toEqual([]);
  });

  it('pasted IR text with a mistake gets the parser’s message, naming the line', async () => {
    await page.selectOption('#compiler-source', 'ir');
    await page.fill('#compiler-ir', 'program @bad\ninput %x : f32[2,3]\n%0 = relu(%y) : f32[2,3]\noutput y = %0\n');
    await page.click('#compiler-compile');
    await page.waitForSelector('#compiler-result[data-state="error"]');
    expect(await page.textContent('#compiler-result')).toMatch(/pasted IR:3:/);
  });
});
