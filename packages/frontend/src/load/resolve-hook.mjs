// Node module hooks (node:module register) for loading a user's model file
// from any folder of any project:
// - '@tessera/*' specifiers resolve from the anchors first (the loader's own
//   package, the CLI), so the model shares one instance of @tessera/frontend
//   with the loader (another copy would have its own Module class and trace
//   state); what they cannot see resolves from the model's project.
// - user TypeScript files (outside node_modules) load as ES modules whatever
//   package.json says, and are made JavaScript when nothing else in the
//   process does it: transpiled with TypeScript ('transpile'), or by Node's
//   own type stripping ('strip'); under tsx or vitest ('host') they are left
//   to it.
// Plain JavaScript because hooks run in a loader thread before any TS loader.
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** @type {{ anchors: string[], mode: 'host' | 'transpile' | 'strip', typescript?: string }} */
let settings = { anchors: [], mode: 'host' };
/** @type {any} the TypeScript compiler, loaded on the first file to transpile */
let ts;

/** Receives the settings from register()'s `data`. */
export async function initialize(data) {
  settings = data;
}

/**
 * The file a resolved URL names, without the queries a TypeScript loader
 * adds (tsx marks CommonJS files it would wrap, `helper.ts?tsx-...`), when it
 * is a user's TypeScript file.
 */
function plainFile(url) {
  if (!url.startsWith('file:')) return undefined;
  const path = fileURLToPath(url.split('?')[0]).split('?')[0];
  return /\.m?ts$/.test(path) && !path.includes('/node_modules/') ? path : undefined;
}

/** Resolves '@tessera/*' from the anchors first; loads user .ts/.mts files as ES modules. */
export async function resolve(specifier, context, nextResolve) {
  // Node 20 merges the context given to nextResolve into the one it passed here: the importer is restored for the last try.
  const own = { ...context };
  if (specifier.startsWith('@tessera/')) {
    for (const parentURL of settings.anchors) {
      try {
        return await nextResolve(specifier, { ...own, parentURL });
      } catch {
        // Not visible from this anchor: try the next, then the model's project.
      }
    }
  }
  const r = await nextResolve(specifier, own);
  const file = plainFile(r.url);
  return file ? { ...r, url: pathToFileURL(file).href, format: settings.mode === 'strip' ? 'module-typescript' : 'module' } : r;
}

/** Transpiles user TypeScript files with TypeScript in 'transpile' mode (inline source maps: errors point at the .ts lines). */
export async function load(url, context, nextLoad) {
  const file = settings.mode === 'transpile' ? plainFile(url) : undefined;
  if (file === undefined) return nextLoad(url, context);
  ts ??= createRequire(import.meta.url)(fileURLToPath(settings.typescript));
  const out = ts.transpileModule(await readFile(file, 'utf8'), {
    fileName: file,
    compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022, inlineSourceMap: true, inlineSources: true },
  });
  return { format: 'module', source: out.outputText, shortCircuit: true };
}
