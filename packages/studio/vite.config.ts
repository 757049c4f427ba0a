/**
 * Tessera Studio's build: the page and its TypeScript (the @tessera
 * packages' sources, resolved through the workspace), with the trained
 * models and test images of packages/models/trained served and copied as
 * the public folder. Served cross-origin isolated (COOP/COEP), so the cpu
 * backend gets worker threads.
 */
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

/** The headers that make the page cross-origin isolated (SharedArrayBuffer, so Web Workers for cpu). */
export const ISOLATION_HEADERS = { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp' };

export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: './',
  publicDir: fileURLToPath(new URL('../models/trained', import.meta.url)),
  server: { headers: ISOLATION_HEADERS },
  preview: { headers: ISOLATION_HEADERS },
  build: { target: 'es2022', chunkSizeWarningLimit: 2000 },
});
