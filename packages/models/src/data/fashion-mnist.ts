/**
 * Fashion-MNIST test images for the trained ViT: the full 10,000 from the
 * Debian package dataset-fashion-mnist (idx files, gzipped) when it is
 * installed, else the 1,000-image sample committed with the model.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { TesseraError } from '@tessera/ir';
import { readSafetensorsFile } from '@tessera/ir/node';

/** Where the Debian package puts the files. */
export const FASHION_MNIST_DIR = '/usr/share/datasets/fashion-mnist';

/** The ten classes, in label order. */
export const FASHION_MNIST_LABELS = ['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot'] as const;

/** Grey images [count, rows, cols] as bytes and their labels. */
export interface ImageSet {
  readonly count: number;
  readonly rows: number;
  readonly cols: number;
  readonly pixels: Uint8Array;
  readonly labels: Uint8Array;
  /** Where they came from, for the demo's output. */
  readonly source: string;
}

/** Parses an idx file of unsigned bytes (MNIST's format): its dimensions and data. */
export function parseIdx(bytes: Uint8Array, source: string): { dims: number[]; data: Uint8Array } {
  const fail = (why: string): never => {
    throw new TesseraError(`${source}: ${why}`);
  };
  if (bytes.length < 4) fail(`${bytes.length} bytes, expected an idx header of at least 4`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (view.getUint16(0) !== 0) fail('not an idx file (the first two bytes must be 0)');
  const type = bytes[2]!;
  if (type !== 0x08) fail(`element type 0x${type.toString(16).padStart(2, '0')}, expected 0x08 (unsigned bytes)`);
  const ndim = bytes[3]!;
  if (bytes.length < 4 + 4 * ndim) fail(`truncated header: ${ndim} dimensions need ${4 + 4 * ndim} bytes, found ${bytes.length}`);
  const dims = Array.from({ length: ndim }, (_, i) => view.getUint32(4 + 4 * i));
  const n = dims.reduce((a, d) => a * d, 1);
  const start = 4 + 4 * ndim;
  if (bytes.length - start !== n) fail(`data has ${bytes.length - start} bytes, expected ${n} for dimensions [${dims.join(', ')}]`);
  return { dims, data: bytes.subarray(start) };
}

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
  const f = await readSafetensorsFile(path);
  const images = f.tensors.get('images');
  const labels = f.tensors.get('labels');
  if (!images || !labels || images.dtype !== 'U8' || labels.dtype !== 'U8' || images.shape.length !== 3 || labels.shape[0] !== images.shape[0]) {
    throw new TesseraError(`${path}: expected 'images' U8 [N, rows, cols] and 'labels' U8 [N]`);
  }
  const [count, rows, cols] = images.shape as [number, number, number];
  return { count, rows, cols, pixels: images.data as Uint8Array, labels: labels.data as Uint8Array, source: `${path} (the first ${count} test images, bundled)` };
}

/**
 * The trained ViT's input for images [start, start + count): pixels / 255
 * with the grey channel replicated to the 3 channels torchvision's
 * conv_proj takes, f32 [count, 3, rows, cols]. Math.fround of the float64
 * quotient is float32 division (correctly rounded both ways), as in PyTorch.
 */
export function pixelValues(set: ImageSet, start = 0, count = set.count - start): Float32Array {
  const plane = set.rows * set.cols;
  const out = new Float32Array(count * 3 * plane);
  for (let i = 0; i < count; i++) {
    const src = set.pixels.subarray((start + i) * plane, (start + i + 1) * plane);
    for (let c = 0; c < 3; c++) {
      const base = (i * 3 + c) * plane;
      for (let j = 0; j < plane; j++) out[base + j] = src[j]! / 255;
    }
  }
  return out;
}
