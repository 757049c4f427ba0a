/**
 * Safe outputs: every command that writes refuses an output naming one of
 * its inputs (in any spelling: ./x, x, a symbolic or hard link) before doing
 * any work, creates a missing output directory, and reports a directory or a
 * path through a file as a clean error (exit 1, no stack trace). The input
 * files are compared byte for byte before and after.
 */
import { createHash } from 'node:crypto';
import { linkSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, relative } from 'node:path';
import { writeSafetensors } from '@tessera/ir';
import { readSafetensorsFile } from '@tessera/ir/node';
import { afterAll, describe, expect, it } from 'vitest';
import { main } from '../src/main.ts';
import { type Captured, capture } from './capture.ts';

const dir = mkdtempSync(join(tmpdir(), 'tessera-outputs-'));
// A model file imports @tessera/frontend: it must sit in the repository for vitest's resolver.
const inRepo = mkdtempSync(join(import.meta.dirname, '.tmp-outputs-'));
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
  rmSync(inRepo, { recursive: true, force: true });
});
const FIXTURES = join(import.meta.dirname, '..', '..', 'models', 'fixtures');
const EXAMPLES = join(import.meta.dirname, '..', '..', '..', 'examples');

const run = (...args: string[]): Promise<Captured> => capture(() => main(args));

/** Copies a file into the temp folder (or `into` another). */
function copy(from: string, name: string, into = dir): string {
  const to = join(into, name);
  writeFileSync(to, readFileSync(from));
  return to;
}

const hash = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');

const TIR = 'program @p\ninput %x : f32[2]\n%y = add(%x, %x) : f32[2]\noutput y = %y\n';
const program = join(dir, 'p.tir');
writeFileSync(program, TIR);
const evalInputs = join(dir, 'x.safetensors');
writeFileSync(evalInputs, writeSafetensors({ x: { dtype: 'F32', shape: [2], data: new Float32Array([1, 2]) } }));
const vitConfig = copy(join(FIXTURES, 'vit-torchvision-37tok-3head.json'), 'vit.json');
const vitWeights = copy(join(FIXTURES, 'vit-torchvision-37tok-3head.safetensors'), 'vit.safetensors');
const trConfig = copy(join(FIXTURES, 'transformer-vocab41-3head.json'), 'tr.json');
const trWeights = copy(join(FIXTURES, 'transformer-vocab41-3head.safetensors'), 'tr.safetensors');
const model = copy(join(EXAMPLES, 'mlp.ts'), 'mlp.ts', inRepo);
symlinkSync(vitWeights, join(dir, 'weights-link.safetensors'));
linkSync(evalInputs, join(dir, 'x-hardlink.safetensors'));

/** Every file the commands read: none may change. */
const INPUTS = [program, evalInputs, vitConfig, vitWeights, trConfig, trWeights, model];

