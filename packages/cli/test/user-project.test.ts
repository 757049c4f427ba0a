/**
 * `tessera` in a user's project outside the repository: scratch projects in
 * the system's temporary folder with the workspace packages installed in
 * their node_modules as npm places them (each package's sources copied, its
 * third-party dependencies linked) and a dependency of their own built on
 * the DSL; the installed CLI is spawned there (under tsx, as the sources are
 * TypeScript). Nothing may depend on the repository: not the resolution of
 * `@tessera/*`, not the type check, not the located errors. One project has
 * TypeScript (and @types/node) as its own dev dependencies, one does not.
 */
import { execFile } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { parseProgram, verify } from '@tessera/ir';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../../..');
const TSX = join(ROOT, 'node_modules', '.bin', 'tsx');

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

const tmp = mkdtempSync(join(tmpdir(), 'tessera-project-'));
/** A project with TypeScript installed. */
const project = join(tmp, 'project');
/** A project without TypeScript. */
const plain = join(tmp, 'plain-project');

/** Runs the CLI installed in `dir` (`npx tessera ARGS` there) and collects its exit code and output. */
function tessera(dir: string, ...args: string[]): Promise<Result> {
  return new Promise((done) => {
    execFile(TSX, [join(dir, 'node_modules', '@tessera', 'cli', 'src', 'main.ts'), ...args], { cwd: dir, timeout: 110_000 }, (err, stdout, stderr) => {
      done({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout, stderr });
    });
  });
}

/** Writes a file of a project. */
function put(dir: string, rel: string, text: string): void {
  mkdirSync(dirname(join(dir, rel)), { recursive: true });
  writeFileSync(join(dir, rel), text);
}

/** Links `dep` into `dir`/node_modules from where the repository's package `from` finds it (its own node_modules, else the root's). */
function link(dir: string, dep: string, from: string): void {
  const target = join(dir, 'node_modules', dep);
  if (existsSync(target)) return;
  const found = [join(from, 'node_modules', dep), join(ROOT, 'node_modules', dep)].find((d) => existsSync(d));
  if (!found) throw new Error(`${dep}: not installed in the repository`);
  mkdirSync(dirname(target), { recursive: true });
  symlinkSync(realpathSync(found), target, 'dir');
}

/**
 * Installs the workspace packages in `dir`/node_modules as npm would: each
 * one's package.json and sources copied under its name, its third-party
 * dependencies linked. TypeScript is never linked for a package: a project
 * has it only as its own dev dependency (`devDependencies`).
 */
function install(dir: string, devDependencies: readonly string[]): void {
  for (const d of readdirSync(join(ROOT, 'packages'))) {
    const src = join(ROOT, 'packages', d);
    const pj = JSON.parse(readFileSync(join(src, 'package.json'), 'utf8')) as { name: string; dependencies?: object; peerDependencies?: object };
    const target = join(dir, 'node_modules', pj.name);
    mkdirSync(target, { recursive: true });
    cpSync(join(src, 'package.json'), join(target, 'package.json'));
    cpSync(join(src, 'src'), join(target, 'src'), { recursive: true });
    for (const dep of Object.keys({ ...pj.dependencies, ...pj.peerDependencies })) if (!dep.startsWith('@tessera/') && dep !== 'typescript') link(dir, dep, src);
  }
  for (const dep of devDependencies) link(dir, dep, ROOT);
}

/** A dependency of the project (plain JavaScript with declarations, as published packages are) that builds on the DSL. */
const BLOCKS_JS = `import { Module, nn } from '@tessera/frontend';
export class Block extends Module {
  constructor(d) {
    super();
    this.fc = new nn.Linear(d, d);
  }
  forward(x) {
    return this.fc.forward(x).tanh();
  }
}
`;
const BLOCKS_DTS = `import { Module, type Tensor, nn } from '@tessera/frontend';
export declare class Block extends Module {
  readonly fc: nn.Linear;
  constructor(d: number);
  forward(x: Tensor): Tensor;
}
`;

/** The user's model: the DSL, a value and a type from @tessera/compiler, the project's own dependency, a parameter property. */
const MODEL = `import { type BackendName, availableBackends } from '@tessera/compiler';
import { Module, type Tensor, nn } from '@tessera/frontend';
import { Block } from 'user-blocks';

/** Where this model runs: a type of @tessera/compiler, checked against what it offers. */
export const backend: BackendName = 'cpu';
if (!availableBackends().includes(backend)) throw new Error('no cpu backend');

class Net extends Module {
  readonly block = new Block(8);
  readonly head: nn.Linear;
  constructor(private readonly classes: number) {
    super();
    this.head = new nn.Linear(8, this.classes);
  }
  forward(x: Tensor): Tensor {
    return this.head.forward(this.block.forward(x)).softmax(-1);
  }
}

export const inputs = { x: 'f32[2,8]' };
export default () => new Net(3);
`;

