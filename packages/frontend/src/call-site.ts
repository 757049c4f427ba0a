import { realpathSync } from 'node:fs';
import { isAbsolute, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { SourceLoc } from '@tessera/ir';

/** This package's source folder: frames inside it are the DSL's own, not the user's. */
const FRONTEND_SRC = realpathSync(fileURLToPath(new URL('.', import.meta.url)));

/** One frame of a V8 stack line: `at fn (file:line:col)` or `at file:line:col`. */
const FRAME = /^\s*at (?:.*?\()?(.+?):(\d+):(\d+)\)?$/;

const internalCache = new Map<string, boolean>();

/** Whether a stack frame's file belongs to the DSL itself (or to Node), so it is not a user's call site. */
function isInternal(file: string): boolean {
  let hit = internalCache.get(file);
  if (hit === undefined) {
    let real = file;
    try {
      real = realpathSync(file);
    } catch {
      // A file that no longer exists (or a virtual one) is compared as written.
    }
    hit = real === FRONTEND_SRC || real.startsWith(FRONTEND_SRC + sep);
    internalCache.set(file, hit);
  }
  return hit;
}

/** A path as users see it: relative to the working directory when inside it, else absolute. */
export function displayPath(file: string): string {
  const rel = relative(process.cwd(), file);
  return rel !== '' && !rel.startsWith('..') && !isAbsolute(rel) ? rel : file;
}

/** Parses one stack line into an absolute file and 1-based position, or undefined for native/eval/Node-internal frames. */
export function parseFrame(line: string): { file: string; line: number; col: number } | undefined {
  const m = FRAME.exec(line);
  if (!m) return undefined;
  let file = m[1]!;
  if (file.startsWith('node:') || file.includes('<anonymous>') || file.startsWith('eval at')) return undefined;
  if (file.startsWith('file://')) file = fileURLToPath(file);
  if (!isAbsolute(file)) return undefined;
  return { file, line: Number(m[2]), col: Number(m[3]) };
}

/**
 * The user's source position of the DSL call in progress: the first stack
 * frame outside this package. Under tsx (and vitest) stack traces are
 * source-mapped, so this is the position in the user's TypeScript.
 */
export function userCallSite(): SourceLoc | undefined {
  const limit = Error.stackTraceLimit;
  // DSL calls nest (a module's forward calls ops that call Tensor methods), so
  // the default of 10 frames can stop before reaching the user's code.
  Error.stackTraceLimit = 100;
  const stack = new Error().stack ?? '';
  Error.stackTraceLimit = limit;
  for (const line of stack.split('\n').slice(1)) {
    const f = parseFrame(line);
    if (f && !isInternal(f.file)) return { file: displayPath(f.file), line: f.line, col: f.col };
  }
  return undefined;
}
