/**
 * Files a user names on the command line: failures as messages a user can
 * act on (never an ENOENT stack trace), and outputs written so that an
 * existing file is replaced whole or not at all. Node only (exported from
 * `@tessera/ir/node`).
 */
import { closeSync, fsyncSync, lstatSync, mkdirSync, openSync, realpathSync, renameSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { TesseraError } from '../errors.ts';

const REASONS: Readonly<Record<string, string>> = {
  ENOENT: 'no such file or directory',
  EISDIR: 'is a directory',
  ENOTDIR: 'a component of the path is a file, not a directory',
  EEXIST: 'a file of that name exists where a directory is needed',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EROFS: 'read-only file system',
  ENOSPC: 'no space left on device',
  EDQUOT: 'disk quota exceeded',
  EFBIG: 'file too large',
  ENAMETOOLONG: 'file name too long',
  ELOOP: 'too many levels of symbolic links',
  EMFILE: 'too many open files',
};

/** Why a file operation failed, in words (a Node error's code mapped to a phrase; anything else by its message). */
export function fsErrorReason(e: unknown): string {
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  if (code !== undefined && code in REASONS) return REASONS[code]!;
  return e instanceof Error ? e.message : String(e);
}

let tempCounter = 0;

/**
 * Writes `data` to `path` through a temporary file in the same directory,
 * flushed to disk and then renamed over `path`: a failed or interrupted write
 * leaves an existing file as it was, never truncated. Missing parent
 * directories are created; a symbolic link is written through (its target
 * is replaced), and an existing file keeps its permissions. Failures are
 * TesseraErrors naming `path`.
 */
export function writeFileAtomic(path: string, data: string | Uint8Array): void {
  const fail = (why: string): never => {
    throw new TesseraError(`${path}: cannot write: ${why}`);
  };
  let target = resolve(path);
  let mode = 0o666;
  try {
    if (lstatSync(target).isSymbolicLink()) target = realpathSync(target);
    const st = statSync(target);
    if (st.isDirectory()) fail('is a directory');
    mode = st.mode & 0o7777;
  } catch (e) {
    if (e instanceof TesseraError) throw e;
    // A path that does not exist yet (or a dangling link, which the rename replaces) is written fresh.
  }
  const dir = dirname(target);
  try {
    mkdirSync(dir, { recursive: true });
  } catch (e) {
    fail(`cannot create its directory ${dir}: ${fsErrorReason(e)}`);
  }
  const temp = join(dir, `.${basename(target)}.${process.pid}.${tempCounter++}.tmp`);
  const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
  let fd: number | undefined;
  try {
    fd = openSync(temp, 'wx', mode);
    for (let at = 0; at < bytes.length; ) at += writeSync(fd, bytes, at, bytes.length - at);
    fsyncSync(fd);
    closeSync(fd);
    fd = undefined;
    renameSync(temp, target);
  } catch (e) {
    try {
      if (fd !== undefined) closeSync(fd);
      unlinkSync(temp);
    } catch {
      // The temporary file was never created (or is already gone).
    }
    fail(fsErrorReason(e));
  }
}