describe('an output that names an input is refused before any work', () => {
  const rel = (p: string) => `./${relative(process.cwd(), p)}`;
  const cases: [string, string[], RegExp][] = [
    ['eval --out = the program', ['eval', program, '--inputs', evalInputs, '--out', rel(program)], /--out \S+p\.tir is the program file \(\S+p\.tir\): refusing to overwrite an input/],
    ['eval --out = --inputs (hard link)', ['eval', program, '--inputs', evalInputs, '--out', join(dir, 'x-hardlink.safetensors')], /is the --inputs file/],
    ['run --out = --weights', ['run', '--config', vitConfig, '--weights', vitWeights, '--inputs', evalInputs, '--out', vitWeights], /--out \S+vit\.safetensors is the --weights file/],
    ['run --out = --weights (symbolic link)', ['run', '--config', vitConfig, '--weights', vitWeights, '--inputs', evalInputs, '--out', join(dir, 'weights-link.safetensors')], /is the --weights file/],
    ['run --out = --config (./ spelling)', ['run', '--config', vitConfig, '--weights', vitWeights, '--inputs', evalInputs, '--out', join(dir, '.', 'sub', '..', 'vit.json')], /is the --config file/],
    ['generate --out = --inputs', ['generate', '--config', trConfig, '--weights', trWeights, '--inputs', trWeights, '--max-new-tokens', '2', '--out', trWeights], /is the --weights file/],
    ['compile -o = the model', ['compile', model, '--no-typecheck', '-o', model], /--out \S+mlp\.ts is the model file/],
    ['compile --out = the config', ['compile', '--config', vitConfig, '--out', rel(vitConfig)], /is the --config file/],
    ['compile --print-ir-after-all = the model', ['compile', model, '--no-typecheck', '--print-ir-after-all', model], /--print-ir-after-all \S+mlp\.ts is the model file/],
    ['compile --print-ir-after-change = a file', ['compile', model, '--no-typecheck', '--print-ir-after-change', evalInputs], /--print-ir-after-change \S+x\.safetensors: is a file, expected a directory/],
  ];
  for (const [name, args, message] of cases) {
    it(name, async () => {
      const before = INPUTS.map(hash);
      const r = await run(...args);
      expect(r.code).toBe(1);
      expect(r.err).toMatch(message);
      expect(r.err).not.toMatch(/\n\s+at /);
      expect(r.out).toBe('');
      expect(INPUTS.map(hash)).toEqual(before);
    });
  }
});

describe('output paths', () => {
  it('a missing output directory is created (eval --out, compile -o, --print-ir-after-all)', async () => {
    const out = join(dir, 'new', 'deeper', 'y.safetensors');
    expect((await run('eval', program, '--inputs', evalInputs, '--out', out)).code).toBe(0);
    expect([...(await readSafetensorsFile(out)).tensors.get('y')!.data]).toEqual([2, 4]);
    const tir = join(dir, 'new2', 'm.tir');
    const dumps = join(dir, 'new3', 'dumps');
    const r = await run('compile', model, '--no-typecheck', '-o', tir, '--print-ir-after-all', dumps);
    expect(r.code).toBe(0);
    expect(readFileSync(tir, 'utf8')).toMatch(/^program @mlp\n/);
    expect(readdirSync(dumps)).toEqual(['001_canonicalize.tir', '002_decompose-composites.tir', '003_fuse.tir', '004_plan-memory.tir']);
  });

  it('a directory as --out, or a path through a file, is exit 1 naming the path (no stack trace), and leaves no temporary file', async () => {
    const aDir = join(dir, 'a-dir');
    mkdirSync(aDir);
    const cases: [string[], string][] = [
      [['eval', program, '--inputs', evalInputs, '--out', aDir], `${aDir}: cannot write: is a directory`],
      [['compile', model, '--no-typecheck', '-o', aDir], `${aDir}: cannot write: is a directory`],
      [['eval', program, '--inputs', evalInputs, '--out', join(evalInputs, 'y.safetensors')], `${join(evalInputs, 'y.safetensors')}: cannot write: cannot create its directory ${evalInputs}: a file of that name exists where a directory is needed`],
    ];
    for (const [args, message] of cases) {
      const r = await run(...args);
      expect(r.code, args.join(' ')).toBe(1);
      expect(r.err).toContain(message);
      expect(r.err).not.toMatch(/\n\s+at /);
    }
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('ir fmt --write rewrites the file in place (atomically), and only when it changes', async () => {
    const messy = join(dir, 'messy.tir');
    writeFileSync(messy, TIR.replace('%y = add(%x, %x)', '%y   =   add(%x,%x)'));
    const r = await run('ir', 'fmt', '--write', messy);
    expect(r.out).toBe(`${messy}: formatted\n`);
    expect(readFileSync(messy, 'utf8')).toBe(TIR);
    expect((await run('ir', 'fmt', '-w', messy)).out).toBe(`${messy}: already canonical\n`);
    expect(readdirSync(dir).filter((f) => f.startsWith(`.${basename(messy)}`))).toEqual([]);
  });
});
