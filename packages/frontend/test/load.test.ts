import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { OpTypeError, TesseraError } from '@tessera/ir';
import { afterAll, describe, expect, it } from 'vitest';
import { trace } from '../src/index.ts';
import { ModelTypeError, loadModelFile, traceModelFile, typeCheckFile } from '../src/node.ts';
import { isTesseraSource } from '../src/load/packages.ts';
import { positionOf } from './helpers.ts';

const ROOT = resolve(import.meta.dirname, '../../..');
const at = (rel: string) => join(ROOT, rel);
const tmp = mkdtempSync(join(tmpdir(), 'tessera-load-'));
// Files that import @tessera/frontend must sit in the repository for vitest's resolver (the CLI test covers other folders).
const inRepo = mkdtempSync(join(import.meta.dirname, '.tmp-load-'));
afterAll(() => {
  rmSync(tmp, { recursive: true, force: true });
  rmSync(inRepo, { recursive: true, force: true });
});

const MODEL = `import { Module, type Tensor, nn } from '@tessera/frontend';
class M extends Module {
  readonly fc = new nn.Linear(4, 2);
  forward(x: Tensor): Tensor {
    return this.fc.forward(x).softmax(-1);
  }
}
export const inputs = { x: 'f32[3,4]' };
export default () => new M();
`;

