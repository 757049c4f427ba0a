/** Patch embedding written as the idea itself: cut the image into patches, flatten each, one linear projection. */
import { type Tensor } from '@tessera/frontend';

/**
 * [B, C, H, W] -> [B, (H/p)·(W/p), C·p·p]: patches in row-major order, each
 * flattened channel-major (c, i, j), the order of a Conv2d kernel's weight.
 */
export function patchify(images: Tensor, p: number): Tensor {
  const [b, c, h, w] = images.shape as [number, number, number, number];
  const x = images.reshape([b, c, h / p, p, w / p, p]); // b c gh i gw j
  return x.transpose([0, 2, 4, 1, 3, 5]).reshape([b, (h / p) * (w / p), c * p * p]);
}

/**
 * Projects patches with a Conv2d(C, D, kernel p, stride p) weight [D, C, p, p]
 * and bias [D]: [B, C, H, W] -> [B, N, D]. The convolution with stride equal
 * to its kernel is exactly this matmul.
 */
export function embedPatches(images: Tensor, weight: Tensor, bias: Tensor, p: number): Tensor {
  const d = weight.shape[0]!;
  const w = weight.reshape([d, -1]); // [D, C·p·p]
  return patchify(images, p).matmul(w.mT).add(bias);
}
