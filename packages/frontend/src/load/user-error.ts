/**
 * Exceptions thrown by a user's model code (an Error from a typo, `throw 42`)
 * are not Tessera diagnostics, but they are the user's to fix: they become
 * TesseraErrors located at the user's line, so the CLI reports them as a
 * clean error (exit 1) instead of an internal one (exit 70).
 */
import { isAbsolute } from 'node:path';
import { type SourceLoc, TesseraError, previewJson } from '@tessera/ir';
import { displayPath, parseFrame } from '../call-site.ts';
import { describe } from '../tracer.ts';
import { isTesseraSource } from './packages.ts';

/** Whether a stack frame's file is the user's: not Node's, not a dependency's, not a Tessera package's code. */
function isUserFile(file: string): boolean {
  return isAbsolute(file) && !file.includes('/node_modules/') && !isTesseraSource(file);
}

/** The first frame of `stack` in the user's code, as a location (paths as the user sees them). */
export function userFrame(stack: string | undefined): SourceLoc | undefined {
  for (const line of (stack ?? '').split('\n').slice(1)) {
    const f = parseFrame(line);
    if (f && isUserFile(f.file)) return { file: displayPath(f.file), line: f.line, col: f.col };
  }
  return undefined;
}

/**
 * `e`, thrown by the model file `file` while `doing` (loading, tracing), as
 * a TesseraError: an Error located at its first frame in the user's code
 * (else named by the file), anything else thrown named by the file, with
 * what was thrown. TesseraErrors pass through unchanged.
 */
export function userCodeError(e: unknown, file: string, doing: string): TesseraError {
  if (e instanceof TesseraError) return e;
  const shown = displayPath(file);
  if (e instanceof Error) {
    const loc = userFrame(e.stack);
    return new TesseraError(`${loc ? '' : `${shown}: `}error while ${doing} the model: ${e.name}: ${e.message}`, loc);
  }
  const plain = typeof e !== 'object' || e === null || Array.isArray(e) || Object.getPrototypeOf(e) === Object.prototype;
  return new TesseraError(`${shown}: the model threw ${plain ? previewJson(e) : describe(e)} while ${doing} (not an Error, so no line is known)`);
}
