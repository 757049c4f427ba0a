/**
 * Where commands write: every output goes through writeFileAtomic (a temp
 * file renamed over the target, so an existing file is replaced whole or
 * not at all), and an output that names one of the command's own input
 * files is refused before any work is done: `--out w.safetensors --weights
 * ./w.safetensors` would otherwise replace the checkpoint with the logits.
 */
import { statSync } from 'node:fs';
import { resolve } from 'node:path';
import { TesseraError } from '@tessera/ir';
import { writeFileAtomic } from '@tessera/ir/node';

/** A file a command reads, with what it is (a flag or a role such as 'model file') for messages. */
export interface CommandInput {
  readonly what: string;
  readonly path: string;
}

/** The file's identity (device and inode; links and other spellings of the path share it), or undefined when it does not exist. */
function fileId(path: string): string | undefined {
  try {
    const st = statSync(path);
    return `${st.dev}:${st.ino}`;
  } catch {
    return undefined;
  }
}

/** Whether two paths name the same file: by identity when both exist, else by their resolved spelling. */
function sameFile(a: string, b: string): boolean {
  const [ia, ib] = [fileId(a), fileId(b)];
  return ia !== undefined && ib !== undefined ? ia === ib : resolve(a) === resolve(b);
}

/** The input among `inputs` that `path` names, if any. */
function inputAt(path: string, inputs: readonly CommandInput[]): CommandInput | undefined {
  return inputs.find((i) => sameFile(path, i.path));
}

/**
 * Throws a TesseraError when the output `out` (given by `flag`) is one of
 * the command's input files: the same path in any spelling, a hard link or
 * a symbolic link to it.
 */
export function refuseInputAsOutput(flag: string, out: string, inputs: readonly CommandInput[]): void {
  const hit = inputAt(out, inputs);
  if (hit) throw new TesseraError(`${flag} ${out} is the ${hit.what} (${hit.path}): refusing to overwrite an input; choose another output path`);
}

/**
 * Checks an output directory (`--print-ir-after-all DIR`) before any work:
 * it must not be an input file nor any other existing file. A missing
 * directory is fine: it is created when the first file is written.
 */
export function checkOutputDir(flag: string, dir: string, inputs: readonly CommandInput[]): void {
  refuseInputAsOutput(flag, dir, inputs);
  let isFile = false;
  try {
    isFile = !statSync(dir).isDirectory();
  } catch {
    // Missing: created on the first write.
  }
  if (isFile) throw new TesseraError(`${flag} ${dir}: is a file, expected a directory (or a path where one can be created)`);
}

/** Writes an output file atomically after checking it names no input; `flag` names it in messages. */
export function writeOutput(flag: string, path: string, data: string | Uint8Array, inputs: readonly CommandInput[]): void {
  refuseInputAsOutput(flag, path, inputs);
  writeFileAtomic(path, data);
}
