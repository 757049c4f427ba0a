import { type SourceLoc, formatLoc } from '../errors.ts';
import type { Program } from '../program.ts';
import { verify } from '../verifier.ts';
import { ParseError } from './parse-error.ts';
import { parseProgramWithHeader } from './parser.ts';

/** One finding in IR text: where and what. */
export interface TextDiagnostic {
  readonly loc: SourceLoc;
  readonly message: string;
}

/** The result of checking IR text: the program when it parsed, and every finding. */
export interface TextCheckResult {
  /** Undefined when the text did not parse. */
  readonly program?: Program;
  readonly diagnostics: readonly TextDiagnostic[];
}

/** Formats a finding as `file:line:col: message`. */
export function formatDiagnostic(d: TextDiagnostic): string {
  return `${formatLoc(d.loc)}: ${d.message}`;
}

/**
 * Parses and verifies IR text. A syntax error gives one diagnostic; otherwise
 * every verifier finding is returned, in source order, located at its line
 * (program-wide findings at the `program` header).
 */
export function checkProgramText(text: string, file?: string): TextCheckResult {
  let parsed;
  try {
    parsed = parseProgramWithHeader(text, file);
  } catch (e) {
    if (e instanceof ParseError) return { diagnostics: [{ loc: e.loc, message: e.detail }] };
    throw e;
  }
  const { program, header } = parsed;
  const diagnostics = verify(program).map((i) => ({ loc: i.loc ?? header, message: i.message }));
  diagnostics.sort((a, b) => a.loc.line - b.loc.line || a.loc.col - b.loc.col);
  return { program, diagnostics };
}
