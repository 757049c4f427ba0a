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
import { type Program, type SafetensorsTensor, printProgram, writeSafetensors } from '@tessera/ir';
import { type HostInputs, mismatchVsInterpreter, modelInputsFor } from '@tessera/harness';
import { bundleForBrowser, nodeImports } from '../../backend-webgpu/test/browser/bundle.ts';
import { type BrowserSession, type PageResponse, startBrowser } from '../../backend-webgpu/test/browser/chromium.ts';
import { type AppReport, traceBlock, traceSmallVit } from './browser-app/app.ts';
import { type AppBundle, bundleBrowserApp } from './browser-app/bundle-app.ts';
import { REPO_ROOT } from './support/import-graph.ts';

/** Headers that make a page cross-origin isolated (SharedArrayBuffer, so worker threads). */
const ISOLATION = { 'cross-origin-opener-policy': 'same-origin', 'cross-origin-embedder-policy': 'require-corp' };

const APP_HTML = '<!doctype html><title>tessera app</title><script type="module">import { main } from "./app.js"; globalThis.runApp = main;</script>';

/** A model module as a user might serve it unbundled, importing a bundle of the DSL: the line of its mistake is known. */
const MODEL_JS = `import { Module, nn, trace } from './tessera-frontend.js';
class WrongWidth extends Module {
  fc = new nn.Linear(5, 3);
  forward(x) {
    return this.fc.forward(x);
  }
}
try {
  trace(new WrongWidth(), { x: 'f32[2,4]' });
  globalThis.dslError = { message: 'no error' };
} catch (e) {
  globalThis.dslError = { name: e.name, message: e.message, loc: e.loc };
}
`;
const CALLSITE_HTML = '<!doctype html><title>tessera model module</title><script type="module" src="model.js"></script>';

/** F32 tensors of `values` named as the program's inputs of `kind`, as safetensors bytes. */
function safetensorsOf(program: Program, values: HostInputs, kind: 'parameter' | 'activation'): Uint8Array {
  const tensors: Record<string, SafetensorsTensor> = {};
  for (const i of program.inputs.filter((i) => i.kind === kind)) tensors[i.name] = { dtype: 'F32', shape: i.type.shape, data: values[i.name] as Float32Array };
  return writeSafetensors(tensors);
}

const block = traceBlock();
const values = modelInputsFor(block, 17);
let app: AppBundle;
let session: BrowserSession;

beforeAll(async () => {
  app = await bundleBrowserApp(REPO_ROOT);
  const frontend = await bundleForBrowser({ source: "export * from '@tessera/frontend';", resolveDir: REPO_ROOT });
  const files: Record<string, PageResponse> = {
    '': { body: APP_HTML, type: 'text/html' },
    'app.js': { body: app.text, type: 'text/javascript' },
    'weights.safetensors': { body: safetensorsOf(block, values, 'parameter'), type: 'application/octet-stream' },
    'inputs.safetensors': { body: safetensorsOf(block, values, 'activation'), type: 'application/octet-stream' },
  };
  const callsite: Record<string, PageResponse> = {
    '': { body: CALLSITE_HTML, type: 'text/html' },
    'model.js': { body: MODEL_JS, type: 'text/javascript' },
    'tessera-frontend.js': { body: frontend.text, type: 'text/javascript' },
  };
  // --enable-unsafe-webgpu gives headless Chromium a software (SwiftShader) WebGPU adapter.
  session = await startBrowser((url) => {
    const [, folder, file = ''] = /^\/([^/]*)\/([^?]*)/.exec(url) ?? [];
    const r = folder === 'callsite' ? callsite[file] : files[file];
    if (!r || !['isolated', 'plain', 'callsite'].includes(folder ?? '')) return { body: `no ${url}`, type: 'text/html' };
    return folder === 'isolated' ? { ...r, headers: ISOLATION } : r;
  }, ['--enable-unsafe-webgpu']);
});

afterAll(async () => {
  await session?.close();
});

/** Loads `/<folder>/` and runs the app there on `backends`, failing on any page error. */
async function runApp(folder: 'isolated' | 'plain', backends: readonly string[]): Promise<AppReport> {
  const page = await session.context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  try {
    await page.goto(`${session.origin}/${folder}/`);
    await page.waitForFunction(() => 'runApp' in globalThis);
    const report = await page.evaluate((b) => (globalThis as unknown as { runApp: (b: readonly string[]) => Promise<AppReport> }).runApp(b), backends);
    expect(errors).toEqual([]);
    return report;
  } finally {
    await page.close();
  }
}

/** The page's traces equal Node's, and each backend's outputs match the interpreter's in Node. */
function expectLikeNode(report: AppReport, backends: readonly string[]): void {
  expect(report.blockIr).toBe(printProgram(block));
  expect(report.vitIr).toBe(printProgram(traceSmallVit()));
  expect(Object.keys(report.outputs).sort()).toEqual([...backends].sort());
  for (const b of backends) {
    expect(Object.keys(report.outputs[b]!).sort()).toEqual(['hidden', 'probs']);
    expect(mismatchVsInterpreter(block, values, report.outputs[b]!), b).toBeUndefined();
  }
}

describe('a browser app bundled from the packages', () => {
  it('bundles for the browser with no node: import and nothing left external (Dawn is loaded in Node only, by a name bundlers do not follow)', () => {
    expect(nodeImports(app.text)).toEqual([]);
    expect(app.externalImports).toEqual([]);
    expect(app.inputs).toEqual(expect.arrayContaining(['packages/frontend/src/tensor.ts', 'packages/models/src/vit/model.ts', 'packages/backend-cpu/src/threads/pool.ts', 'packages/backend-webgpu/src/webgpu-backend.ts']));
    console.log(`browser app bundle: ${app.minifiedBytes} bytes minified, ${app.gzipBytes} gzipped`);
  });

  it('a cross-origin isolated page traces the block and the ViT as Node does, and runs the block on cpu (worker threads) and webgpu like the interpreter', async () => {
    const r = await runApp('isolated', ['cpu', 'webgpu']);
    expect(r.crossOriginIsolated).toBe(true);
    // The cpu backend takes every core the page reports: more than one here, so workers ran.
    expect(r.hardwareConcurrency).toBeGreaterThan(1);
    expect(r.cpuThreads).toBe(r.hardwareConcurrency);
    expectLikeNode(r, ['cpu', 'webgpu']);
  });

  it('a page that is not cross-origin isolated runs cpu on one thread, with the same results', async () => {
    const r = await runApp('plain', ['cpu']);
    expect(r.crossOriginIsolated).toBe(false);
    expect(r.cpuThreads).toBe(1);
    expectLikeNode(r, ['cpu']);
  });

  it("a DSL mistake in the bundled app is a TesseraError naming the op and the shapes (no location: the app and the DSL are one file)", async () => {
    const r = await runApp('plain', []);
    expect(r.dslError.name).toBe('OpTypeError');
    expect(r.dslError.message).toMatch(/^matmul\(f32\[2,4\], f32\[5,3\]\): /);
    expect(r.dslError.loc).toBeUndefined();
  });

  it('a model module served beside a bundle of the DSL gets its mistake located at its own line, from the stack alone', async () => {
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
