/**
 * writeFileAtomic: an output replaces a file whole or not at all. The
 * interrupted write is real: a child process whose file-size limit
 * (ulimit -f) stops the write part-way, as a full disk would.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { TesseraError } from '../../src/index.ts';
import { fsErrorReason, writeFileAtomic, writeSafetensorsFile } from '../../src/node.ts';

const dir = mkdtempSync(join(tmpdir(), 'tessera-files-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('writeFileAtomic', () => {
  it('replaces an existing file whole, keeps its permissions, leaves no temporary file', () => {
    const path = join(dir, 'out.txt');
    writeFileSync(path, 'old contents that are longer than the new');
    chmodSync(path, 0o640);
    writeFileAtomic(path, 'new');
    expect(readFileSync(path, 'utf8')).toBe('new');
    expect(statSync(path).mode & 0o777).toBe(0o640);
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('creates missing directories; writes through a symbolic link to its target', () => {
    writeFileAtomic(join(dir, 'a', 'b', 'c.bin'), new Uint8Array([1, 2, 3]));
    expect([...readFileSync(join(dir, 'a', 'b', 'c.bin'))]).toEqual([1, 2, 3]);
    const target = join(dir, 'target.txt');
    writeFileSync(target, 'before');
    symlinkSync(target, join(dir, 'link.txt'));
    writeFileAtomic(join(dir, 'link.txt'), 'after');
    expect(readFileSync(target, 'utf8')).toBe('after');
  });

  it('a directory, or a path through a file, is a TesseraError naming the path', () => {
    const err = (path: string) => {
      try {
        writeFileAtomic(path, 'x');
      } catch (e) {
        expect(e).toBeInstanceOf(TesseraError);
        return (e as Error).message;
      }
      throw new Error('expected an error');
    };
    expect(err(dir)).toBe(`${dir}: cannot write: is a directory`);
    writeFileSync(join(dir, 'plain'), 'x');
    expect(err(join(dir, 'plain', 'x.txt'))).toMatch(/plain\/x\.txt: cannot write: cannot create its directory .*plain: a file of that name exists/);
    expect(fsErrorReason(Object.assign(new Error('x'), { code: 'ENOENT' }))).toBe('no such file or directory');
  });

  it('an interrupted write (the file-size limit reached part-way) leaves the existing file as it was', () => {
    const victim = join(dir, 'victim.safetensors');
    writeFileSync(victim, 'ORIGINAL');
    // A 1 MiB checkpoint written by a process that may write at most 64 KiB to a file.
    const script = join(dir, 'write-big.mts');
    writeFileSync(
      script,
      `import { writeSafetensorsFile } from ${JSON.stringify(join(import.meta.dirname, '..', '..', 'src', 'node.ts'))};\n` +
        `await writeSafetensorsFile(process.argv[2]!, { w: { dtype: 'F32', shape: [262144], data: new Float32Array(262144).fill(1) } });\n`,
    );
    const r = spawnSync('bash', ['-c', 'ulimit -f 64; exec "$0" --import tsx "$1" "$2"', process.execPath, script, victim], {
      encoding: 'utf8',
      env: { ...process.env, TSX_DISABLE_CACHE: '1' },
    });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain(`${victim}: cannot write: file too large`);
    expect(readFileSync(victim, 'utf8')).toBe('ORIGINAL');
    expect(readdirSync(dir).filter((f) => f.startsWith('.victim'))).toEqual([]);
  });

  it('writeSafetensorsFile writes through it', async () => {
    const path = join(dir, 'w.safetensors');
    writeFileSync(path, 'ORIGINAL');
    // An unwritable tensor fails before any byte is written.
    await expect(writeSafetensorsFile(path, { w: { dtype: 'F32', shape: [3], data: new Float32Array(2) } })).rejects.toThrow(/shape needs 3 elements/);
    expect(readFileSync(path, 'utf8')).toBe('ORIGINAL');
  });
});
