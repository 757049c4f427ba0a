/**
 * Type-check results kept on disk between processes, with every file the
 * check read (its path, size and modification time): a model checked once
 * is not checked again (no TypeScript loaded, no file parsed) while none of
 * those files has changed, as `tsc --build` decides a project is up to date.
 * Kept in the system's temporary folder, one file per model and setting;
 * TESSERA_TYPECHECK_CACHE=0 turns it off. Any failure to read or write it
 * only means checking again.
 */
import { createHash } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeFileAtomic } from '@tessera/ir/node';

/** A file's size and modification time (ms), as they were when it was read. */
export type FileStamp = readonly [size: number, mtime: number];

/** What is kept of a check: the files it read, each as [path, size, mtime], and its result. */
interface Entry<T> {
  readonly files: readonly (readonly [string, number, number])[];
  readonly result: T;
}

/** The folder of the cache (per user: results name the user's files). */
function cacheDir(): string {
  return join(tmpdir(), `tessera-${process.getuid?.() ?? 'user'}`, 'type-check');
}

/** Whether the cache is in use (TESSERA_TYPECHECK_CACHE=0 turns it off). */
export function checkCacheEnabled(env: Readonly<Record<string, string | undefined>> = process.env): boolean {
  return env.TESSERA_TYPECHECK_CACHE !== '0';
}

/** The cache file of a check, named by a hash of what identifies it (the model file, the compiler, the settings). */
export function checkCacheFile(identity: unknown): string {
  return join(cacheDir(), `${createHash('sha256').update(JSON.stringify(identity)).digest('hex').slice(0, 32)}.json`);
}

/** A file's [size, mtime in ms], or undefined when it cannot be read. */
export function fileStamp(path: string): FileStamp | undefined {
  try {
    const st = statSync(path);
    return [st.size, st.mtimeMs];
  } catch {
    return undefined;
  }
}

/** The result kept in `cacheFile` when every file it was computed from is as it was then; undefined otherwise. */
export function readCachedCheck<T>(cacheFile: string): T | undefined {
  let entry: Entry<T>;
  try {
    entry = JSON.parse(readFileSync(cacheFile, 'utf8')) as Entry<T>;
  } catch {
    return undefined;
  }
  if (!Array.isArray(entry.files)) return undefined;
  for (const [path, size, mtime] of entry.files) {
    const now = fileStamp(path);
    if (!now || now[0] !== size || now[1] !== mtime) return undefined;
  }
  return entry.result;
}

/**
 * Keeps `result` in `cacheFile` with the stamps of the files it was computed
 * from, taken when they were read (one that changed since is then stale).
 */
export function storeCheck<T>(cacheFile: string, files: ReadonlyMap<string, FileStamp>, result: T): void {
  const entry: Entry<T> = { files: [...files].map(([path, [size, mtime]]) => [path, size, mtime] as const), result };
  try {
    writeFileAtomic(cacheFile, JSON.stringify(entry));
  } catch {
    // A read-only or full temporary folder: the next run checks again.
  }
}
