/**
 * Tessera as a user gets it from npm: scripts/pack.sh builds and packs
 * every package (so the built output checked here is current), and the
 * tarballs are installed with npm into scratch projects outside the
 * repository (under os.tmpdir()). There, with only @tessera/compiler
 * installed: the node_modules holds no Dawn and no TypeScript; a plain
 * Node ES module app and a CommonJS app (require of the ES module) define
 * a model in the DSL, trace it, compile it for cpu and print outputs that
 * this test checks against its own float64 computation; a strict
 * TypeScript consumer (nodenext) type-checks with 0 errors; the ES module
 * app runs again on Node 24 (the binary of the npm package
 * node-<platform>-<arch>@24); WebGPU is a clear error naming `webgpu`
 * until `npm install webgpu`, and then works. With @tessera/cli and
 * typescript installed: `npx tessera --version`, `npx tessera compile
 * model.ts --emit ir`, and `tessera compare` with fast-check deleted.
 * With @tessera/compiler and @tessera/models installed: the browser app
 * (browser-app/app.ts) bundled from the installed packages with esbuild
 * runs in headless Chromium on cpu and webgpu (browser-app/serve-app.ts).
 */
import { type SpawnSyncReturns, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseProgram, printProgram, verify } from '@tessera/ir';
import * as repoCompiler from '@tessera/compiler';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nodeImports } from '../../backend-webgpu/test/browser/bundle.ts';
import { type AppBundle, bundleBrowserApp } from './browser-app/bundle-app.ts';
import { type AppServer, expectLikeNode, serveApp } from './browser-app/serve-app.ts';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const FIXTURES = fileURLToPath(new URL('./fixtures/install/', import.meta.url));
const TSC = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
const net = createRequire(import.meta.url)('./fixtures/install/net.cjs') as { INPUTS: Record<string, string>; traceNet: (t: typeof repoCompiler) => repoCompiler.Program };

/**
 * The environment of every command: this one without what pnpm sets for
 * the scripts it runs (npm_config_*, npm_package_*, ...), which npm would
 * read as its own configuration.
 */
const ENV = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(npm|pnpm)_/i.test(k)));

interface Ran {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs a command (bounded in time) and returns its exit code and output. */
function run(cmd: string, args: readonly string[], cwd: string, timeoutMs = 240_000): Ran {
  const r: SpawnSyncReturns<string> = spawnSync(cmd, args, { cwd, env: ENV, encoding: 'utf8', timeout: timeoutMs, maxBuffer: 64 << 20 });
  if (r.error) throw new Error(`${cmd} ${args.join(' ')} (in ${cwd}): ${r.error.message}`);
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Runs a command that must succeed; its output is in the error when it does not. */
function ok(cmd: string, args: readonly string[], cwd: string, timeoutMs?: number): Ran {
  const r = run(cmd, args, cwd, timeoutMs);
  if (r.code !== 0) throw new Error(`${cmd} ${args.join(' ')} (in ${cwd}) exited ${r.code}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`);
  return r;
}

const NPM_INSTALL = ['install', '--no-audit', '--no-fund', '--loglevel=error'];

/** Seeded values in [-1, 1) (mulberry32), so a failure can be rerun. */
function values(n: number, seed: number): number[] {
  let a = seed >>> 0;
  return Array.from({ length: n }, () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return Math.fround((((t ^ (t >>> 14)) >>> 0) / 4294967296) * 2 - 1);
  });
}

/** The model's weights and input (see fixtures/install/net.cjs), as the apps read them. */
const VALUES = {
  weights: { 'fc1.weight': values(7 * 5, 1), 'fc1.bias': values(7, 2), 'fc2.weight': values(4 * 7, 3), 'fc2.bias': values(4, 4) },
  x: values(3 * 5, 5),
};

/** y = x Wᵀ + b for row-major x [rows, k] and a PyTorch Linear's W [n, k], in float64. */
function linear(x: readonly number[], w: readonly number[], b: readonly number[], k: number): number[] {
  const n = b.length;
  const rows = x.length / k;
  return Array.from({ length: rows * n }, (_, i) => {
    const r = Math.floor(i / n);
    const j = i % n;
    let s = b[j]!;
    for (let t = 0; t < k; t++) s += x[r * k + t]! * w[j * k + t]!;
    return s;
  });
}

/** Softmax of each row of `n` values, in float64. */
function softmaxRows(v: readonly number[], n: number): number[] {
  const out: number[] = [];
  for (let r = 0; r < v.length / n; r++) {
    const row = v.slice(r * n, r * n + n);
    const m = Math.max(...row);
    const e = row.map((y) => Math.exp(y - m));
    const s = e.reduce((a, b) => a + b, 0);
    out.push(...e.map((y) => y / s));
  }
  return out;
}

/** The model's output on VALUES, computed here without Tessera. */
const EXPECTED = (() => {
  const w = VALUES.weights;
  const hidden = linear(VALUES.x, w['fc1.weight'], w['fc1.bias'], 5).map((h) => Math.max(h, 0));
  return softmaxRows(linear(hidden, w['fc2.weight'], w['fc2.bias'], 7), 4);
})();

/** Asserts an app printed the model's output, within f32 rounding of EXPECTED. */
function expectModelOutput(r: Ran): void {
  if (r.code !== 0) throw new Error(`the app exited ${r.code}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`);
  const printed = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as { outputs: Record<string, number[]> };
  expect(Object.keys(printed.outputs)).toEqual(['output']);
  const got = printed.outputs.output!;
  expect(got).toHaveLength(EXPECTED.length);
  got.forEach((g, i) => expect(Math.abs(g - EXPECTED[i]!), `element ${i}: ${g}, expected ${EXPECTED[i]}`).toBeLessThanOrEqual(1e-6 + 1e-5 * Math.abs(EXPECTED[i]!)));
}

/** The names of the packages under a node_modules folder, nested ones included. */
function installedPackages(nodeModules: string): string[] {
  const found = new Set<string>();
  const visit = (dir: string): void => {
    if (!existsSync(dir)) return;
    for (const entry of readdirSync(dir)) {
      const path = join(dir, entry);
      if (entry.startsWith('@')) visit(path);
      else if (existsSync(join(path, 'package.json'))) {
        found.add((JSON.parse(readFileSync(join(path, 'package.json'), 'utf8')) as { name: string }).name);
        visit(join(path, 'node_modules'));
      }
    }
  };
  visit(nodeModules);
  return [...found].sort();
}

/** The files under a folder whose names match. */
function filesMatching(dir: string, pattern: RegExp): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((f) => pattern.test(basename(f)));
}

