/**
 * The browser app's build step: app.ts bundled with esbuild, minified, as an
 * app ships, with its `@tessera/*` imports resolved from a directory of the
 * caller's choosing: the workspace (the packages' sources), or a scratch
 * project where the packed tarballs are installed (the packages as npm
 * users get them). Its size is measured as served: minified, and gzipped.
 */
import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { type BrowserBundle, bundleForBrowser } from '../../../backend-webgpu/test/browser/bundle.ts';

/** The app's source file. */
export const APP_SOURCE = new URL('./app.ts', import.meta.url);

/** The app's bundle and its size in bytes: minified, and gzipped (level 9, as a server precompresses). */
export interface AppBundle extends BrowserBundle {
  readonly minifiedBytes: number;
  readonly gzipBytes: number;
}

/** Bundles the app (ES module, platform browser, minified), resolving packages from `packagesDir`. */
export async function bundleBrowserApp(packagesDir: string): Promise<AppBundle> {
  const bundle = await bundleForBrowser({ source: readFileSync(APP_SOURCE, 'utf8'), resolveDir: packagesDir }, { minify: true });
  const bytes = new TextEncoder().encode(bundle.text);
  return { ...bundle, minifiedBytes: bytes.length, gzipBytes: gzipSync(bytes, { level: 9 }).length };
}
