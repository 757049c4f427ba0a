import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseProgram, verify } from '@tessera/ir';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UsageError } from '../src/command.ts';
import { parseCompileArgs } from '../src/commands/compile.ts';
import { configModel, programNameFor } from '../src/model-source.ts';

const ROOT = resolve(import.meta.dirname, '../../..');
const TSX = join(ROOT, 'node_modules', '.bin', 'tsx');
const MAIN = join(ROOT, 'packages', 'cli', 'src', 'main.ts');

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a command and collects its exit code and output. */
function spawn(cmd: string, args: readonly string[], cwd = ROOT): Promise<Result> {
  return new Promise((done) => {
    execFile(cmd, args, { cwd, timeout: 110_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
      done({ code, stdout, stderr });
    });
  });
}

/** 1-based line and column of `needle` on the first line containing it. */
function positionOf(file: string, needle: string): { line: number; col: number } {
  const lines = readFileSync(file, 'utf8').split('\n');
  const i = lines.findIndex((l) => l.includes(needle));
  return { line: i + 1, col: lines[i]!.indexOf(needle) + 1 };
}

const tmp = mkdtempSync(join(tmpdir(), 'tessera-compile-'));
const outside = join(tmp, 'outside');
const cjsScope = join(tmp, 'cjs-scope');
const MODEL = `import { Module, type Tensor, nn, ops } from '@tessera/frontend';
class Tiny extends Module {
  readonly proj = new nn.Linear(6, 6);
  readonly attn = new nn.MultiHeadAttention(6, 2);
  forward(x: Tensor, mask: Tensor): Tensor {
    return ops.gelu(this.attn.forward(this.proj.forward(x), x, x, { keyPaddingMask: mask }));
  }
}
export const inputs = { x: 'f32[1,5,6]', mask: 'bool[1,5]' };
export default () => new Tiny();
`;

