import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { UsageError } from '../src/command.ts';
import { irCommand } from '../src/commands/ir.ts';
import { type Captured, capture } from './capture.ts';

const dir = mkdtempSync(join(tmpdir(), 'tessera-ir-cmd-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Writes `text` to a fresh file in the temp folder and returns its path. */
let count = 0;
function file(text: string): string {
  const path = join(dir, `p${count++}.ir`);
  writeFileSync(path, text);
  return path;
}

/** Runs `tessera ir ...args` in process, capturing what it writes. */
const run = (...args: string[]): Promise<Captured> => capture(() => irCommand.run(args));

const CANONICAL = [
  'program @mlp',
  'input %x : f32[2,3]',
  'param %w : f32[3,4]',
  '%h = matmul(%x, %w) : f32[2,4]',
  '%s = reduce_sum(%h) {axes = [1], keepdims = true} : f32[2,1]',
  'output s = %s',
  'output h = %h',
  '',
].join('\n');
const SLOPPY = `# an MLP\n${CANONICAL.replace('{axes = [1], keepdims = true} : f32[2,1]', '{keepdims=true,axes=[-1]}:f32[2,1]  # row sums').replace('%h = matmul(%x, %w)', '%h=matmul(%x,%w)')}`;

describe('tessera ir check', () => {
  it('prints a summary and exits 0 for a valid program', async () => {
    const f = file(SLOPPY);
    expect(await run('check', f)).toEqual({ code: 0, out: `${f}: ok (2 inputs, 2 nodes, 2 outputs)\n`, err: '' });
  });

  it('prints every verifier finding as FILE:line:col and exits 1', async () => {
    const f = file(CANONICAL.replace('%h = matmul(%x, %w) : f32[2,4]\n', '').replace('f32[3,4]', 'f32[3,5]'));
    const r = await run('check', f);
    expect(r.code).toBe(1);
    expect(r.out).toBe('');
    expect(r.err).toBe(`${f}:4:1: %s = reduce_sum: operand %h is not defined\n${f}:6:1: output 'h' refers to undefined value %h\n`);
  });

  it('reports a syntax error with its location and exits 1', async () => {
    const f = file(CANONICAL.replace('matmul', 'matmull'));
    const r = await run('check', f);
    expect(r).toEqual({ code: 1, out: '', err: `${f}:4:6: unknown op 'matmull' (did you mean 'matmul'?)\n` });
  });

  it('reports a missing file clearly and exits 1', async () => {
    const f = join(dir, 'nope.ir');
    expect(await run('check', f)).toEqual({ code: 1, out: '', err: `tessera ir: cannot read ${f}: no such file or directory\n` });
    expect(await run('check', dir)).toEqual({ code: 1, out: '', err: `tessera ir: cannot read ${dir}: is a directory\n` });
  });

  it('names a model file given instead of IR text, with the command that makes one (not a parse error at 1:1)', async () => {
    expect(await run('check', 'examples/mlp.ts')).toEqual({
      code: 1,
      out: '',
      err: 'tessera ir: examples/mlp.ts is a TypeScript model file, not a program in the IR text format: run `tessera compile examples/mlp.ts -o examples/mlp.tir` first\n',
    });
  });
});

describe('tessera ir fmt', () => {
  it('prints the canonical form on stdout, leaving the file alone', async () => {
    const f = file(SLOPPY);
    expect(await run('fmt', f)).toEqual({ code: 0, out: CANONICAL, err: '' });
    expect(readFileSync(f, 'utf8')).toBe(SLOPPY);
  });

  it('formats a program the verifier would reject (formatting is syntax only)', async () => {
    const f = file(SLOPPY.replace('output h = %h', 'output h = %missing'));
    expect(await run('fmt', f)).toEqual({ code: 0, out: CANONICAL.replace('output h = %h', 'output h = %missing'), err: '' });
  });

  it('--write rewrites the file in place, and is idempotent', async () => {
    const f = file(SLOPPY);
    expect(await run('fmt', '--write', f)).toEqual({ code: 0, out: `${f}: formatted\n`, err: '' });
    expect(readFileSync(f, 'utf8')).toBe(CANONICAL);
    expect(await run('fmt', f, '-w')).toEqual({ code: 0, out: `${f}: already canonical\n`, err: '' });
    expect(readFileSync(f, 'utf8')).toBe(CANONICAL);
  });

  it('exits 1 with file:line:col on a syntax error and does not write', async () => {
    const bad = SLOPPY.replace('f32[2,4]', 'f32[2,4');
    const f = file(bad);
    const r = await run('fmt', '--write', f);
    expect(r).toEqual({ code: 1, out: '', err: `${f}:5:20: expected a tensor type like f32[2,3], found 'f32[2,4'\n` });
    expect(readFileSync(f, 'utf8')).toBe(bad);
  });

  it('reports a missing file and exits 1', async () => {
    expect((await run('fmt', join(dir, 'missing.ir'))).code).toBe(1);
  });
});

describe('tessera ir usage', () => {
  it.each([
    [[], /missing subcommand/],
    [['lint', 'x.ir'], /unknown subcommand 'lint'/],
    [['check'], /exactly one FILE, got 0/],
    [['check', 'a.ir', 'b.ir'], /exactly one FILE, got 2/],
    [['check', '--write', 'a.ir'], /unknown option '--write' for 'ir check'/],
    [['fmt', '--inplace', 'a.ir'], /unknown option '--inplace'/],
  ])('%j is a usage error', async (args, message) => {
    await expect(irCommand.run(args)).rejects.toThrow(UsageError);
    await expect(irCommand.run(args)).rejects.toThrow(message);
  });

  it('documents both subcommands', () => {
    expect(irCommand.name).toBe('ir');
    expect(irCommand.usage).toContain('tessera ir check FILE');
    expect(irCommand.usage).toContain('tessera ir fmt [--write] FILE');
  });
});
