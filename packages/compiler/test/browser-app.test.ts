/**
 * Checked like a user would, in a browser: the app in browser-app/app.ts,
 * bundled with esbuild (minified, platform browser) from the packages,
 * served by node:http and run in headless Chromium. The page traces a
 * transformer block and a ViT, fetches weights and input as safetensors,
 * and runs the block on `cpu` and `webgpu`; here in Node the same models
 * are traced again (the page's IR text must be the same) and the page's
 * outputs are compared with the reference interpreter's under the
 * tolerance policy. A page served with COOP/COEP is cross-origin isolated
 * and gets worker threads; one without runs on one thread.
 *
 * A DSL mistake in the page is a TesseraError; its location is found where
 * the stack trace gives one: not inside one bundle (the user's code and the
 * DSL are the same file there), but in a model module served beside a
 * bundle of the DSL, at that module's line.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nodeImports } from '../../backend-webgpu/test/browser/bundle.ts';
import { type AppBundle, bundleBrowserApp } from './browser-app/bundle-app.ts';
import { type AppServer, MODEL_JS, expectLikeNode, serveApp } from './browser-app/serve-app.ts';
import { REPO_ROOT } from './support/import-graph.ts';

let app: AppBundle;
let server: AppServer;

beforeAll(async () => {
  app = await bundleBrowserApp(REPO_ROOT);
  server = await serveApp(app, REPO_ROOT);
});

afterAll(async () => {
  await server?.close();
});

describe('a browser app bundled from the packages', () => {
  it('bundles for the browser with no node: import and nothing left external (Dawn is loaded in Node only, by a name bundlers do not follow)', () => {
    expect(nodeImports(app.text)).toEqual([]);
    expect(app.externalImports).toEqual([]);
    expect(app.inputs).toEqual(expect.arrayContaining(['packages/frontend/src/tensor.ts', 'packages/models/src/vit/model.ts', 'packages/backend-cpu/src/threads/pool.ts', 'packages/backend-webgpu/src/webgpu-backend.ts']));
    console.log(`browser app bundle: ${app.minifiedBytes} bytes minified, ${app.gzipBytes} gzipped`);
  });

  it('a cross-origin isolated page traces the block and the ViT as Node does, and runs the block on cpu (worker threads) and webgpu like the interpreter', async () => {
    const r = await server.runApp('isolated', ['cpu', 'webgpu']);
    expect(r.crossOriginIsolated).toBe(true);
    // The cpu backend takes every core the page reports: more than one here, so workers ran.
    expect(r.hardwareConcurrency).toBeGreaterThan(1);
    expect(r.cpuThreads).toBe(r.hardwareConcurrency);
    expectLikeNode(r, ['cpu', 'webgpu']);
  });

  it('a page that is not cross-origin isolated runs cpu on one thread, with the same results', async () => {
    const r = await server.runApp('plain', ['cpu']);
    expect(r.crossOriginIsolated).toBe(false);
    expect(r.cpuThreads).toBe(1);
    expectLikeNode(r, ['cpu']);
  });

  it("a DSL mistake in the bundled app is a TesseraError naming the op and the shapes (no location: the app and the DSL are one file)", async () => {
    const r = await server.runApp('plain', []);
    expect(r.dslError.name).toBe('OpTypeError');
    expect(r.dslError.message).toMatch(/^matmul\(f32\[2,4\], f32\[5,3\]\): /);
    expect(r.dslError.loc).toBeUndefined();
  });

  it('a model module served beside a bundle of the DSL gets its mistake located at its own line, from the stack alone', async () => {
    const { session } = server;
    const page = await session.context.newPage();
    try {
      await page.goto(`${session.origin}/callsite/`);
      await page.waitForFunction(() => 'dslError' in globalThis);
      const e = await page.evaluate(() => (globalThis as unknown as { dslError: { name: string; message: string; loc: unknown } }).dslError);
      const lines = MODEL_JS.split('\n');
      const line = lines.findIndex((l) => l.includes('this.fc.forward(x)')) + 1;
      const loc = { file: `${session.origin}/callsite/model.js`, line, col: lines[line - 1]!.indexOf('forward(x)') + 1 };
      expect(e.loc).toEqual(loc);
      expect(e.name).toBe('OpTypeError');
      const prefix = `${loc.file}:${loc.line}:${loc.col}: matmul(f32[2,4], f32[5,3]): `;
      expect(e.message.slice(0, prefix.length)).toBe(prefix);
    } finally {
      await page.close();
    }
  });
});
