/**
 * The loader's module hooks (src/load/resolve-hook.mjs) in a plain Node
 * process, as a built CLI runs them where nothing else runs TypeScript:
 * user files transpiled with TypeScript (any syntax, stack traces at the
 * .ts lines, ES modules whatever package.json says), and `@tessera/*`
 * resolved from the anchors before the model's project.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const tmp = mkdtempSync(join(tmpdir(), 'tessera-hook-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const HOOK = pathToFileURL(join(import.meta.dirname, '..', 'src', 'load', 'resolve-hook.mjs')).href;
const TYPESCRIPT = pathToFileURL(createRequire(import.meta.url).resolve('typescript')).href;

function put(rel: string, text: string): string {
  const path = join(tmp, rel);
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, text);
  return path;
}

/** Runs `driver` (an ES module) in a plain `node` process, without tsx or any other loader, and parses the JSON it prints. */
function runPlainNode(driver: string): Promise<unknown> {
  return new Promise((done, fail) => {
    execFile(process.execPath, [driver], { cwd: tmp, timeout: 60_000, env: { ...process.env, NODE_OPTIONS: '' } }, (err, stdout, stderr) => {
      if (err) fail(new Error(`${err.message}\n${stderr}`));
      else done(JSON.parse(stdout));
    });
  });
}

/** A driver that registers the hook with `data`, imports `model` and prints what `report` (an expression of `m`) evaluates to. */
function driver(name: string, data: object, model: string, report: string): string {
  return put(
    name,
    `import { register } from 'node:module';
process.setSourceMapsEnabled(true);
register(${JSON.stringify(HOOK)}, import.meta.url, { data: ${JSON.stringify(data)} });
const m = await import(${JSON.stringify(pathToFileURL(model).href)});
console.log(JSON.stringify(${report}));
`,
  );
}

describe('resolve-hook.mjs in a plain Node process', () => {
  it("'transpile': TypeScript beyond type stripping (enums, parameter properties) runs, in a CommonJS-scoped folder, with errors at the .ts lines", async () => {
    put('app/package.json', '{"type":"commonjs"}');
    put('app/types.ts', 'export interface Unused { readonly n: number }\n');
    put('app/helper.ts', 'export enum Scale {\n  Double = 2,\n}\nexport const twice = (x: number): number => x * Scale.Double;\n');
    const model = put(
      'app/model.ts',
      `import { twice } from './helper.ts';
import type { Unused } from './types.ts';

class Box {
  constructor(private readonly v: number) {}
  get value(): number {
    return twice(this.v);
  }
}
export const result: number = new Box(21).value;
export const unused: Unused | undefined = undefined;
export function fail(): never {
  throw new Error('boom');
}
`,
    );
    const lines = readFileSync(model, 'utf8').split('\n');
    const line = lines.findIndex((l) => l.includes("throw new Error('boom')")) + 1;
    const col = lines[line - 1]!.indexOf('new Error') + 1;
    const report = '{ result: m.result, where: (() => { try { m.fail(); } catch (e) { return e.stack.split("\\n")[1].trim(); } })() }';
    const out = await runPlainNode(driver('transpile.mjs', { mode: 'transpile', typescript: TYPESCRIPT, anchors: [] }, model, report));
    // Mapped back through the inline source map: the .ts file, line and column.
    expect(out).toEqual({ result: 42, where: `at Module.fail (${model}:${line}:${col})` });
  });

  it("'@tessera/*' resolves from the anchors first, then from the model's project; other packages from the project", async () => {
    const pkg = (dir: string, name: string, value: string) => {
      put(`${dir}/node_modules/${name}/package.json`, JSON.stringify({ name, type: 'module', exports: './index.js' }));
      put(`${dir}/node_modules/${name}/index.js`, `export const from = ${JSON.stringify(value)};\n`);
    };
    // The anchor (the CLI's install) has @tessera/a; the project has its own @tessera/a, and @tessera/b and other-lib.
    pkg('cli', '@tessera/a', 'cli');
    pkg('project', '@tessera/a', 'project');
    pkg('project', '@tessera/b', 'project');
    pkg('project', 'other-lib', 'project');
    put('project/package.json', '{"type":"module"}');
    const model = put('project/model.ts', "export { from as a } from '@tessera/a';\nexport { from as b } from '@tessera/b';\nexport { from as other } from 'other-lib';\n");
    const anchors = [pathToFileURL(join(tmp, 'cli', 'main.js')).href];
    const out = await runPlainNode(driver('anchors.mjs', { mode: 'transpile', typescript: TYPESCRIPT, anchors }, model, '{ a: m.a, b: m.b, other: m.other }'));
    expect(out).toEqual({ a: 'cli', b: 'project', other: 'project' });
  });
});
