/**
 * Fashion-MNIST test images for the trained ViT: their labels, the idx
 * format, and the model's input from the pixels. Reading the files (Node)
 * is fashion-mnist-files.ts.
 */
import { type SafetensorsTensor, TesseraError } from '@tessera/ir';

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

/** The bundled sample's tensors (`images` U8 [N, rows, cols], `labels` U8 [N]) as an image set; `source` names the file in errors. */
export function sampleFromTensors(tensors: ReadonlyMap<string, SafetensorsTensor>, source: string): ImageSet {
  const images = tensors.get('images');
  const labels = tensors.get('labels');
  if (!images || !labels || images.dtype !== 'U8' || labels.dtype !== 'U8' || images.shape.length !== 3 || labels.shape[0] !== images.shape[0]) {
    throw new TesseraError(`${source}: expected 'images' U8 [N, rows, cols] and 'labels' U8 [N]`);
  }
  const [count, rows, cols] = images.shape as [number, number, number];
  return { count, rows, cols, pixels: images.data as Uint8Array, labels: labels.data as Uint8Array, source: `${source} (the first ${count} test images, bundled)` };
}
