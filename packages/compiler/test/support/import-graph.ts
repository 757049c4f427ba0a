/**
 * The module graph of a package entry as esbuild resolves it for a
 * platform (through the packages' `exports` and that platform's
 * conditions): which source files it reaches, what each imports, and which
 * specifiers outside the workspace it leaves to the runtime. What the
 * browser-entry and import-cycle tests check. esbuild drops type-only
 * imports (the repository compiles with verbatimModuleSyntax, so every
 * import without `type` is a runtime one and is kept), so the graph is the
 * runtime graph.
 */
import { builtinModules } from 'node:module';
import { fileURLToPath } from 'node:url';
import { type EsbuildImport, loadEsbuild } from '../../../backend-webgpu/test/browser/bundle.ts';

/** The repository root: esbuild names source files relative to it. */
export const REPO_ROOT = fileURLToPath(new URL('../../../../', import.meta.url));

/** The entry module's name in the graph. */
export const ENTRY = '<entry>';

/** Every module reached from the entry, with its imports (resolved files, or external specifiers). */
export type ModuleGraph = ReadonlyMap<string, readonly EsbuildImport[]>;

/** Node's built-in modules, with and without the `node:` prefix. */
export function isNodeBuiltin(specifier: string): boolean {
  return specifier.startsWith('node:') || builtinModules.includes(specifier);
}

/**
 * The graph of `specifier` (a package name or subpath, as a user imports
 * it) resolved from `resolveDir` for `platform`. Only `@tessera/*` packages
 * and their files are followed; every other bare specifier (Node built-ins,
 * npm packages) is left external and recorded where it is imported.
 */
export async function moduleGraph(specifier: string, platform: 'browser' | 'node', resolveDir = REPO_ROOT): Promise<ModuleGraph> {
  const outsideWorkspace = {
    name: 'outside-workspace',
    setup(build: { onResolve(o: { filter: RegExp }, f: (a: { path: string }) => { path: string; external: boolean } | undefined): void }) {
      build.onResolve({ filter: /^[^./]/ }, (a) => (a.path.startsWith('@tessera/') ? undefined : { path: a.path, external: true }));
    },
  };
  const out = await loadEsbuild().build({
    stdin: { contents: `export * from '${specifier}';`, resolveDir, loader: 'js', sourcefile: ENTRY },
    bundle: true,
    format: 'esm',
    platform,
    target: 'es2022',
    absWorkingDir: REPO_ROOT,
    write: false,
    metafile: true,
    logLevel: 'silent',
    plugins: [outsideWorkspace],
  });
  return new Map(Object.entries(out.metafile.inputs).map(([file, m]) => [file, m.imports]));
}

/** An import of a specifier outside the workspace: which module makes it, how, and the chain of imports from the entry that reaches it. */
export interface ExternalImport {
  readonly specifier: string;
  readonly kind: string;
  readonly chain: readonly string[];
}

/** Every external import in the graph, each with the shortest chain of modules from the entry to its importer. */
export function externalImports(graph: ModuleGraph): ExternalImport[] {
  const via = new Map<string, string | undefined>([[ENTRY, undefined]]);
  const queue = [ENTRY];
  for (let i = 0; i < queue.length; i++) {
    for (const imp of graph.get(queue[i]!) ?? []) {
      if (imp.external || via.has(imp.path)) continue;
      via.set(imp.path, queue[i]);
      queue.push(imp.path);
    }
  }
  const chainTo = (file: string): string[] => {
    const chain: string[] = [];
    for (let f: string | undefined = file; f !== undefined; f = via.get(f)) chain.unshift(f);
    return chain;
  };
  return queue.flatMap((file) => (graph.get(file) ?? []).filter((imp) => imp.external).map((imp) => ({ specifier: imp.path, kind: imp.kind, chain: chainTo(file) })));
}

/** How an external import reads in a failure message: `a.ts -> b.ts imports node:fs (import-statement)`. */
export function describeImport(e: ExternalImport): string {
  return `${e.chain.join(' -> ')} imports ${e.specifier} (${e.kind})`;
}

/**
 * The runtime import cycles among the graph's modules (strongly connected
 * components of more than one module, or a module importing itself), each
 * sorted. Dynamic imports are left out: they run after every module has
 * been evaluated, so they cannot see one half-initialised.
 */
export function runtimeCycles(graph: ModuleGraph): string[][] {
  const edges = (file: string) => (graph.get(file) ?? []).filter((i) => !i.external && i.kind !== 'dynamic-import').map((i) => i.path);
  // Tarjan's algorithm, iterative so deep graphs cannot overflow the stack.
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const cycles: string[][] = [];
  for (const root of graph.keys()) {
    if (index.has(root)) continue;
    const work: { file: string; next: number }[] = [{ file: root, next: 0 }];
    index.set(root, index.size);
    low.set(root, index.get(root)!);
    stack.push(root);
    onStack.add(root);
    while (work.length > 0) {
      const top = work[work.length - 1]!;
      const out = edges(top.file);
      if (top.next < out.length) {
        const to = out[top.next++]!;
        if (!index.has(to)) {
          index.set(to, index.size);
          low.set(to, index.get(to)!);
          stack.push(to);
          onStack.add(to);
          work.push({ file: to, next: 0 });
        } else if (onStack.has(to)) {
          low.set(top.file, Math.min(low.get(top.file)!, index.get(to)!));
        }
        continue;
      }
      work.pop();
      const parent = work[work.length - 1];
      if (parent) low.set(parent.file, Math.min(low.get(parent.file)!, low.get(top.file)!));
      if (low.get(top.file) !== index.get(top.file)) continue;
      const component: string[] = [];
      let f: string;
      do {
        f = stack.pop()!;
        onStack.delete(f);
        component.push(f);
      } while (f !== top.file);
      if (component.length > 1 || out.includes(top.file)) cycles.push(component.sort());
    }
  }
  return cycles;
}
