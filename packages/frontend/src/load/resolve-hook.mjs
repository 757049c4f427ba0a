// Node module hooks (node:module register) for loading a user's model file
// from any folder: '@tessera/*' specifiers resolve to the workspace package
// entries, and user TypeScript files load as ES modules whatever package.json
// says, so the model shares one instance of @tessera/frontend with the CLI
// (a CommonJS copy would have its own Tensor class and trace state).
// Plain JavaScript because hooks run in a loader thread before any TS loader.
import { fileURLToPath, pathToFileURL } from 'node:url';

/** @type {Record<string, string>} package name -> entry file URL */
let packages = {};

/** Receives the package map from register()'s `data`. */
export async function initialize(data) {
  packages = data.packages;
}

/**
 * The file a resolved URL names, without the queries a TypeScript loader
 * adds (tsx marks CommonJS files it would wrap, `helper.ts?tsx-...`).
 */
function plainFile(url) {
  if (!url.startsWith('file:')) return undefined;
  const path = fileURLToPath(url.split('?')[0]).split('?')[0];
  return /\.m?ts$/.test(path) && !path.includes('/node_modules/') ? path : undefined;
}

/** Maps workspace package names; loads user .ts/.mts files (outside node_modules) as ES modules. */
export async function resolve(specifier, context, nextResolve) {
  const entry = packages[specifier];
  if (entry) return { url: entry, format: 'module', shortCircuit: true };
  const r = await nextResolve(specifier, context);
  const file = plainFile(r.url);
  return file ? { ...r, url: pathToFileURL(file).href, format: 'module' } : r;
}