/** The names of the packages pack.sh packs: every one under packages/ but the private studio app. */
function publishedPackages(): string[] {
  const manifests = readdirSync(join(ROOT, 'packages')).map((d) => JSON.parse(readFileSync(join(ROOT, 'packages', d, 'package.json'), 'utf8')) as { name: string; private?: boolean });
  return manifests.filter((m) => m.private !== true).map((m) => m.name);
}

const work = mkdtempSync(join(tmpdir(), 'tessera-install-'));
/** The tarball of each package, by name. */
const tarballs = new Map<string, string>();
/** Seconds, for the closing line: build and pack, npm install of @tessera/compiler, and from its start to the first result. */
const timings: Record<string, number> = {};

/** Creates a scratch project depending on `deps` (tarballs of ours by name, or registry ranges), every @tessera package coming from its tarball. */
function scratchProject(name: string, deps: Record<string, string>): string {
  const dir = join(work, name);
  mkdirSync(dir);
  const ours = Object.fromEntries([...tarballs].map(([n, file]) => [n, `file:${file}`]));
  const dependencies = Object.fromEntries(Object.entries(deps).map(([n, range]) => [n, ours[n] ?? range]));
  writeFileSync(join(dir, 'package.json'), `${JSON.stringify({ name: `tessera-install-${name}`, private: true, type: 'module', dependencies, overrides: ours }, null, 2)}\n`);
  for (const f of readdirSync(FIXTURES)) copyFileSync(join(FIXTURES, f), join(dir, f));
  writeFileSync(join(dir, 'values.json'), JSON.stringify(VALUES));
  return dir;
}

beforeAll(() => {
  const start = performance.now();
  const packed = ok('bash', [join(ROOT, 'scripts', 'pack.sh'), join(work, 'tarballs')], ROOT, 400_000);
  timings['build and pack'] = (performance.now() - start) / 1000;
  for (const file of packed.stdout.trim().split('\n')) {
    const m = /^tessera-(.+)-\d+\.\d+\.\d+\.tgz$/.exec(basename(file));
    if (m) tarballs.set(`@tessera/${m[1]}`, file);
  }
}, 420_000);

