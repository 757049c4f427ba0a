// Node module hooks (node:module register) for loading a user's model file
// from any folder: '@tessera/*' specifiers resolve to the workspace package
// entries, and user TypeScript files load as ES modules whatever package.json
// says, so the model shares one instance of @tessera/frontend with the CLI
// (a CommonJS copy would have its own Tensor class and trace state).
// Plain JavaScript because hooks run in a loader thread before any TS loader.

/** @type {Record<string, string>} package name -> entry file URL */
let packages = {};

/** Receives the package map from register()'s `data`. */
export async function initialize(data) {
  packages = data.packages;
}

/** Maps workspace package names; marks user .ts/.mts files (outside node_modules) as ES modules. */
export async function resolve(specifier, context, nextResolve) {
  const entry = packages[specifier];
  if (entry) return { url: entry, format: 'module', shortCircuit: true };
  const r = await nextResolve(specifier, context);
  if (r.url.startsWith('file:') && /\.m?ts$/.test(r.url) && !r.url.includes('/node_modules/')) return { ...r, format: 'module' };
  return r;
}
