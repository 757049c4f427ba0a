/** Reading the IR text file that `eval`, `ir` and the model commands take. */
import { readFile } from 'node:fs/promises';
import { extname } from 'node:path';
import { type Program, TesseraError, checkProgramText, formatDiagnostic } from '@tessera/ir';
import { fsErrorReason } from '@tessera/ir/node';

/** Files that are not IR text but that users pass by mistake, with what makes a program from them. */
const NOT_IR: Readonly<Record<string, (file: string) => string>> = {
  '.ts': (f) => `${f} is a TypeScript model file, not a program in the IR text format: run \`tessera compile ${f} -o ${f.replace(/\.[cm]?ts$/, '')}.tir\` first`,
  '.mts': (f) => NOT_IR['.ts']!(f),
  '.json': (f) => `${f} is a JSON file (a model config?), not a program in the IR text format: run \`tessera compile --config ${f} -o model.tir\` first, or \`tessera run --config ${f}\``,
  '.safetensors': (f) => `${f} is a safetensors file (tensors), not a program in the IR text format`,
};

/**
 * The text of an IR program file. A model file, config or tensor file given
 * instead is named as such, with the command that makes a program from it;
 * a missing file or a directory is a clean error.
 */
export async function readProgramText(file: string): Promise<string> {
  const mistake = NOT_IR[extname(file).toLowerCase()];
  if (mistake) throw new TesseraError(mistake(file));
  try {
    return await readFile(file, 'utf8');
  } catch (e) {
    throw new TesseraError(`cannot read ${file}: ${fsErrorReason(e)}`);
  }
}

/** Reads and verifies a program in the IR text format; every diagnostic (FILE:line:col: message) in one TesseraError. */
export async function readProgramFile(file: string): Promise<Program> {
  const { program, diagnostics } = checkProgramText(await readProgramText(file), file);
  if (diagnostics.length > 0 || !program) throw new TesseraError(diagnostics.map(formatDiagnostic).join('\n'));
  return program;
}
