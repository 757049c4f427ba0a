/**
 * A headless Chromium (Debian's, driven by playwright-core) on pages served
 * from 127.0.0.1: what the browser tests of the WebGPU and CPU backends
 * share. The caller answers requests (path -> body and headers).
 */
import { createServer, type Server } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';

/** Debian's chromium package (never `playwright install`). */
export const CHROMIUM = '/usr/bin/chromium';

/** One response: its body, content type and extra headers. */
export interface PageResponse {
  readonly body: string | Uint8Array;
  readonly type: 'text/html' | 'text/javascript' | 'application/octet-stream';
  readonly headers?: Readonly<Record<string, string>>;
}

/** A running browser and server: the origin pages load from, and close(). */
export interface BrowserSession {
  readonly context: BrowserContext;
  readonly origin: string;
  close(): Promise<void>;
}

/** Serves `respond(url)` on a free port and starts headless Chromium with `extraArgs` (a fresh profile, removed on close). */
export async function startBrowser(respond: (url: string) => PageResponse, extraArgs: readonly string[] = []): Promise<BrowserSession> {
  const server: Server = createServer((req, res) => {
    const r = respond(req.url ?? '/');
    res.writeHead(200, { ...r.headers, 'content-type': r.type });
    res.end(r.body);
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const profile = mkdtempSync(join(tmpdir(), 'tessera-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', ...extraArgs, '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  const { port } = server.address() as { port: number };
  return {
    context,
    origin: `http://127.0.0.1:${port}`,
    async close() {
      await context.close();
      server.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
