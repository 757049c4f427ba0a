/**
 * Reading and writing safetensors files on disk. Node only: this module is
 * exported from `@tessera/ir/node`, never from `@tessera/ir`, so that the
 * IR (and the WebGPU backend that imports it) bundles for a browser with no
 * Node built-ins to stub.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { type SafetensorsFile, type SafetensorsInput, SafetensorsError, readSafetensors, writeSafetensors } from './safetensors.ts';

/** Reads and parses a safetensors file; errors name the path. */
export async function readSafetensorsFile(path: string): Promise<SafetensorsFile> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (e) {
    throw new SafetensorsError(path, `cannot read file: ${e instanceof Error ? e.message : String(e)}`);
  }
  return readSafetensors(bytes, path);
}

/** Serialises tensors (and optional metadata) and writes them to `path`. */
export async function writeSafetensorsFile(path: string, tensors: SafetensorsInput, metadata?: Readonly<Record<string, string>>): Promise<void> {
  const bytes = writeSafetensors(tensors, metadata);
  try {
    await writeFile(path, bytes);
  } catch (e) {
    throw new SafetensorsError(path, `cannot write file: ${e instanceof Error ? e.message : String(e)}`);
  }
}
