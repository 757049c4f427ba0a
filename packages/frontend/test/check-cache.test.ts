/**
 * The type-check cache (src/load/check-cache.ts): a kept result is used only
 * while every file it was computed from is unchanged, and typeCheckFile
 * finds what an edit to any of the model's files breaks or fixes. The
 * cache lives in the temporary folder, here one of this test's own.
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { typeCheckFile } from '../src/node.ts';
import { checkCacheEnabled, checkCacheFile, fileStamp, readCachedCheck, storeCheck } from '../src/load/check-cache.ts';

const tmp = mkdtempSync(join(tmpdir(), 'tessera-check-cache-'));
const savedTmpdir = process.env.TMPDIR;
beforeAll(() => {
  // os.tmpdir() reads TMPDIR: the cache of this test is its own.
  process.env.TMPDIR = join(tmp, 'cache-root');
  mkdirSync(process.env.TMPDIR);
});
afterAll(() => {
  if (savedTmpdir === undefined) delete process.env.TMPDIR;
  else process.env.TMPDIR = savedTmpdir;
  rmSync(tmp, { recursive: true, force: true });
});

/** Writes a file and returns its path. */
function put(name: string, text: string): string {
  writeFileSync(join(tmp, name), text);
  return join(tmp, name);
}

/** Moves a file's modification time by `seconds` (an edit within the same clock tick keeps the size and time otherwise). */
function touch(path: string, seconds: number): void {
  const t = Date.now() / 1000 + seconds;
  utimesSync(path, t, t);
}

describe('check cache', () => {
  it('returns a kept result while every file is as it was; a changed, moved or removed file, or a broken entry, is a miss', () => {
    const a = put('a.txt', 'one');
    const b = put('b.txt', 'two');
    const entry = checkCacheFile({ model: 'm.ts', n: 1 });
    expect(entry).not.toBe(checkCacheFile({ model: 'm.ts', n: 2 }));
    const stamps = new Map([a, b].map((f) => [f, fileStamp(f)!]));
    storeCheck(entry, stamps, ['result']);
    expect(readCachedCheck(entry)).toEqual(['result']);
    touch(b, 10);
    expect(readCachedCheck(entry)).toBeUndefined();
    storeCheck(entry, new Map([a, b].map((f) => [f, fileStamp(f)!])), ['again']);
    expect(readCachedCheck(entry)).toEqual(['again']);
    writeFileSync(a, 'ONE');
    touch(a, -10);
    // Same size, another time: changed.
    expect(readCachedCheck(entry)).toBeUndefined();
    storeCheck(entry, new Map([a, b].map((f) => [f, fileStamp(f)!])), ['third']);
    rmSync(b);
    expect(readCachedCheck(entry)).toBeUndefined();
    writeFileSync(entry, '{"files": 3');
    expect(readCachedCheck(entry)).toBeUndefined();
    expect(readCachedCheck(join(tmp, 'never-written.json'))).toBeUndefined();
  });

  it('TESSERA_TYPECHECK_CACHE=0 turns it off', () => {
    expect(checkCacheEnabled({})).toBe(true);
    expect(checkCacheEnabled({ TESSERA_TYPECHECK_CACHE: '0' })).toBe(false);
  });
});

describe('typeCheckFile with the cache', () => {
  const MODEL = `import { Module, type Tensor, nn } from '@tessera/frontend';
import { width } from './width.ts';
class M extends Module {
  readonly fc = new nn.Linear(width, 2);
  forward(x: Tensor): Tensor {
    return this.fc.forward(x);
  }
}
export const inputs = { x: 'f32[3,4]' };
export default () => new M();
`;

  it('keeps a result, serves it again, and finds what an edit of an imported file breaks and fixes', () => {
    const model = put('model.ts', MODEL);
    const width = put('width.ts', 'export const width: number = 4;\n');
    const dir = join(tmp, 'cache-root', `tessera-${process.getuid?.() ?? 'user'}`, 'type-check');
    const before = new Set(readdirSync(dir));
    expect(typeCheckFile(model)).toEqual([]);
    const kept = readdirSync(dir).filter((f) => !before.has(f));
    expect(kept).toHaveLength(1);
    // Served from the cache: an entry edited by hand is what comes back (and proves no check ran).
    const entryFile = join(dir, kept[0]!);
    const entry = JSON.parse(readFileSync(entryFile, 'utf8')) as { files: [string, number, number][]; result: unknown[] };
    expect(entry.files.map(([f]) => f)).toEqual(expect.arrayContaining([model, width]));
    writeFileSync(entryFile, JSON.stringify({ ...entry, result: [{ message: 'from the cache', code: 0 }] }));
    expect(typeCheckFile(model)).toEqual([{ message: 'from the cache', code: 0 }]);
    // An imported file changes: checked again, the error found in the model at the use.
    writeFileSync(width, "export const width: string = '4';\n");
    touch(width, 5);
    const broken = typeCheckFile(model);
    expect(broken.map((d) => [d.file?.endsWith('model.ts'), d.line, d.code])).toEqual([[true, 4, 2345]]);
    writeFileSync(width, 'export const width: number = 4;\n');
    touch(width, 10);
    expect(typeCheckFile(model)).toEqual([]);
  });
});
