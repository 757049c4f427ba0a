/**
 * In headless Chromium: `@tessera/viz` bundled for a browser (no Node
 * built-in) lays out a ViT's DOT with Graphviz's wasm in the page, and the
 * SVG it draws shows the layer and kernel clusters; the HTML page `tessera
 * compile --emit html` writes opens with no other request and renders
 * (a screenshot that is not blank); `@tessera/viz/wat` bundled with `fs`
 * left out (WABT's loader reads files in Node only) prints WAT in the page
 * as in Node. Screenshots go to the system's
 * temporary folder (printed), not the repository.
 */
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { VisionTransformer, traceVit } from '@tessera/models';
import { compileProgram } from '@tessera/passes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { emitWasmProgram } from '@tessera/backend-cpu';
import { bundleForBrowser, loadEsbuild, nodeImports } from '../../backend-webgpu/test/browser/bundle.ts';
import { type BrowserSession, startBrowser } from '../../backend-webgpu/test/browser/chromium.ts';
import { REPO_ROOT } from '../../compiler/test/support/import-graph.ts';
import { graphPicture, htmlPage, renderSvg, toDot } from '../src/index.ts';

const LAYERS = 4;
const vit = traceVit(new VisionTransformer({ model: 'vit', image_size: 8, patch_size: 4, num_layers: LAYERS, num_heads: 2, hidden_dim: 8, mlp_dim: 12, num_classes: 3, naming: 'torchvision', layer_norm_eps: 1e-6 }), 1);
const { graph, kernels } = compileProgram(vit);
const picture = graphPicture(graph, kernels, { after: 'plan-memory' });
const dot = toDot(picture);

/** The WAT entry bundled as the README says a browser app bundles it with esbuild: `fs` external. */
async function bundleWat(): Promise<string> {
  const out = await loadEsbuild().build({
    stdin: { contents: "export { wasmToWat } from '@tessera/viz/wat';", resolveDir: REPO_ROOT, loader: 'ts', sourcefile: '<entry>' },
    bundle: true, format: 'esm', platform: 'browser', target: 'es2022', absWorkingDir: REPO_ROOT, write: false, metafile: true, logLevel: 'silent', external: ['fs'],
  });
  return out.outputFiles[0]!.text;
}

const PAGE = `<!DOCTYPE html><html><body><div id="picture"></div><script type="module">
import { renderSvg } from '/viz.js';
import { wasmToWat } from '/wat.js';
window.wat = async (bytes, names) => wasmToWat(new Uint8Array(bytes), { functionNames: new Map(names) });
window.renderDot = async (dot) => { document.getElementById('picture').innerHTML = await renderSvg(dot); };
window.ready = true;
</script></body></html>`;

/** Counts the pixels of a PNG (a screenshot) that are not white, decoded by the page's own image decoder. */
const NOT_WHITE = `async (b64) => {
  const img = new Image();
  img.src = 'data:image/png;base64,' + b64;
  await img.decode();
  const c = document.createElement('canvas');
  c.width = img.width; c.height = img.height;
  const g = c.getContext('2d');
  g.drawImage(img, 0, 0);
  const d = g.getImageData(0, 0, c.width, c.height).data;
  let n = 0;
  for (let i = 0; i < d.length; i += 4) if (d[i] < 240 || d[i + 1] < 240 || d[i + 2] < 240) n++;
  return { pixels: c.width * c.height, notWhite: n };
}`;

let browser: BrowserSession;
let bundle: { text: string; externalImports: readonly string[] };
let html: string;
let watBundle: string;

beforeAll(async () => {
  bundle = await bundleForBrowser({ source: "export * from '@tessera/viz';", resolveDir: REPO_ROOT });
  html = htmlPage(await renderSvg(dot), picture);
  watBundle = await bundleWat();
  browser = await startBrowser((url) => {
    if (url === '/viz.js') return { body: bundle.text, type: 'text/javascript' };
    if (url === '/wat.js') return { body: watBundle, type: 'text/javascript' };
    if (url === '/picture.html') return { body: html, type: 'text/html' };
    return { body: PAGE, type: 'text/html' };
  });
});

afterAll(async () => {
  await browser?.close();
});

async function notBlank(page: import('playwright-core').Page, name: string): Promise<void> {
  const png = await page.screenshot({ fullPage: false });
  const path = join(tmpdir(), `tessera-viz-${name}.png`);
  writeFileSync(path, png);
  console.log(`screenshot: ${path}`);
  const { pixels, notWhite } = (await page.evaluate(`(${NOT_WHITE})(${JSON.stringify(png.toString('base64'))})`)) as { pixels: number; notWhite: number };
  expect(pixels).toBeGreaterThan(0);
  // Boxes, text and edges: a few percent of the view at least; a blank page has none.
  expect(notWhite / pixels).toBeGreaterThan(0.02);
}

describe('pictures in Chromium', () => {
  it('@tessera/viz bundles for a browser with no Node built-in and nothing left external', () => {
    expect(nodeImports(bundle.text)).toEqual([]);
    expect(bundle.externalImports).toEqual([]);
  });

  it('lays out the DOT with Graphviz in the page: the SVG has every layer and kernel cluster, and renders', async () => {
    const page = await browser.context.newPage();
    try {
      await page.goto(`${browser.origin}/`);
      await page.waitForFunction('window.ready === true');
      await page.evaluate(`window.renderDot(${JSON.stringify(dot)})`);
      const counts = (await page.evaluate(`({
        layers: document.querySelectorAll('svg g.cluster.layer').length,
        kernels: document.querySelectorAll('svg g.cluster.kernel').length,
        width: document.querySelector('svg').getBBox().width,
        first: document.getElementById('layer-encoder.layers.encoder_layer_0') !== null,
      })`)) as { layers: number; kernels: number; width: number; first: boolean };
      expect(counts).toMatchObject({ layers: LAYERS, kernels: kernels.kernels.length, first: true });
      expect(counts.width).toBeGreaterThan(100);
      await notBlank(page, 'graphviz-in-page');
    } finally {
      await page.close();
    }
  });

  it('the HTML page opens with no other request and is not blank', async () => {
    const page = await browser.context.newPage();
    const requests: string[] = [];
    page.on('request', (r) => void requests.push(r.url()));
    try {
      await page.goto(`${browser.origin}/picture.html`);
      expect(requests).toEqual([`${browser.origin}/picture.html`]);
      expect(await page.evaluate("document.querySelectorAll('svg g.cluster.layer').length")).toBe(LAYERS);
      await notBlank(page, 'html-page');
    } finally {
      await page.close();
    }
  });

  it('prints the cpu backend\'s module as WAT in the page, each kernel\'s function named, as in Node', async () => {
    const wasm = emitWasmProgram(kernels, { threads: 1, relaxedSimd: false });
    const names = wasm.kernels.flatMap((k) => (k.kind === 'wasm' ? [[k.exportName, k.name]] : []));
    const page = await browser.context.newPage();
    try {
      await page.goto(`${browser.origin}/`);
      await page.waitForFunction('window.ready === true');
      const wat = (await page.evaluate(`window.wat(${JSON.stringify([...wasm.bytes])}, ${JSON.stringify(names)})`)) as string;
      for (const [exportName, name] of names) expect(wat).toContain(`(func $${name} (export "${exportName}")`);
      expect(wat).toMatch(/\bf32x4\.mul\b/);
    } finally {
      await page.close();
    }
  });
});