describe('loadModelFile', () => {
  it('loads and traces examples/mlp.ts', async () => {
    const m = await loadModelFile(at('examples/mlp.ts'));
    expect(m.inputs).toEqual({ x: 'f32[2,16]' });
    const p = trace(m.model, m.inputs);
    expect(p.inputs.map((i) => i.name)).toEqual(['x', 'fc1.weight', 'fc1.bias', 'norm.weight', 'norm.bias', 'fc2.weight', 'fc2.bias']);
    expect(p.nodes.map((n) => n.op)).toEqual(['transpose', 'matmul', 'add', 'gelu', 'layer_norm', 'transpose', 'matmul', 'add']);
    expect(p.nodes.at(-1)!.type).toEqual({ dtype: 'f32', shape: [2, 8] });
  });

  it('loads examples/tiny-encoder.ts: one pre-norm block, 3 heads of 4 over [2, 7, 12]', async () => {
    const m = await loadModelFile(at('examples/tiny-encoder.ts'), { typeCheck: false });
    const p = trace(m.model, m.inputs);
    const count = (op: string) => p.nodes.filter((n) => n.op === op).length;
    expect([count('attention'), count('layer_norm'), count('gelu'), count('matmul')]).toEqual([1, 2, 1, 4]);
    expect(p.nodes.find((n) => n.op === 'attention')!.type.shape).toEqual([2, 3, 7, 4]);
    expect(p.inputs.filter((i) => i.kind === 'parameter').map((i) => i.name)).toEqual([
      'self_attn.in_proj_weight',
      'self_attn.in_proj_bias',
      'self_attn.out_proj.weight',
      'self_attn.out_proj.bias',
      'linear1.weight',
      'linear1.bias',
      'linear2.weight',
      'linear2.bias',
      'norm1.weight',
      'norm1.bias',
      'norm2.weight',
      'norm2.bias',
    ]);
  });

  it('reports type errors as file:line:col: message, 1-based', async () => {
    const file = at('examples/errors/type-error.mts');
    const { line, col } = positionOf(file, "new nn.Linear('16'", "'16'");
    const err = await loadModelFile(file).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ModelTypeError);
    const te = err as ModelTypeError;
    expect(te.diagnostics.map((d) => [d.file, d.line, d.col, d.code])).toEqual([['examples/errors/type-error.mts', line, col, 2345]]);
    expect(te.message).toContain(`examples/errors/type-error.mts:${line}:${col}: Argument of type 'string' is not assignable to parameter of type 'number'.`);
  });

  it('lists every diagnostic of a file with several errors', () => {
    const file = join(tmp, 'two-errors.ts');
    writeFileSync(file, `const a: number = 'x';\nexport const b: string = 1;\nexport default a;\n`);
    const d = typeCheckFile(file);
    expect(d.map((x) => [x.line, x.col, x.code])).toEqual([
      [1, 7, 2322],
      [2, 14, 2322],
    ]);
  });

  it('throws shape errors while tracing at the user line of the model file', async () => {
    const file = at('examples/errors/shape-error.ts');
    const m = await loadModelFile(file, { typeCheck: false });
    const { line, col } = positionOf(file, 'this.fc2.forward(h)', 'forward(h)');
    let err: unknown;
    try {
      trace(m.model, m.inputs);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(OpTypeError);
    expect((err as Error).message).toMatch(new RegExp(`^examples/errors/shape-error\\.ts:${line}:${col}: matmul\\(f32\\[2,24\\], f32\\[32,8\\]\\): contraction extents differ`));
  });

  it('type-checks files outside the repository that import @tessera/frontend, as ES modules', () => {
    const plain = join(tmp, 'plain');
    const cjsScope = join(tmp, 'cjs');
    for (const [dir, pkg] of [
      [plain, undefined],
      [cjsScope, '{"name":"user-project"}'],
    ] as const) {
      mkdirSync(dir, { recursive: true });
      if (pkg) writeFileSync(join(dir, 'package.json'), pkg);
      writeFileSync(join(dir, 'm.ts'), MODEL);
      expect(typeCheckFile(join(dir, 'm.ts'))).toEqual([]);
    }
    // The same file with a mistake is caught, so the clean results above mean something.
    writeFileSync(join(cjsScope, 'bad.ts'), MODEL.replace('nn.Linear(4, 2)', 'nn.Linear(4, "2")'));
    expect(typeCheckFile(join(cjsScope, 'bad.ts')).map((d) => d.code)).toEqual([2345]);
  });

  it("knows Node's globals and modules when a model uses them (checked again with @types/node), and finds errors there too", () => {
    const usesNode = `import { readFileSync } from 'node:fs';
${MODEL}console.log('loaded', process.env.HOME, Buffer.byteLength('x'), typeof readFileSync);
`;
    writeFileSync(join(tmp, 'node-globals.ts'), usesNode);
    expect(typeCheckFile(join(tmp, 'node-globals.ts'))).toEqual([]);
    writeFileSync(join(tmp, 'node-error.ts'), `${usesNode}export const home: string = process.env.HOME;\n`);
    expect(typeCheckFile(join(tmp, 'node-error.ts')).map((d) => [d.line, d.code])).toEqual([[MODEL.split('\n').length + 2, 2322]]);
    // Without Node's types these would be errors: what the first check reports (names it cannot find), so the second is needed.
    writeFileSync(join(tmp, 'dom-only.ts'), `${MODEL}document.title = 'x';\n`);
    const dom = typeCheckFile(join(tmp, 'dom-only.ts'));
    expect(dom.map((d) => d.code)).toEqual([2584]);
    expect(dom[0]!.message).toMatch(/^Cannot find name 'document'\. .*\(Model files are checked with the ES2023 library and Node's types, without the DOM's\.\)$/);
  });

  it('explains a missing file, a wrong extension, a bad default export and bad inputs', async () => {
    const write = (dir: string, name: string, text: string) => {
      writeFileSync(join(dir, name), text);
      return join(dir, name);
    };
    await expect(loadModelFile(join(tmp, 'nope.ts'))).rejects.toThrow(/nope\.ts: no such file/);
    await expect(loadModelFile(write(tmp, 'm.js', 'export default 1;'))).rejects.toThrow(/expected a TypeScript model file/);
    await expect(loadModelFile(write(tmp, 'num.ts', 'export default 42;\nexport const inputs = {};\n'), { typeCheck: false })).rejects.toThrow(
      /the default export is number 42; expected a Module/,
    );
    await expect(loadModelFile(write(tmp, 'fn.ts', 'export default () => 1;\n'), { typeCheck: false })).rejects.toThrow(/function returning a Module/);
    await expect(loadModelFile(write(inRepo, 'noinputs.ts', MODEL.replace(/export const inputs.*\n/, '')), { typeCheck: false })).rejects.toThrow(
      /'inputs' export is undefined; expected export const inputs = \{ x: 'f32\[2,16\]', ... \}/,
    );
  });

  it('what the model code throws while loading or tracing is a TesseraError located at the user\'s line (or naming the file), an Error or not', async () => {
    const cases: [string, string, RegExp][] = [
      ['throw-number.ts', MODEL.replace('return this.fc.forward(x).softmax(-1);', 'throw 42;'), /^\S*throw-number\.ts: the model threw 42 while tracing \(not an Error, so no line is known\)$/],
      ['throw-object.ts', MODEL.replace('export default () => new M();', 'throw { reason: "x" };'), /^\S*throw-object\.ts: the model threw \{"reason":"x"\} while loading/],
      ['throw-in-factory.ts', MODEL.replace('export default () => new M();', 'export default () => { throw undefined; };'), /^\S*throw-in-factory\.ts: the model threw undefined while loading/],
      ['throw-error.ts', MODEL.replace('return this.fc.forward(x).softmax(-1);', 'throw new RangeError("no such size");'), /^\S*throw-error\.ts:5:11: error while tracing the model: RangeError: no such size$/],
      ['top-error.ts', MODEL.replace('export default () => new M();', 'const m: M | undefined = undefined;\nexport default () => m!.fc;\n(null as unknown as { f(): void }).f();'), /^\S*top-error\.ts:11:\d+: error while loading the model: TypeError: Cannot read properties of null/],
    ];
    for (const [name, text, message] of cases) {
      writeFileSync(join(inRepo, name), text);
      const err = await traceModelFile(join(inRepo, name), { typeCheck: false }).catch((e: unknown) => e);
      expect(err, name).toBeInstanceOf(TesseraError);
      expect((err as Error).message).toMatch(message);
    }
  });

  it('a forward returning an array is an error at its last op (the return statement is on no stack)', async () => {
    const text = MODEL.replace('return this.fc.forward(x).softmax(-1);', 'const y = this.fc.forward(x);\n    return [y, y.softmax(-1)] as unknown as Tensor;');
    writeFileSync(join(inRepo, 'array.ts'), text);
    const err = await traceModelFile(join(inRepo, 'array.ts'), { typeCheck: false }).catch((e: unknown) => e);
    const { line, col } = positionOf(join(inRepo, 'array.ts'), 'return [y', 'softmax');
    expect((err as TesseraError).loc).toMatchObject({ line, col });
    expect((err as Error).message).toMatch(new RegExp(`array\\.ts:${line}:${col}: forward returned an array of 2; expected a Tensor or a record of named Tensors \\(return \\{ a, b \\} to name several outputs\\)$`));
  });

  it('passes the config to a factory default export and to an inputs function; accepts a Module class', async () => {
    const factory = `import { Module, type Tensor, nn } from '@tessera/frontend';
class M extends Module {
  readonly fc: nn.Linear;
  constructor(d: number) {
    super();
    this.fc = new nn.Linear(d, 2);
  }
  forward(x: Tensor): Tensor {
    return this.fc.forward(x);
  }
}
export const inputs = (c: { d: number }) => ({ x: \`f32[3,\${c.d}]\` });
export default (c: { d: number }) => new M(c.d);
`;
    writeFileSync(join(inRepo, 'factory.ts'), factory);
    const m = await loadModelFile(join(inRepo, 'factory.ts'), { config: { d: 5 }, typeCheck: false });
    expect(m.inputs).toEqual({ x: 'f32[3,5]' });
    expect(trace(m.model, m.inputs).inputs.map((i) => i.type.shape)).toEqual([[3, 5], [2, 5], [2]]);
    writeFileSync(join(inRepo, 'klass.ts'), MODEL.replace('export default () => new M();', 'export default M;').replace('class M', 'export class M'));
    const k = await loadModelFile(join(inRepo, 'klass.ts'), { typeCheck: false });
    expect(k.model.constructor.name).toBe('M');
  });
});