// The spawned compiles run together, each in its own process. Type-checking costs a
// few CPU seconds per run, so runs whose subject is not the TypeScript check skip it.
const runs: Record<string, Promise<Result>> = {};
beforeAll(() => {
  mkdirSync(outside);
  mkdirSync(cjsScope);
  writeFileSync(join(outside, 'm.ts'), MODEL);
  writeFileSync(join(cjsScope, 'package.json'), '{"name":"user-project","version":"1.0.0"}');
  writeFileSync(join(cjsScope, 'm.ts'), MODEL.replace("from '@tessera/frontend';", "from '@tessera/frontend';\nimport { helper } from './helper.ts';").replace('ops.gelu(', 'helper('));
  writeFileSync(join(cjsScope, 'helper.ts'), "import { type Tensor, ops } from '@tessera/frontend';\nexport const helper = (t: Tensor): Tensor => ops.gelu(t);\n");
  runs.mlp = spawn('npx', ['tsx', 'packages/cli/src/main.ts', 'compile', 'examples/mlp.ts', '--emit', 'ir']);
  runs.encoder = spawn('npx', ['tsx', 'packages/cli/src/main.ts', 'compile', 'examples/tiny-encoder.ts', '-o', join(tmp, 'enc.tir'), '--no-typecheck']);
  runs.shape = spawn('npx', ['tsx', 'packages/cli/src/main.ts', 'compile', 'examples/errors/shape-error.ts', '--no-typecheck']);
  runs.type = spawn('npx', ['tsx', 'packages/cli/src/main.ts', 'compile', 'examples/errors/type-error.mts']);
  runs.outside = spawn(TSX, [MAIN, 'compile', 'm.ts'], outside);
  runs.kernels = spawn(TSX, [MAIN, 'compile', 'examples/mlp.ts', '--emit', 'kernels', '--no-typecheck']);
  runs.code = spawn(TSX, [MAIN, 'compile', 'examples/tiny-encoder.ts', '--backend', 'cpu', '--emit', 'code', '--no-typecheck']);
  runs.wgsl = spawn(TSX, [MAIN, 'compile', 'examples/tiny-encoder.ts', '--backend', 'webgpu', '--emit', 'code', '--no-typecheck']);
  runs.cjsScope = spawn(TSX, [MAIN, 'compile', join(cjsScope, 'm.ts'), '--emit=ir', '--name', 'user_model', '--no-typecheck']);
  // A model that logs at load time and while tracing, and one that throws a non-Error.
  writeFileSync(join(outside, 'logs.ts'), `console.log('loading');\n${MODEL.replace('return ops.gelu(', "console.log('tracing', x.shape);\n    console.info('info');\n    console.table([1]);\n    return ops.gelu(")}`);
  writeFileSync(join(outside, 'throws.ts'), MODEL.replace('return ops.gelu(', 'throw 42;\n    return ops.gelu('));
  runs.logs = spawn(TSX, [MAIN, 'compile', 'logs.ts', '--emit', 'ir', '--no-typecheck'], outside);
  runs.throws = spawn(TSX, [MAIN, 'compile', 'throws.ts', '--no-typecheck'], outside);
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** Parses emitted IR text and checks it verifies (what `tessera ir check` does). */
function parseValid(text: string) {
  const p = parseProgram(text, 'emitted');
  expect(verify(p)).toEqual([]);
  return p;
}

describe('tessera compile (spawned)', () => {
  it('prints examples/mlp.ts as IR text that parses and verifies', async () => {
    const r = await runs.mlp!;
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const p = parseValid(r.stdout);
    expect(p.name).toBe('mlp');
    expect(p.inputs.map((i) => `${i.kind === 'parameter' ? 'param' : 'input'} ${i.name}`)).toEqual([
      'input x',
      'param fc1.weight',
      'param fc1.bias',
      'param norm.weight',
      'param norm.bias',
      'param fc2.weight',
      'param fc2.bias',
    ]);
    expect(p.nodes.map((n) => n.op)).toContain('gelu');
    expect(p.outputs.map((o) => o.name)).toEqual(['output']);
  });

  it('writes examples/tiny-encoder.ts to -o as valid IR', async () => {
    const r = await runs.encoder!;
    expect(r.stderr).toBe('');
    expect([r.code, r.stdout]).toEqual([0, '']);
    const p = parseValid(readFileSync(join(tmp, 'enc.tir'), 'utf8'));
    expect(p.name).toBe('tiny_encoder');
    expect(p.nodes.filter((n) => n.op === 'attention').map((n) => n.type.shape)).toEqual([[2, 3, 7, 4]]);
    expect(p.inputs.map((i) => i.name)).toContain('self_attn.in_proj_weight');
  });

  it('reports a shape error at the model line, exit 1', async () => {
    const r = await runs.shape!;
    const { line, col } = positionOf(join(ROOT, 'examples/errors/shape-error.ts'), 'forward(h)');
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(new RegExp(`^examples/errors/shape-error\\.ts:${line}:${col}: matmul\\(f32\\[2,24\\], f32\\[32,8\\]\\): contraction extents differ`));
  });

  it('reports type errors as file:line:col, exit 1', async () => {
    const r = await runs.type!;
    const { line, col } = positionOf(join(ROOT, 'examples/errors/type-error.mts'), "'16'");
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain(`examples/errors/type-error.mts:${line}:${col}: Argument of type 'string' is not assignable to parameter of type 'number'.`);
  });

  it('compiles a model file outside the repository (no package.json above it)', async () => {
    const r = await runs.outside!;
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const p = parseValid(r.stdout);
    expect(p.inputs.map((i) => i.name)).toEqual(['x', 'mask', 'proj.weight', 'proj.bias', 'attn.in_proj_weight', 'attn.in_proj_bias', 'attn.out_proj.weight', 'attn.out_proj.bias']);
  });

  it("a model's console output goes to stderr: stdout stays valid IR", async () => {
    const r = await runs.logs!;
    expect(r.code).toBe(0);
    expect(parseValid(r.stdout).name).toBe('logs');
    expect(r.stderr).toMatch(/^loading\ntracing \[ 1, 5, 6 \]\ninfo\n/);
  });

  it('a model that throws a non-Error: exit 1, the file named, no internal error or stack trace', async () => {
    const r = await runs.throws!;
    expect([r.code, r.stdout]).toEqual([1, '']);
    expect(r.stderr).toBe('throws.ts: the model threw 42 while tracing (not an Error, so no line is known)\n');
  });

  it('prints the kernel program with --emit kernels', async () => {
    const r = await runs.kernels!;
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^kernels @mlp\narena \d+ bytes\n/);
    expect(r.stdout).toContain('buffer %x : f32[2,16] input');
    // Every temporary shows its byte range in the arena (what one needs to debug a memory plan).
    const temps = r.stdout.split('\n').filter((l) => / temp/.test(l));
    expect(temps.length).toBeGreaterThan(0);
    for (const t of temps) expect(t).toMatch(/ temp arena\[\d+, \d+\)$/);
    expect(r.stdout).toMatch(/kernel k0_matmul matmul batch \[\] m=2 n=32 k=16/);
    expect(r.stdout).toMatch(/\noutput output = %/);
  });

  it('prints readable generated JavaScript with --backend cpu --emit code, which compiles', async () => {
    const r = await runs.code!;
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const functions = r.stdout.match(/^function k\d+_\w+\(/gm) ?? [];
    expect(functions.length).toBeGreaterThanOrEqual(5);
    expect(r.stdout).toMatch(/^function k\d+_attention\(/m);
    expect(r.stdout).toMatch(/\/\/ b0 = %x : f32\[2,7,12\] input/);
    // The printed text is valid JavaScript (helpers and scratch are declared as comments or functions).
    expect(() => new Function(r.stdout)).not.toThrow();
  });

  it('prints WGSL with --backend webgpu --emit code: one compute shader per kernel, in launch order, with bindings named after the buffers', async () => {
    const r = await runs.wgsl!;
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^\/\/ WGSL for WebGPU's guaranteed limits/);
    const kernels = [...r.stdout.matchAll(/^\/\/ kernel (k\d+)_\w+ \((\w+):/gm)].map((m) => m[1]);
    expect(kernels.length).toBeGreaterThanOrEqual(5);
    expect(kernels).toEqual(kernels.map((_, i) => `k${i}`));
    expect((r.stdout.match(/^@compute @workgroup_size/gm) ?? []).length).toBe(kernels.length);
    expect(r.stdout).toMatch(/\(matmul:tiled /);
    expect(r.stdout).toMatch(/var<storage, read> b0: array<f32>; \/\/ %x f32\[2,7,12\] input/);
  });

  it('compiles a multi-file model in a CommonJS-scoped folder as ES modules', async () => {
    const r = await runs.cjsScope!;
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const p = parseValid(r.stdout);
    expect(p.name).toBe('user_model');
    expect(p.nodes.map((n) => n.op)).toContain('gelu');
  });
});

describe('compile arguments', () => {
  it('parses FILE, --emit, -o/--out, --name, --no-typecheck and --timings', () => {
    const defaults = { emit: 'ir', backend: 'cpu', disabled: [], json: false, timings: false };
    const file = (path: string, typeCheck = true, inputs = {}) => ({ source: { kind: 'file', path }, inputs, typeCheck });
    expect(parseCompileArgs(['m.ts'])).toEqual({ model: file('m.ts'), ...defaults });
    expect(parseCompileArgs(['--emit=ir', 'm.ts', '-o', 'out.tir', '--name', 'n', '--no-typecheck', '--timings'])).toEqual({
      model: file('m.ts', false),
      emit: 'ir',
      out: 'out.tir',
      name: 'n',
      backend: 'cpu',
      disabled: [],
      json: false,
      timings: true,
    });
    expect(parseCompileArgs(['--config', 'c.json', '--input', 'src=i64[2,9]', '--input=tgt=i32[2,5]', '--disable-pass', 'fuse', '--emit', 'stats', '--json'])).toEqual({
      ...defaults,
      model: configModel('c.json', { src: { dtype: 'i64', shape: [2, 9] }, tgt: { dtype: 'i32', shape: [2, 5] } }),
      emit: 'stats',
      json: true,
      disabled: ['fuse'],
    });
    // A model file's inputs can be given other shapes too; an IR program declares its own.
    expect(parseCompileArgs(['m.ts', '--input', 'x=f32[4,16]']).model).toEqual(file('m.ts', true, { x: { dtype: 'f32', shape: [4, 16] } }));
    expect(parseCompileArgs(['p.tir']).model.source).toEqual({ kind: 'program', path: 'p.tir' });
    expect(() => parseCompileArgs(['p.tir', '--input', 'x=f32[1]'])).toThrow('--input sets the input types of a model file or --config model; the program p.tir declares its own');
    expect(() => parseCompileArgs(['--config', 'c.json', '--disable-pass', 'nope'])).toThrow("unknown pass 'nope' for --disable-pass (passes: canonicalize, decompose-composites, fuse, plan-memory)");
    expect(() => parseCompileArgs(['--config', 'c.json', '--input', 'src=i64[2,x]'])).toThrow("--input 'src=i64[2,x]': expected NAME=DTYPE[SHAPE]");
    expect(() => parseCompileArgs(['m.ts', '--config', 'c.json'])).toThrow('--config takes no model file as well, got m.ts');
    expect(() => parseCompileArgs(['m.ts', '--backend', 'gpu'])).toThrow("unknown --backend 'gpu' (expected one of cpu, webgpu)");
    expect(parseCompileArgs(['--out', 'x', 'm.ts']).out).toBe('x');
  });
  it('rejects unknown forms and options, missing values and file counts', () => {
    expect(() => parseCompileArgs(['m.ts', '--emit', 'png'])).toThrow(new UsageError("unknown --emit form 'png' (expected one of ir, kernels, code, wat, dot, svg, html, stats)"));
    expect(() => parseCompileArgs(['m.ts', '--emit', 'svg', '--after', 'fusion'])).toThrow(new UsageError("unknown pass 'fusion' for --after (passes: canonicalize, decompose-composites, fuse, plan-memory, lower)"));
    expect(() => parseCompileArgs(['m.ts', '--emit', 'ir', '--after', 'fuse'])).toThrow("--after applies to --emit dot, svg, html, not 'ir'");
    expect(() => parseCompileArgs(['m.ts', '--emit', 'dot', '--after', 'fuse', '--disable-pass', 'fuse'])).toThrow('--after fuse: that pass is disabled');
    expect(() => parseCompileArgs(['m.ts', '--emit', 'dot', '--after', 'lower'])).toThrow('--after lower: the unfused lowering runs only with --disable-pass fuse');
    expect(parseCompileArgs(['m.ts', '--emit', 'dot', '--after', 'lower', '--disable-pass', 'fuse']).after).toBe('lower');
    expect(() => parseCompileArgs(['m.ts', '--fast'])).toThrow("unknown option '--fast'");
    expect(() => parseCompileArgs(['m.ts', '-o'])).toThrow("option '-o' needs a value");
    expect(() => parseCompileArgs(['m.ts', '--json=yes'])).toThrow("option '--json' takes no value");
    expect(() => parseCompileArgs(['m.ts', '--name', 'a', '--name', 'b'])).toThrow("option '--name' is given twice");
    expect(() => parseCompileArgs([])).toThrow('expected one model (FILE.ts, FILE.tir or --config C.json), got none');
    expect(() => parseCompileArgs(['a.ts', 'b.ts'])).toThrow('expected one model (FILE.ts, FILE.tir or --config C.json), got a.ts b.ts');
    expect(() => parseCompileArgs(['m.py'])).toThrow('m.py: expected a model FILE.ts, FILE.tir or --config C.json');
  });
  it('names the program after the file', () => {
    expect(programNameFor('examples/tiny-encoder.ts')).toBe('tiny_encoder');
    expect(programNameFor('/x/2d.mts')).toBe('m_2d');
  });
});