afterAll(() => {
  rmSync(work, { recursive: true, force: true });
  if (Object.keys(timings).length) console.log(`install check: ${Object.entries(timings).map(([k, v]) => `${k} ${v.toFixed(1)} s`).join(', ')}`);
});

describe('scripts/pack.sh', () => {
  it('writes one tarball per package, with workspace: ranges replaced by versions and exports pointing at built files', () => {
    expect([...tarballs.keys()].sort()).toEqual(publishedPackages().sort());
    const manifest = JSON.parse(ok('tar', ['-xzOf', tarballs.get('@tessera/compiler')!, 'package/package.json'], work).stdout) as {
      dependencies: Record<string, string>;
      exports: Record<string, unknown>;
    };
    const version = (JSON.parse(readFileSync(join(ROOT, 'packages/ir/package.json'), 'utf8')) as { version: string }).version;
    expect(manifest.dependencies['@tessera/ir']).toBe(version);
    expect(manifest.exports['.']).toEqual({ types: './dist/index.d.ts', import: './dist/index.js', default: './dist/index.js' });
    const listing = ok('tar', ['-tzf', tarballs.get('@tessera/cli')!], work).stdout.split('\n');
    expect(listing).toEqual(expect.arrayContaining(['package/dist/main.js', 'package/dist/main.d.ts', 'package/dist/main.js.map', 'package/LICENSE', 'package/README.md']));
    expect(listing.filter((f) => f.includes('/test/'))).toEqual([]);
  });
});

describe('a project with only @tessera/compiler installed', () => {
  let app: string;
  beforeAll(() => {
    app = scratchProject('compiler', { '@tessera/compiler': '' });
    const start = performance.now();
    ok('npm', NPM_INSTALL, app);
    timings['npm install @tessera/compiler'] = (performance.now() - start) / 1000;
    expectModelOutput(run(process.execPath, ['app.mjs', 'values.json'], app));
    timings['install to first result'] = (performance.now() - start) / 1000;
  }, 300_000);

  it('holds no Dawn binary and no TypeScript: only the compiler, the layers below it and the WebGPU type declarations', () => {
    const nodeModules = join(app, 'node_modules');
    expect(installedPackages(nodeModules)).toEqual(['@tessera/backend-cpu', '@tessera/backend-webgpu', '@tessera/compiler', '@tessera/frontend', '@tessera/ir', '@tessera/kernel', '@tessera/passes', '@webgpu/types']);
    expect(filesMatching(nodeModules, /\.node$/)).toEqual([]);
  });

  it('a plain node ES module app traces, compiles for cpu and computes the model', () => {
    expectModelOutput(run(process.execPath, ['app.mjs', 'values.json', 'cpu'], app));
  });

  it('a CommonJS app require()s the package and computes the same', () => {
    expectModelOutput(run(process.execPath, ['app.cjs', 'values.json', 'cpu'], app));
  });

  it('a strict TypeScript consumer (nodenext, no skipLibCheck) type-checks with 0 errors', () => {
    const r = run(process.execPath, [TSC, '-p', 'tsconfig.json'], app);
    expect(`${r.stdout}${r.stderr}`).toBe('');
    expect(r.code).toBe(0);
  });

  it('the ES module and CommonJS apps on Node 24 (the npm package node-<platform>-<arch>@24)', () => {
    const nodePackage = `node-${process.platform === 'win32' ? 'win' : process.platform}-${process.arch}@24`;
    const dir = join(work, 'node24');
    mkdirSync(dir);
    const tgz = ok('npm', ['pack', nodePackage, '--silent', '--pack-destination', dir], dir).stdout.trim().split('\n').at(-1)!;
    ok('tar', ['-xzf', join(dir, tgz), '-C', dir, 'package/bin/node'], dir);
    const node24 = join(dir, 'package', 'bin', 'node');
    expect(ok(node24, ['--version'], dir).stdout).toMatch(/^v24\./);
    expectModelOutput(run(node24, ['app.mjs', 'values.json', 'cpu'], app));
    expectModelOutput(run(node24, ['app.cjs', 'values.json', 'cpu'], app));
  });

  it('asking for WebGPU without the webgpu package is a TesseraError that names it and says how to install it', () => {
    const r = run(process.execPath, ['app.mjs', 'values.json', 'webgpu'], app);
    expect(r.code).toBe(1);
    const { error } = JSON.parse(r.stdout.trim()) as { error: { name: string; message: string; tessera: boolean } };
    expect(error).toMatchObject({ name: 'DawnMissingError', tessera: true });
    expect(error.message).toContain("needs the package 'webgpu'");
    expect(error.message).toContain('npm install webgpu');
  });

  describe('after npm install webgpu', () => {
    beforeAll(() => {
      ok('npm', [...NPM_INSTALL, 'webgpu'], app);
    }, 300_000);

    it('the same app runs the model on WebGPU (Dawn; llvmpipe without a GPU)', () => {
      expect(installedPackages(join(app, 'node_modules'))).toContain('webgpu');
      expectModelOutput(run(process.execPath, ['app.mjs', 'values.json', 'webgpu'], app));
    });
  });
});

