/**
 * Reading and writing safetensors files on disk. Node only: this module is
 * exported from `@tessera/ir/node`, never from `@tessera/ir`, so that the
 * IR (and the WebGPU backend that imports it) bundles for a browser with no
 * Node built-ins to stub.
 */
import { readFile } from 'node:fs/promises';
import { fsErrorReason, writeFileAtomic } from './files.ts';
import { type SafetensorsFile, type SafetensorsInput, SafetensorsError, readSafetensors, writeSafetensors } from './safetensors.ts';

/** Reads and parses a safetensors file; errors name the path. */
export async function readSafetensorsFile(path: string): Promise<SafetensorsFile> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (e) {
    throw new SafetensorsError(path, `cannot read file: ${fsErrorReason(e)}`);
  }
  return readSafetensors(bytes, path);
}

/**
 * Serialises tensors (and optional metadata) and writes them to `path`
 * atomically (writeFileAtomic: an existing file is replaced whole or left
 * as it was; missing directories are created).
 */
export async function writeSafetensorsFile(path: string, tensors: SafetensorsInput, metadata?: Readonly<Record<string, string>>): Promise<void> {
  writeFileAtomic(path, writeSafetensors(tensors, metadata));
}
