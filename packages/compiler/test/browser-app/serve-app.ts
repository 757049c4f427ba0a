/**
 * Serving and running the browser app (browser-app/app.ts) in headless
 * Chromium, shared by the workspace test (browser-app.test.ts) and the
 * install test, which bundles the same app from the packed tarballs: the
 * bundle is served at /isolated/ (COOP/COEP: cross-origin isolated, worker
 * threads) and /plain/ (one thread), with the block's weights and input as
 * safetensors; the page's traces and outputs are checked against Node's.
 */
import { expect } from 'vitest';
import { type Program, type SafetensorsTensor, printProgram, writeSafetensors } from '@tessera/ir';
import { type HostInputs, mismatchVsInterpreter, modelInputsFor } from '@tessera/harness';
import { bundleForBrowser } from '../../../backend-webgpu/test/browser/bundle.ts';
import { type BrowserSession, type PageResponse, startBrowser } from '../../../backend-webgpu/test/browser/chromium.ts';
import { type AppReport, traceBlock, traceSmallVit } from './app.ts';
import type { AppBundle } from './bundle-app.ts';

/** Headers that make a page cross-origin isolated (SharedArrayBuffer, so worker threads). */
const ISOLATION = { 'cross-origin-opener-policy': 'same-origin', 'cross-origin-embedder-policy': 'require-corp' };

const APP_HTML = '<!doctype html><title>tessera app</title><script type="module">import { main } from "./app.js"; globalThis.runApp = main;</script>';

/** A model module as a user might serve it unbundled, importing a bundle of the DSL: the line of its mistake is known. */
export const MODEL_JS = `import { Module, nn, trace } from './tessera-frontend.js';
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

/** The block the app runs, and the values of its inputs and weights. */
export const block = traceBlock();
export const values = modelInputsFor(block, 17);

/** A browser serving one bundle of the app; `runApp` loads a page and runs the app there. */
export interface AppServer {
  readonly session: BrowserSession;
  runApp(folder: 'isolated' | 'plain', backends: readonly string[]): Promise<AppReport>;
  close(): Promise<void>;
}

/** Starts Chromium serving `app`, and /callsite/ (a model module beside a bundle of the DSL resolved from `packagesDir`). */
export async function serveApp(app: AppBundle, packagesDir: string): Promise<AppServer> {
  const frontend = await bundleForBrowser({ source: "export * from '@tessera/frontend';", resolveDir: packagesDir });
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
  const session = await startBrowser((url) => {
    const [, folder, file = ''] = /^\/([^/]*)\/([^?]*)/.exec(url) ?? [];
    const r = folder === 'callsite' ? callsite[file] : files[file];
    if (!r || !['isolated', 'plain', 'callsite'].includes(folder ?? '')) return { body: `no ${url}`, type: 'text/html' };
    return folder === 'isolated' ? { ...r, headers: ISOLATION } : r;
  }, ['--enable-unsafe-webgpu']);
  return { session, runApp: (folder, backends) => runApp(session, folder, backends), close: () => session.close() };
}

/** Loads `/<folder>/` and runs the app there on `backends`, failing on any page error. */
async function runApp(session: BrowserSession, folder: 'isolated' | 'plain', backends: readonly string[]): Promise<AppReport> {
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
export function expectLikeNode(report: AppReport, backends: readonly string[]): void {
  expect(report.blockIr).toBe(printProgram(block));
  expect(report.vitIr).toBe(printProgram(traceSmallVit()));
  expect(Object.keys(report.outputs).sort()).toEqual([...backends].sort());
  for (const b of backends) {
    expect(Object.keys(report.outputs[b]!).sort()).toEqual(['hidden', 'probs']);
    expect(mismatchVsInterpreter(block, values, report.outputs[b]!), b).toBeUndefined();
  }
}