describe('a project with @tessera/cli and typescript installed', () => {
  let project: string;
  beforeAll(() => {
    const ts = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { devDependencies: Record<string, string> }).devDependencies.typescript!;
    project = scratchProject('cli', { '@tessera/compiler': '', '@tessera/cli': '', typescript: ts });
    ok('npm', NPM_INSTALL, project);
    // npx runs the installed bin; were it missing, npx would fetch the unrelated npm package named `tessera`.
    expect(existsSync(join(project, 'node_modules', '.bin', 'tessera'))).toBe(true);
  }, 300_000);

  it('npx tessera --version prints the version of @tessera/cli', () => {
    const { version } = JSON.parse(readFileSync(join(ROOT, 'packages/cli/package.json'), 'utf8')) as { version: string };
    expect(ok('npx', ['tessera', '--version'], project).stdout).toBe(`${version}\n`);
  });

  it('npx tessera compile model.ts --emit ir traces the model file of the project (type-checked), and a type error is reported at its line', () => {
    const r = run('npx', ['tessera', 'compile', 'model.ts', '--emit', 'ir'], project);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const program = parseProgram(r.stdout);
    expect(verify(program)).toEqual([]);
    // The same graph as the model traced here (the program is named after the file).
    const body = (text: string): string => text.slice(text.indexOf('\n'));
    expect(body(printProgram(program))).toBe(body(printProgram(net.traceNet(repoCompiler))));

    writeFileSync(join(project, 'bad.ts'), readFileSync(join(project, 'model.ts'), 'utf8').replace('ops.softmax(', 'ops.softmax("last", '));
    const bad = run('npx', ['tessera', 'compile', 'bad.ts', '--emit', 'ir'], project);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/bad\.ts:\d+:\d+/);
  });

  it('tessera compare needs no fast-check: it runs with fast-check deleted from node_modules', () => {
    writeFileSync(join(project, 'net.tir'), printProgram(net.traceNet(repoCompiler)));
    rmSync(join(project, 'node_modules', 'fast-check'), { recursive: true, force: true });
    const r = run('npx', ['tessera', 'compare', 'net.tir', '--backends', 'cpu'], project);
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(/^cpu +output .* pass$/m);
    expect(r.code).toBe(0);
  });
});

describe('a browser app bundled from the tarballs (a project with @tessera/compiler and @tessera/models installed)', () => {
  let project: string;
  let app: AppBundle;
  let server: AppServer;
  beforeAll(async () => {
    project = scratchProject('browser', { '@tessera/compiler': '', '@tessera/models': '' });
    ok('npm', NPM_INSTALL, project);
    app = await bundleBrowserApp(project);
    server = await serveApp(app, project);
  }, 300_000);

  afterAll(async () => {
    await server?.close();
  });

  it('bundles the built files of the installed packages, with no node: import and nothing external', () => {
    expect(nodeImports(app.text)).toEqual([]);
    expect(app.externalImports).toEqual([]);
    const ours = app.inputs.filter((f) => f.includes('@tessera/'));
    expect(ours.length).toBeGreaterThan(0);
    // Every file of ours comes from an installed package's dist/, none from the workspace's sources.
    expect(ours.filter((f) => !/node_modules\/@tessera\/[^/]+\/dist\//.test(f))).toEqual([]);
    console.log(`browser app bundle from the tarballs: ${app.minifiedBytes} bytes minified, ${app.gzipBytes} gzipped`);
  });

  it('a cross-origin isolated page traces the models as Node does and runs the block on cpu (worker threads) and webgpu like the interpreter', async () => {
    const r = await server.runApp('isolated', ['cpu', 'webgpu']);
    expect(r.crossOriginIsolated).toBe(true);
    expect(r.cpuThreads).toBe(r.hardwareConcurrency);
    expectLikeNode(r, ['cpu', 'webgpu']);
  });
});