/** The spawned runs, started together (each in its own process). */
const runs: Record<string, Promise<Result>> = {};
beforeAll(() => {
  for (const [dir, dev] of [
    [project, ['typescript', '@types/node']],
    [plain, []],
  ] as const) {
    put(dir, 'package.json', '{"name":"user-project","private":true,"type":"module"}');
    install(dir, dev);
    put(dir, 'node_modules/user-blocks/package.json', '{"name":"user-blocks","type":"module","exports":{".":{"types":"./index.d.ts","default":"./index.js"}}}');
    put(dir, 'node_modules/user-blocks/index.js', BLOCKS_JS);
    put(dir, 'node_modules/user-blocks/index.d.ts', BLOCKS_DTS);
    put(dir, 'src/model.ts', MODEL);
  }
  put(project, 'src/bad.ts', MODEL.replace('new nn.Linear(8, this.classes)', "new nn.Linear(8, 'three')"));
  runs.model = tessera(project, 'compile', 'src/model.ts', '--emit', 'ir');
  runs.bad = tessera(project, 'compile', 'src/bad.ts');
  runs.timings = tessera(project, 'compile', 'src/model.ts', '--emit', 'kernels', '--timings');
  runs.reshaped = tessera(project, 'compile', 'src/model.ts', '--input', 'x=f32[5,8]', '--no-typecheck');
  runs.unknownInput = tessera(project, 'compile', 'src/model.ts', '--input', 'y=f32[5,8]', '--no-typecheck');
  runs.otherDtype = tessera(project, 'compile', 'src/model.ts', '--input', 'x=i32[2,8]', '--no-typecheck');
  runs.noTypeScript = tessera(plain, 'compile', 'src/model.ts', '--emit', 'ir');
  runs.noTypeScriptNoCheck = tessera(plain, 'compile', 'src/model.ts', '--emit', 'ir', '--no-typecheck');
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** 1-based line and column of `needle` in a project file. */
function positionOf(rel: string, needle: string): { line: number; col: number } {
  const lines = readFileSync(join(project, rel), 'utf8').split('\n');
  const i = lines.findIndex((l) => l.includes(needle));
  return { line: i + 1, col: lines[i]!.indexOf(needle) + 1 };
}

describe('tessera compile in a project outside the repository', () => {
  it('type-checks and compiles a model importing @tessera/frontend, @tessera/compiler and a dependency of the project', async () => {
    const r = await runs.model!;
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const p = parseProgram(r.stdout, 'emitted');
    expect(verify(p)).toEqual([]);
    expect(p.name).toBe('model');
    // The dependency's module is one of the model's: the same Module class, the same trace.
    expect(p.inputs.map((i) => i.name)).toEqual(['x', 'block.fc.weight', 'block.fc.bias', 'head.weight', 'head.bias']);
    expect(p.nodes.map((n) => n.op)).toEqual(['transpose', 'matmul', 'add', 'tanh', 'transpose', 'matmul', 'add', 'softmax']);
    expect(p.outputs.map((o) => o.value)).toHaveLength(1);
  });

  it('reports a type error as file:line:col: message, exit 1', async () => {
    const r = await runs.bad!;
    const { line, col } = positionOf('src/bad.ts', "'three'");
    expect([r.code, r.stdout]).toEqual([1, '']);
    expect(r.stderr).toBe(`src/bad.ts:${line}:${col}: Argument of type 'string' is not assignable to parameter of type 'number'. (TS2345)\nsrc/bad.ts: 1 type error\n`);
  });

  it('--timings prints the start-up, type check, load, trace, each pass and emit on stderr; stdout keeps only the output', async () => {
    const r = await runs.timings!;
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^kernels @model\n/);
    const rows = [...r.stderr.matchAll(/^( *)(\S+(?: \S+)*) +(\d+\.\d)$/gm)].map((m) => ({ depth: m[1]!.length / 2 - 1, name: m[2]!, ms: Number(m[3]) }));
    expect(r.stderr.startsWith('timings (ms):\n')).toBe(true);
    expect(rows.map((x) => `${'  '.repeat(x.depth)}${x.name}`)).toEqual([
      'startup',
      'type check',
      'load',
      'trace',
      'passes',
      '  canonicalize',
      '  decompose-composites',
      '  fuse',
      '  plan-memory',
      'emit',
      'total',
    ]);
    for (const x of rows) expect(x.ms).toBeGreaterThanOrEqual(0);
    const top = rows.filter((x) => x.depth === 0 && x.name !== 'total').reduce((s, x) => s + x.ms, 0);
    expect(Math.abs(rows.at(-1)!.ms - top)).toBeLessThan(0.5);
    // The passes include the verification after each of them: at least the sum of the passes' own times.
    const passes = rows.find((x) => x.name === 'passes')!.ms;
    expect(passes + 0.5).toBeGreaterThanOrEqual(rows.filter((x) => x.depth === 1).reduce((s, x) => s + x.ms, 0));
  });

  it("--input gives a model file's input another shape; an unknown input or another dtype is an error naming the file", async () => {
    const r = await runs.reshaped!;
    expect(r.stderr).toBe('');
    expect(parseProgram(r.stdout, 'emitted').inputs[0]!.type).toEqual({ dtype: 'f32', shape: [5, 8] });
    expect(await runs.unknownInput).toEqual({ code: 1, stdout: '', stderr: "src/model.ts: no input 'y' to set the type of (the model's inputs: x)\n" });
    expect(await runs.otherDtype).toEqual({ code: 1, stdout: '', stderr: 'src/model.ts: input \'x\' is f32[2,8]; it can be given another shape, not the dtype i32\n' });
  });

  it('without TypeScript installed: compiles all the same, and says once that the type check was skipped and what to install', async () => {
    const r = await runs.noTypeScript!;
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('tessera: note: model files are not type-checked: the typescript package is not installed (npm install --save-dev typescript)\n');
    expect(r.stdout).toBe((await runs.model!).stdout);
    // Asked not to check, there is nothing to say.
    expect(await runs.noTypeScriptNoCheck).toEqual({ code: 0, stdout: r.stdout, stderr: '' });
  });
});
