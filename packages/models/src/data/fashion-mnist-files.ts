/**
 * Fashion-MNIST test images from files (Node): the full 10,000 from the
 * Debian package dataset-fashion-mnist (idx files, gzipped) when it is
 * installed, else the 1,000-image sample committed with the model.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { TesseraError } from '@tessera/ir';
import { readSafetensorsFile } from '@tessera/ir/node';
import { type ImageSet, parseIdx, sampleFromTensors } from './fashion-mnist.ts';

/** Where the Debian package puts the files. */
export const FASHION_MNIST_DIR = '/usr/share/datasets/fashion-mnist';

/** Reads a gzipped idx file. */
async function readIdx(path: string): Promise<{ dims: number[]; data: Uint8Array }> {
  return parseIdx(gunzipSync(await readFile(path)), path);
}

/** The 10,000 test images from the installed dataset, or undefined when it is not installed. */
export async function readInstalledTestSet(dir = FASHION_MNIST_DIR): Promise<ImageSet | undefined> {
  const images = join(dir, 't10k-images-idx3-ubyte.gz');
  const labels = join(dir, 't10k-labels-idx1-ubyte.gz');
  if (!existsSync(images) || !existsSync(labels)) return undefined;
  const [x, y] = [await readIdx(images), await readIdx(labels)];
  if (x.dims.length !== 3 || y.dims.length !== 1 || x.dims[0] !== y.dims[0]) {
    throw new TesseraError(`${dir}: images [${x.dims.join(', ')}] and labels [${y.dims.join(', ')}] do not match (expected [N, rows, cols] and [N])`);
  }
  return { count: x.dims[0]!, rows: x.dims[1]!, cols: x.dims[2]!, pixels: x.data, labels: y.data, source: `${dir} (the full test set)` };
}

/** The bundled sample: a safetensors file with `images` U8 [N, 28, 28] and `labels` U8 [N]. */
export async function readSample(path: string): Promise<ImageSet> {
  return sampleFromTensors((await readSafetensorsFile(path)).tensors, path);
}