describe('isTesseraSource (frames and files that are Tessera\'s own, not the user\'s)', () => {
  it("is true for a @tessera package's src/ and dist/, false for its tests and fixtures, the repository's examples and other projects", () => {
    expect(isTesseraSource(at('packages/frontend/src/tensor.ts'))).toBe(true);
    expect(isTesseraSource(at('packages/ir/src/ops/movement.ts'))).toBe(true);
    expect(isTesseraSource(at('packages/cli/test/fixtures/mixer.ts'))).toBe(false);
    expect(isTesseraSource(at('examples/mlp.ts'))).toBe(false);
    // An installed package (found by its package.json, wherever it is) and a user's project.
    const installed = join(tmp, 'proj', 'node_modules', '@tessera', 'kernel');
    mkdirSync(join(installed, 'dist'), { recursive: true });
    writeFileSync(join(installed, 'package.json'), '{"name":"@tessera/kernel"}');
    writeFileSync(join(tmp, 'proj', 'package.json'), '{"name":"@tesseract/app"}');
    expect(isTesseraSource(join(installed, 'dist', 'index.js'))).toBe(true);
    expect(isTesseraSource(join(tmp, 'proj', 'src', 'model.ts'))).toBe(false);
    expect(isTesseraSource(join(tmp, 'nowhere', 'model.ts'))).toBe(false);
  });
});
