/**
 * @tessera/onnx/node: ONNX files on disk, with their external data files
 * read relative to the model (Node only; everything else is @tessera/onnx).
 */
import { closeSync, openSync, readFileSync, readSync, fstatSync } from 'node:fs';
import { dirname, isAbsolute, join, normalize, sep } from 'node:path';
import { TesseraError } from '@tessera/ir';
import { fsErrorReason } from '@tessera/ir/node';
import { type ImportOnnxOptions, type OnnxImport, importOnnx } from './import.ts';
import type { ExternalDataReader } from './tensor.ts';

/** Reads external data next to `modelPath` (a location may not leave the model's folder). */
export function externalDataReader(modelPath: string): ExternalDataReader {
  const dir = dirname(modelPath);
  return (location, offset, length) => {
    const rel = normalize(location);
    if (isAbsolute(rel) || rel.startsWith(`..${sep}`) || rel === '..') throw new TesseraError(`${modelPath}: external data location '${location}' is outside the model's folder`);
    const path = join(dir, rel);
    let fd: number;
    try {
      fd = openSync(path, 'r');
    } catch (e) {
      throw new TesseraError(`${modelPath}: cannot read external data ${path}: ${fsErrorReason(e)}`);
    }
    try {
      const size = fstatSync(fd).size;
      const n = length ?? size - offset;
      if (offset < 0 || n < 0 || offset + n > size) throw new TesseraError(`${modelPath}: external data ${path} has ${size} bytes, the model asks for ${n} at offset ${offset}`);
      const out = new Uint8Array(n);
      readSync(fd, out, 0, n, offset);
      return out;
    } finally {
      closeSync(fd);
    }
  };
}

/** Reads an .onnx file (and its external data) and imports it (see importOnnx). */
export function readOnnxFile(path: string, options: Omit<ImportOnnxOptions, 'readExternal' | 'source'> = {}): OnnxImport {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    throw new TesseraError(`cannot read ${path}: ${fsErrorReason(e)}`);
  }
  return importOnnx(bytes, { ...options, source: path, readExternal: externalDataReader(path) });
}
