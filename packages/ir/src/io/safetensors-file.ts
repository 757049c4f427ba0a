/**
 * Reading and writing safetensors files on disk. `node:fs` is imported
 * lazily so that importing @tessera/ir in a browser (the WebGPU backend)
 * does not pull in Node built-ins.
 */
import { type SafetensorsFile, type SafetensorsInput, SafetensorsError, readSafetensors, writeSafetensors } from './safetensors.ts';

/** Reads and parses a safetensors file; errors name the path. */
export async function readSafetensorsFile(path: string): Promise<SafetensorsFile> {
  const { readFile } = await import('node:fs/promises');
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
  const { writeFile } = await import('node:fs/promises');
  try {
    await writeFile(path, bytes);
  } catch (e) {
    throw new SafetensorsError(path, `cannot write file: ${e instanceof Error ? e.message : String(e)}`);
  }
}
